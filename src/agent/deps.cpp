#include "agent/deps.h"

#include "agent/project.h"
#include "depscan/builtin_probe.h"
#include "depscan/depfile.h"
#include "depscan/scanner.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

#include <algorithm>
#include <set>

namespace ccrex::agent {
namespace {

// The value of NAME in `env` ("NAME=value" strings), or "" when unset.
std::string_view env_lookup(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& e : env) {
    if (e.size() > name.size() && e[name.size()] == '=' && std::string_view(e).starts_with(name)) {
      return std::string_view(e).substr(name.size() + 1);
    }
  }
  return {};
}

// Whether `path` has a ".." that removes the component before it ("a/../b").
bool cancels_component(std::string_view path) {
  int depth = 0;
  for (const std::string_view part : util::split(path, '/')) {
    if (part == "..") {
      if (depth > 0) {
        return true;
      }
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
  }
  return false;
}

// The directories a PCH could sit in for a compile whose dependencies came from -M: each
// listed file's own, the cwd, and the command's search directories (with the environment's).
std::set<std::string> pch_directories(const std::vector<std::string>& files,
                                      const toolchain::ParsedCommand& cmd,
                                      const std::string& cwd,
                                      const std::vector<std::string>& env) {
  std::set<std::string> dirs{cwd};
  const auto add = [&](std::string_view d) {
    if (!d.empty()) {
      dirs.insert(d.front() == '/' ? std::string(d) : util::join_path(cwd, d));
    }
  };
  for (const std::string& f : files) {
    add(util::dirname(f));
  }
  for (const auto& pa : cmd.preprocessor_args) {
    if (pa.option == "-I" || pa.option == "-iquote" || pa.option == "-isystem"
        || pa.option == "-idirafter" || pa.option == "-cxx-isystem") {
      add(pa.value);
    }
  }
  for (const char* var : {"CPATH",
                          "C_INCLUDE_PATH",
                          "CPLUS_INCLUDE_PATH",
                          "OBJC_INCLUDE_PATH",
                          "OBJCPLUS_INCLUDE_PATH"}) {
    for (const std::string_view d : util::split(env_lookup(env, var), ':')) {
      add(d.empty() ? std::string_view(".") : d);
    }
  }
  return dirs;
}

// Return a file of `files` whose spelling goes through ".." after a directory inside the
// project root `root` that the input root will not hold (no input and not the working
// directory lies below it): the remote compiler could not resolve that path, and might find
// another file further down the search path. "" when there is none. Directories outside the
// project root are the host's, which the engine sees like the kernel here.
std::string dotdot_through_missing_directory(const std::vector<std::string>& files,
                                             const std::string& cwd,
                                             const std::string& root) {
  std::set<std::string> present;
  const auto add_with_ancestors = [&](std::string dir) {
    while (present.insert(dir).second && dir != "/") {
      dir = util::dirname(dir);
    }
  };
  add_with_ancestors(util::normalize_path(cwd));
  std::vector<std::string> dotted;
  for (const std::string& f : files) {
    const std::string abs = f.front() == '/' ? f : util::join_path(cwd, f);
    add_with_ancestors(util::dirname(util::normalize_path(abs)));
    if (cancels_component(util::dirname(f))) {
      dotted.push_back(f);
    }
  }
  const auto inside_root = [&](const std::string& dir) {
    return root == "/" || dir == root
           || (dir.size() > root.size() && dir.compare(0, root.size(), root) == 0
               && dir[root.size()] == '/');
  };
  for (const std::string& f : dotted) {
    const std::string abs = f.front() == '/' ? f : util::join_path(cwd, f);
    std::vector<std::string_view> stack;
    for (const std::string_view part : util::split(abs, '/', true)) {
      if (part == ".") {
        continue;
      }
      if (part != "..") {
        stack.push_back(part);
        continue;
      }
      if (stack.empty()) {
        continue;
      }
      std::string dir;
      for (const std::string_view s : stack) {
        dir.append("/").append(s);
      }
      if (inside_root(dir) && present.count(dir) == 0) {
        return f;
      }
      stack.pop_back();
    }
  }
  return "";
}

void note_once(std::string& fact, std::string text) {
  if (fact.empty()) {
    fact = std::move(text);
  }
}

} // namespace

util::Status check_dotdot_directories(const std::vector<std::string>& files,
                                      const std::string& cwd,
                                      const std::vector<std::string>& env) {
  std::string configured(env_lookup(env, "CCREX_PROJECT_ROOT"));
  if (configured.empty()) {
    configured = env_lookup(env, "RECC_PROJECT_ROOT");
  }
  const std::string f =
      dotdot_through_missing_directory(files, cwd, find_project_root(cwd, configured));
  if (!f.empty()) {
    return local_compile_error("local_dotdot_directory",
                               "a path goes through \"..\" after a directory that holds no "
                               "input, which the remote side would not have: "
                                   + f);
  }
  return {};
}

util::Error local_compile_error(std::string_view counter, const std::string& detail) {
  return util::unsupported(std::string(counter) + ": " + detail);
}

std::optional<std::string> local_counter(std::string_view message) {
  const size_t colon = message.find(": ");
  if (!message.starts_with("local_") || colon == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view name = message.substr(0, colon);
  if (!std::all_of(
          name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    return std::nullopt;
  }
  return std::string(name);
}

std::optional<util::Error> local_reason(const depscan::ScanFacts& facts,
                                        const std::vector<std::string>& env,
                                        toolchain::CompilerFamily family) {
  if (!facts.pch.empty()) {
    return local_compile_error("local_precompiled_header",
                               "the compiler may read a precompiled header: " + facts.pch);
  }
  if (!facts.asm_unresolved.empty()) {
    return local_compile_error("local_asm_include",
                               "an assembler directive reads a file ccrex cannot name: "
                                   + facts.asm_unresolved);
  }
  if (!facts.dotdot_symlink.empty()) {
    return local_compile_error("local_symlink_dotdot",
                               "a path goes through \"..\" after a symlink: "
                                   + facts.dotdot_symlink);
  }
  if (!facts.pragma_dependency.empty()) {
    return local_compile_error("local_pragma_dependency",
                               "the compiler compares file times: " + facts.pragma_dependency);
  }
  if (!facts.timestamp.empty()) {
    return local_compile_error("local_time_macros",
                               "the output records the source's modification time: "
                                   + facts.timestamp);
  }
  // gcc takes __DATE__ and __TIME__ from SOURCE_DATE_EPOCH when it is set (the action
  // carries it, so it is part of the key); clang does from version 16 only.
  const bool pinned =
      family == toolchain::CompilerFamily::gcc && !env_lookup(env, "SOURCE_DATE_EPOCH").empty();
  if (!facts.date_time.empty() && !pinned) {
    return local_compile_error("local_time_macros",
                               "the output records the time of the compile: " + facts.date_time);
  }
  return std::nullopt;
}

DependencyFinder::DependencyFinder() = default;
DependencyFinder::~DependencyFinder() = default;

std::vector<std::string> dependency_command(const toolchain::ParsedCommand& cmd,
                                            const std::string& compiler) {
  std::vector<std::string> args{compiler};
  for (const auto& pa : cmd.preprocessor_args) {
    if (pa.value.empty()) {
      args.push_back(pa.option);
    } else if (pa.option.back() == '=') {
      args.push_back(pa.option + pa.value);
    } else {
      args.push_back(pa.option);
      args.push_back(pa.value);
    }
  }
  args.insert(args.end(), cmd.compiler_args.begin(), cmd.compiler_args.end());
  args.emplace_back("-M");
  if (cmd.language_explicit && cmd.language) {
    args.emplace_back("-x");
    args.emplace_back(toolchain::language_name(*cmd.language));
  }
  args.push_back(cmd.source_file);
  return args;
}

util::Result<Dependencies> DependencyFinder::run_compiler_m(const toolchain::ParsedCommand& cmd,
                                                            const std::string& compiler,
                                                            const std::string& cwd,
                                                            const std::vector<std::string>& env) {
  util::SubprocessOptions o;
  o.argv = dependency_command(cmd, compiler);
  o.cwd = cwd;
  o.env = env;
  CCREX_ASSIGN_OR_RETURN(const auto res, util::run_subprocess(o));
  if (res.exit_code != 0) {
    return util::Error(util::ErrorCode::failed_precondition,
                       "the compiler's -M failed (exit " + std::to_string(res.exit_code) + ")");
  }
  CCREX_ASSIGN_OR_RETURN(const auto rules, depscan::parse_depfile(res.stdout_data));
  Dependencies deps;
  deps.files = depscan::depfile_prerequisites(rules);
  // Without preprocessing (plain assembly) -M names nothing, not even the source.
  if (std::find(deps.files.begin(), deps.files.end(), cmd.source_file) == deps.files.end()) {
    deps.files.insert(deps.files.begin(), cmd.source_file);
  }
  deps.from_compiler = true;
  return deps;
}

util::Result<depscan::ScanFacts>
DependencyFinder::facts_of_listed(const std::vector<std::string>& files,
                                  const toolchain::ParsedCommand& cmd,
                                  const std::string& cwd,
                                  const std::vector<std::string>& env) {
  depscan::ScanFacts facts;
  const bool plain_assembly = cmd.language == toolchain::Language::assembler;
  for (const std::string& f : files) {
    const std::string abs = f.front() == '/' ? f : util::join_path(cwd, f);
    if (cancels_component(util::dirname(f))) {
      const std::string dir = util::dirname(abs);
      const auto kernel = m_fs.stat(dir);
      const auto textual = m_fs.stat(util::normalize_path(dir));
      if (!kernel || !textual || kernel->dev != textual->dev || kernel->ino != textual->ino) {
        note_once(facts.dotdot_symlink, f);
      }
    }
    const auto st = m_fs.stat(abs);
    if (!st || st->type != depscan::FileType::regular) {
      continue;
    }
    CCREX_ASSIGN_OR_RETURN(const auto list, m_cache.directives(m_fs, abs, *st));
    const bool assembler = plain_assembly && f == cmd.source_file;
    for (const depscan::Directive& d : list->directives) {
      const std::string where = f + ":" + std::to_string(d.line) + ": ";
      switch (d.kind) {
      case depscan::DirectiveKind::time_macro:
        if (!assembler) {
          note_once(d.name == "__TIMESTAMP__" ? facts.timestamp : facts.date_time, where + d.name);
        }
        break;
      case depscan::DirectiveKind::pragma_dependency:
        if (!assembler) {
          note_once(facts.pragma_dependency, where + "#pragma GCC dependency " + d.name);
        }
        break;
      case depscan::DirectiveKind::pragma_pch:
        if (!assembler) {
          note_once(facts.pch, where + "#pragma GCC pch_preprocess " + d.name);
        }
        break;
      case depscan::DirectiveKind::asm_include:
      case depscan::DirectiveKind::asm_incbin:
        if (assembler || !d.in_comment) {
          note_once(facts.asm_unresolved,
                    where + "assembler directive with dependencies from -M: " + d.name);
        }
        break;
      default:
        break;
      }
    }
  }
  for (const std::string& dir : pch_directories(files, cmd, cwd, env)) {
    const auto st = m_fs.stat(dir);
    if (!st || st->type != depscan::FileType::directory) {
      continue;
    }
    const auto listing = m_cache.listing(m_fs, dir, *st);
    if (!listing || listing->has_pch) {
      note_once(facts.pch, dir + " holds a precompiled header (dependencies from -M)");
    }
  }
  return facts;
}

util::Result<Dependencies> DependencyFinder::find(const toolchain::ParsedCommand& cmd,
                                                  const std::string& compiler,
                                                  const std::string& cwd,
                                                  const std::vector<std::string>& env,
                                                  bool use_scanner) {
  std::string gave_up = "depend_mode=compiler";
  if (use_scanner) {
    depscan::Scanner scanner(m_fs, m_cache, m_prober);
    depscan::ScanRequest req;
    req.compiler = compiler;
    req.args.assign(cmd.args.begin() + 1, cmd.args.end());
    req.cwd = cwd;
    req.env = env;
    auto scanned = scanner.scan(req);
    if (scanned) {
      if (auto local = local_reason(scanned->facts, env, cmd.compiler_info.family)) {
        return *local;
      }
      CCREX_TRY(check_dotdot_directories(scanned->files, cwd, env));
      Dependencies deps;
      deps.files = std::move(scanned->files);
      if (scanned->stats.size() == deps.files.size()) { // else not parallel: not trusted
        deps.stats = std::move(scanned->stats);
      }
      return deps;
    }
    gave_up = scanned.error().to_string();
  }
  // The memo needs the search configuration (built-ins included) to know what to watch;
  // a command the scanner cannot even read is never memoised.
  std::optional<depscan::SearchConfig> config;
  if (!use_scanner) {
    // depend_mode=compiler: -M every time, nothing read by ccrex's own lexer.
  } else if (auto extracted =
                 depscan::extract_search_config({cmd.args.begin() + 1, cmd.args.end()}, cwd, env)) {
    if (depscan::fill_builtin_dirs(*extracted, compiler, m_prober)) {
      config = std::move(*extracted);
    }
  }
  const std::string key =
      config ? DependencyMemo::key_of(dependency_command(cmd, compiler), cwd, env) : "";
  if (config) {
    if (auto remembered = m_memo.find(key)) {
      if (auto local = local_reason(remembered->facts, env, cmd.compiler_info.family)) {
        return *local;
      }
      CCREX_TRY(check_dotdot_directories(remembered->files, cwd, env));
      Dependencies deps;
      deps.files = std::move(remembered->files);
      deps.stats = std::move(remembered->stats);
      deps.from_compiler = true;
      deps.remembered = true;
      deps.scanner_gave_up = gave_up;
      return deps;
    }
  }
  const auto before = config ? m_memo.snapshot(*config) : DependencyMemo::Snapshot{};
  CCREX_ASSIGN_OR_RETURN(auto deps, run_compiler_m(cmd, compiler, cwd, env));
  CCREX_ASSIGN_OR_RETURN(auto facts, facts_of_listed(deps.files, cmd, cwd, env));
  if (auto local = local_reason(facts, env, cmd.compiler_info.family)) {
    return *local;
  }
  CCREX_TRY(check_dotdot_directories(deps.files, cwd, env));
  deps.scanner_gave_up = gave_up;
  if (config) {
    if (auto stats = m_memo.store(key,
                                  before,
                                  *config,
                                  compiler,
                                  depscan::ScannedFiles{deps.files, {}, std::move(facts)})) {
      deps.stats = std::move(*stats);
    }
  }
  return deps;
}

} // namespace ccrex::agent
