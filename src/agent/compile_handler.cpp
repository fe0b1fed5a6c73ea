#include "agent/compile_handler.h"

#include "agent/doctor.h"
#include "agent/grpc_executor.h"
#include "agent/journal.h"
#include "agent/output_writer.h"
#include "server/local_server.h"
#include "toolchain/environment.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"
#include "util/subprocess.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <future>
#include <limits>
#include <shared_mutex>
#include <thread>

namespace ccrex::agent {
namespace {

constexpr size_t k_recent_lines = 100;

CompileReply run_locally(std::string reason) {
  return {true, 0, std::move(reason)};
}

std::string resolve_compiler(const CompileRequest& request) {
  const std::string& c = request.argv.front();
  if (c.find('/') != std::string::npos) {
    return c.front() == '/' ? util::normalize_path(c) : util::join_path(request.cwd, c);
  }
  // Relative PATH entries are the compile's, not the agent's working directory's.
  return util::find_in_path(c,
                            util::absolute_path_list(env_value(request.env, "PATH"), request.cwd))
      .value_or("");
}

// "30d", "12h", "90m", "45s" or plain seconds, as ccache's --evict-older-than takes.
util::Result<std::chrono::seconds> parse_age(const std::string& text) {
  int64_t unit = 1;
  std::string number = text;
  if (!text.empty()) {
    switch (text.back()) {
    case 'd':
      unit = 86400;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'm':
      unit = 60;
      break;
    case 's':
      unit = 1;
      break;
    default:
      unit = 0; // a digit, or no unit ccrex knows
      break;
    }
    if (unit != 0) {
      number.pop_back();
    } else {
      unit = 1;
    }
  }
  auto n = util::parse_int(number);
  if (!n || *n < 0 || *n > std::numeric_limits<int64_t>::max() / unit) {
    return util::invalid_argument("invalid age '" + text + "' (use 30d, 12h, 90m or 45s)");
  }
  return std::chrono::seconds(*n * unit);
}

std::string source_of(const CompileRequest& request, const toolchain::ParsedCommand& cmd) {
  return cmd.source_file.empty() ? request.argv.front() : cmd.source_file;
}

// Return the first file `cmd` writes that exists as something else than a regular file, or
// a symlink to one (a device node, a FIFO, a directory, a dangling symlink), or "". The
// compiler writes into such a file (or fails on it) where ccrex would replace it.
std::string irregular_output(const toolchain::ParsedCommand& cmd, const std::string& cwd) {
  std::vector<std::string> outputs{cmd.output_object};
  for (const auto* opt :
       {&cmd.dependency_file, &cmd.split_dwarf_output, &cmd.coverage_notes_output}) {
    if (opt->has_value()) {
      outputs.push_back(**opt);
    }
  }
  outputs.insert(outputs.end(), cmd.other_outputs.begin(), cmd.other_outputs.end());
  for (const std::string& o : outputs) {
    if (o.empty()) {
      continue;
    }
    const std::string path = o.front() == '/' ? o : util::join_path(cwd, o);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      continue; // not there yet: the compile creates it
    }
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return o;
    }
  }
  return "";
}

} // namespace

// The embedded server (also the local store) and the executors of one cache directory.
struct CompileHandler::Stores {
  ~Stores() {
    executors.clear(); // channels to the embedded server go before it
    if (embedded) {
      embedded->shutdown();
    }
  }
  std::unique_ptr<server::LocalServer> embedded;
  std::unique_ptr<server::ActionCache> cache;
  std::map<std::string, std::unique_ptr<Executor>> executors;
};

struct CompileHandler::Site {
  explicit Site(const std::string& d)
      : dir(d),
        stats(util::join_path(d, "stats")),
        journal(util::join_path(d, "journal")) {}
  std::string dir;
  Stats stats;
  std::mutex mutex;
  // Replaced as a whole by `ccrex -C`; compiles in flight keep their copy alive.
  std::shared_ptr<Stores> stores; // guarded by mutex
  // Held shared by every compile using the stores and exclusively by `ccrex -C`, so the
  // store is never deleted under a running compile.
  std::shared_mutex in_use;
  Journal journal; // every compile, for --explain
  // Until then the store is taken to be held by a standalone server (which keeps its store
  // to itself): compiles run locally at once instead of each waiting for its lock.
  std::chrono::steady_clock::time_point store_busy_until; // guarded by mutex
};

