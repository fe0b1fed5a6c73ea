// Differential check of the dependency scanner against the real preprocessors.
//
//   depscan_differential <suite>     suite: corpus | stdheaders | cheaders | googletest
//
// For every translation unit of the suite, `g++ -M` / `gcc -M` and `clang++ -M` / `clang -M`
// run with the same flags; the scanner's file set must contain every file the compiler listed
// (compared by real path), and every extra file must exist (computed includes the scanner
// resolves included: its set is a superset). The corpus suite also checks that
// includes hidden in comments, strings and raw strings are never reported. Prints
// "N passed, N failed" and exits non-zero on any failure.

#include "depscan/depfile.h"
#include "depscan/file_system.h"
#include "depscan/scan_cache.h"
#include "depscan/scanner.h"
#include "util/file.h"
#include "util/subprocess.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace ccrex;
namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::string compiler;
  std::vector<std::string> args;
  std::string cwd;
  // Base names that must never be reported (fake includes hidden by the lexer).
  std::vector<std::string> forbidden;
};

struct Outcome {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
};

std::string real(const std::string& cwd, const std::string& path) {
  const std::string abs = !path.empty() && path[0] == '/' ? path : cwd + "/" + path;
  char buf[PATH_MAX];
  return ::realpath(abs.c_str(), buf) != nullptr ? std::string(buf) : std::string();
}

std::vector<std::string> environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    env.emplace_back(*e);
  }
  return env;
}

// Run `compiler -M args` in `cwd`; return the real paths it listed, or nullopt on failure.
std::optional<std::set<std::string>> compiler_deps(const Case& c, std::string& err) {
  util::SubprocessOptions opts;
  opts.argv = {c.compiler, "-M"};
  opts.argv.insert(opts.argv.end(), c.args.begin(), c.args.end());
  opts.cwd = c.cwd;
  opts.timeout = std::chrono::seconds(120);
  auto run = util::run_subprocess(opts);
  if (!run || run->exit_code != 0) {
    err = run ? run->stderr_data.substr(0, 300) : run.error().message();
    return std::nullopt;
  }
  auto rules = depscan::parse_depfile(run->stdout_data);
  if (!rules) {
    err = rules.error().message();
    return std::nullopt;
  }
  std::set<std::string> out;
  for (const std::string& p : depscan::depfile_prerequisites(*rules)) {
    out.insert(real(c.cwd, p));
  }
  return out;
}

// Check one case; return false on a mismatch. Compiler failures are reported as skips.
bool check(const Case& c, depscan::Scanner& scanner, Outcome& outcome, std::mutex& mutex) {
  std::string err;
  const auto expected = compiler_deps(c, err);
  if (!expected) {
    const std::lock_guard lock(mutex);
    ++outcome.skipped;
    std::cout << "SKIP " << c.name << " (" << c.compiler << " -M failed: " << err << ")\n";
    return true;
  }
  auto scan = scanner.scan({c.compiler, c.args, c.cwd, environment()});
  std::string problems;
  if (!scan) {
    problems = "scanner said can't: " + scan.error().to_string();
  } else {
    std::set<std::string> ours;
    for (const std::string& f : scan->files) {
      const std::string r = real(c.cwd, f);
      if (r.empty()) {
        problems += "\n  reported file does not exist: " + f;
      }
      ours.insert(r);
      for (const std::string& bad : c.forbidden) {
        if (std::string(util::basename(f)) == bad) {
          problems += "\n  hidden include reported: " + f;
        }
      }
    }
    for (const std::string& e : *expected) {
      if (ours.count(e) == 0) {
        problems += "\n  missing: " + e;
      }
    }
  }
  const std::lock_guard lock(mutex);
  if (problems.empty()) {
    ++outcome.passed;
    return true;
  }
  ++outcome.failed;
  std::cout << "FAIL " << c.name << " [" << c.compiler << "]" << problems << "\n";
  return false;
}

