#include "agent/deps.h"

#include "depscan/depfile.h"
#include "depscan/scanner.h"
#include "util/subprocess.h"

namespace ccrex::agent {

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
  deps.from_compiler = true;
  return deps;
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
      Dependencies deps;
      deps.files = std::move(scanned->files);
      if (scanned->stats.size() == deps.files.size()) { // else not parallel: not trusted
        deps.stats = std::move(scanned->stats);
      }
      return deps;
    }
    gave_up = scanned.error().to_string();
  }
  CCREX_ASSIGN_OR_RETURN(auto deps, run_compiler_m(cmd, compiler, cwd, env));
  deps.scanner_gave_up = gave_up;
  return deps;
}

} // namespace ccrex::agent
