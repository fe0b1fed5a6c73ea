#include "toolchain/toolchain_id.h"

#include "util/sha256.h"
#include "util/strings.h"

#include <climits>
#include <cstdlib>
#include <future>
#include <tuple>

namespace ccrex::toolchain {
namespace {

constexpr std::string_view k_search_start = "#include <...> search starts here:";
constexpr std::string_view k_search_end = "End of search list.";
constexpr std::string_view k_framework_suffix = " (framework directory)";

util::Result<std::string> resolve(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) {
    return util::errno_error("realpath " + path, errno);
  }
  std::string result(resolved);
  std::free(resolved); // NOLINT(cppcoreguidelines-no-malloc): realpath allocates with malloc
  return result;
}

// Run a probe on a thread of its own, or, when no thread can be started (libstdc++ then
// falls back to deferred), when its result is asked for: never an exception out of it.
constexpr auto k_concurrent_if_possible = std::launch::async | std::launch::deferred;

util::Result<ProbeOutput> run_probe(const ProbeRunner& runner,
                                    const std::vector<std::string>& argv) {
  CCREX_ASSIGN_OR_RETURN(auto output, runner(argv));
  if (output.exit_code != 0) {
    return util::Error(util::ErrorCode::failed_precondition,
                       "`" + util::join(argv, " ") + "` exited with "
                           + std::to_string(output.exit_code) + ": " + output.stderr_data);
  }
  return output;
}

std::string first_line(std::string_view text) {
  return std::string(util::trim(text.substr(0, text.find('\n'))));
}

// gcc starts its version line with the name it was invoked as ("my-gcc (Debian 12.2.0-14)
// 12.2.0"); drop it so that the same compiler behind another name has the same identity.
std::string normalized_version(std::string line, CompilerFamily family) {
  const auto paren = line.find(" (");
  if (family == CompilerFamily::gcc && paren != std::string::npos) {
    line.erase(0, paren + 1);
  }
  return line;
}

// What `-E -v` says besides the search list: the driver's version line ("gcc version 12.2.0
// (Debian 12.2.0-14)", "Debian clang version 14.0.6") and its "Target:" line, which is what
// `-dumpmachine` prints. Empty fields where a line is missing.
struct VerboseHeader {
  CompilerFamily family = CompilerFamily::unknown;
  std::string version;
  std::string target;
};

VerboseHeader parse_verbose_header(std::string_view verbose_output) {
  VerboseHeader h;
  for (const auto line : util::split(verbose_output, '\n')) {
    if (line.starts_with("Target: ") && h.target.empty()) {
      h.target = std::string(util::trim(line.substr(8)));
    } else if (h.version.empty() && line.starts_with("gcc version ")) {
      h.family = CompilerFamily::gcc;
      h.version = std::string(util::trim(line));
    } else if (h.version.empty() && line.find("clang version ") != std::string_view::npos
               && !line.starts_with(' ')) {
      h.family = CompilerFamily::clang;
      h.version = std::string(util::trim(line));
    }
  }
  return h;
}

void append_list(std::string& out, std::string_view label, const std::vector<std::string>& list) {
  out += label;
  out += ":\n";
  for (const auto& entry : list) {
    out += "  ";
    out += entry;
    out += '\n';
  }
}

} // namespace

std::string ToolchainId::description() const {
  std::string out = "ccrex-toolchain-id 2\n";
  out += "family: " + std::string(family_name(family)) + "\n";
  out += "binary: " + binary_sha256 + "\n";
  out += "version: " + version + "\n";
  out += "target: " + target + "\n";
  append_list(out, std::string(language_name(language)) + " include dirs", builtin_include_dirs);
  return out;
}

Language include_language(Language language) {
  switch (language) {
  case Language::cxx:
  case Language::objcxx:
  case Language::cxx_cpp_output:
  case Language::objcxx_cpp_output:
  case Language::cxx_header:
  case Language::objcxx_header:
    return Language::cxx;
  default:
    return Language::c;
  }
}

