#include "agent/action_builder.h"

#include "reapi/digest.h"
#include "server/sandbox_settings.h"
#include "toolchain/environment.h"
#include "util/file.h"
#include "util/sha256.h"
#include "util/strings.h"

#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <set>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;

// Spelled as macros so the wrapper script below can be assembled at compile time; they
// must equal k_root_token and k_engine_root_output in the header.
#define ROOT_TOKEN "@@CCREX_ROOT@@"
#define ENGINE_ROOT_FILE ".ccrex-engine-root"
static_assert(std::string_view(ROOT_TOKEN) == k_root_token);
static_assert(std::string_view(ENGINE_ROOT_FILE) == k_engine_root_output);

// Variables of the client's environment that change what the compiler produces: the
// forwarded half of toolchain/environment.h's table (the other half makes compiles run
// locally, see compile_handler.cpp). PATH is not one of them (it is fixed below), so
// differing user PATHs still share hits.
const std::span<const char* const> k_passed_env = toolchain::forwarded_environment();
constexpr const char* k_fixed_path = "/usr/local/bin:/usr/bin:/bin";

// Whether `path` lies below one of `dirs` (normalized).
bool under_any(const std::string& path, const std::vector<std::string>& dirs) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& d) {
    return path.size() > d.size() && path.compare(0, d.size(), d) == 0 && path[d.size()] == '/';
  });
}

// Whether an argument names the project root or a path below it: the root followed by the
// end of the argument or by a character that cannot continue its last component ("/" for a
// path below it, "=" in a prefix map such as -fdebug-prefix-map=ROOT=., a separator of a
// list). A prefix map that names the root applies only where the compile runs at the root.
bool args_mention_root(const std::vector<std::string>& args, const std::string& root) {
  return std::any_of(args.begin() + 1, args.end(), [&](const std::string& a) {
    for (size_t at = a.find(root); at != std::string::npos; at = a.find(root, at + 1)) {
      const size_t end = at + root.size();
      if (end == a.size() || std::string_view("/=:,; \"'").find(a[end]) != std::string_view::npos) {
        return true;
      }
    }
    return false;
  });
}

// Whether the compiler records the build directory in its output (debug info's compile
// directory, coverage data, gcc's LTO bytecode). A prefix map of the user's does not make
// such a compile movable: it rewrites the directory it names, so run anywhere else the
// compile records that other directory unmapped.
bool records_location(const toolchain::ParsedCommand& cmd) {
  return cmd.gcc_lto || cmd.generates_debug_info || cmd.profile_arcs || cmd.test_coverage
         || cmd.coverage_mapping;
}

// Whether a compile that records its location, or names absolute paths of the project,
// can run on an engine that stages elsewhere through the remapping wrapper: no coverage
// (gcc's notes, clang's mapping) and no split DWARF (they record paths the prefix map does not
// cover everywhere) and no prefix map of the user's (two maps of one path do not chain).
bool can_remap(const toolchain::ParsedCommand& cmd) {
  return !cmd.profile_arcs && !cmd.test_coverage && !cmd.coverage_mapping && !cmd.split_dwarf_output
         && !cmd.gcc_lto && cmd.prefix_maps.empty();
}

// The shell line that runs the compiler (its "$@") on an engine that stages the input root
// at a path of its own choosing. It finds that path from its working directory (physical
// and logical), writes both to the engine-root output, puts the path in place of the root
// token in the arguments, and maps it to the local project root in everything the compiler
// records (__FILE__, debug information, the compile directory).
constexpr const char* k_remap_script =
    "e=$(pwd -P) && l=$PWD && w=$CCREX_WORKING_DIR && "
    "if [ -n \"$w\" ]; then e=${e%/\"$w\"}; l=${l%/\"$w\"}; fi && "
    "printf '%s\\n%s\\n' \"$e\" \"$l\" >" ENGINE_ROOT_FILE " && "
    "for a; do shift; case $a in *" ROOT_TOKEN "*) "
    "a=${a%%" ROOT_TOKEN "*}$e${a#*" ROOT_TOKEN "};; esac; set -- \"$@\" \"$a\"; done && "
    "set -- \"$@\" \"-ffile-prefix-map=$e=$CCREX_LOCAL_ROOT\" && "
    "if [ \"$l\" != \"$e\" ]; then set -- \"$@\" \"-ffile-prefix-map=$l=$CCREX_LOCAL_ROOT\"; fi && "
    "exec \"$@\"";

