#include "reapi/reconnect_gate.h"

#include <algorithm>
#include <random>
#include <string>

namespace ccrex::reapi {

ReconnectClock ReconnectClock::system() {
  ReconnectClock c;
  c.now = [] { return std::chrono::steady_clock::now(); };
  c.random = [] {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  };
  return c;
}

ReconnectGate::Pass::Pass(Pass&& other) noexcept
    : m_gate(other.m_gate),
      m_probe(other.m_probe),
      m_epoch(other.m_epoch) {
  other.m_gate = nullptr;
}

ReconnectGate::Pass::~Pass() {
  if (m_gate != nullptr) {
    m_gate->finish(*this, Verdict::none);
  }
}

void ReconnectGate::Pass::reachable() {
  if (m_gate != nullptr) {
    m_gate->finish(*this, Verdict::reachable);
    m_gate = nullptr;
  }
}

void ReconnectGate::Pass::unreachable() {
  if (m_gate != nullptr) {
    m_gate->finish(*this, Verdict::unreachable);
    m_gate = nullptr;
  }
}

ReconnectGate::ReconnectGate(ReconnectPolicy policy, ReconnectClock clock)
    : m_policy(policy),
      m_clock(std::move(clock)) {}

bool ReconnectGate::refusing_locked(std::chrono::steady_clock::time_point now) const {
  return m_closed && (m_probing || now < m_next);
}

util::Result<ReconnectGate::Pass> ReconnectGate::enter() {
  const auto now = m_clock.now();
  const std::lock_guard lock(m_mutex);
  if (!m_closed) {
    return Pass(this, false, m_epoch);
  }
  if (refusing_locked(now)) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(m_next - now);
    return util::Error(util::ErrorCode::unavailable,
                       "engine unreachable a moment ago; "
                           + (m_probing
                                  ? std::string("another compile is trying it")
                                  : "trying again in " + std::to_string(wait.count()) + " ms"));
  }
  m_probing = true;
  ++m_probes;
  return Pass(this, true, m_epoch);
}

bool ReconnectGate::refusing() const {
  const auto now = m_clock.now();
  const std::lock_guard lock(m_mutex);
  return refusing_locked(now);
}

bool ReconnectGate::closed() const {
  const std::lock_guard lock(m_mutex);
  return m_closed;
}

uint64_t ReconnectGate::probes() const {
  const std::lock_guard lock(m_mutex);
  return m_probes;
}

void ReconnectGate::schedule_locked(std::chrono::steady_clock::time_point now) {
  const double spread = 1.0 + m_policy.jitter * (2.0 * m_clock.random() - 1.0);
  const auto jittered = std::chrono::duration<double, std::milli>(
      static_cast<double>(m_delay.count()) * std::max(0.0, spread));
  m_next = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(jittered);
}

void ReconnectGate::finish(const Pass& pass, Verdict verdict) {
  const auto now = m_clock.now();
  const std::lock_guard lock(m_mutex);
  if (pass.m_probe) {
    m_probing = false;
    if (verdict == Verdict::reachable) {
      m_closed = false;
      m_delay = std::chrono::milliseconds(0);
    } else if (verdict == Verdict::unreachable) {
      const auto grown = std::chrono::milliseconds(
          static_cast<int64_t>(static_cast<double>(m_delay.count()) * m_policy.multiplier));
      m_delay = std::clamp(grown, m_policy.initial_delay, m_policy.max_delay);
      schedule_locked(now);
    }
    return;
  }
  // A call let through while the gate was open. Only the first failure after it opened
  // closes it: the others in flight at that moment failed for the same reason.
  if (verdict == Verdict::unreachable && !m_closed && pass.m_epoch == m_epoch) {
    m_closed = true;
    ++m_epoch;
    m_delay = std::min(m_policy.initial_delay, m_policy.max_delay);
    schedule_locked(now);
  }
}

} // namespace ccrex::reapi
