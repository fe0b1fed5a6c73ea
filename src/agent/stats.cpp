#include "agent/stats.h"

#include "util/file.h"
#include "util/strings.h"

#include <chrono>
#include <sstream>

namespace ccrex::agent {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t get(const std::map<std::string, int64_t>& c, const std::string& name) {
  const auto it = c.find(name);
  return it == c.end() ? 0 : it->second;
}

int64_t sum_prefix(const std::map<std::string, int64_t>& c, const std::string& prefix) {
  int64_t total = 0;
  for (const auto& [k, v] : c) {
    if (k.rfind(prefix, 0) == 0) {
      total += v;
    }
  }
  return total;
}

void line(std::ostringstream& out, int indent, const std::string& label, int64_t value) {
  std::string text(static_cast<size_t>(indent), ' ');
  text += label;
  text += ':';
  if (text.size() < 34) {
    text.resize(34, ' ');
  }
  out << text << ' ' << value << '\n';
}

} // namespace

Stats::Stats(std::string path) : m_path(std::move(path)) {
  auto text = util::read_file(m_path);
  if (!text) {
    return;
  }
  for (const auto l : util::split(*text, '\n', true)) {
    const size_t sp = l.find(' ');
    if (sp == std::string_view::npos) {
      continue;
    }
    if (auto v = util::parse_int(l.substr(sp + 1))) {
      m_counters[std::string(l.substr(0, sp))] = *v;
    }
  }
}

void Stats::add(const std::string& name, int64_t n) {
  const std::lock_guard lock(m_mutex);
  m_counters[name] += n;
  const int64_t now = now_ms();
  if (now - m_last_save_ms >= 100) {
    m_last_save_ms = now;
    save_locked();
  }
}

std::map<std::string, int64_t> Stats::snapshot() {
  const std::lock_guard lock(m_mutex);
  return m_counters;
}

void Stats::zero() {
  const std::lock_guard lock(m_mutex);
  m_counters.clear();
  save_locked();
}

void Stats::save() {
  const std::lock_guard lock(m_mutex);
  save_locked();
}

void Stats::save_locked() {
  std::string text;
  for (const auto& [k, v] : m_counters) {
    text += k + " " + std::to_string(v) + "\n";
  }
  (void)util::make_dirs(util::dirname(m_path));
  (void)util::write_file_atomic(m_path, text, 0644);
}

std::string Stats::format(const std::map<std::string, int64_t>& c) {
  std::ostringstream out;
  const int64_t hits = get(c, "hit_local") + get(c, "hit_remote");
  const int64_t misses = get(c, "miss_executed") + get(c, "miss_cache_only");
  const int64_t cacheable = hits + misses + get(c, "compile_error");
  line(out, 0, "Cacheable calls", cacheable);
  line(out, 2, "Hits", hits);
  line(out, 4, "Local store", get(c, "hit_local"));
  line(out, 4, "Remote cache", get(c, "hit_remote"));
  line(out, 2, "Misses", misses);
  line(out, 4, "Executed remotely", get(c, "miss_executed"));
  line(out, 4, "Compiled locally, uploaded", get(c, "miss_cache_only"));
  line(out, 6, "engine without execution", get(c, "cache_only_no_execution"));
  line(out, 6, "records its directory", get(c, "cache_only_location"));
  line(out, 2, "Compile errors", get(c, "compile_error"));
  line(out, 0, "Run locally (unsupported)", sum_prefix(c, "local_"));
  for (const auto& [k, v] : c) {
    if (k.rfind("local_", 0) == 0) {
      line(out, 2, k.substr(6), v);
    }
  }
  line(out, 0, "Fell back to local compile", sum_prefix(c, "fallback_"));
  for (const auto& [k, v] : c) {
    if (k.rfind("fallback_", 0) == 0) {
      line(out, 2, k.substr(9), v);
    }
  }
  line(out, 0, "Cancelled (client went away)", get(c, "cancelled"));
  line(out, 0, "Dependencies from -M", get(c, "depend_compiler"));
  return out.str();
}

std::string Stats::format_raw(const std::map<std::string, int64_t>& c) {
  std::string out;
  for (const auto& [k, v] : c) {
    out += k + "\t" + std::to_string(v) + "\n";
  }
  return out;
}

} // namespace ccrex::agent
