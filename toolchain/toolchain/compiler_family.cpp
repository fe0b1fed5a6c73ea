#include "toolchain/compiler_family.h"

#include "util/file.h"

#include <unistd.h>

#include <array>
#include <climits>
#include <cstdlib>

namespace ccrex::toolchain {
namespace {

// Strip trailing "-<version>" pieces made of digits and dots ("clang++-14", "gcc-12.2").
std::string_view strip_version(std::string_view name) {
  while (true) {
    const auto dash = name.rfind('-');
    if (dash == std::string_view::npos || dash + 1 == name.size()) {
      return name;
    }
    const auto tail = name.substr(dash + 1);
    if (tail.find_first_not_of("0123456789.") != std::string_view::npos) {
      return name;
    }
    name = name.substr(0, dash);
  }
}

struct DriverName {
  std::string_view suffix;
  CompilerFamily family;
  bool cxx_driver;
  bool ambiguous;
};

// Longer suffixes first so that "clang++" is not read as "c++".
constexpr auto k_driver_names = std::to_array<DriverName>({
    {"clang++", CompilerFamily::clang, true, false},
    {"clang", CompilerFamily::clang, false, false},
    {"g++", CompilerFamily::gcc, true, false},
    {"gcc", CompilerFamily::gcc, false, false},
    {"c++", CompilerFamily::unknown, true, true},
    {"cc", CompilerFamily::unknown, false, true},
});

// The suffix must be the whole name or follow a target prefix ("x86_64-linux-gnu-").
bool matches_driver(std::string_view name, std::string_view suffix) {
  if (name.size() < suffix.size() || name.substr(name.size() - suffix.size()) != suffix) {
    return false;
  }
  return name.size() == suffix.size() || name[name.size() - suffix.size() - 1] == '-';
}

std::optional<std::string> read_link(const std::string& path) {
  std::array<char, PATH_MAX> buffer{};
  const auto n = ::readlink(path.c_str(), buffer.data(), buffer.size() - 1);
  if (n <= 0) {
    return std::nullopt;
  }
  std::string target(buffer.data(), static_cast<size_t>(n));
  if (target.front() != '/') {
    target = util::join_path(util::dirname(path), target);
  }
  return target;
}

std::optional<std::string> real_path(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    return std::nullopt;
  }
  std::string result(resolved);
  std::free(resolved); // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
  return result;
}

} // namespace

std::string_view family_name(CompilerFamily family) {
  switch (family) {
  case CompilerFamily::gcc:
    return "gcc";
  case CompilerFamily::clang:
    return "clang";
  case CompilerFamily::unknown:
    break;
  }
  return "unknown";
}

NameClassification classify_compiler_name(std::string_view path) {
  const auto name = strip_version(util::basename(path));
  if (name.ends_with("clang-cl") || name.ends_with("clang-cpp")) {
    return {};
  }
  for (const auto& driver : k_driver_names) {
    if (matches_driver(name, driver.suffix)) {
      return {{driver.family, driver.cxx_driver}, driver.ambiguous};
    }
  }
  return {};
}

CompilerFamily family_from_version_output(std::string_view output) {
  if (output.find("clang version") != std::string_view::npos) {
    return CompilerFamily::clang;
  }
  if (output.find("Free Software Foundation") != std::string_view::npos) {
    return CompilerFamily::gcc;
  }
  return CompilerFamily::unknown;
}

CompilerDetector::CompilerDetector(ProbeRunner runner) : m_runner(std::move(runner)) {}

CompilerInfo CompilerDetector::detect(const std::string& path) {
  const auto stamp = stamp_file(path);
  if (!stamp) {
    return {};
  }
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_cache.find(path);
    if (it != m_cache.end() && it->second.first == *stamp) {
      return it->second.second;
    }
  }
  const auto info = detect_uncached(path);
  const std::lock_guard lock(m_mutex);
  m_cache[path] = {*stamp, info};
  return info;
}

CompilerInfo CompilerDetector::detect_uncached(const std::string& path) {
  const auto given = classify_compiler_name(path);
  if (given.info.family != CompilerFamily::unknown) {
    return given.info;
  }
  // Walk the symlink chain: /usr/bin/cc -> /etc/alternatives/cc -> /usr/bin/gcc -> ...
  std::string current = path;
  for (int hops = 0; hops < 40; ++hops) {
    const auto next = read_link(current);
    if (!next) {
      break;
    }
    current = *next;
    const auto link = classify_compiler_name(current);
    if (link.info.family != CompilerFamily::unknown) {
      return {link.info.family, given.info.cxx_driver || link.info.cxx_driver};
    }
  }
  if (const auto real = real_path(path)) {
    const auto resolved = classify_compiler_name(*real);
    if (resolved.info.family != CompilerFamily::unknown) {
      return {resolved.info.family, given.info.cxx_driver || resolved.info.cxx_driver};
    }
  }
  if (!given.ambiguous) {
    return {};
  }
  const auto probe = m_runner({path, "--version"});
  if (!probe || probe->exit_code != 0) {
    return {};
  }
  return {family_from_version_output(probe->stdout_data), given.info.cxx_driver};
}

} // namespace ccrex::toolchain
