#pragma once

// Admission: bounds on queued executions, so that no client can fill the queue.
//
// Every Execute that needs a worker asks for a ticket before it is queued. A ticket is
// refused when the server already holds `max_queued` queued actions, or when the caller's
// key (its peer address and instance, see peer_key) already holds `max_queued_per_peer`.
// The ticket is given back when its action starts running or is dropped, whichever comes
// first; release() is idempotent, and the destructor releases too.
//
// Thread safety: every member may be called from any thread.

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ccrex::server {

class Admission;

class AdmissionTicket {
public:
  AdmissionTicket(Admission& owner, std::string key);
  ~AdmissionTicket();
  AdmissionTicket(const AdmissionTicket&) = delete;
  AdmissionTicket& operator=(const AdmissionTicket&) = delete;

  // Give the queue slot back (idempotent).
  void release();

private:
  Admission& m_owner;
  std::string m_key;
  std::once_flag m_released;
};

class Admission {
public:
  // Zero for either bound means no bound.
  Admission(size_t max_queued, size_t max_queued_per_peer);

  // A ticket for one queued action of `key`, or nullptr when a bound is reached (the
  // caller answers RESOURCE_EXHAUSTED with `why`).
  std::shared_ptr<AdmissionTicket> admit(const std::string& key, std::string& why);

  size_t queued() const;

private:
  friend class AdmissionTicket;
  void give_back(const std::string& key);

  const size_t m_max_queued;
  const size_t m_max_per_peer;
  mutable std::mutex m_mutex;
  size_t m_total = 0;                                // guarded by m_mutex
  std::unordered_map<std::string, size_t> m_by_peer; // guarded by m_mutex
};

// The key a caller's queued actions are counted under: its address without the port (or
// the whole peer string for unix sockets and others) and the instance name.
std::string peer_key(const grpc::ServerContext& context, const std::string& instance);

} // namespace ccrex::server
