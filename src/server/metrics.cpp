#include "server/metrics.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <tuple>

namespace ccrex::server {
namespace {

// The methods ccrex-server serves, by service; any other name is counted as "other".
constexpr std::array<std::string_view, 16> k_served_methods = {
    "/build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs",
    "/build.bazel.remote.execution.v2.ContentAddressableStorage/BatchUpdateBlobs",
    "/build.bazel.remote.execution.v2.ContentAddressableStorage/BatchReadBlobs",
    "/build.bazel.remote.execution.v2.ContentAddressableStorage/GetTree",
    "/build.bazel.remote.execution.v2.ActionCache/GetActionResult",
    "/build.bazel.remote.execution.v2.ActionCache/UpdateActionResult",
    "/build.bazel.remote.execution.v2.Capabilities/GetCapabilities",
    "/build.bazel.remote.execution.v2.Execution/Execute",
    "/build.bazel.remote.execution.v2.Execution/WaitExecution",
    "/google.bytestream.ByteStream/Read",
    "/google.bytestream.ByteStream/Write",
    "/google.bytestream.ByteStream/QueryWriteStatus",
    "/build.bazel.remote.asset.v1.Fetch/FetchBlob",
    "/build.bazel.remote.asset.v1.Fetch/FetchDirectory",
    "/build.bazel.remote.asset.v1.Push/PushBlob",
    "/build.bazel.remote.asset.v1.Push/PushDirectory",
};

constexpr std::array<std::string_view, 17> k_code_names = {"OK",
                                                           "CANCELLED",
                                                           "UNKNOWN",
                                                           "INVALID_ARGUMENT",
                                                           "DEADLINE_EXCEEDED",
                                                           "NOT_FOUND",
                                                           "ALREADY_EXISTS",
                                                           "PERMISSION_DENIED",
                                                           "RESOURCE_EXHAUSTED",
                                                           "FAILED_PRECONDITION",
                                                           "ABORTED",
                                                           "OUT_OF_RANGE",
                                                           "UNIMPLEMENTED",
                                                           "INTERNAL",
                                                           "UNAVAILABLE",
                                                           "DATA_LOSS",
                                                           "UNAUTHENTICATED"};

// "Service/Method" of a served method, or "other".
std::string method_label(std::string_view method) {
  if (std::find(k_served_methods.begin(), k_served_methods.end(), method)
      == k_served_methods.end()) {
    return "other";
  }
  const size_t dot = method.rfind('.', method.rfind('/'));
  return std::string(method.substr(dot == std::string_view::npos ? 1 : dot + 1));
}

std::string code_label(int code) {
  return code >= 0 && static_cast<size_t>(code) < k_code_names.size()
             ? std::string(k_code_names[static_cast<size_t>(code)])
             : "UNKNOWN";
}

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&#39;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

void metric_header(std::string& out,
                   std::string_view name,
                   std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string_view name, std::string_view labels, int64_t value) {
  out.append(name);
  if (!labels.empty()) {
    out.append("{").append(labels).append("}");
  }
  out.append(" ").append(std::to_string(value)).append("\n");
}

// Hits over lookups as a percentage with one decimal, or "-" without lookups.
std::string hit_rate(uint64_t hits, uint64_t misses) {
  if (hits + misses == 0) {
    return "-";
  }
  const uint64_t per_mille = (hits * 1000 + (hits + misses) / 2) / (hits + misses);
  return std::to_string(per_mille / 10) + "." + std::to_string(per_mille % 10) + " %";
}

std::string human_bytes(int64_t bytes) {
  static constexpr std::array<std::string_view, 5> k_units = {"B", "KiB", "MiB", "GiB", "TiB"};
  auto value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < k_units.size()) {
    value /= 1024;
    ++unit;
  }
  std::array<char, 32> buf{};
  std::snprintf(
      buf.data(), buf.size(), unit == 0 ? "%.0f %s" : "%.1f %s", value, k_units[unit].data());
  return buf.data();
}

std::string duration_text(int64_t seconds) {
  const int64_t days = seconds / 86400;
  std::array<char, 48> buf{};
  std::snprintf(buf.data(),
                buf.size(),
                "%lldd %02lld:%02lld:%02lld",
                static_cast<long long>(days),
                static_cast<long long>(seconds / 3600 % 24),
                static_cast<long long>(seconds / 60 % 60),
                static_cast<long long>(seconds % 60));
  return days > 0 ? buf.data() : std::string(buf.data()).substr(3);
}

std::string utc_time(int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buf.data(), n);
}

} // namespace