std::vector<std::string> parse_include_search_list(std::string_view verbose_output) {
  std::vector<std::string> dirs;
  bool in_list = false;
  for (const auto line : util::split(verbose_output, '\n')) {
    if (line.starts_with(k_search_start)) {
      in_list = true;
    } else if (line.starts_with(k_search_end)) {
      break;
    } else if (in_list && line.starts_with(' ')) {
      auto dir = util::trim(line);
      if (dir.ends_with(k_framework_suffix)) {
        dir.remove_suffix(k_framework_suffix.size());
      }
      dirs.emplace_back(dir);
    }
  }
  return dirs;
}

bool ToolchainIdCache::Key::operator<(const Key& other) const {
  return std::tie(path, stamp.dev, stamp.ino, stamp.size, stamp.mtime_ns, language)
         < std::tie(other.path,
                    other.stamp.dev,
                    other.stamp.ino,
                    other.stamp.size,
                    other.stamp.mtime_ns,
                    other.language);
}

ToolchainIdCache::ToolchainIdCache(ProbeRunner runner) : m_runner(std::move(runner)) {}

util::Result<std::shared_ptr<const ToolchainId>>
ToolchainIdCache::get(const std::string& compiler_path, Language language) {
  language = include_language(language);
  CCREX_ASSIGN_OR_RETURN(const auto stamp, stamp_file(compiler_path));
  std::shared_ptr<Slot> slot;
  {
    const std::lock_guard lock(m_mutex);
    auto& entry = m_slots[Key{compiler_path, stamp, language}];
    if (!entry) {
      entry = std::make_shared<Slot>();
    }
    slot = entry;
  }
  const std::lock_guard lock(slot->mutex);
  if (!slot->id) {
    CCREX_ASSIGN_OR_RETURN(slot->id, compute(compiler_path, language));
  }
  return slot->id;
}

util::Result<std::shared_ptr<const ToolchainId>>
ToolchainIdCache::compute(const std::string& compiler_path, Language language) {
  auto id = std::make_shared<ToolchainId>();
  id->compiler_path = compiler_path;
  id->language = language;
  CCREX_ASSIGN_OR_RETURN(id->resolved_path, resolve(compiler_path));
  CCREX_ASSIGN_OR_RETURN(const auto digest, util::digest_file(id->resolved_path));
  id->binary_sha256 = digest.hash;
  // One run of `-x <language> -E -v /dev/null` gives the search list, the version line and
  // the target. Only a compiler whose output lacks those lines is asked for them apart.
  auto verbose = run_probe(
      m_runner,
      {compiler_path, "-x", std::string(language_name(language)), "-E", "-v", "/dev/null"});
  if (!verbose) {
    return std::move(verbose).error();
  }
  id->builtin_include_dirs = parse_include_search_list(verbose->stderr_data);
  const auto header = parse_verbose_header(verbose->stderr_data);
  if (header.family != CompilerFamily::unknown && !header.target.empty()) {
    id->family = header.family;
    id->version = header.version;
    id->target = header.target;
  } else {
    // Independent: run them at once (a compiler start costs milliseconds).
    auto version_probe = std::async(k_concurrent_if_possible, [&] {
      return run_probe(m_runner, {compiler_path, "--version"});
    });
    auto machine = run_probe(m_runner, {compiler_path, "-dumpmachine"});
    auto version = version_probe.get();
    if (!version) {
      return std::move(version).error();
    }
    id->family = family_from_version_output(version->stdout_data);
    id->version = normalized_version(first_line(version->stdout_data), id->family);
    if (!machine) {
      return std::move(machine).error();
    }
    id->target = first_line(machine->stdout_data);
  }
  id->key = util::sha256_hex(id->description());
  return std::shared_ptr<const ToolchainId>(std::move(id));
}

} // namespace ccrex::toolchain