void add_both(std::vector<Case>& cases,
              const std::string& name,
              bool cxx,
              const std::vector<std::string>& args,
              const std::string& cwd,
              const std::vector<std::string>& forbidden = {}) {
  cases.push_back({name, cxx ? "g++" : "gcc", args, cwd, forbidden});
  cases.push_back({name, cxx ? "clang++" : "clang", args, cwd, forbidden});
}

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  if (!util::write_file_atomic(path, text)) {
    std::cerr << "cannot write " << path << "\n";
    std::exit(1);
  }
}

// The hand-made corpus: one tricky case per resolution and lexing rule.
std::vector<Case> corpus_cases(const std::string& root) {
  std::vector<Case> cases;
  // include_next through three directories, the last via -isystem.
  write(root + "/next/i1/n.h", "#include_next <n.h>\n");
  write(root + "/next/i2/n.h", "#pragma once\n#include_next \"n.h\"\n");
  write(root + "/next/sys/n.h", "#include_next <stddef.h>\n");
  write(root + "/next/main.cc", "#include <n.h>\n");
  add_both(cases,
           "include_next chain",
           true,
           {"-Ii1", "-Ii2", "-isystem", "sys", "main.cc"},
           root + "/next");
  // -iquote vs -I, and a quoted include found next to the includer.
  write(root + "/quote/q/a.h", "#include \"b.h\"\n");
  write(root + "/quote/q/b.h", "");
  write(root + "/quote/i/a.h", "#error wrong a.h\n");
  write(root + "/quote/i/c.h", "");
  write(root + "/quote/q/c.h", "#error wrong c.h\n");
  write(root + "/quote/src/local.h", "");
  write(root + "/quote/src/main.c", "#include \"a.h\"\n#include <c.h>\n#include \"local.h\"\n");
  add_both(cases, "iquote vs I", false, {"-Ii", "-iquote", "q", "src/main.c"}, root + "/quote");
  // Symlinked header directory and '..' in names.
  write(root + "/link/real/inc/s.h", "#include \"../inc/t.h\"\n");
  write(root + "/link/real/inc/t.h", "#include \"u.h\"\n");
  write(root + "/link/real/inc/u.h", "");
  fs::create_directory_symlink("real/inc", root + "/link/inc");
  write(root + "/link/src/main.c", "#include <s.h>\n#include \"../inc/u.h\"\n");
  add_both(cases, "symlinks and dotdot", false, {"-Iinc", "src/main.c"}, root + "/link");
  // Fake includes hidden by the lexer, and conditionals with both branches.
  for (const char* f : {"fake1.h", "fake2.h", "fake3.h", "fake4.h", "fake5.h"}) {
    write(root + "/lex/" + f, "#error must not be read\n");
  }
  write(root + "/lex/yes_if.h", "");
  write(root + "/lex/yes_else.h", "");
  write(root + "/lex/has.h", "");
  write(root + "/lex/spliced.h", "");
  write(root + "/lex/crlf.h", "");
  write(root + "/lex/main.cc",
        "// #include \"fake1.h\"\n"
        "/* \n#include \"fake2.h\"\n */\n"
        "const char* s = \"\\n#include \\\"fake3.h\\\"\";\n"
        "const char* r = R\"x(\n#include \"fake4.h\"\n)x\";\n"
        "int n = 1'000; // \\\n#include \"fake5.h\"\n"
        "#if __has_include(\"has.h\")\n#include \"yes_if.h\"\n#else\n#include \"yes_else.h\"\n"
        "#endif\n"
        "#inc\\\nlude \"spliced.h\"\n"
        "#include \"crlf.h\"\r\n"
        "#if 0\n#include <nonexistent_header_xyz.h>\n#endif\n");
  add_both(cases,
           "lexing traps",
           true,
           {"-std=c++17", "main.cc"},
           root + "/lex",
           {"fake1.h", "fake2.h", "fake3.h", "fake4.h", "fake5.h"});
  // -include from the cwd, and -I that duplicates a system directory.
  write(root + "/forced/pre.h", "#include <stdio.h>\n");
  write(root + "/forced/src/main.c", "#include <stdlib.h>\n");
  add_both(cases,
           "forced include and -I/usr/include",
           false,
           {"-include", "pre.h", "-I/usr/include", "src/main.c"},
           root + "/forced");
  // Computed includes the scanner resolves: a -D string and a -D <...> name, definitions
  // in both branches of a conditional, one made only after the use (the compiler never
  // reads it; the scanner's superset does), __has_include and #include_next of a macro, and
  // a macro defined as another macro.
  write(root + "/computed/config.h",
        "#if defined(USER_H)\n#include USER_H\n#endif\n#ifdef LATE_H\n#include LATE_H\n#endif\n");
  write(root + "/computed/defs.h",
        "#ifdef BIG\n#define PICK_H \"big.h\"\n#else\n#define PICK_H <small.h>\n#endif\n"
        "#define HAS_H \"has.h\"\n#define WRAP_H <wrap.h>\n#define ALIAS_H PICK_H\n");
  write(root + "/computed/late.h", "#define LATE_H \"late_target.h\"\n");
  write(
      root + "/computed/main.c",
      "#include \"defs.h\"\n#include \"config.h\"\n#include PICK_H\n"
      "#if __has_include(HAS_H)\n#include HAS_H\n#endif\n#include <wrap.h>\n#include \"late.h\"\n");
  write(root + "/computed/user.h", "");
  write(root + "/computed/big.h", "");
  write(root + "/computed/inc/small.h", "");
  write(root + "/computed/has.h", "");
  write(root + "/computed/late_target.h", "");
  write(root + "/computed/inc/wrap.h", "#include_next WRAP_H\n");
  write(root + "/computed/inc2/wrap.h", "");
  add_both(cases,
           "computed includes",
           false,
           {"-Iinc", "-Iinc2", "-DUSER_H=\"user.h\"", "main.c"},
           root + "/computed");
  add_both(cases,
           "computed includes, angled -D",
           false,
           {"-Iinc", "-Iinc2", "-DUSER_H=<small.h>", "-DBIG", "main.c"},
           root + "/computed");
  add_both(cases,
           "computed includes, a macro defined as another",
           false,
           {"-Iinc", "-Iinc2", "-DUSER_H=ALIAS_H", "main.c"},
           root + "/computed");
  return cases;
}

