// ccrex-depscan: print the header dependencies of one compile as a make rule, like `cc -M`,
// without running the preprocessor.
//
//   ccrex-depscan [--repeat N] [--probe-cache DIR] <compiler> <compile arguments...>
//
// Exit status: 0 with the rule on stdout; 2 with a one-line reason on stderr when the scan
// cannot answer soundly (the caller should run the compiler with -M instead); 1 on misuse.
// --repeat N scans N times in one process (the caches stay warm after the first) and reports
// the first and the median per-scan time on stderr. --probe-cache DIR (or the environment
// variable CCREX_DEPSCAN_PROBE_CACHE) keeps the compiler's built-in directories on disk so
// that later processes skip the `-E -v` probe.

#include "depscan/builtin_probe.h"
#include "depscan/depfile.h"
#include "depscan/file_system.h"
#include "depscan/scan_cache.h"
#include "depscan/scanner.h"
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
  std::cerr << "usage: ccrex-depscan [--repeat N] [--probe-cache DIR] <compiler> <args...>\n";
  return 1;
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
  const char* env_cache = std::getenv("CCREX_DEPSCAN_PROBE_CACHE");
  std::string probe_cache = env_cache != nullptr ? env_cache : "";
  while (args.size() >= 2 && (args[0] == "--repeat" || args[0] == "--probe-cache")) {
    if (args[0] == "--probe-cache") {
      probe_cache = args[1];
    } else {
      auto n = util::parse_int(args[1]);
      if (!n || *n < 1) {
        return usage();
      }
      repeat = static_cast<int>(*n);
    }
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty()) {
    return usage();
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
  return 0;
}