// The input-root path of the absolute local path `abs`: below the project root for a
// normal action, the path without its leading '/' for a hermetic one; nullopt when it lies
// outside the input root.
std::optional<std::string> root_path(const ActionContext& ctx, const std::string& abs) {
  if (ctx.hermetic != nullptr) {
    return abs.substr(1);
  }
  return ctx.paths.input_path(abs);
}

// The input-root paths of the directories that outputs name before a `..` (`obj` in
// `-o obj/../a.o`) and that exist here as directories.
std::vector<std::string> dotdot_directories(const ActionContext& ctx) {
  std::vector<std::string> written{ctx.command.output_object};
  for (const auto* opt : {&ctx.command.dependency_file,
                          &ctx.command.split_dwarf_output,
                          &ctx.command.coverage_notes_output}) {
    if (opt->has_value()) {
      written.push_back(**opt);
    }
  }
  written.insert(written.end(), ctx.command.other_outputs.begin(), ctx.command.other_outputs.end());
  std::vector<std::string> dirs;
  for (const auto& path : written) {
    std::string prefix = path.starts_with('/') ? "/" : "";
    for (const auto part : util::split(path, '/', true)) {
      struct stat st {};
      if (part == ".." && !prefix.empty() && ::stat(ctx.paths.absolute(prefix).c_str(), &st) == 0
          && S_ISDIR(st.st_mode)) {
        if (auto in = root_path(ctx, ctx.paths.absolute(prefix))) {
          dirs.push_back(*in);
        }
      }
      prefix = util::join_path(prefix, std::string(part));
    }
  }
  return dirs;
}

util::Status add_outputs(const ActionContext& ctx, BuiltAction& out) {
  // Each output, and whether a successful compile always writes it.
  std::vector<std::pair<std::string, bool>> locals{{ctx.command.output_object, true}};
  if (ctx.command.dependency_file) {
    locals.emplace_back(*ctx.command.dependency_file, true);
  }
  const auto dep_file =
      ctx.command.dependency_file ? ctx.paths.absolute(*ctx.command.dependency_file) : "";
  for (const auto* opt : {&ctx.command.split_dwarf_output, &ctx.command.coverage_notes_output}) {
    if (opt->has_value()) {
      locals.emplace_back(**opt, false);
    }
  }
  for (const auto& o : ctx.command.other_outputs) {
    locals.emplace_back(o, false);
  }
  std::set<std::string> remote;
  for (const auto& [l, required] : locals) {
    const std::string abs = ctx.paths.absolute(l);
    const std::string rel = util::relative_path(abs, ctx.paths.cwd());
    // Outputs above the working directory ("../obj/a.o") are valid REAPI paths as long as
    // they stay inside the input root, but not every engine accepts them; ccrex's own
    // servers (which stage at the same path) do.
    const bool inside_cwd = util::is_safe_relative_path(rel) && rel != ".";
    const bool at_local_path = ctx.same_path || ctx.hermetic != nullptr;
    if (!inside_cwd && !(at_local_path && root_path(ctx, abs).has_value())) {
      return util::unsupported("output " + l + " is outside the working directory");
    }
    if (remote.insert(rel).second) {
      ExpectedOutput o{rel, abs, required};
      o.kind = OutputKind::file;
      o.in_place = abs == dep_file;
      if (out.remaps_root && abs == dep_file) {
        o.kind = ctx.command.compiler_info.family == toolchain::CompilerFamily::clang
                     ? OutputKind::clang_dependency_file
                     : OutputKind::gcc_dependency_file;
      }
      out.outputs.push_back(std::move(o));
    }
  }
  if (out.remaps_root) {
    ExpectedOutput o{std::string(k_engine_root_output), ctx.paths.root(), true};
    o.kind = OutputKind::engine_root;
    remote.insert(o.remote_path);
    out.outputs.push_back(std::move(o));
  }
  for (const auto& r : remote) { // sorted, as REAPI requires
    out.command.add_output_files(r);
    out.command.add_output_paths(r);
  }
  return {};
}

