#include "server/admission.h"

namespace ccrex::server {

AdmissionTicket::AdmissionTicket(Admission& owner, std::string key)
    : m_owner(owner),
      m_key(std::move(key)) {}

AdmissionTicket::~AdmissionTicket() {
  release();
}

void AdmissionTicket::release() {
  std::call_once(m_released, [this] { m_owner.give_back(m_key); });
}

Admission::Admission(size_t max_queued, size_t max_queued_per_peer)
    : m_max_queued(max_queued),
      m_max_per_peer(max_queued_per_peer) {}

std::shared_ptr<AdmissionTicket> Admission::admit(const std::string& key, std::string& why) {
  {
    const std::lock_guard lock(m_mutex);
    if (m_max_queued > 0 && m_total >= m_max_queued) {
      why = "the execution queue is full (" + std::to_string(m_max_queued)
            + " queued actions); retry later";
      return nullptr;
    }
    size_t& mine = m_by_peer[key];
    if (m_max_per_peer > 0 && mine >= m_max_per_peer) {
      why = "this client already has " + std::to_string(mine)
            + " queued actions (the limit per client); retry later";
      return nullptr;
    }
    ++mine;
    ++m_total;
  }
  return std::make_shared<AdmissionTicket>(*this, key);
}

size_t Admission::queued() const {
  const std::lock_guard lock(m_mutex);
  return m_total;
}

void Admission::give_back(const std::string& key) {
  const std::lock_guard lock(m_mutex);
  --m_total;
  if (auto it = m_by_peer.find(key); it != m_by_peer.end() && --it->second == 0) {
    m_by_peer.erase(it);
  }
}

std::string peer_key(const grpc::ServerContext& context, const std::string& instance) {
  std::string peer = context.peer();
  // "ipv4:1.2.3.4:5678", "ipv6:[::1]:5678": drop the port so reconnecting does not help.
  if (peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0) {
    if (const size_t colon = peer.rfind(':'); colon != std::string::npos && colon > 5) {
      peer.resize(colon);
    }
  }
  return peer + "\n" + instance;
}

} // namespace ccrex::server
