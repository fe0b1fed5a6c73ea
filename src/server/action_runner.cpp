#include "server/action_runner.h"

#include "reapi/digest.h"
#include "server/action_tmpdir.h"
#include "server/output_collector.h"
#include "server/output_limit.h"
#include "server/platform.h"
#include "server/sandbox.h"
#include "server/stage_root.h"
#include "server/staging.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/scope_exit.h"
#include "util/strings.h"
#include "util/subprocess.h"

#include <google/protobuf/util/time_util.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace ccrex::server {
namespace {

using google::protobuf::util::TimeUtil;
using reapi::v2::ExecuteResponse;

constexpr const char* k_default_path = "/usr/local/bin:/usr/bin:/bin";

int grpc_code(const util::Error& e) {
  return static_cast<int>(reapi::to_grpc(e).error_code());
}

void set_status(ExecuteResponse& resp,
                int code,
                const std::string& message,
                const std::vector<reapi::v2::Digest>& missing = {}) {
  *resp.mutable_status() = make_rpc_status(code, message, missing);
  resp.set_message(message);
}

std::string describe_signal(int sig) {
  const char* text = ::sigdescr_np(sig); // thread-safe, unlike strsignal
  return text != nullptr ? text : "unknown signal";
}

std::string describe_duration(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) {
    return std::to_string(ms.count() / 1000) + " s";
  }
  return std::to_string(ms.count()) + " ms";
}

util::Result<std::string> make_work_dir(const std::string& work_root) {
  // 0777 less the umask: in a store a group shares (umask 002), every member makes its
  // own (private) work directories here.
  CCREX_TRY(util::make_dirs(work_root, 0777));
  std::string path = util::join_path(work_root, "XXXXXX");
  if (::mkdtemp(path.data()) == nullptr) {
    return util::errno_error("create work directory in " + work_root, errno);
  }
  // Searchable, not readable, by others: the sandbox user reaches root/ through it.
  ::chmod(path.c_str(), 0711);
  return path;
}

// The command's environment, in the order the client sent it. The spec wants names sorted
// and unique; a name that appears more than once anyway gets its last value (in the
// position of its first appearance), so every reader agrees on one value.
std::vector<std::string> environment_of(const reapi::v2::Command& command) {
  std::vector<std::string> env;
  std::unordered_map<std::string, size_t> index;
  env.reserve(static_cast<size_t>(command.environment_variables_size()));
  for (const auto& var : command.environment_variables()) {
    std::string entry = var.name() + "=" + var.value();
    if (auto [it, fresh] = index.try_emplace(var.name(), env.size()); !fresh) {
      env[it->second] = std::move(entry);
    } else {
      env.push_back(std::move(entry));
    }
  }
  return env;
}

// Create the directories from the staged `root` down to its subdirectory `rel` (relative,
// normalised) that do not exist yet. Never through a symlink: an input symlink pointing out
// of the root would otherwise have the server (as root, maybe) create directories on the
// host. A component that is a symlink or not a directory ends the walk, left for the command
// to trip over.
util::Status make_dirs_beneath(const std::string& root, const std::string& rel) {
  int dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) {
    return util::errno_error("open " + root, errno);
  }
  util::Status st;
  for (const auto part : util::split(rel, '/', true)) {
    if (part == "." || part == "..") {
      break;
    }
    const std::string name(part);
    if (::mkdirat(dir, name.c_str(), 0755) != 0 && errno != EEXIST) {
      st = util::errno_error("create " + name, errno);
      break;
    }
    const int next = ::openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      st = util::errno_error("open " + name + " (not a directory, or a symlink)", errno);
      break;
    }
    ::close(dir);
    dir = next;
  }
  ::close(dir);
  return st;
}

// Create the parent directories of every output this server reads (for 2.0
// output_directories: the parents only, not the directory itself), inside the staged root
// only (make_dirs_beneath). Failures are left for the command to trip over.
void create_output_parents(const std::string& root,
                           const std::string& working_directory,
                           const reapi::v2::Command& command,
                           OutputFields fields) {
  for (const auto& p : output_names(command, fields)) {
    if (p.find('/') == std::string::npos) {
      continue;
    }
    const std::string rel =
        util::normalize_path(util::join_path(working_directory, util::dirname(p)));
    if (auto st = make_dirs_beneath(root, rel); !st) {
      CCREX_LOG_DEBUG("execute: cannot create parent of output " << p << ": "
                                                                 << st.error().message());
    }
  }
}