util::Status add_inputs(const ActionContext& ctx,
                        FileDigests& digests,
                        reapi::MerkleTree& tree,
                        std::string& salt,
                        BuiltAction& out) {
  // Dependencies first, so that index i still matches the scanner's stats.
  std::vector<const std::string*> files;
  files.reserve(ctx.dependencies.files.size() + ctx.command.option_inputs.size()
                + ctx.command.response_files.size());
  for (const auto& f : ctx.dependencies.files) {
    files.push_back(&f);
  }
  for (const auto& oi : ctx.command.option_inputs) {
    files.push_back(&oi.path);
  }
  for (const auto& rf : ctx.command.response_files) {
    files.push_back(&rf);
  }
  std::vector<std::string> builtin = ctx.toolchain.builtin_include_dirs;
  builtin.emplace_back("/usr/include");
  for (auto& d : builtin) {
    d = util::normalize_path(d);
  }
  std::set<std::string> seen;
  std::vector<std::string> external;
  const auto& ids = ctx.dependencies.stats;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& f = *files[i];
    const std::string abs = ctx.paths.absolute(f);
    if (!seen.insert(abs).second) {
      continue;
    }
    // The scanner's stat of this very file, taken during this compile, when it has one.
    auto info = digests.get(abs, i < ids.size() ? &ids[i] : nullptr);
    if (!info) {
      if (info.error().code() == util::ErrorCode::not_found) {
        continue; // e.g. -include of a file found through the include path later on
      }
      return info.error();
    }
    const auto rel = root_path(ctx, abs);
    if (rel && !rel->empty()) {
      CCREX_TRY(tree.add_file(
          *rel, reapi::to_proto(info->digest), info->is_executable, reapi::BlobSource::file(abs)));
      continue;
    }
    if (f.front() != '/') {
      if (!ctx.same_path) {
        return util::unsupported("input " + f + " lies outside the project root " + ctx.paths.root()
                                 + " (set CCREX_PROJECT_ROOT)");
      }
      // Reached through "..": it resolves only if the compile runs at the local path.
      out.location_dependent = true;
    }
    external.push_back(abs + " " + info->digest.to_string());
    if (!under_any(abs, builtin)) {
      out.foreign_inputs.push_back(abs);
    }
  }
  std::sort(external.begin(), external.end());
  for (const auto& e : external) {
    salt += e;
    salt += '\n';
  }
  return {};
}

void add_environment(const ActionContext& ctx, const BuiltAction& built, v2::Command& command) {
  std::vector<std::pair<std::string, std::string>> vars{{"PATH", k_fixed_path}};
  for (const char* name : k_passed_env) {
    const std::string value = env_value(ctx.env, name);
    if (!value.empty()) {
      vars.emplace_back(name, value);
    }
  }
  if (built.remaps_root) {
    vars.emplace_back(k_local_root_env, ctx.paths.root());
    vars.emplace_back(k_working_dir_env, ctx.paths.working_directory());
  } else if (built.location_dependent && !built.hermetic) {
    vars.emplace_back(k_stage_root_env, ctx.paths.root());
  }
  if (!built.logical_cwd.empty()) {
    vars.emplace_back("PWD", built.logical_cwd); // the directory the output records
  }
  std::sort(vars.begin(), vars.end());
  for (const auto& [k, v] : vars) {
    auto* e = command.add_environment_variables();
    e->set_name(k);
    e->set_value(v);
  }
}

void set_platform(const Config& config, bool hermetic, v2::Command& command, v2::Action& action) {
  // std::map keeps the properties sorted by name, as REAPI requires.
  auto properties = config.platform;
  if (hermetic) {
    properties[server::k_root_property] = "input";
  }
  for (const auto& [k, v] : properties) {
    auto* p = action.mutable_platform()->add_properties();
    p->set_name(k);
    p->set_value(v);
  }
  *command.mutable_platform() = action.platform();
}

// Rebuild the Command and Action blobs of `out` after its Command changed.
void rehash(BuiltAction& out) {
  auto& blobs = out.input_root.blobs;
  blobs.erase(reapi::to_string(out.action.command_digest()));
  blobs.erase(reapi::to_string(out.action_digest));
  *out.action.mutable_command_digest() = reapi::add_message(blobs, out.command);
  out.action_digest = reapi::add_message(blobs, out.action);
}

} // namespace

BuiltAction with_output_fields(const BuiltAction& built, reapi::OutputFields fields) {
  BuiltAction out = built;
  if (fields == reapi::OutputFields::legacy) {
    out.command.clear_output_paths();
  } else if (fields == reapi::OutputFields::paths) {
    out.command.clear_output_files();
    out.command.clear_output_directories();
  }
  rehash(out);
  return out;
}

