#pragma once

// Cancellation: a flag one thread raises to stop work another thread is doing. Work that
// polls reads the flag (subprocesses check it while the child runs); work that blocks
// subscribes a callback, which cancel() runs (an RPC's TryCancel).
//
//   util::Cancellation c;
//   auto sub = c.subscribe([&] { ctx.TryCancel(); });  // until `sub` goes away
//   ... another thread: c.cancel();
//
// Thread safety: every method may be called from any thread.

#include <atomic>
#include <functional>
#include <list>
#include <mutex>

namespace ccrex::util {

class Cancellation {
public:
  class Subscription;

  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;

  // Raise the flag and run every subscribed callback (once; later calls do nothing).
  void cancel();
  bool cancelled() const { return m_flag.load(); }
  // The flag itself, for code that polls (util::SubprocessOptions::cancel).
  const std::atomic<bool>* flag() const { return &m_flag; }

  // Run `fn` on cancel() while the returned subscription lives; at once (on this thread)
  // when the flag is already raised.
  [[nodiscard]] Subscription subscribe(std::function<void()> fn) const;

  class Subscription {
  public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription();

  private:
    friend class Cancellation;
    using Entry = std::list<std::function<void()>>::iterator;
    Subscription(const Cancellation* owner, Entry entry) : m_owner(owner), m_entry(entry) {}
    void reset();
    const Cancellation* m_owner = nullptr;
    Entry m_entry;
  };

private:
  std::atomic<bool> m_flag{false};
  mutable std::mutex m_mutex;
  mutable std::list<std::function<void()>> m_callbacks; // guarded by m_mutex
};

} // namespace ccrex::util