// Hand the directories from the staged `root` down to its subdirectory `rel` (relative,
// normalised) to the command's `user`: the parents of outputs the server created after
// staging. Never through a symlink: a directory reached through one is not the root's.
void hand_over_dirs(const std::string& root, const std::string& rel, const util::LaunchUser& user) {
  int dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  for (const auto part : util::split(rel, '/', true)) {
    if (dir < 0 || part == "." || part == "..") {
      break;
    }
    const std::string name(part);
    (void)::fchownat(dir, name.c_str(), user.uid, user.gid, AT_SYMLINK_NOFOLLOW);
    const int next = ::openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(dir);
    dir = next;
  }
  if (dir >= 0) {
    ::close(dir);
  }
}

util::Result<reapi::v2::Digest> store_stream(BlobStore& store, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
    return reapi::digest_of("");
  }
  CCREX_ASSIGN_OR_RETURN(const auto d, store.put_file(path));
  return reapi::to_proto(d);
}

// Everything one run() needs, so the phases stay small functions.
struct Execution {
  const PreparedAction& action;
  std::string work_dir;
  std::string root;
  std::string cwd;
  // Cached subtrees to mount read-only into the staged root.
  std::vector<ReadOnlyMount> mounts;
  ExecuteResponse response;
  // When the action's timeout ends (staging and running together).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  reapi::v2::ExecutedActionMetadata& meta() {
    return *response.mutable_result()->mutable_execution_metadata();
  }
};

grpc::StatusCode staging_code(util::ErrorCode code) {
  switch (code) {
  case util::ErrorCode::failed_precondition:
    return grpc::StatusCode::FAILED_PRECONDITION;
  case util::ErrorCode::deadline_exceeded:
    return grpc::StatusCode::DEADLINE_EXCEEDED;
  case util::ErrorCode::resource_exhausted:
    return grpc::StatusCode::RESOURCE_EXHAUSTED;
  case util::ErrorCode::cancelled:
    return grpc::StatusCode::UNAVAILABLE;
  default:
    return grpc::StatusCode::INTERNAL;
  }
}

// Whether `path` is `dir` or below it (relative paths; "" holds everything).
bool is_within(const std::string& path, const std::string& dir) {
  return dir.empty() || path == dir
         || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0
             && path[dir.size()] == '/');
}

// Whether the input subtree at `rel` may be mounted read-only: no output lies within it
// (its parents are created before the command runs) or around it, and in the input root
// it is not one of the directories the sandbox puts its own mounts on or keeps writable.
bool may_mount(const std::string& rel,
               const std::vector<std::string>& writable_paths,
               RootMode root) {
  if (root == RootMode::input && (rel == "tmp" || rel == "dev" || rel == "proc")) {
    return false;
  }
  return std::none_of(writable_paths.begin(), writable_paths.end(), [&](const std::string& w) {
    return is_within(w, rel) || is_within(rel, w);
  });
}

