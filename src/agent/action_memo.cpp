#include "agent/action_memo.h"

#include "util/sha256.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>

namespace ccrex::agent {
namespace {

int64_t ns(const timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// Append `text` with its length, so that no two field sequences serialise alike.
void field(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

template <typename T>
void raw(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void add_stat(std::string& out, const depscan::FileStat& st, int64_t& newest) {
  raw(out, st.dev);
  raw(out, st.ino);
  raw(out, st.size);
  raw(out, st.mtime_ns);
  raw(out, st.ctime_ns);
  raw(out, static_cast<int>(st.type));
  newest = std::max({newest, st.mtime_ns, st.ctime_ns});
}

// Stat `path` for the fingerprint: a missing file fingerprints as such (the action then
// lacks it, and it appearing later changes the key).
void add_path_stat(std::string& out, const std::string& path, int64_t& newest) {
  field(out, path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    out += '-';
    return;
  }
  add_stat(out,
           {static_cast<uint64_t>(st.st_dev),
            static_cast<uint64_t>(st.st_ino),
            st.st_size,
            ns(st.st_mtim),
            ns(st.st_ctim),
            S_ISREG(st.st_mode) ? depscan::FileType::regular : depscan::FileType::other},
           newest);
  raw(out, st.st_mode); // the executable bit is part of the input root
}

std::string request_fingerprint(const ActionContext& ctx) {
  std::string text = "ccrex action memo v1\n";
  field(text, ctx.compiler);
  field(text, ctx.toolchain.key);
  field(text, ctx.paths.cwd());
  field(text, ctx.paths.root());
  text += ctx.same_path ? 'S' : 'R';
  text += ctx.hermetic != nullptr ? 'H' : 'N';
  raw(text, static_cast<int64_t>(ctx.config.execution_timeout.count()));
  raw(text, ctx.command.args.size());
  for (const auto& a : ctx.command.args) {
    field(text, a);
  }
  raw(text, ctx.env.size());
  for (const auto& e : ctx.env) {
    field(text, e);
  }
  for (const auto& [k, v] : ctx.config.platform) {
    field(text, k);
    field(text, v);
  }
  return util::sha256_hex(text);
}

} // namespace

std::optional<MemoKey> ActionMemo::key_of(const ActionContext& ctx) {
  const auto& deps = ctx.dependencies;
  if (deps.files.empty() || deps.stats.size() != deps.files.size()) {
    return std::nullopt;
  }
  MemoKey key;
  std::string text;
  text.reserve(deps.files.size() * 128);
  for (size_t i = 0; i < deps.files.size(); ++i) {
    field(text, deps.files[i]);
    add_stat(text, deps.stats[i], key.newest_change_ns);
  }
  text += '|';
  for (const auto& oi : ctx.command.option_inputs) {
    add_path_stat(text, ctx.paths.absolute(oi.path), key.newest_change_ns);
  }
  text += '|';
  for (const auto& rf : ctx.command.response_files) {
    add_path_stat(text, ctx.paths.absolute(rf), key.newest_change_ns);
  }
  key.inputs = util::sha256_hex(text);
  key.request = request_fingerprint(ctx);
  return key;
}

std::shared_ptr<const MemoizedAction> ActionMemo::find(const MemoKey& key) const {
  const std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(key.request);
  if (it == m_entries.end() || it->second.inputs != key.inputs) {
    return nullptr;
  }
  return it->second.action;
}

bool ActionMemo::store(const MemoKey& key, const BuiltAction& built) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (ns(now) - key.newest_change_ns <= m_racy_window_ns) {
    return false;
  }
  auto action =
      std::make_shared<const MemoizedAction>(MemoizedAction{built.action_digest, built.outputs});
  const std::lock_guard lock(m_mutex);
  if (m_entries.size() >= m_capacity && !m_entries.contains(key.request)) {
    m_entries.clear();
  }
  m_entries[key.request] = Entry{key.inputs, std::move(action)};
  return true;
}

size_t ActionMemo::size() const {
  const std::lock_guard lock(m_mutex);
  return m_entries.size();
}

} // namespace ccrex::agent
