#include "protocol/agent_dir.h"

#include "util/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace ccrex::protocol {

std::string choose_agent_dir(const char* override_dir, const char* runtime_dir, uid_t uid) {
  if (override_dir != nullptr && *override_dir != '\0') {
    return override_dir;
  }
  if (runtime_dir != nullptr && *runtime_dir != '\0') {
    return util::join_path(runtime_dir, "ccrex");
  }
  return "/tmp/ccrex-" + std::to_string(uid);
}

std::string agent_dir() {
  return choose_agent_dir(std::getenv("CCREX_AGENT_DIR"), // NOLINT(concurrency-mt-unsafe)
                          std::getenv("XDG_RUNTIME_DIR"), // NOLINT(concurrency-mt-unsafe)
                          ::getuid());
}

AgentPaths agent_paths(const std::string& dir) {
  AgentPaths p;
  p.dir = dir;
  p.socket = util::join_path(dir, "agent.sock");
  p.pid_file = util::join_path(dir, "agent.pid");
  p.agent_lock = util::join_path(dir, "agent.lock");
  p.start_lock = util::join_path(dir, "start.lock");
  p.start_failed = util::join_path(dir, "start.failed");
  return p;
}

util::Status ensure_private_dir(const std::string& dir, uid_t uid) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return util::errno_error("checking " + dir, errno);
    }
    const std::string parent = util::dirname(dir);
    if (parent != dir && !util::path_exists(parent)) {
      CCREX_TRY(util::make_dirs(parent, 0700));
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return util::errno_error("creating " + dir, errno);
    }
    if (::lstat(dir.c_str(), &st) != 0) {
      return util::errno_error("checking " + dir, errno);
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    return util::Error(util::ErrorCode::permission_denied, dir + " is not a directory");
  }
  if (st.st_uid != uid) {
    return util::Error(util::ErrorCode::permission_denied, dir + " belongs to another user");
  }
  if ((st.st_mode & 077) != 0) {
    return util::Error(util::ErrorCode::permission_denied, dir + " is accessible to other users");
  }
  return {};
}

} // namespace ccrex::protocol