namespace {
// How long the agent waits for the store when a process holds it exclusively (another
// agent cleaning up as it opens the store, or a standalone server), and how long it then
// leaves it alone.
constexpr auto k_store_lock_wait = std::chrono::seconds(2);
constexpr auto k_store_busy_backoff = std::chrono::seconds(30);
} // namespace

CompileHandler::CompileHandler() : m_local(std::make_unique<LocalCompiler>()) {}

CompileHandler::~CompileHandler() {
  const std::lock_guard lock(m_mutex);
  for (auto& [dir, s] : m_sites) {
    s->stats.save();
  }
}

CompileHandler::Site& CompileHandler::site(const Config& config) {
  const std::lock_guard lock(m_mutex);
  auto& s = m_sites[config.cache_dir];
  if (!s) {
    s = std::make_unique<Site>(config.cache_dir);
  }
  return *s;
}

util::Result<Backends>
CompileHandler::backends(const Config& config, std::shared_ptr<Stores>& keep, bool warming) {
  Site& s = site(config);
  const std::lock_guard lock(s.mutex);
  if (!s.stores) {
    if (std::chrono::steady_clock::now() < s.store_busy_until) {
      return util::Error(util::ErrorCode::unavailable,
                         "the store in " + s.dir + " is held by another process");
    }
    auto stores = std::make_shared<Stores>();
    server::Config sc;
    sc.cache_dir = util::join_path(s.dir, "store");
    sc.max_size = config.max_size;
    sc.compression_level = store_compression_level(config);
    sc.store_lock_wait = k_store_lock_wait;
    // Its only client is this agent, whose compiles are the user's own commands: a sandbox
    // would cost every miss a bwrap start and protect nothing the user cannot reach anyway.
    sc.sandbox.enabled = false;
    // Other agents (of this user or of the group) may use the same store at once.
    auto embedded = server::LocalServer::start(sc, {}, server::StoreLockMode::shared);
    if (!embedded && warming) {
      return embedded.error();
    }
    if (!embedded) {
      s.store_busy_until = std::chrono::steady_clock::now() + k_store_busy_backoff;
      CCREX_LOG_WARN("cannot open the store, compiles run locally for "
                     << k_store_busy_backoff.count() << " s: " << embedded.error().message());
      return embedded.error();
    }
    stores->embedded = std::move(embedded).value();
    stores->cache = std::make_unique<server::ActionCache>(stores->embedded->store());
    s.stores = std::move(stores);
  }
  Stores& st = *s.stores;
  if (st.embedded->store().max_size() != config.max_size) {
    st.embedded->store().set_max_size(config.max_size); // a new max_size, no restart needed
  }
  if (st.embedded->store().compression_level() != store_compression_level(config)) {
    st.embedded->store().set_compression_level(store_compression_level(config));
  }
  const std::string key = config.remote + "|" + config.instance + "|" + config.tls_ca_file + "|"
                          + config.tls_client_cert + "|" + config.tls_client_key + "|"
                          + (config.allow_plaintext_credentials ? "plain|" : "")
                          + config.access_token + "|" + util::join(config.headers, ",");
  auto& exec = st.executors[key];
  if (!exec) {
    if (config.remote.empty()) {
      exec = make_embedded_executor(st.embedded->in_process_channel(), config);
    } else {
      CCREX_ASSIGN_OR_RETURN(exec, make_remote_executor(config));
    }
  }
  keep = s.stores;
  return Backends{&st.embedded->store(), st.cache.get(), exec.get(), config.remote.empty()};
}

void CompileHandler::announce_once(const CompileRequest& request,
                                   const std::string& stat,
                                   const std::string& detail) {
  // The compile's own problems (its inputs, its output directory) are for the compiler to
  // report; these say nothing about the setup.
  static constexpr std::array<std::string_view, 4> k_not_setup = {
      "fallback_dependencies", "fallback_input", "fallback_output_dir", "fallback_local_compile"};
  if (std::find(k_not_setup.begin(), k_not_setup.end(), stat) != k_not_setup.end()) {
    return;
  }
  {
    const std::lock_guard lock(m_mutex);
    if (!m_announced.insert(stat).second) {
      return;
    }
  }
  write_fd(request.stderr_fd,
           "ccrex: " + detail + "; compiling locally (" + stat
               + ", said once per agent: see ccrex -s)\n");
}