bool stage(BlobStore& store,
           const ActionRunnerOptions& options,
           const Sandbox& sandbox,
           TreeCache* trees,
           RootMode root,
           Execution& ex,
           const std::atomic<bool>* cancel) {
  ex.meta().mutable_input_fetch_start_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
  StagingOptions staging;
  staging.hard_link_inputs = options.hard_link_inputs;
  staging.owner = sandbox.command_user();
  staging.writable_paths = output_paths_from_root(ex.action.command, ex.action.outputs);
  staging.deadline = ex.deadline;
  staging.max_entries = options.max_input_entries;
  staging.cancel = cancel;
  std::vector<reapi::v2::Digest> missing;
  SubtreeSizes sizes;
  if (trees != nullptr && trees->enabled()) {
    staging.mount_subtree =
        [&](const reapi::v2::Digest& d,
            const std::string& rel) -> util::Result<std::optional<std::string>> {
      if (!may_mount(rel, staging.writable_paths, root)) {
        return std::optional<std::string>();
      }
      return trees->find_or_build(ex.action.input, d, sizes, staging, missing);
    };
  }
  if (::mkdir(ex.root.c_str(), 0755) != 0
      || (staging.owner && ::chown(ex.root.c_str(), staging.owner->uid, staging.owner->gid) != 0)) {
    set_status(ex.response, grpc::StatusCode::INTERNAL, "cannot create " + ex.root);
    return false;
  }
  auto st = stage_input_tree(store, ex.action.input, ex.root, staging, missing, &ex.mounts);
  ex.meta().mutable_input_fetch_completed_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
  if (!st) {
    set_status(ex.response,
               staging_code(st.error().code()),
               "staging the input root: " + st.error().message(),
               missing);
    return false;
  }
  create_output_parents(
      ex.root, ex.action.command.working_directory(), ex.action.command, ex.action.outputs);
  if (staging.owner) {
    for (const auto& path : staging.writable_paths) {
      hand_over_dirs(ex.root, util::dirname(path), *staging.owner);
    }
  }
  return true;
}

// Fail when `program` (as resolve_program returned it) names no executable file: the PID
// namespace wrapper would turn that into an exit code. Bare names were found in PATH.
util::Status check_runnable(const std::string& program, const std::string& cwd) {
  if (program.find('/') == std::string::npos) {
    return {};
  }
  const std::string path = program.front() == '/' ? program : util::join_path(cwd, program);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return util::errno_error("cannot run '" + program + "'", errno);
  }
  if (!S_ISREG(st.st_mode) || ::access(path.c_str(), X_OK) != 0) {
    return util::Error(util::ErrorCode::failed_precondition,
                       "cannot run '" + program + "': not an executable file");
  }
  return {};
}

// Where the path `rel` of the input root (relative, or absolute inside it) is on the host:
// below the staged `root`, or in the tree cache's copy when a subtree holding it is mounted.
std::string host_path(const std::string& root,
                      const std::vector<ReadOnlyMount>& mounts,
                      const std::string& rel) {
  std::string norm = util::normalize_path(rel);
  norm.erase(0, norm.find_first_not_of('/'));
  for (const auto& mount : mounts) {
    if (!mount.rel.empty() && is_within(norm, mount.rel)) {
      return norm.size() == mount.rel.size()
                 ? mount.source
                 : util::join_path(mount.source, norm.substr(mount.rel.size() + 1));
    }
  }
  return util::join_path(root, norm);
}

// The program of an input-root action: `arguments0` as the sandbox sees it, checked on the
// staged tree `root` and its mounted subtrees (REAPI 2.3 lookup, PATH entries taken inside
// the root).
util::Result<std::string> resolve_in_root(const std::string& arguments0,
                                          const std::string& root,
                                          const std::vector<ReadOnlyMount>& mounts,
                                          const std::string& working_directory,
                                          const std::vector<std::string>& env) {
  const std::string inside_cwd = util::join_path("/", working_directory);
  if (arguments0.find('/') != std::string::npos) {
    const std::string inside =
        arguments0.front() == '/' ? arguments0 : util::join_path(inside_cwd, arguments0);
    CCREX_TRY(check_runnable(host_path(root, mounts, inside), "/"));
    return arguments0;
  }
  std::string path_list = k_default_path;
  for (const auto& kv : env) {
    if (kv.rfind("PATH=", 0) == 0) {
      path_list = kv.substr(5);
    }
  }
  for (auto dir : util::split(path_list, ':')) {
    std::string entry(dir);
    if (entry.empty() || entry.front() != '/') {
      entry = util::join_path(inside_cwd, entry.empty() ? "." : entry);
    }
    const std::string inside = util::join_path(entry, arguments0);
    if (check_runnable(host_path(root, mounts, inside), "/")) {
      return inside;
    }
  }
  return util::not_found("command not found in the input root: '" + arguments0
                         + "' (PATH=" + path_list + ")");
}

// The root and network an action asks for (its platform, else the server's defaults).
struct Confinement {
  RootMode root = RootMode::host;
  bool network = false;
};

