#include "server/stream_limits.h"

#include "server/admission.h"

#include <algorithm>

namespace ccrex::server {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

StreamLimits::Lease::Lease(StreamLimits& owner, std::list<Entry>::iterator entry)
    : m_owner(owner),
      m_entry(entry) {}

StreamLimits::Lease::~Lease() {
  m_owner.close(m_entry);
}

void StreamLimits::Lease::touch() {
  m_entry->last_active = now_ns();
}

bool StreamLimits::Lease::timed_out() const {
  return m_entry->timed_out;
}

StreamLimits::StreamLimits(std::chrono::milliseconds idle_timeout, size_t max_per_client)
    : m_idle(idle_timeout),
      m_max_per_client(max_per_client),
      m_watchdog([this] { watch(); }) {}

StreamLimits::~StreamLimits() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_watchdog.join();
}

std::unique_ptr<StreamLimits::Lease> StreamLimits::open(grpc::ServerContext& context) {
  std::string client = peer_key(context, "");
  const std::lock_guard lock(m_mutex);
  size_t& count = m_per_client[client];
  if (m_max_per_client > 0 && count >= m_max_per_client) {
    return nullptr;
  }
  ++count;
  const bool was_empty = m_entries.empty();
  auto it = m_entries.emplace(m_entries.end());
  it->context = &context;
  it->client = std::move(client);
  it->last_active = now_ns();
  if (was_empty) {
    m_wake.notify_all(); // the watchdog sleeps while no stream is open
  }
  return std::make_unique<Lease>(*this, it);
}

void StreamLimits::close(std::list<Entry>::iterator entry) {
  const std::lock_guard lock(m_mutex);
  if (auto it = m_per_client.find(entry->client); it != m_per_client.end() && --it->second == 0) {
    m_per_client.erase(it);
  }
  m_entries.erase(entry);
}

void StreamLimits::watch() {
  const auto period =
      std::clamp(m_idle / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  const int64_t idle_ns = std::chrono::nanoseconds(m_idle).count();
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    if (m_entries.empty()) {
      m_wake.wait(lock, [this] { return m_stopping || !m_entries.empty(); });
      continue;
    }
    m_wake.wait_for(lock, period);
    const int64_t now = now_ns();
    for (auto& e : m_entries) {
      if (!e.timed_out && now - e.last_active >= idle_ns) {
        e.timed_out = true;
        e.context->TryCancel();
      }
    }
  }
}

} // namespace ccrex::server