void Metrics::set_store_probe(std::function<std::pair<int64_t, int64_t>()> probe) {
  const std::lock_guard lock(m_mutex);
  m_store_probe = std::move(probe);
}

InstanceCounts& Metrics::instance_locked(std::string_view instance) {
  if (const auto it = m_instances.find(instance); it != m_instances.end()) {
    return it->second;
  }
  if (m_instances.size() >= k_max_instances) {
    return m_instances[std::string(k_other_instance)];
  }
  return m_instances[std::string(instance)];
}

void Metrics::count_call(std::string_view method, int status_code) {
  auto key = std::pair{method_label(method), code_label(status_code)};
  const std::lock_guard lock(m_mutex);
  ++m_calls[std::move(key)];
}

void Metrics::action_cache_lookup(std::string_view instance, bool hit) {
  const std::lock_guard lock(m_mutex);
  auto& counts = instance_locked(instance);
  ++(hit ? counts.ac_hits : counts.ac_misses);
}

void Metrics::cas_bytes_received(int64_t bytes) {
  const std::lock_guard lock(m_mutex);
  m_cas_received += static_cast<uint64_t>(std::max<int64_t>(bytes, 0));
}

void Metrics::cas_bytes_sent(int64_t bytes) {
  const std::lock_guard lock(m_mutex);
  m_cas_sent += static_cast<uint64_t>(std::max<int64_t>(bytes, 0));
}

void Metrics::compressed_transfer(bool upload, int64_t wire, int64_t blob) {
  const auto count = [](int64_t n) { return static_cast<uint64_t>(std::max<int64_t>(n, 0)); };
  const std::lock_guard lock(m_mutex);
  auto& c = m_compressed;
  ++(upload ? c.writes : c.reads);
  (upload ? c.wire_bytes_received : c.wire_bytes_sent) += count(wire);
  (upload ? c.blob_bytes_received : c.blob_bytes_sent) += count(blob);
}

void Metrics::action_queued() {
  const std::lock_guard lock(m_mutex);
  ++m_queued;
}

void Metrics::action_dropped() {
  const std::lock_guard lock(m_mutex);
  --m_queued;
}

void Metrics::action_started(const std::string& action_digest) {
  const std::lock_guard lock(m_mutex);
  --m_queued;
  m_running.emplace(action_digest, std::chrono::steady_clock::now());
}

void Metrics::action_finished(ActionRecord record) {
  record.finished_unix = static_cast<int64_t>(std::time(nullptr));
  const std::lock_guard lock(m_mutex);
  if (!record.cached) {
    if (const auto it = m_running.find(record.action_digest); it != m_running.end()) {
      m_running.erase(it);
    }
  }
  auto& counts = instance_locked(record.instance);
  if (!record.cached) {
    ++counts.executions;
    if (record.status_code != 0 || record.exit_code != 0) {
      ++counts.failed_executions;
    }
  }
  m_recent.push_front(std::move(record));
  if (m_recent.size() > k_recent_actions) {
    m_recent.pop_back();
  }
}

MetricsSnapshot Metrics::snapshot() const {
  MetricsSnapshot out;
  const auto now = std::chrono::steady_clock::now();
  out.uptime = std::chrono::duration_cast<std::chrono::seconds>(now - m_started);
  const std::lock_guard lock(m_mutex);
  if (m_store_probe) {
    std::tie(out.store_bytes, out.store_limit) = m_store_probe();
  }
  out.cas_bytes_received = m_cas_received;
  out.cas_bytes_sent = m_cas_sent;
  out.compressed = m_compressed;
  out.queued = m_queued;
  out.running = static_cast<int64_t>(m_running.size());
  out.calls = m_calls;
  out.instances.insert(m_instances.begin(), m_instances.end());
  out.recent.assign(m_recent.begin(), m_recent.end());
  for (const auto& [digest, since] : m_running) {
    out.running_actions.emplace_back(
        digest, std::chrono::duration_cast<std::chrono::seconds>(now - since).count());
  }
  return out;
}

