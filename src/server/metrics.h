#pragma once

// Metrics: what ccrex-server has done since it started, for the status port
// (status_http.h). The services report each event with one call; the status port takes a
// Snapshot and renders it as Prometheus text (`/metrics`) or as an HTML page (`/`).
//
//   metrics.count_call("FindMissingBlobs", grpc::StatusCode::OK);   // from the interceptor
//   metrics.action_cache_lookup(instance, hit);                       // ActionCache, Execute
//   metrics.action_finished({digest, instance, exit_code, status, duration, false});
//
// What is kept, and what is not: counts, sizes, durations, action digests, instance names
// and exit codes. Never a header, a token, a peer address, a command line or an
// environment: the status port has no authentication. Instance names are chosen by
// clients, so at most k_max_instances distinct ones get their own counts (later ones are
// counted under k_other_instance), and RPC names outside the served methods are counted as
// "other": a client cannot grow the page or the memory behind it.
//
// Thread safety: every method may be called concurrently.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ccrex::server {

// One finished execution, as the status page lists it.
struct ActionRecord {
  // "HASH/SIZE" of the Action.
  std::string action_digest;
  std::string instance;
  // The command's exit code (meaningful when status_code is 0).
  int exit_code = 0;
  // google.rpc code of the execution (0: the command ran to its end).
  int status_code = 0;
  // From leaving the queue to the result being stored.
  std::chrono::milliseconds duration{0};
  // Answered from the action cache without running.
  bool cached = false;
  // Wall-clock time it finished, in seconds since the epoch.
  int64_t finished_unix = 0;
};

// Counts per instance.
struct InstanceCounts {
  uint64_t ac_hits = 0;
  uint64_t ac_misses = 0;
  uint64_t executions = 0;        // actions run by a worker (cache hits not included)
  uint64_t failed_executions = 0; // non-zero exit or a failed run
};

// Compressed ByteStream transfers (compressed-blobs resource names), counted as they end
// (finished or not): streams, bytes on the wire, and the blob bytes those carried.
struct CompressedCounts {
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t wire_bytes_sent = 0;
  uint64_t wire_bytes_received = 0;
  uint64_t blob_bytes_sent = 0;
  uint64_t blob_bytes_received = 0;
};

// Everything at one moment, copied out so rendering holds no lock.
struct MetricsSnapshot {
  std::chrono::seconds uptime{0};
  int64_t store_bytes = 0;
  int64_t store_limit = 0;
  uint64_t cas_bytes_received = 0;
  uint64_t cas_bytes_sent = 0;
  CompressedCounts compressed;
  int64_t queued = 0;
  int64_t running = 0;
  // (method, status code name) -> calls.
  std::map<std::pair<std::string, std::string>, uint64_t> calls;
  std::map<std::string, InstanceCounts> instances;
  // Newest first.
  std::vector<ActionRecord> recent;
  // Actions currently running: digest and seconds so far.
  std::vector<std::pair<std::string, int64_t>> running_actions;
};

class Metrics {
public:
  static constexpr size_t k_max_instances = 64;
  static constexpr size_t k_recent_actions = 50;
  static constexpr std::string_view k_other_instance = "(other)";

  // `probe` returns the store's size and limit in bytes when a snapshot is taken; an
  // empty one (the store is gone) reports zeros.
  void set_store_probe(std::function<std::pair<int64_t, int64_t>()> probe);

  // A gRPC call ended. `method` is the full gRPC method name ("/pkg.Service/Method");
  // names outside the served services are counted as "other".
  void count_call(std::string_view method, int status_code);
  void action_cache_lookup(std::string_view instance, bool hit);
  void cas_bytes_received(int64_t bytes);
  void cas_bytes_sent(int64_t bytes);
  // A compressed ByteStream Read (`upload` false) or Write ended: `wire` compressed bytes
  // carried `blob` bytes of blob content. (The wire bytes are also counted by the two
  // calls above.)
  void compressed_transfer(bool upload, int64_t wire, int64_t blob);
  // An action took a queue slot; it then either starts or is dropped.
  void action_queued();
  void action_dropped();
  // A worker starts `action_digest`; action_finished() follows with the same digest.
  void action_started(const std::string& action_digest);
  void action_finished(ActionRecord record);

  MetricsSnapshot snapshot() const;

private:
  InstanceCounts& instance_locked(std::string_view instance);

  const std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
  mutable std::mutex m_mutex;
  std::function<std::pair<int64_t, int64_t>()> m_store_probe;                  // m_mutex
  uint64_t m_cas_received = 0;                                                 // m_mutex
  uint64_t m_cas_sent = 0;                                                     // m_mutex
  CompressedCounts m_compressed;                                               // m_mutex
  int64_t m_queued = 0;                                                        // m_mutex
  std::multimap<std::string, std::chrono::steady_clock::time_point> m_running; // m_mutex
  std::map<std::pair<std::string, std::string>, uint64_t> m_calls;             // m_mutex
  std::map<std::string, InstanceCounts, std::less<>> m_instances;              // m_mutex
  std::deque<ActionRecord> m_recent; // m_mutex, newest first
};

// Render `snapshot` in the Prometheus text exposition format (version 0.0.4): a HELP and a
// TYPE line per metric, label values escaped.
std::string prometheus_text(const MetricsSnapshot& snapshot);

// Render `snapshot` as a self-contained HTML page: no script, no external resource, every
// client-chosen string escaped.
std::string status_page(const MetricsSnapshot& snapshot);

} // namespace ccrex::server
