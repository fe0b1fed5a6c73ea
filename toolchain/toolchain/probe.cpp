#include "toolchain/probe.h"

#include "util/subprocess.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <string_view>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace ccrex::toolchain {
namespace {

// Variables that would make a probe describe something other than the compiler itself.
constexpr auto k_dropped_variables = std::to_array<std::string_view>({
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "OBJCPLUS_INCLUDE_PATH",
    "GCC_EXEC_PREFIX",
    "COMPILER_PATH",
    "DEPENDENCIES_OUTPUT",
    "SUNPRO_DEPENDENCIES",
    "LC_ALL",
    "LANG",
    "LANGUAGE",
});

bool is_dropped(std::string_view entry) {
  const auto eq = entry.find('=');
  const auto name = entry.substr(0, eq);
  return std::ranges::any_of(k_dropped_variables,
                             [name](std::string_view dropped) { return name == dropped; });
}

std::vector<std::string> probe_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!is_dropped(*entry)) {
      env.emplace_back(*entry);
    }
  }
  env.emplace_back("LC_ALL=C");
  return env;
}

} // namespace

ProbeRunner default_probe_runner() {
  return [](const std::vector<std::string>& argv) -> util::Result<ProbeOutput> {
    util::SubprocessOptions options;
    options.argv = argv;
    options.env = probe_environment();
    options.timeout = std::chrono::seconds(60);
    CCREX_ASSIGN_OR_RETURN(auto result, util::run_subprocess(options));
    if (result.timed_out) {
      return util::Error(util::ErrorCode::deadline_exceeded, "probe timed out: " + argv[0]);
    }
    return ProbeOutput{
        result.exit_code, std::move(result.stdout_data), std::move(result.stderr_data)};
  };
}

util::Result<FileStamp> stamp_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return util::errno_error("stat " + path, errno);
  }
  FileStamp stamp;
  stamp.dev = st.st_dev;
  stamp.ino = st.st_ino;
  stamp.size = st.st_size;
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return stamp;
}

} // namespace ccrex::toolchain