void CompileHandler::record(Site& site, const std::string& source, const std::string& line) {
  CCREX_LOG_INFO(source << ": " << line);
  site.journal.append(source, line);
}

CompileReply CompileHandler::decide(const CompileRequest& request, const Config& config, Site& s) {
  if (config.disable) {
    return run_locally("disabled by configuration");
  }
  std::string compiler = resolve_compiler(request);
  if (compiler.empty()) {
    s.stats.add("local_compiler_not_found");
    return run_locally("compiler not found: " + request.argv.front());
  }
  // Variables that make the compiler write files the action would not collect, run other
  // programs, or compile twice (toolchain/environment.h holds the table).
  if (const auto* var = toolchain::local_environment_variable(request.env)) {
    const std::string counter(var->counter);
    s.stats.add("local_" + counter);
    record(s,
           request.argv.front(),
           "ran locally: " + counter + ": " + std::string(var->name) + " is set ("
               + std::string(var->effect) + ")");
    return run_locally(counter);
  }
  const auto info = m_services.detector.detect(compiler);
  // One compiler under several names (cc and gcc, c++ and g++) is named by its real path in
  // actions, so its compiles share results, unless the name changes what it does.
  std::array<char, PATH_MAX> real{};
  if (::realpath(compiler.c_str(), real.data()) != nullptr && compiler != real.data()
      && m_services.detector.detect(real.data()) == info) {
    compiler = real.data();
  }
  toolchain::ParseOptions po;
  po.cwd = request.cwd;
  const auto cmd = toolchain::parse_command(request.argv, info, po);
  if (!cmd.supported()) {
    const std::string name(toolchain::unsupported_reason_name(cmd.unsupported->reason));
    s.stats.add("local_" + name);
    record(s, source_of(request, cmd), "ran locally: " + name + ": " + cmd.unsupported->detail);
    return run_locally(name);
  }
  // Colours forced on (one cache entry for every terminal), removed again on replay
  // unless the compiler would have shown them on the client's stderr.
  if (const Forcing forcing = what_to_force(cmd); forcing != Forcing::nothing) {
    // A compiler's first compile runs it once here to learn its colour options, then four
    // times for its identity (toolchain_id.h): the identity is sought meanwhile, and the
    // pipeline finds it or waits for it. Without a thread to spare, the pipeline seeks it.
    const auto identity =
        m_colors.knows_forcing(compiler)
            ? std::future<void>()
            : std::async(std::launch::async | std::launch::deferred, [this, &compiler, &cmd] {
                (void)m_services.toolchains.get(compiler,
                                                cmd.language.value_or(toolchain::Language::c));
              });
    if (auto options = m_colors.forcing_options(compiler, info.family, forcing, request.env);
        !options.empty()) {
      CompileRequest colored = request;
      colored.argv = with_options(request.argv, options);
      const auto strip =
          m_colors.strip_for(::isatty(request.stderr_fd) != 0, compiler, request.env);
      colored.strip_colors = strip.colors;
      colored.strip_links = strip.links;
      const auto colored_cmd = toolchain::parse_command(colored.argv, info, po);
      if (colored_cmd.supported()) {
        return run_supported(colored, colored_cmd, compiler, config, s);
      }
    }
  }
  return run_supported(request, cmd, compiler, config, s);
}