std::vector<Case> stdheader_cases(const std::string& root) {
  static const char* const k_headers[] = {"algorithm",
                                          "any",
                                          "array",
                                          "atomic",
                                          "barrier",
                                          "bit",
                                          "bitset",
                                          "cassert",
                                          "cctype",
                                          "cerrno",
                                          "cfenv",
                                          "cfloat",
                                          "charconv",
                                          "chrono",
                                          "cinttypes",
                                          "climits",
                                          "clocale",
                                          "cmath",
                                          "codecvt",
                                          "compare",
                                          "complex",
                                          "concepts",
                                          "condition_variable",
                                          "coroutine",
                                          "csetjmp",
                                          "csignal",
                                          "cstdarg",
                                          "cstddef",
                                          "cstdint",
                                          "cstdio",
                                          "cstdlib",
                                          "cstring",
                                          "ctime",
                                          "cuchar",
                                          "cwchar",
                                          "cwctype",
                                          "deque",
                                          "exception",
                                          "execution",
                                          "filesystem",
                                          "format",
                                          "forward_list",
                                          "fstream",
                                          "functional",
                                          "future",
                                          "initializer_list",
                                          "iomanip",
                                          "ios",
                                          "iosfwd",
                                          "iostream",
                                          "istream",
                                          "iterator",
                                          "latch",
                                          "limits",
                                          "list",
                                          "locale",
                                          "map",
                                          "memory",
                                          "memory_resource",
                                          "mutex",
                                          "new",
                                          "numbers",
                                          "numeric",
                                          "optional",
                                          "ostream",
                                          "queue",
                                          "random",
                                          "ranges",
                                          "ratio",
                                          "regex",
                                          "scoped_allocator",
                                          "semaphore",
                                          "set",
                                          "shared_mutex",
                                          "source_location",
                                          "span",
                                          "sstream",
                                          "stack",
                                          "stdexcept",
                                          "stop_token",
                                          "streambuf",
                                          "string",
                                          "string_view",
                                          "syncstream",
                                          "system_error",
                                          "thread",
                                          "tuple",
                                          "type_traits",
                                          "typeindex",
                                          "typeinfo",
                                          "unordered_map",
                                          "unordered_set",
                                          "utility",
                                          "valarray",
                                          "variant",
                                          "vector",
                                          "version"};
  std::vector<Case> cases;
  for (const char* h : k_headers) {
    if (!fs::exists(std::string("/usr/include/c++/12/") + h)) {
      continue;
    }
    const std::string file = std::string("tu_") + h + ".cc";
    write(root + "/" + file, std::string("#include <") + h + ">\n");
    add_both(cases, std::string("<") + h + ">", true, {"-std=c++20", file}, root);
  }
  return cases;
}

