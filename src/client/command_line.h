#pragma once

// How the thin client reads its own command line: which compiler to run (and how to find
// it), or which administrative command was asked for. Nothing here touches the network.
//
//   ccrex gcc -c a.c          compile; "gcc" is looked up in PATH
//   ccrex /usr/bin/gcc -c a.c compile with that path
//   gcc -c a.c                compile, when `gcc` is a symlink to ccrex (masquerade mode)
//   ccrex -s                  admin command, answered by the agent
//
// Thread safety: pure functions, except resolve_compiler() and self_path() which look at
// the file system.

#include "util/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace ccrex::client {

struct ClientCommand {
  enum class Kind {
    compile,     // run `args` as a compiler command line
    admin,       // forward `args` to the agent
    version,     // --version / -V
    help,        // --help / -h
    usage_error, // no arguments, or an unknown option; `message` says which
  };
  Kind kind = Kind::usage_error;
  // compile: the compiler command line with argv[0] as the user wrote it ("gcc",
  // "/usr/bin/gcc", or in masquerade mode the name ccrex was called by).
  std::vector<std::string> args;
  // admin: the commands to send to the agent in order, each in its canonical spelling
  // ({"-s"}, {"--set-config", "max_size=5G"}, {"--explain", ARGS...}).
  std::vector<std::vector<std::string>> admin;
  // compile: "key=value" settings given before the compiler (`ccrex max_size=1G gcc ...`,
  // ccache's form), for this compile only.
  std::vector<std::string> settings;
  // True when ccrex was called under a compiler's name.
  bool masquerade = false;
  std::string message;
};

// The name by which ccrex recognises itself in argv[0]; a link named like ccache's program
// takes ccache's command line too.
constexpr std::string_view k_program_name = "ccrex";
constexpr std::string_view k_ccache_name = "ccache";

// The variable that carries the settings given before the compiler to the agent
// ("key=value" lines).
constexpr std::string_view k_settings_variable = "CCREX_COMMAND_SETTINGS";

// Classify `argv` (argv[0] included).
ClientCommand classify_command_line(const std::vector<std::string>& argv);

// Split the options after `ccrex` into admin commands: short options may be combined
// (`-zs`), values follow their option (`-M 5G`, `-M5G`, `--max-size=5G`), and ccache's
// spellings map to ccrex's (`-p` is `--show-config`, `-M SIZE` is
// `--set-config max_size=SIZE`). `--explain` and `--doctor` take every argument after them.
// Fails with a message naming the first unknown option or missing value.
util::Result<std::vector<std::vector<std::string>>>
parse_admin_options(const std::vector<std::string>& options);

// The variable through which ccrex tells a later ccrex in the same chain of wrappers which
// PATH directories it already took a compiler from (':'-separated).
constexpr std::string_view k_passed_dirs_variable = "CCREX_PASSED_DIRS";

// Find the compiler to run for `name` (argv[0] of the compile command):
//  - a name without '/' is looked up in `path_list`, skipping any entry whose real path
//    is `self` (the ccrex binary, so a masquerade symlink never finds itself) or another
//    compiler wrapper (ccache, sccache, distcc, icecc, buildcache: one in front of ccrex
//    would call ccrex again), and any directory listed in `passed_dirs` (a wrapper ccrex
//    does not know led back to ccrex: k_passed_dirs_variable);
//  - a path is used as is, unless it leads to `self`, in which case its last component is
//    looked up in `path_list` as above.
// Fails with not_found when nothing suitable exists.
util::Result<std::string> resolve_compiler(const std::string& name,
                                           const std::string& path_list,
                                           const std::string& self,
                                           const std::string& passed_dirs = "");

// Whether the real path `real` is a compiler wrapper (by its name), ccrex included.
bool is_compiler_wrapper(const std::string& real);

// Return the real path of the running executable (from /proc/self/exe), or "" if unknown.
std::string self_path();

} // namespace ccrex::client
