#pragma once

// ReconnectGate: one engine's reachability, shared by every call the agent makes to it.
//
// While the engine answers, the gate is open and every call goes through. The first call
// that finds the engine unreachable closes it; from then on calls are refused at once (the
// compile runs locally) except one probe at a time, let through when the backoff has passed.
// A probe that reaches the engine opens the gate again; one that does not doubles the delay
// (up to `max_delay`), each delay jittered so that agents that lost the same engine do not
// come back in step. However many compiles wait, a dead or restarting engine sees one
// attempt per delay from this agent, not one per compile.
//
//   auto pass = gate.enter();
//   if (!pass) { return pass.error(); }          // unavailable: compile locally
//   auto status = call();
//   if (unreachable(status)) { pass->unreachable(); } else { pass->reachable(); }
//
// A pass dropped without a verdict (a timeout, a cancelled call) says nothing about the
// engine: a probe gives its turn back and the next caller probes.
//
// Thread safety: all methods may be called concurrently. A Pass must not outlive its gate.

#include "util/result.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

namespace ccrex::reapi {

struct ReconnectPolicy {
  // Delay after the first failure; each failed probe multiplies it by `multiplier`.
  std::chrono::milliseconds initial_delay{200};
  double multiplier = 2.0;
  // Upper bound of one delay (before jitter).
  std::chrono::milliseconds max_delay{2000};
  // Relative jitter: a delay d becomes a uniform value in [d * (1 - jitter), d * (1 + jitter)].
  double jitter = 0.2;
};

// Time and randomness of the gate; tests replace them.
struct ReconnectClock {
  std::function<std::chrono::steady_clock::time_point()> now;
  // Uniform value in [0, 1).
  std::function<double()> random;

  // The steady clock and a thread-local PRNG.
  static ReconnectClock system();
};

class ReconnectGate {
public:
  class Pass {
  public:
    Pass(Pass&& other) noexcept;
    Pass& operator=(Pass&&) = delete;
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass();

    // Whether this call is the probe of a closed gate.
    bool probe() const { return m_probe; }
    // The engine answered (any status but "unreachable"): a probe opens the gate.
    void reachable();
    // The engine could not be reached: closes an open gate, or backs off further.
    void unreachable();

  private:
    friend class ReconnectGate;
    Pass(ReconnectGate* gate, bool probe, uint64_t epoch)
        : m_gate(gate),
          m_probe(probe),
          m_epoch(epoch) {}
    ReconnectGate* m_gate;
    bool m_probe;
    uint64_t m_epoch;
  };

  explicit ReconnectGate(ReconnectPolicy policy = {},
                         ReconnectClock clock = ReconnectClock::system());
  ReconnectGate(const ReconnectGate&) = delete;
  ReconnectGate& operator=(const ReconnectGate&) = delete;

  // Let a call through: always while open; while closed, as the probe when the delay has
  // passed and no other probe is out. Error: unavailable, saying when the next probe goes.
  util::Result<Pass> enter();
  // Whether enter() would refuse now (no pass is taken).
  bool refusing() const;
  // Whether the gate is closed.
  bool closed() const;
  // Probes let through so far.
  uint64_t probes() const;

private:
  enum class Verdict { none, reachable, unreachable };
  void finish(const Pass& pass, Verdict verdict);
  // Schedule the next probe after the current delay, jittered. Needs m_mutex.
  void schedule_locked(std::chrono::steady_clock::time_point now);
  bool refusing_locked(std::chrono::steady_clock::time_point now) const;

  const ReconnectPolicy m_policy;
  const ReconnectClock m_clock;
  mutable std::mutex m_mutex;
  bool m_closed = false;                          // guarded by m_mutex
  bool m_probing = false;                         // guarded by m_mutex
  uint64_t m_epoch = 0;                           // guarded by m_mutex; +1 when it closes
  uint64_t m_probes = 0;                          // guarded by m_mutex
  std::chrono::milliseconds m_delay{0};           // guarded by m_mutex
  std::chrono::steady_clock::time_point m_next{}; // guarded by m_mutex
};

} // namespace ccrex::reapi