std::string root_token_argument(const std::string& arg, const PathMapper& paths) {
  const std::string prefix = paths.root() + "/";
  const size_t at = arg.find(prefix);
  if (at == std::string::npos) {
    return arg;
  }
  // Only rewrite a path that is the whole argument or follows an option that takes a path;
  // macro values and prefix maps keep their text.
  static constexpr std::string_view k_path_options[] = {"-I",
                                                        "-iquote",
                                                        "-isystem",
                                                        "-idirafter",
                                                        "-include",
                                                        "-imacros",
                                                        "-o",
                                                        "-MF",
                                                        "-isysroot",
                                                        "--sysroot=",
                                                        "-Wp,-MD,",
                                                        "-Wp,-MMD,",
                                                        "-fsanitize-ignorelist=",
                                                        "-fsanitize-blacklist=",
                                                        "-fprofile-instr-use=",
                                                        "-fprofile-sample-use=",
                                                        "-specs="};
  const std::string head = arg.substr(0, at);
  if (!head.empty()
      && std::find(std::begin(k_path_options), std::end(k_path_options), head)
             == std::end(k_path_options)) {
    return arg;
  }
  const std::string tail = arg.substr(at);
  const size_t end = tail.find_first_of(",:= ");
  const std::string path = util::normalize_path(tail.substr(0, end));
  if (path.compare(0, prefix.size(), prefix) != 0) {
    return arg; // leaves the root through ".."
  }
  return head + std::string(k_root_token) + path.substr(paths.root().size())
         + (end == std::string::npos ? "" : tail.substr(end));
}

// The client's logical working directory: $PWD when it is absolute, differs from the
// physical cwd and names the same directory (the test gcc's getpwd and clang make before
// they record $PWD instead of getcwd()); empty otherwise.
std::string logical_cwd(const std::vector<std::string>& env, const std::string& cwd) {
  const std::string pwd = env_value(env, "PWD");
  if (pwd.empty() || pwd.front() != '/' || pwd == cwd) {
    return "";
  }
  struct stat a {};
  struct stat b {};
  if (::stat(pwd.c_str(), &a) != 0 || ::stat(cwd.c_str(), &b) != 0 || a.st_dev != b.st_dev
      || a.st_ino != b.st_ino) {
    return "";
  }
  return pwd;
}

util::Result<BuiltAction> build_action(const ActionContext& ctx, FileDigests& digests) {
  BuiltAction out;
  const auto& cmd = ctx.command;
  const bool abs_args = args_mention_root(cmd.args, ctx.paths.root());
  out.location_dependent = records_location(cmd) || abs_args;
  if (out.location_dependent) {
    out.logical_cwd = logical_cwd(ctx.env, ctx.paths.cwd());
  }
  out.hermetic = ctx.hermetic != nullptr;
  out.remaps_root = out.location_dependent && !ctx.same_path && !out.hermetic
                    && out.logical_cwd.empty() && can_remap(cmd);

  if (out.remaps_root) {
    for (const char* a : {"/bin/sh", "-c", k_remap_script, "ccrex-remap"}) {
      out.command.add_arguments(a);
    }
  }
  out.command.add_arguments(ctx.compiler);
  for (size_t i = 1; i < cmd.args.size(); ++i) {
    out.command.add_arguments(out.remaps_root ? root_token_argument(cmd.args[i], ctx.paths)
                                              : cmd.args[i]);
  }
  CCREX_TRY(add_outputs(ctx, out));
  const std::string working_dir =
      out.hermetic ? ctx.paths.cwd().substr(1) : ctx.paths.working_directory();
  out.command.set_working_directory(working_dir);

  reapi::MerkleTree tree;
  std::string salt = "ccrex action v1\n" + ctx.toolchain.key + "\n";
  if (out.hermetic) {
    salt += "hermetic\n";
    CCREX_TRY(add_hermetic_toolchain(*ctx.hermetic, tree));
  }
  CCREX_TRY(add_inputs(ctx, digests, tree, salt, out));
  CCREX_TRY(tree.add_directory(working_dir));
  // An output written through a directory and back (`-o obj/../a.o`) needs that directory
  // to exist for the compiler to open the path, as it does here.
  for (const auto& dir : dotdot_directories(ctx)) {
    CCREX_TRY(tree.add_directory(dir));
  }
  // Output directories must exist before the compiler runs; the server creates them, but
  // an input root that holds them keeps the remote cwd identical to the local one.
  add_environment(ctx, out, out.command);
  set_platform(ctx.config, out.hermetic, out.command, out.action);

  out.input_root = tree.build();
  *out.action.mutable_command_digest() = reapi::add_message(out.input_root.blobs, out.command);
  *out.action.mutable_input_root_digest() = out.input_root.root_digest;
  out.action.set_salt(util::sha256_hex(salt));
  out.action.mutable_timeout()->set_seconds(ctx.config.execution_timeout.count());
  out.action_digest = reapi::add_message(out.input_root.blobs, out.action);
  return out;
}

} // namespace ccrex::agent