CompileReply CompileHandler::run_supported(const CompileRequest& request,
                                           const toolchain::ParsedCommand& cmd,
                                           const std::string& compiler,
                                           const Config& config,
                                           Site& s) {
  if (const std::string out = irregular_output(cmd, request.cwd); !out.empty()) {
    s.stats.add("local_output_not_regular");
    record(
        s, cmd.source_file, "ran locally: output_not_regular: " + out + " is not a regular file");
    return run_locally("output_not_regular");
  }
  const std::shared_lock busy(s.in_use);
  std::shared_ptr<Stores> keep; // the stores outlive this compile even across `ccrex -C`
  auto b = backends(config, keep);
  if (!b) {
    s.stats.add("fallback_backend");
    record(s, cmd.source_file, "fell back to a local compile: " + b.error().message());
    announce_once(request, "fallback_backend", b.error().message());
    return run_locally(b.error().message());
  }
  auto out = run_pipeline(request, cmd, compiler, config, *b, m_services, *m_local);
  if (!out && out.error().stat == "cancelled") {
    // The client is gone: nobody runs anything for this reply.
    s.stats.add("cancelled");
    record(s, cmd.source_file, "cancelled: " + out.error().detail);
    return run_locally(out.error().detail);
  }
  if (!out && out.error().stat == "fallback_dependencies") {
    // Not a failure: what the compile reads (a precompiled header, __TIME__, ...) makes it
    // run locally on purpose (agent/deps.h lists the reasons).
    if (const auto counter = local_counter(out.error().detail)) {
      s.stats.add(*counter);
      record(s, cmd.source_file, "ran locally: " + out.error().detail.substr(6));
      return run_locally(counter->substr(6));
    }
  }
  if (!out) {
    // The single place where a failure becomes a local compile.
    s.stats.add(out.error().stat);
    record(s,
           cmd.source_file,
           "fell back to a local compile (" + out.error().stat.substr(9)
               + "): " + out.error().detail);
    announce_once(request, out.error().stat, out.error().detail);
    return run_locally(out.error().detail);
  }
  if (out->stat == "fallback_worker_failure") {
    announce_once(request, out->stat, "the engine failed a compile that succeeds here");
  }
  s.stats.add(out->stat);
  if (!out->note.empty()) {
    s.stats.add(out->note);
  }
  if (const auto& deps = out->dependencies; !deps.scanner_gave_up.empty()) {
    s.stats.add(deps.remembered ? "depend_compiler_remembered" : "depend_compiler");
    out->explanation += std::string(deps.remembered ? " (dependencies -M listed before: "
                                                    : " (dependencies from -M: ")
                        + deps.scanner_gave_up + ")";
  }
  record(s, cmd.source_file, out->explanation);
  return {false, out->exit_code, ""};
}

CompileReply CompileHandler::compile(const CompileRequest& request) {
  try {
    if (request.argv.empty()) {
      return run_locally("empty command line");
    }
    if (request.cwd.empty() || request.cwd.front() != '/') {
      // A client that cannot name its directory (longer than PATH_MAX, removed) compiles
      // where it is; nothing here could resolve its relative paths.
      return run_locally("working directory unknown");
    }
    auto config = load_config(request.env);
    if (!config) {
      const std::string msg = "ccrex: invalid configuration: " + config.error().message() + "\n";
      write_fd(request.stderr_fd, msg);
      return run_locally(config.error().message());
    }
    return decide(request, *config, site(*config));
  } catch (const std::exception& e) {
    CCREX_LOG_ERROR("compile: internal error: " << e.what());
    return run_locally(std::string("internal error: ") + e.what());
  }
}

void CompileHandler::warm_up(const std::vector<std::string>& env) {
  try {
    const auto config = load_config(env);
    if (!config || config->disable) {
      return;
    }
    Site& s = site(*config);
    const std::shared_lock busy(s.in_use);
    std::shared_ptr<Stores> keep;
    if (auto b = backends(*config, keep, true); !b) {
      CCREX_LOG_DEBUG("warm-up: " << b.error().to_string());
    }
  } catch (const std::exception& e) {
    CCREX_LOG_WARN("warm-up: internal error: " << e.what());
  }
}

StoreSummary CompileHandler::store_summary(const Config& config, Site& s) {
  StoreSummary store{s.dir, -1, config.max_size};
  const std::shared_lock busy(s.in_use);
  std::shared_ptr<Stores> keep;
  if (auto b = backends(config, keep)) {
    store.size = b->store->total_size();
    store.content = b->store->content_size();
    store.compression = b->store->compression_level();
  }
  return store;
}

