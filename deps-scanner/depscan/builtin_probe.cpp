#include "depscan/builtin_probe.h"

#include "depscan/content_hash.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

extern char** environ;

namespace ccrex::depscan {
namespace {

bool is_include_path_var(std::string_view entry) {
  for (const std::string_view name : {"CPATH=",
                                      "C_INCLUDE_PATH=",
                                      "CPLUS_INCLUDE_PATH=",
                                      "OBJC_INCLUDE_PATH=",
                                      "OBJCPLUS_INCLUDE_PATH="}) {
    if (entry.starts_with(name)) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> probe_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!is_include_path_var(*e)) {
      env.emplace_back(*e);
    }
  }
  return env;
}

} // namespace

std::optional<std::vector<std::string>> parse_search_list(std::string_view verbose_output) {
  std::vector<std::string> dirs;
  bool in_list = false;
  bool seen = false;
  for (const std::string_view raw : util::split(verbose_output, '\n')) {
    const std::string_view line = util::trim(raw);
    if (line == "#include <...> search starts here:") {
      in_list = true;
      seen = true;
      continue;
    }
    if (!in_list) {
      continue;
    }
    if (line == "End of search list.") {
      return dirs;
    }
    std::string_view dir = line;
    constexpr std::string_view k_framework = " (framework directory)";
    if (dir.ends_with(k_framework)) {
      continue; // frameworks are not searched for ordinary includes on Linux
    }
    dirs.emplace_back(dir);
  }
  if (!seen) {
    return std::nullopt;
  }
  return dirs;
}