Confinement confinement_of(const PreparedAction& action, const SandboxSettings& settings) {
  const auto& platform = action.action.platform().properties_size() > 0 ? action.action.platform()
                                                                        : action.command.platform();
  Confinement out;
  out.root = settings.default_root;
  if (auto v = platform_value(platform, k_root_property)) {
    out.root = parse_root_mode(*v).value_or(settings.default_root);
  }
  out.network = platform_value(platform, k_network_property) == "on";
  return out;
}

// Fill `req.argv` with the program to run; false (status set) when there is none.
bool resolve(Execution& ex, SandboxRequest& req) {
  const auto& command = ex.action.command;
  util::Result<std::string> program =
      req.root == RootMode::input
          ? resolve_in_root(req.argv[0], ex.root, ex.mounts, command.working_directory(), req.env)
          : resolve_program(req.argv[0], ex.cwd, req.env);
  if (program && req.root == RootMode::host) {
    // A path into a mounted subtree is checked on its cached copy.
    std::string target = *program;
    if (target.find('/') != std::string::npos) {
      const std::string full = target.front() == '/' ? target : util::join_path(ex.cwd, target);
      if (full.starts_with(ex.root + "/")) {
        target = host_path(ex.root, ex.mounts, full.substr(ex.root.size() + 1));
      }
    }
    if (auto st = check_runnable(target, ex.cwd); !st) {
      program = st.error();
    }
  }
  if (!program) {
    set_status(ex.response, grpc::StatusCode::FAILED_PRECONDITION, program.error().message());
    return false;
  }
  req.argv[0] = *program;
  // A program found through a relative PATH entry is a path of the staged tree: where the
  // input root appears elsewhere, so does it.
  const std::string staged_prefix = ex.root + "/";
  if (!req.stage_root.empty() && req.argv[0].starts_with(staged_prefix)) {
    req.argv[0] = util::join_path(req.stage_root, req.argv[0].substr(staged_prefix.size()));
  }
  return true;
}

// Run the command; return the subprocess result or set the response's status.
std::optional<util::SubprocessResult> execute(Execution& ex,
                                              const Sandbox& sandbox,
                                              const ActionRunnerOptions& options,
                                              const std::atomic<bool>* cancel) {
  const auto& command = ex.action.command;
  const Confinement confinement = confinement_of(ex.action, options.sandbox);
  SandboxRequest req;
  req.argv.assign(command.arguments().begin(), command.arguments().end());
  req.env = environment_of(command);
  // Removed when this function returns, after every process of the action is gone.
  const ActionTmpDir tmp =
      sandbox.confines() ? ActionTmpDir() : ActionTmpDir::create(options.tmp_root, req.env);
  req.root_dir = ex.root;
  req.working_directory = command.working_directory();
  req.root = confinement.root;
  req.network = confinement.network;
  req.status_file = util::join_path(ex.work_dir, "status");
  req.read_only_mounts = ex.mounts;
  auto stage_root = requested_stage_root(command, options.store_dir);
  if (!stage_root) {
    set_status(ex.response, grpc::StatusCode::INVALID_ARGUMENT, stage_root.error().message());
    return std::nullopt;
  }
  if (!stage_root->empty() && req.root == RootMode::host) {
    if (!sandbox.confines() && !stage_root_supported()) {
      set_status(ex.response,
                 grpc::StatusCode::FAILED_PRECONDITION,
                 "this server cannot stage input roots at a fixed path (no mount namespaces)");
      return std::nullopt;
    }
    if (auto st = check_stage_root_target(*stage_root, options.store_dir); !st) {
      set_status(ex.response, grpc::StatusCode::FAILED_PRECONDITION, st.error().message());
      return std::nullopt;
    }
    req.stage_root = *stage_root;
  }
  if (!resolve(ex, req)) {
    return std::nullopt;
  }
  // Which file system the command sees (no client-chosen text: the log is line-oriented).
  CCREX_LOG_DEBUG("execute " << ex.action.action_digest.hash().substr(0, 12) << "/"
                             << ex.action.action_digest.size_bytes() << ": "
                             << root_mode_name(req.root) << " root, "
                             << (sandbox.confines() ? "sandboxed" : "unconfined"));
  util::SubprocessOptions opts;
  opts.timeout = ex.action.timeout;
  if (ex.action.timeout.count() > 0) {
    // Staging used part of the timeout; what is left is the command's (at least 1 ms, as
    // zero would mean no limit).
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        ex.deadline - std::chrono::steady_clock::now());
    opts.timeout = std::max(left, std::chrono::milliseconds(1));
  }
  req.timeout = opts.timeout;
  auto wrapped = sandbox.wrap(req);
  if (!wrapped) {
    set_status(ex.response, grpc_code(wrapped.error()), wrapped.error().message());
    return std::nullopt;
  }
  wrapped->options.stdout_path = util::join_path(ex.work_dir, "stdout");
  wrapped->options.stderr_path = util::join_path(ex.work_dir, "stderr");
  wrapped->options.capture_output = false;
  wrapped->options.new_process_group = true;
  wrapped->options.timeout = opts.timeout;
  wrapped->options.cancel = cancel;
  ex.meta().mutable_execution_start_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
  auto res = util::run_subprocess(wrapped->options);
  ex.meta().mutable_execution_completed_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
  if (res && res->signal == 0) {
    if (const int sig = wrapped->signal(); sig != 0) {
      res->signal = sig;
      res->exit_code = 128 + sig;
    }
  }
  if (!res) {
    set_status(ex.response,
               grpc::StatusCode::FAILED_PRECONDITION,
               "cannot run '" + command.arguments(0) + "': " + res.error().message());
    return std::nullopt;
  }
  if (!sandbox.confines() && !req.stage_root.empty() && res->exit_code == k_stage_setup_failed) {
    set_status(ex.response,
               grpc::StatusCode::FAILED_PRECONDITION,
               "cannot stage the input root at " + req.stage_root + " on this worker");
    return std::nullopt;
  }
  return std::move(res).value();
}

