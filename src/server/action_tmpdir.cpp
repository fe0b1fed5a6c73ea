#include "server/action_tmpdir.h"

#include "server/staging.h"
#include "util/logging.h"
#include "util/result.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <utility>

namespace ccrex::server {

namespace {

bool sets_tmpdir(const std::vector<std::string>& env) {
  constexpr std::string_view k_prefix = "TMPDIR=";
  for (const auto& kv : env) {
    if (std::string_view(kv).substr(0, k_prefix.size()) == k_prefix) {
      return true;
    }
  }
  return false;
}

} // namespace

ActionTmpDir::ActionTmpDir(ActionTmpDir&& other) noexcept
    : m_path(std::exchange(other.m_path, {})) {}

ActionTmpDir& ActionTmpDir::operator=(ActionTmpDir&& other) noexcept {
  if (this != &other) {
    ActionTmpDir old(std::move(*this));
    m_path = std::exchange(other.m_path, {});
  }
  return *this;
}

ActionTmpDir::~ActionTmpDir() {
  if (m_path.empty()) {
    return;
  }
  if (auto st = remove_tree(m_path); !st) {
    CCREX_LOG_WARN(
        "execution: cannot remove an action's temporary directory: " << st.error().message());
  }
}

ActionTmpDir ActionTmpDir::create(const std::string& root, std::vector<std::string>& env) {
  ActionTmpDir out;
  if (root.empty() || sets_tmpdir(env)) {
    return out;
  }
  std::string path = root;
  if (path.back() != '/') {
    path += '/';
  }
  path += "ccrex-action-XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) { // mode 0700
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      CCREX_LOG_WARN("execution: cannot create temporary directories in "
                     << root << " (" << util::errno_error("mkdtemp", errno).message()
                     << "); actions keep the default /tmp");
    }
    return out;
  }
  env.push_back("TMPDIR=" + path);
  out.m_path = std::move(path);
  return out;
}

std::string default_tmp_root() {
  const char* tmp = std::getenv("TMPDIR"); // NOLINT(concurrency-mt-unsafe)
  if (tmp != nullptr && tmp[0] == '/') {
    return tmp;
  }
  return "/tmp";
}

} // namespace ccrex::server