std::string prometheus_text(const MetricsSnapshot& s) {
  std::string out;
  metric_header(out, "ccrex_uptime_seconds", "gauge", "Seconds since the server started.");
  sample(out, "ccrex_uptime_seconds", "", s.uptime.count());
  metric_header(out, "ccrex_store_bytes", "gauge", "Bytes in the store (CAS and action cache).");
  sample(out, "ccrex_store_bytes", "", s.store_bytes);
  metric_header(out, "ccrex_store_limit_bytes", "gauge", "The store's size cap (--max-size).");
  sample(out, "ccrex_store_limit_bytes", "", s.store_limit);
  metric_header(out,
                "ccrex_cas_received_bytes_total",
                "counter",
                "Blob bytes received from clients (BatchUpdateBlobs, ByteStream Write).");
  sample(out, "ccrex_cas_received_bytes_total", "", static_cast<int64_t>(s.cas_bytes_received));
  metric_header(out,
                "ccrex_cas_sent_bytes_total",
                "counter",
                "Blob bytes sent to clients (BatchReadBlobs, ByteStream Read).");
  sample(out, "ccrex_cas_sent_bytes_total", "", static_cast<int64_t>(s.cas_bytes_sent));
  metric_header(out,
                "ccrex_cas_compressed_streams_total",
                "counter",
                "Compressed ByteStream transfers (compressed-blobs resource names) by direction.");
  sample(out,
         "ccrex_cas_compressed_streams_total",
         "direction=\"read\"",
         static_cast<int64_t>(s.compressed.reads));
  sample(out,
         "ccrex_cas_compressed_streams_total",
         "direction=\"write\"",
         static_cast<int64_t>(s.compressed.writes));
  metric_header(out,
                "ccrex_cas_compressed_wire_bytes_total",
                "counter",
                "Compressed bytes of those transfers on the wire, by direction.");
  sample(out,
         "ccrex_cas_compressed_wire_bytes_total",
         "direction=\"read\"",
         static_cast<int64_t>(s.compressed.wire_bytes_sent));
  sample(out,
         "ccrex_cas_compressed_wire_bytes_total",
         "direction=\"write\"",
         static_cast<int64_t>(s.compressed.wire_bytes_received));
  metric_header(out,
                "ccrex_cas_compressed_blob_bytes_total",
                "counter",
                "Blob bytes those transfers carried once uncompressed, by direction.");
  sample(out,
         "ccrex_cas_compressed_blob_bytes_total",
         "direction=\"read\"",
         static_cast<int64_t>(s.compressed.blob_bytes_sent));
  sample(out,
         "ccrex_cas_compressed_blob_bytes_total",
         "direction=\"write\"",
         static_cast<int64_t>(s.compressed.blob_bytes_received));
  metric_header(out, "ccrex_actions_queued", "gauge", "Actions waiting for a worker.");
  sample(out, "ccrex_actions_queued", "", s.queued);
  metric_header(out, "ccrex_actions_running", "gauge", "Actions a worker is running.");
  sample(out, "ccrex_actions_running", "", s.running);
  metric_header(
      out, "ccrex_grpc_calls_total", "counter", "Finished gRPC calls by method and status code.");
  for (const auto& [key, n] : s.calls) {
    sample(out,
           "ccrex_grpc_calls_total",
           "method=\"" + label_value(key.first) + "\",code=\"" + label_value(key.second) + "\"",
           static_cast<int64_t>(n));
  }
  metric_header(out,
                "ccrex_action_cache_lookups_total",
                "counter",
                "Action cache lookups (GetActionResult and Execute) by instance and result.");
  for (const auto& [instance, c] : s.instances) {
    const std::string inst = "instance=\"" + label_value(instance) + "\"";
    sample(out,
           "ccrex_action_cache_lookups_total",
           inst + ",result=\"hit\"",
           static_cast<int64_t>(c.ac_hits));
    sample(out,
           "ccrex_action_cache_lookups_total",
           inst + ",result=\"miss\"",
           static_cast<int64_t>(c.ac_misses));
  }
  metric_header(out,
                "ccrex_executions_total",
                "counter",
                "Actions run by a worker, by instance and outcome.");
  for (const auto& [instance, c] : s.instances) {
    const std::string inst = "instance=\"" + label_value(instance) + "\"";
    sample(out,
           "ccrex_executions_total",
           inst + ",outcome=\"success\"",
           static_cast<int64_t>(c.executions - c.failed_executions));
    sample(out,
           "ccrex_executions_total",
           inst + ",outcome=\"failure\"",
           static_cast<int64_t>(c.failed_executions));
  }
  return out;
}