void finish(BlobStore& store,
            Execution& ex,
            const util::SubprocessResult& res,
            int64_t max_output_bytes) {
  auto& result = *ex.response.mutable_result();
  ex.meta().mutable_output_upload_start_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
  result.set_exit_code(res.exit_code);
  if (max_output_bytes > 0
      && measure_outputs(
             ex.cwd,
             output_names(ex.action.command, ex.action.outputs),
             {util::join_path(ex.work_dir, "stdout"), util::join_path(ex.work_dir, "stderr")},
             max_output_bytes)
             > max_output_bytes) {
    set_status(ex.response,
               grpc::StatusCode::RESOURCE_EXHAUSTED,
               "the action's outputs, stdout and stderr exceed this server's limit of "
                   + std::to_string(max_output_bytes) + " bytes (--max-output-size)");
    return;
  }
  for (const auto& [name, field] : {std::pair{"stdout", result.mutable_stdout_digest()},
                                    std::pair{"stderr", result.mutable_stderr_digest()}}) {
    auto d = store_stream(store, util::join_path(ex.work_dir, name));
    if (!d) {
      set_status(ex.response,
                 grpc_code(d.error()),
                 "storing " + std::string(name) + ": " + d.error().message());
      return;
    }
    *field = *d;
  }
  if (res.cancelled) {
    set_status(ex.response, grpc::StatusCode::UNAVAILABLE, "execution aborted (cancelled)");
  } else if (res.timed_out) {
    set_status(ex.response,
               grpc::StatusCode::DEADLINE_EXCEEDED,
               "command timed out after " + describe_duration(ex.action.timeout));
  } else {
    if (res.signal != 0) {
      ex.response.set_message("command terminated by signal " + std::to_string(res.signal) + " ("
                              + describe_signal(res.signal) + "); exit code reported as 128 + "
                              + std::to_string(res.signal));
    }
    if (auto st = collect_outputs(store, ex.cwd, ex.action.command, ex.action.outputs, result);
        !st) {
      set_status(ex.response, grpc_code(st.error()), "collecting outputs: " + st.error().message());
    }
  }
  ex.meta().mutable_output_upload_completed_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
}

} // namespace