AdminReply CompileHandler::admin(const std::vector<std::string>& args,
                                 const std::vector<std::string>& env) {
  auto config = load_config(env);
  if (!config) {
    return {"", "ccrex: invalid configuration: " + config.error().message() + "\n", 1};
  }
  const std::string cmd = args.empty() ? "" : args.front();
  Site& s = site(*config);
  if (cmd == "-s" || cmd == "--show-stats") {
    return {Stats::format(s.stats.snapshot(), store_summary(*config, s)), "", 0};
  }
  if (cmd == "--print-stats") {
    return {Stats::format_raw(s.stats.snapshot(), store_summary(*config, s)), "", 0};
  }
  if (cmd == "-z" || cmd == "--zero-stats") {
    s.stats.zero();
    return {"Statistics zeroed\n", "", 0};
  }
  if (cmd == "--show-config") {
    return {describe(*config), "", 0};
  }
  if (cmd == "--set-config" || cmd == "--get-config") {
    if (args.size() < 2) {
      return {"", "ccrex: " + cmd + " needs an argument\n", 2};
    }
    if (cmd == "--get-config") {
      auto value = config_value(*config, args[1]);
      return value ? AdminReply{*value + "\n", "", 0}
                   : AdminReply{"", "ccrex: " + value.error().message() + "\n", 1};
    }
    auto st = set_user_config(env, args[1]);
    return st ? AdminReply{"", "", 0} : AdminReply{"", "ccrex: " + st.error().message() + "\n", 1};
  }
  if (cmd == "--cleanup" || cmd == "--evict-older-than") {
    std::chrono::seconds age{0};
    if (cmd == "--evict-older-than") {
      auto parsed = args.size() < 2 ? util::Result<std::chrono::seconds>(
                        util::invalid_argument("--evict-older-than needs an age"))
                                    : parse_age(args[1]);
      if (!parsed) {
        return {"", "ccrex: " + parsed.error().message() + "\n", 2};
      }
      age = *parsed;
    }
    const std::shared_lock busy(s.in_use);
    std::shared_ptr<Stores> keep;
    auto b = backends(*config, keep);
    if (!b) {
      return {"", "ccrex: " + b.error().message() + "\n", 1};
    }
    const int64_t before = b->store->total_size();
    if (cmd == "--cleanup") {
      b->store->set_max_size(config->max_size);
    } else {
      b->store->evict_unused_since(std::chrono::system_clock::now() - age);
    }
    const int64_t after = b->store->total_size();
    return {"Evicted " + std::to_string(before - after) + " bytes; the store holds "
                + std::to_string(after) + " bytes (limit " + std::to_string(config->max_size)
                + ")\n",
            "",
            0};
  }
  if (cmd == "--max-files") {
    return {"", "ccrex: max_files does not apply: the store is limited by size (max_size)\n", 0};
  }
  if (cmd == "--show-compression") {
    return {Stats::format_compression(store_summary(*config, s)), "", 0};
  }
  if (cmd == "--doctor") {
    DoctorInputs in;
    in.config = &*config;
    in.env = env;
    in.compiler = args.size() > 1 ? args[1] : "";
    in.toolchains = &m_services.toolchains;
    const std::shared_lock busy(s.in_use);
    std::shared_ptr<Stores> keep;
    auto b = backends(*config, keep);
    in.executor = b ? util::Result<Executor*>(b->executor) : util::Result<Executor*>(b.error());
    auto report = run_doctor(in);
    return {report.text, "", report.exit_code};
  }
  if (cmd == "--explain") {
    std::string out;
    for (const auto& l : s.journal.read(args.size() > 1 ? args[1] : "", k_recent_lines)) {
      out += l + "\n";
    }
    return {out, "", 0};
  }
  if (cmd == "-C" || cmd == "--clear") {
    const std::unique_lock exclusive(s.in_use); // wait for running compiles
    const std::lock_guard lock(s.mutex);
    s.stores.reset();
    // Blobs and action results only: other agents sharing the store keep their work and
    // temporary files, and the lock file they hold stays the one everybody locks.
    for (const char* part : {"cas", "ac"}) {
      if (auto st = util::remove_all(util::join_path(s.dir, "store/" + std::string(part))); !st) {
        return {"", "ccrex: " + st.error().message() + "\n", 1};
      }
    }
    return {"Cache cleared\n", "", 0};
  }
  return {"", "ccrex: unknown option '" + cmd + "' (see ccrex --help)\n", 2};
}

} // namespace ccrex::agent