std::string status_page(const MetricsSnapshot& s) {
  uint64_t hits = 0;
  uint64_t misses = 0;
  for (const auto& [instance, c] : s.instances) {
    hits += c.ac_hits;
    misses += c.ac_misses;
  }
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>ccrex-server status</title><style>body{font-family:sans-serif;margin:2em}"
      "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;"
      "padding:.2em .6em;text-align:left}td.n{text-align:right}</style></head><body>\n"
      "<h1>ccrex-server</h1>\n<table id=\"summary\">\n";
  const auto row = [&out](std::string_view id, std::string_view name, const std::string& value) {
    out.append("<tr><th>").append(name).append("</th><td id=\"").append(id).append("\">");
    out.append(html_escape(value)).append("</td></tr>\n");
  };
  row("uptime", "Uptime", duration_text(s.uptime.count()));
  row("store", "Store", human_bytes(s.store_bytes) + " of " + human_bytes(s.store_limit));
  row("hit-rate", "Action cache hit rate", hit_rate(hits, misses));
  row("lookups",
      "Action cache lookups",
      std::to_string(hits) + " hits, " + std::to_string(misses) + " misses");
  row("cas-in", "CAS bytes received", human_bytes(static_cast<int64_t>(s.cas_bytes_received)));
  row("cas-out", "CAS bytes sent", human_bytes(static_cast<int64_t>(s.cas_bytes_sent)));
  row("queued", "Actions queued", std::to_string(s.queued));
  row("running", "Actions running", std::to_string(s.running));
  out += "</table>\n<h2>Instances</h2>\n<table id=\"instances\"><tr><th>Instance</th>"
         "<th>Hits</th><th>Misses</th><th>Hit rate</th><th>Executions</th><th>Failed</th></tr>\n";
  for (const auto& [instance, c] : s.instances) {
    out += "<tr><td>" + html_escape(instance.empty() ? "(default)" : instance)
           + "</td><td class=\"n\">" + std::to_string(c.ac_hits) + "</td><td class=\"n\">"
           + std::to_string(c.ac_misses) + "</td><td class=\"n\">"
           + html_escape(hit_rate(c.ac_hits, c.ac_misses)) + "</td><td class=\"n\">"
           + std::to_string(c.executions) + "</td><td class=\"n\">"
           + std::to_string(c.failed_executions) + "</td></tr>\n";
  }
  out += "</table>\n<h2>Running</h2>\n<table id=\"running-actions\"><tr><th>Action</th>"
         "<th>Seconds</th></tr>\n";
  for (const auto& [digest, seconds] : s.running_actions) {
    out += "<tr><td>" + html_escape(digest) + "</td><td class=\"n\">" + std::to_string(seconds)
           + "</td></tr>\n";
  }
  out += "</table>\n<h2>Recent actions</h2>\n<table id=\"recent\"><tr><th>Finished (UTC)</th>"
         "<th>Instance</th><th>Action</th><th>Result</th><th>Milliseconds</th></tr>\n";
  for (const auto& r : s.recent) {
    const std::string result = r.cached ? "cache hit, exit " + std::to_string(r.exit_code)
                               : r.status_code != 0 ? "failed (" + code_label(r.status_code) + ")"
                                                    : "exit " + std::to_string(r.exit_code);
    out += "<tr><td>" + utc_time(r.finished_unix) + "</td><td>"
           + html_escape(r.instance.empty() ? "(default)" : r.instance) + "</td><td>"
           + html_escape(r.action_digest) + "</td><td>" + html_escape(result)
           + "</td><td class=\"n\">" + std::to_string(r.duration.count()) + "</td></tr>\n";
  }
  out += "</table>\n<h2>Calls</h2>\n<table id=\"calls\"><tr><th>Method</th><th>Status</th>"
         "<th>Calls</th></tr>\n";
  for (const auto& [key, n] : s.calls) {
    out += "<tr><td>" + html_escape(key.first) + "</td><td>" + html_escape(key.second)
           + "</td><td class=\"n\">" + std::to_string(n) + "</td></tr>\n";
  }
  out += "</table>\n<p>Machine-readable: <a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";
  return out;
}

} // namespace ccrex::server