std::vector<Case> cheader_cases(const std::string& root) {
  const std::vector<std::string> headers = {
      "stdio.h",    "stdlib.h",    "string.h", "pthread.h",    "sys/socket.h", "openssl/evp.h",
      "unistd.h",   "math.h",      "signal.h", "netinet/in.h", "arpa/inet.h",  "fcntl.h",
      "sys/stat.h", "time.h",      "errno.h",  "dirent.h",     "poll.h",       "sys/epoll.h",
      "stdint.h",   "stdatomic.h", "zlib.h",   "openssl/ssl.h"};
  std::vector<Case> cases;
  std::string all;
  for (const std::string& h : headers) {
    if (!fs::exists("/usr/include/" + h)) {
      continue;
    }
    std::string file = "c_" + h + ".c";
    std::replace(file.begin(), file.end(), '/', '_');
    write(root + "/" + file, "#include <" + h + ">\n");
    all += "#include <" + h + ">\n";
    add_both(cases, "<" + h + ">", false, {"-std=gnu11", file}, root);
  }
  write(root + "/all.c", all);
  add_both(cases, "all C headers", false, {"-D_GNU_SOURCE", "-O2", "all.c"}, root);
  return cases;
}

std::vector<Case> googletest_cases() {
  const std::string base = "/usr/src/googletest";
  std::vector<Case> cases;
  if (!fs::exists(base)) {
    return cases;
  }
  const std::vector<std::string> flags = {"-std=c++17",
                                          "-I" + base + "/googletest/include",
                                          "-I" + base + "/googletest",
                                          "-I" + base + "/googlemock/include",
                                          "-I" + base + "/googlemock"};
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(base)) {
    const std::string ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".cc" || ext == ".cpp" || ext == ".c")) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    std::vector<std::string> args = flags;
    args.push_back(f);
    add_both(cases, f.substr(base.size() + 1), f.ends_with(".c") ? false : true, args, base);
  }
  return cases;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: depscan_differential corpus|stdheaders|cheaders|googletest\n";
    return 1;
  }
  const std::string suite = argv[1];
  util::TempDir dir("depscan-diff-");
  std::vector<Case> cases;
  if (suite == "corpus") {
    cases = corpus_cases(dir.path());
  } else if (suite == "stdheaders") {
    cases = stdheader_cases(dir.path());
  } else if (suite == "cheaders") {
    cases = cheader_cases(dir.path());
  } else if (suite == "googletest") {
    cases = googletest_cases();
  } else {
    std::cerr << "unknown suite " << suite << "\n";
    return 1;
  }
  depscan::RealFileSystem fs;
  depscan::ScanCache cache;
  depscan::CompilerProber prober;
  depscan::Scanner scanner(fs, cache, prober);
  Outcome outcome;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < cases.size(); i = next++) {
        check(cases[i], scanner, outcome, mutex);
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  std::cout << suite << ": " << outcome.passed << " passed, " << outcome.failed << " failed, "
            << outcome.skipped << " skipped\n";
  // A suite where most compiles could not even be preprocessed proves nothing.
  const bool too_many_skips = outcome.skipped * 5 > static_cast<int>(cases.size());
  if (too_many_skips || cases.empty()) {
    std::cout << "too many skipped cases\n";
    return 1;
  }
  return outcome.failed == 0 ? 0 : 1;
}
