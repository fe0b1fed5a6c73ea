#include "agent/project.h"

#include "util/file.h"

namespace ccrex::agent {

std::string find_project_root(const std::string& cwd, const std::string& configured) {
  if (!configured.empty()) {
    return util::normalize_path(configured.front() == '/' ? configured
                                                          : util::join_path(cwd, configured));
  }
  std::string dir = util::normalize_path(cwd);
  for (;;) {
    if (util::path_exists(util::join_path(dir, ".git"))) {
      return dir;
    }
    std::string parent = util::dirname(dir);
    if (dir == "/" || parent == dir) {
      return util::normalize_path(cwd);
    }
    dir = std::move(parent);
  }
}

PathMapper::PathMapper(std::string root, std::string cwd)
    : m_root(util::normalize_path(root)),
      m_cwd(util::normalize_path(cwd)) {
  m_working_dir = input_path(m_cwd).value_or("");
}

std::string PathMapper::absolute(const std::string& path) const {
  return util::normalize_path(path.empty() || path.front() != '/' ? util::join_path(m_cwd, path)
                                                                  : path);
}

std::optional<std::string> PathMapper::input_path(const std::string& path) const {
  const std::string abs = absolute(path);
  if (m_root == "/") {
    return abs == "/" ? std::string() : abs.substr(1);
  }
  if (abs == m_root) {
    return std::string();
  }
  if (abs.size() > m_root.size() && abs.compare(0, m_root.size(), m_root) == 0
      && abs[m_root.size()] == '/') {
    return abs.substr(m_root.size() + 1);
  }
  return std::nullopt;
}

} // namespace ccrex::agent