ActionRunner::ActionRunner(BlobStore& store, ActionRunnerOptions options)
    : m_store(store),
      m_options(std::move(options)),
      m_sandbox(make_sandbox(m_options.sandbox, m_options.store_dir, m_options.work_root)),
      m_trees(std::make_unique<TreeCache>(store, m_options.tree_cache)) {}

ActionRunner::~ActionRunner() = default;

ExecuteResponse ActionRunner::run(const PreparedAction& action,
                                  const std::atomic<bool>* cancel) const {
  Execution ex{action, {}, {}, {}, {}, {}};
  ex.meta().set_worker(m_options.worker_name);
  ex.meta().mutable_worker_start_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
  auto work_dir = make_work_dir(m_options.work_root);
  if (!work_dir) {
    set_status(ex.response, grpc::StatusCode::INTERNAL, work_dir.error().message());
    return ex.response;
  }
  ex.work_dir = *work_dir;
  ex.root = util::join_path(ex.work_dir, "root");
  ex.cwd = util::join_path(ex.root, action.command.working_directory());
  util::ScopeExit cleanup([&] {
    if (auto st = remove_tree(ex.work_dir); !st) {
      CCREX_LOG_WARN("execute: cannot remove " << ex.work_dir << ": " << st.error().message());
    }
  });
  if (action.timeout.count() > 0) {
    ex.deadline = std::chrono::steady_clock::now() + action.timeout;
  }
  const RootMode root = confinement_of(action, m_options.sandbox).root;
  if (!m_sandbox->supports(root)) {
    set_status(ex.response,
               grpc::StatusCode::FAILED_PRECONDITION,
               std::string("this server cannot run actions with the input root as / (")
                   + k_root_property + "=" + root_mode_name(root) + "): " + m_sandbox->describe());
  } else if (stage(m_store,
                   m_options,
                   *m_sandbox,
                   m_sandbox->mounts_read_only() ? m_trees.get() : nullptr,
                   root,
                   ex,
                   cancel)) {
    if (auto res = execute(ex, *m_sandbox, m_options, cancel)) {
      finish(m_store, ex, *res, m_options.max_output_bytes);
    }
  }
  ex.meta().mutable_worker_completed_timestamp()->CopyFrom(TimeUtil::GetCurrentTime());
  return ex.response;
}

util::Result<std::string> resolve_program(const std::string& arguments0,
                                          const std::string& cwd,
                                          const std::vector<std::string>& env) {
  if (arguments0.find('/') != std::string::npos) {
    return arguments0;
  }
  std::string path_list = k_default_path;
  for (const auto& kv : env) {
    if (kv.rfind("PATH=", 0) == 0) {
      path_list = kv.substr(5);
    }
  }
  std::string absolute_list;
  bool has_relative = false;
  for (auto dir : util::split(path_list, ':')) {
    std::string entry(dir);
    if (entry.empty() || entry.front() != '/') {
      entry = util::join_path(cwd, entry.empty() ? "." : entry);
      has_relative = true;
    }
    absolute_list += (absolute_list.empty() ? "" : ":") + entry;
  }
  auto found = util::find_in_path(arguments0, absolute_list);
  if (!found) {
    return util::not_found("command not found: '" + arguments0 + "' (PATH=" + path_list + ")");
  }
  // With only absolute PATH entries, keep argv[0] as the client wrote it: the spawn does the
  // same lookup. Otherwise hand over the resolved path.
  return has_relative ? *found : arguments0;
}

google::rpc::Status make_rpc_status(int code,
                                    const std::string& message,
                                    const std::vector<reapi::v2::Digest>& missing) {
  google::rpc::Status status;
  status.set_code(code);
  status.set_message(message);
  if (!missing.empty()) {
    google::rpc::PreconditionFailure failure;
    for (const auto& d : missing) {
      auto* v = failure.add_violations();
      v->set_type("MISSING");
      v->set_subject("blobs/" + reapi::to_string(d));
      v->set_description("blob not in the CAS");
    }
    status.add_details()->PackFrom(failure);
  }
  return status;
}

} // namespace ccrex::server
