// ccrex-depscan: print the header dependencies of one compile as a make rule, like `cc -M`,
// without running the preprocessor.
//
//   ccrex-depscan [--repeat N] [--probe-cache DIR | --no-probe-cache] <compiler> <args...>
//
// Exit status: 0 with the rule on stdout; 2 with a one-line reason on stderr when the scan
// cannot answer soundly (the caller should run the compiler with -M instead); 1 on misuse.
// --repeat N scans N times in one process (the caches stay warm after the first) and reports
// the first and the median per-scan time on stderr.
// The compiler's built-in directories (learnt by running `<compiler> -E -v` once) are kept
// on disk so that later processes skip that run, keyed by the compiler's resolved path,
// size, mtime and inode and the probe arguments. The directory is --probe-cache DIR, else
// $CCREX_DEPSCAN_PROBE_CACHE, else $XDG_CACHE_HOME/ccrex/depscan, else
// ~/.cache/ccrex/depscan. --no-probe-cache (or CCREX_DEPSCAN_PROBE_CACHE set to "") probes
// in every process. Only the probe is kept: file contents are never cached on disk.

#include "depscan/builtin_probe.h"
#include "depscan/depfile.h"
#include "depscan/file_system.h"
#include "depscan/scan_cache.h"
#include "depscan/scanner.h"
#include "tools/one_shot_allocator.h"
#include "util/file.h"
#include "util/strings.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

extern char** environ;

namespace {

using namespace ccrex;

int usage() {
  std::cerr << "usage: ccrex-depscan [--repeat N] [--probe-cache DIR | --no-probe-cache] "
               "<compiler> <args...>\n";
  return 1;
}

// Return the default probe cache directory ("" when none can be named).
std::string default_probe_cache() {
  if (const char* env = std::getenv("CCREX_DEPSCAN_PROBE_CACHE")) {
    return env;
  }
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return util::join_path(xdg, "ccrex/depscan");
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') {
    return util::join_path(home, ".cache/ccrex/depscan");
  }
  return {};
}

std::string current_dir() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof(buf)) != nullptr ? std::string(buf) : std::string("/");
}

// Name the rule's target like gcc: -MT/-MQ, else -o, else the source's basename with .o.
std::vector<std::string> rule_targets(const depscan::SearchConfig& config) {
  if (!config.dep_targets.empty()) {
    return config.dep_targets;
  }
  if (!config.output.empty()) {
    return {config.output};
  }
  std::string base(util::basename(config.source));
  const size_t dot = base.rfind('.');
  return {(dot == std::string::npos ? base : base.substr(0, dot)) + ".o"};
}

double millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int repeat = 1;
  std::string probe_cache = default_probe_cache();
  while (!args.empty() && args[0].starts_with("--")) {
    if (args[0] == "--no-probe-cache") {
      probe_cache.clear();
      args.erase(args.begin());
      continue;
    }
    if (args.size() < 2) {
      return usage();
    }
    if (args[0] == "--probe-cache") {
      probe_cache = args[1];
    } else if (args[0] == "--repeat") {
      auto n = util::parse_int(args[1]);
      if (!n || *n < 1) {
        return usage();
      }
      repeat = static_cast<int>(*n);
    } else {
      return usage();
    }
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) {
    return usage();
  }
  if (repeat == 1) {
    // One scan, then exit: nothing needs freeing (see one_shot_allocator.h).
    depscan::tools::enable_one_shot_allocator();
  }
  depscan::ScanRequest request;
  request.compiler = args[0];
  request.args.assign(args.begin() + 1, args.end());
  request.cwd = current_dir();
  for (char** e = environ; *e != nullptr; ++e) {
    request.env.emplace_back(*e);
  }

  depscan::RealFileSystem fs;
  depscan::ScanCache cache;
  depscan::CompilerProber prober(probe_cache);
  depscan::Scanner scanner(fs, cache, prober);
  scanner.set_one_shot(repeat == 1);
  std::vector<double> times;
  std::optional<depscan::ScanResultOr<depscan::ScanResult>> result;
  for (int i = 0; i < repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    result.emplace(scanner.scan(request));
    times.push_back(millis(std::chrono::steady_clock::now() - start));
    if (!*result) {
      break;
    }
  }
  if (!*result) {
    std::cerr << "ccrex-depscan: cannot scan: " << (*result).error().to_string() << "\n";
    return 2;
  }
  const depscan::ScanResult& scan = result->value();
  std::cout << depscan::format_make_rule(rule_targets(scan.config), scan.files);
  // What would keep ccrex from running the compile elsewhere or reusing its result.
  const depscan::ScanFacts& f = scan.facts;
  for (const auto& [what, fact] : {std::pair{"time macro", &f.date_time},
                                   std::pair{"time macro", &f.timestamp},
                                   std::pair{"GCC dependency pragma", &f.pragma_dependency},
                                   std::pair{"precompiled header", &f.pch},
                                   std::pair{"unresolved assembler file", &f.asm_unresolved},
                                   std::pair{"\"..\" after a symlink", &f.dotdot_symlink}}) {
    if (!fact->empty()) {
      std::cerr << "ccrex-depscan: note: " << what << ": " << *fact << "\n";
    }
  }
  if (repeat > 1) {
    const double first = times.front();
    std::vector<double> rest(times.begin() + 1, times.end());
    std::sort(rest.begin(), rest.end());
    const double median = rest[rest.size() / 2];
    std::fprintf(stderr,
                 "scans=%d files=%zu first_ms=%.3f warm_median_ms=%.3f\n",
                 repeat,
                 scan.files.size(),
                 first,
                 median);
  }
  // Leave without destroying the caches: freeing thousands of entries is work nobody needs
  // at exit. Flush first, since _exit skips that too.
  std::cout.flush();
  std::fflush(nullptr);
  ::_exit(std::cout ? 0 : 1);
}