// Return the on-disk cache file for `key` and set `full_key` to what the file must start
// with; "" when the compiler cannot be identified.
std::string CompilerProber::disk_key(const std::string& compiler,
                                     const std::string& key,
                                     std::string& full_key) const {
  std::string path = compiler;
  if (compiler.find('/') == std::string::npos) {
    const char* env_path = std::getenv("PATH");
    auto found = util::find_in_path(compiler, env_path != nullptr ? env_path : "");
    if (!found) {
      return {};
    }
    path = *found;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  full_key = path + '\0' + std::to_string(st.st_size) + '\0' + std::to_string(st.st_mtim.tv_sec)
             + '.' + std::to_string(st.st_mtim.tv_nsec) + '\0' + std::to_string(st.st_ino) + '\0'
             + key;
  return util::join_path(m_cache_dir, "probe-" + content_hash_hex(full_key));
}

namespace {

// A probe cache file is "<key length>\n<key>\n" followed by one directory per line. The key
// is stored whole so that a file name collision (the name is a 64-bit hash) reads as a miss.
std::string encode_probe_file(const std::string& full_key, const std::vector<std::string>& dirs) {
  std::string out = std::to_string(full_key.size()) + "\n" + full_key + "\n";
  for (const std::string& d : dirs) {
    out += d + "\n";
  }
  return out;
}

std::optional<std::vector<std::string>> decode_probe_file(std::string_view text,
                                                          const std::string& full_key) {
  const size_t nl = text.find('\n');
  if (nl == std::string_view::npos) {
    return std::nullopt;
  }
  const auto len = util::parse_int(text.substr(0, nl));
  if (!len || static_cast<uint64_t>(*len) != full_key.size()
      || text.substr(nl + 1, full_key.size()) != full_key
      || text.substr(nl + 1 + full_key.size(), 1) != "\n") {
    return std::nullopt;
  }
  std::vector<std::string> dirs;
  for (const std::string_view line :
       util::split(text.substr(nl + 2 + full_key.size()), '\n', true)) {
    dirs.emplace_back(line);
  }
  return dirs;
}

} // namespace

std::string CompilerProber::memory_key(const std::string& compiler,
                                       Language language,
                                       const std::vector<std::string>& args) {
  std::string key = compiler + '\0' + std::string(language_name(language));
  for (const std::string& a : args) {
    key += '\0' + a;
  }
  return key;
}

bool CompilerProber::remember(const std::string& compiler,
                              Language language,
                              const std::vector<std::string>& probe_args,
                              std::string_view verbose_output) {
  auto dirs = parse_search_list(verbose_output);
  if (!dirs) {
    return false;
  }
  const std::lock_guard lock(m_mutex);
  m_cache.emplace(memory_key(compiler, language, probe_args), std::move(*dirs));
  return true;
}

ScanResultOr<std::vector<std::string>> CompilerProber::builtin_dirs(
    const std::string& compiler, Language language, const std::vector<std::string>& probe_args) {
  const std::string key = memory_key(compiler, language, probe_args);
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_cache.find(key);
    if (it != m_cache.end()) {
      return it->second;
    }
  }
  std::string full_key;
  const std::string disk = m_cache_dir.empty() ? std::string() : disk_key(compiler, key, full_key);
  if (!disk.empty()) {
    auto text = util::read_file(disk);
    if (auto dirs = text ? decode_probe_file(*text, full_key) : std::nullopt) {
      const std::lock_guard lock(m_mutex);
      return m_cache.emplace(key, std::move(*dirs)).first->second;
    }
  }
  util::SubprocessOptions opts;
  opts.argv.push_back(compiler);
  opts.argv.insert(opts.argv.end(), probe_args.begin(), probe_args.end());
  for (const char* a : {"-x", "", "-E", "-v", "/dev/null"}) {
    opts.argv.emplace_back(a);
  }
  opts.argv[probe_args.size() + 2] = std::string(language_name(language));
  opts.env = probe_environment();
  opts.new_process_group = false;
  opts.timeout = std::chrono::seconds(60);
  auto run = util::run_subprocess(opts);
  if (!run) {
    return ScanFailure{FailureReason::probe_failed, run.error().message()};
  }
  auto dirs = parse_search_list(run->stderr_data);
  if (run->exit_code != 0 || !dirs) {
    return ScanFailure{FailureReason::probe_failed,
                       compiler + " -E -v failed for " + std::string(language_name(language))};
  }
  if (!disk.empty() && util::make_dirs(m_cache_dir)) {
    // Best effort: a failed write only costs a probe next time.
    (void)util::write_file_atomic(disk, encode_probe_file(full_key, *dirs));
  }
  const std::lock_guard lock(m_mutex);
  ++m_runs;
  return m_cache.emplace(key, std::move(*dirs)).first->second;
}

int CompilerProber::runs() const {
  const std::lock_guard lock(m_mutex);
  return m_runs;
}

ScanResultOr<bool>
fill_builtin_dirs(SearchConfig& config, const std::string& compiler, BuiltinProber& prober) {
  if (config.nostdinc) {
    config.builtin_dirs.clear();
    config.builtin_cxx_only.clear();
    return true;
  }
  // Assembly is preprocessed with the C directories (and plain assembly searches none of
  // them, but they are candidates for .include when the compiler is clang).
  const Language probed = is_assembler(config.language) ? Language::c : config.language;
  CCREX_ASSIGN_OR_RETURN(config.builtin_dirs,
                         prober.builtin_dirs(compiler, probed, config.probe_args));
  const bool is_cxx = config.language == Language::cxx || config.language == Language::objcxx;
  if (config.nostdincxx && is_cxx) {
    CCREX_ASSIGN_OR_RETURN(
        const auto c_dirs,
        prober.builtin_dirs(compiler,
                            config.language == Language::cxx ? Language::c : Language::objc,
                            config.probe_args));
    config.builtin_cxx_only.clear();
    for (const std::string& d : config.builtin_dirs) {
      if (std::find(c_dirs.begin(), c_dirs.end(), d) == c_dirs.end()) {
        config.builtin_cxx_only.push_back(d);
      }
    }
  }
  return true;
}

} // namespace ccrex::depscan
