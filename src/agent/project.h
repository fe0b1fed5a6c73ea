#pragma once

// Where a compile lives: the project root (CCREX_PROJECT_ROOT, else the top of the
// enclosing git work tree, else the cwd) and the mapping of local paths into the input
// root, whose paths are relative to the project root.

#include <optional>
#include <string>

namespace ccrex::agent {

// Return the project root for a compile in `cwd` (absolute): `configured` if non-empty
// (made absolute against `cwd`), else the nearest ancestor of `cwd` holding `.git`, else
// `cwd`. The result is lexically normalised.
std::string find_project_root(const std::string& cwd, const std::string& configured);

class PathMapper {
public:
  PathMapper(std::string root, std::string cwd);

  const std::string& root() const { return m_root; }
  const std::string& cwd() const { return m_cwd; }
  // The working directory relative to the root ("" when cwd is the root).
  const std::string& working_directory() const { return m_working_dir; }

  // Return `path` (absolute, or relative to the cwd) as an absolute normalised path.
  std::string absolute(const std::string& path) const;
  // Return the input-root path of `path` if it lies below the root, else nullopt.
  std::optional<std::string> input_path(const std::string& path) const;

private:
  std::string m_root;
  std::string m_cwd;
  std::string m_working_dir;
};

} // namespace ccrex::agent
