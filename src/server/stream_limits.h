#pragma once

// StreamLimits: bounds on ByteStream streams, so that idle or numerous streams cannot hold
// the server's threads.
//
// A handler opens a lease for its stream before it reads the first message, and touches
// it after every message received or sent. A watchdog thread cancels the call of a lease
// not touched for `idle_timeout` (the blocked Read or Write then returns), and a client
// address may hold at most `max_per_client` leases at once (0: no bound).
//
// Thread safety: every member may be called from any thread; a lease is used by the
// handler that opened it.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace ccrex::server {

class StreamLimits {
  struct Entry {
    grpc::ServerContext* context = nullptr;
    std::string client;
    std::atomic<int64_t> last_active{0}; // steady clock, nanoseconds
    std::atomic<bool> timed_out{false};
  };

public:
  class Lease {
  public:
    Lease(StreamLimits& owner, std::list<Entry>::iterator entry);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // The stream made progress.
    void touch();
    // Whether the watchdog ended the stream for idleness.
    bool timed_out() const;

  private:
    StreamLimits& m_owner;
    std::list<Entry>::iterator m_entry;
  };

  StreamLimits(std::chrono::milliseconds idle_timeout, size_t max_per_client);
  ~StreamLimits();
  StreamLimits(const StreamLimits&) = delete;
  StreamLimits& operator=(const StreamLimits&) = delete;

  // A lease for the stream of `context`, or nullptr when its client holds the most streams
  // allowed.
  std::unique_ptr<Lease> open(grpc::ServerContext& context);

  std::chrono::milliseconds idle_timeout() const { return m_idle; }

private:
  void watch();
  void close(std::list<Entry>::iterator entry);

  const std::chrono::milliseconds m_idle;
  const size_t m_max_per_client;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;                              // guarded by m_mutex
  std::list<Entry> m_entries;                           // guarded by m_mutex
  std::unordered_map<std::string, size_t> m_per_client; // guarded by m_mutex
  std::thread m_watchdog;                               // last: uses the members above
};

} // namespace ccrex::server
