#include "agent/config.h"

#include "server/blob_compression.h"
#include "server/platform.h"
#include "util/file.h"
#include "util/strings.h"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <functional>
#include <thread>

namespace ccrex::agent {
namespace {

using Setter = std::function<util::Status(Config&, const std::string&)>;
using Getter = std::function<std::string(const Config&)>;

struct Key {
  const char* name;     // key in config files, lowercase
  const char* env;      // CCREX_* variable
  const char* recc_env; // recc's equivalent, or nullptr
  Setter set;
  Getter get;
};

Setter string_field(std::string Config::*field) {
  return [field](Config& c, const std::string& v) -> util::Status {
    c.*field = v;
    return {};
  };
}
Getter string_get(std::string Config::*field) {
  return [field](const Config& c) { return c.*field; };
}
Setter bool_field(bool Config::*field) {
  return [field](Config& c, const std::string& v) -> util::Status {
    CCREX_ASSIGN_OR_RETURN(c.*field, util::parse_bool(v));
    return {};
  };
}
Getter bool_get(bool Config::*field) {
  return [field](const Config& c) { return std::string(c.*field ? "true" : "false"); };
}
Setter seconds_field(std::chrono::seconds Config::*field) {
  return [field](Config& c, const std::string& v) -> util::Status {
    CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_int(v));
    c.*field = std::chrono::seconds(n);
    return {};
  };
}
Getter seconds_get(std::chrono::seconds Config::*field) {
  return [field](const Config& c) { return std::to_string((c.*field).count()); };
}
Setter int_field(int Config::*field, int max) {
  return [field, max](Config& c, const std::string& v) -> util::Status {
    CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_int(v));
    if (n > max) {
      return util::invalid_argument("value " + v + " is larger than " + std::to_string(max));
    }
    c.*field = static_cast<int>(n);
    return {};
  };
}
Getter int_get(int Config::*field) {
  return [field](const Config& c) { return std::to_string(c.*field); };
}

util::Status set_platform(Config& c, const std::string& v) {
  c.platform.clear();
  for (const auto piece : util::split(v, ',', true)) {
    const size_t eq = piece.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return util::invalid_argument("expected NAME=VALUE[,NAME=VALUE...], got '" + v + "'");
    }
    c.platform[std::string(piece.substr(0, eq))] = std::string(piece.substr(eq + 1));
  }
  return {};
}

std::string get_platform(const Config& c) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : c.platform) {
    parts.push_back(k + "=" + v);
  }
  return util::join(parts, ",");
}

util::Status
set_choice(std::string& field, const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (v == a) {
      field = v;
      return {};
    }
  }
  std::vector<std::string> names(allowed.begin(), allowed.end());
  return util::invalid_argument("invalid value '" + v + "' (expected " + util::join(names, ", ")
                                + ")");
}

const std::vector<Key>& key_table() {
  static const std::vector<Key> k_keys = {
      {"access_token",
       "CCREX_ACCESS_TOKEN",
       nullptr,
       string_field(&Config::access_token),
       [](const Config& c) { return std::string(c.access_token.empty() ? "" : "***"); }},
      {"allow_plaintext_credentials",
       "CCREX_ALLOW_PLAINTEXT_CREDENTIALS",
       nullptr,
       bool_field(&Config::allow_plaintext_credentials),
       bool_get(&Config::allow_plaintext_credentials)},
      {"cache_dir",
       "CCREX_DIR",
       nullptr,
       string_field(&Config::cache_dir),
       string_get(&Config::cache_dir)},
      {"cache_failures",
       "CCREX_CACHE_FAILURES",
       nullptr,
       bool_field(&Config::cache_failures),
       bool_get(&Config::cache_failures)},
      {"cache_only",
       "CCREX_CACHE_ONLY",
       "RECC_CACHE_ONLY",
       bool_field(&Config::cache_only),
       bool_get(&Config::cache_only)},
      {"compression",
       "CCREX_COMPRESSION",
       nullptr,
       bool_field(&Config::compression),
       bool_get(&Config::compression)},
      {"compression_level",
       "CCREX_COMPRESSION_LEVEL",
       nullptr,
       [](Config& c, const std::string& v) -> util::Status {
         CCREX_ASSIGN_OR_RETURN(c.compression_level, server::parse_compression_level(v));
         return {};
       },
       int_get(&Config::compression_level)},
      {"depend_mode",
       "CCREX_DEPEND_MODE",
       nullptr,
       [](Config& c, const std::string& v) {
         return set_choice(c.depend_mode, v, {"scanner", "compiler"});
       },
       string_get(&Config::depend_mode)},
      {"debug", "CCREX_DEBUG", nullptr, bool_field(&Config::debug), bool_get(&Config::debug)},
      {"disable",
       "CCREX_DISABLE",
       nullptr,
       bool_field(&Config::disable),
       bool_get(&Config::disable)},
      {"execution_timeout",
       "CCREX_EXECUTION_TIMEOUT",
       nullptr,
       seconds_field(&Config::execution_timeout),
       seconds_get(&Config::execution_timeout)},
      {"headers",
       "CCREX_HEADERS",
       nullptr,
       [](Config& c, const std::string& v) -> util::Status {
         c.headers.clear();
         for (const auto h : util::split(v, ',', true)) {
           if (h.find('=') == std::string_view::npos) {
             return util::invalid_argument("expected name=value, got '" + std::string(h) + "'");
           }
           c.headers.emplace_back(h);
         }
         return {};
       },
       [](const Config& c) {
         // Header values are often secrets (API keys): only the names are shown.
         std::vector<std::string> masked;
         for (const auto& h : c.headers) {
           masked.push_back(h.substr(0, h.find('=')) + "=***");
         }
         return util::join(masked, ",");
       }},
      {"hermetic_toolchain",
       "CCREX_HERMETIC_TOOLCHAIN",
       nullptr,
       bool_field(&Config::hermetic_toolchain),
       bool_get(&Config::hermetic_toolchain)},
      {"idle_timeout",
       "CCREX_IDLE_TIMEOUT",
       nullptr,
       seconds_field(&Config::idle_timeout),
       seconds_get(&Config::idle_timeout)},
      {"instance",
       "CCREX_INSTANCE",
       "RECC_INSTANCE",
       string_field(&Config::instance),
       string_get(&Config::instance)},
      {"local_jobs",
       "CCREX_LOCAL_JOBS",
       nullptr,
       int_field(&Config::local_jobs, 4096),
       int_get(&Config::local_jobs)},
      {"log_file",
       "CCREX_LOG_FILE",
       nullptr,
       string_field(&Config::log_file),
       string_get(&Config::log_file)},
      {"log_level",
       "CCREX_LOG_LEVEL",
       nullptr,
       [](Config& c, const std::string& v) {
         return set_choice(c.log_level, v, {"error", "warn", "info", "debug"});
       },
       string_get(&Config::log_level)},
      {"max_remote_calls",
       "CCREX_MAX_REMOTE_CALLS",
       nullptr,
       int_field(&Config::max_remote_calls, 100000),
       int_get(&Config::max_remote_calls)},
      {"max_size",
       "CCREX_MAX_SIZE",
       nullptr,
       [](Config& c, const std::string& v) -> util::Status {
         CCREX_ASSIGN_OR_RETURN(c.max_size, util::parse_size(v));
         return {};
       },
       [](const Config& c) { return std::to_string(c.max_size); }},
      {"max_result_size",
       "CCREX_MAX_RESULT_SIZE",
       nullptr,
       [](Config& c, const std::string& v) -> util::Status {
         CCREX_ASSIGN_OR_RETURN(c.max_result_size, util::parse_size(v));
         return {};
       },
       [](const Config& c) { return std::to_string(c.max_result_size); }},
      {"platform", "CCREX_PLATFORM", nullptr, set_platform, get_platform},
      {"project_root",
       "CCREX_PROJECT_ROOT",
       "RECC_PROJECT_ROOT",
       string_field(&Config::project_root),
       string_get(&Config::project_root)},
      {"read_only",
       "CCREX_READ_ONLY",
       nullptr,
       bool_field(&Config::read_only),
       bool_get(&Config::read_only)},
      {"remote",
       "CCREX_REMOTE",
       "RECC_SERVER",
       string_field(&Config::remote),
       string_get(&Config::remote)},
      {"retries",
       "CCREX_RETRIES",
       "RECC_RETRY_LIMIT",
       int_field(&Config::retries, 100),
       int_get(&Config::retries)},
      {"rpc_timeout",
       "CCREX_RPC_TIMEOUT",
       nullptr,
       seconds_field(&Config::rpc_timeout),
       seconds_get(&Config::rpc_timeout)},
      {"same_path",
       "CCREX_SAME_PATH",
       nullptr,
       [](Config& c, const std::string& v) -> util::Status {
         if (v == "auto") {
           c.same_path = v;
           return {};
         }
         CCREX_ASSIGN_OR_RETURN(const bool b, util::parse_bool(v));
         c.same_path = b ? "true" : "false";
         return {};
       },
       string_get(&Config::same_path)},
      {"tls_ca_file",
       "CCREX_TLS_CA_FILE",
       "RECC_SERVER_SSL_CA",
       string_field(&Config::tls_ca_file),
       string_get(&Config::tls_ca_file)},
      {"tls_client_cert",
       "CCREX_TLS_CLIENT_CERT",
       nullptr,
       string_field(&Config::tls_client_cert),
       string_get(&Config::tls_client_cert)},
      {"tls_client_key",
       "CCREX_TLS_CLIENT_KEY",
       nullptr,
       string_field(&Config::tls_client_key),
       string_get(&Config::tls_client_key)},
  };
  return k_keys;
}

// ccache's variables that mean a ccrex setting (CCACHE_DIR is not one: ccache's store is
// not ccrex's). Boolean ones set a fixed value whenever they are set, as in ccache
// (CCACHE_NOCOMPRESS: false); the others pass their value on.
struct CcacheVariable {
  std::string_view variable;
  std::string_view key;
  std::string_view fixed; // "": the variable's own value
};
constexpr std::array<CcacheVariable, 9> k_ccache_variables = {{
    {"CCACHE_BASEDIR", "project_root", ""},
    {"CCACHE_COMPRESS", "compression", "true"},
    {"CCACHE_COMPRESSLEVEL", "compression_level", ""},
    {"CCACHE_DEBUG", "debug", "true"},
    {"CCACHE_DISABLE", "disable", "true"},
    {"CCACHE_LOGFILE", "log_file", ""},
    {"CCACHE_MAXSIZE", "max_size", ""},
    {"CCACHE_NOCOMPRESS", "compression", "false"},
    {"CCACHE_READONLY", "read_only", "true"},
}};

const Key* find_key(std::string_view name) {
  for (const auto& k : key_table()) {
    if (name == k.name) {
      return &k;
    }
  }
  return nullptr;
}

util::Status apply(Config& c, const Key& key, const std::string& value, const std::string& origin) {
  auto st = key.set(c, value);
  if (!st) {
    return util::invalid_argument(origin + ": " + key.name + ": " + st.error().message());
  }
  c.origin[key.name] = origin;
  return {};
}

util::Status apply_file(Config& c, const std::string& path) {
  auto text = util::read_file(path);
  if (!text) {
    return {}; // a missing config file is normal
  }
  int line_no = 0;
  for (const auto raw : util::split(*text, '\n')) {
    ++line_no;
    std::string_view line = raw.substr(0, raw.find('#'));
    line = util::trim(line);
    if (line.empty()) {
      continue;
    }
    const std::string origin = path + ":" + std::to_string(line_no);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return util::invalid_argument(origin + ": expected 'key = value'");
    }
    const std::string name(util::trim(line.substr(0, eq)));
    const Key* key = find_key(name);
    if (key == nullptr) {
      return util::invalid_argument(origin + ": unknown key '" + name + "'");
    }
    CCREX_TRY(apply(c, *key, std::string(util::trim(line.substr(eq + 1))), origin));
  }
  return {};
}

// The host's OSFamily and architecture ISA, in the server's spelling (the agent asks only
// for what an object file depends on, not for CPU extensions). Computed once.
const std::map<std::string, std::string>& host_platform() {
  static const std::map<std::string, std::string> k_platform = [] {
    utsname u{};
    ::uname(&u);
    const auto offer = server::platform_for(u.sysname, u.machine, "");
    return std::map<std::string, std::string>{{"ISA", offer.at("ISA").front()},
                                              {"OSFamily", offer.at("OSFamily").front()}};
  }();
  return k_platform;
}

} // namespace

int store_compression_level(const Config& config) {
  if (!config.compression) {
    return 0;
  }
  return config.compression_level == 0 ? server::k_default_compression_level
                                       : config.compression_level;
}

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& kv : env) {
    if (kv.size() > name.size() && kv[name.size()] == '='
        && kv.compare(0, name.size(), name) == 0) {
      return kv.substr(name.size() + 1);
    }
  }
  return {};
}

util::Result<Config> load_config(const std::vector<std::string>& env) {
  Config c;
  const std::string home = env_value(env, "HOME");
  c.cache_dir = util::join_path(home.empty() ? "/tmp" : home, ".cache/ccrex");
  if (const auto xdg = env_value(env, "XDG_CACHE_HOME"); !xdg.empty()) {
    c.cache_dir = util::join_path(xdg, "ccrex");
  }
  c.platform = host_platform();
  for (const auto& k : key_table()) {
    c.origin[k.name] = "default";
  }
  CCREX_TRY(apply_file(c, "/etc/ccrex.conf"));
  if (const std::string user = user_config_path(env); !user.empty()) {
    CCREX_TRY(apply_file(c, user));
  }
  // ccache's names, then recc's, so that an explicit CCREX_* wins over both.
  for (const auto& [var, key_name, fixed] : k_ccache_variables) {
    const std::string name(var);
    const bool present = std::any_of(env.begin(), env.end(), [&](const std::string& kv) {
      return kv.size() > name.size() && kv.starts_with(name) && kv[name.size()] == '=';
    });
    if (present) {
      // ccache's boolean variables are true when set, whatever their value.
      CCREX_TRY(apply(
          c, *find_key(key_name), fixed.empty() ? env_value(env, name) : std::string(fixed), name));
    }
  }
  for (const auto& k : key_table()) {
    if (k.recc_env != nullptr) {
      if (auto v = env_value(env, k.recc_env); !v.empty()) {
        CCREX_TRY(apply(c, k, v, k.recc_env));
      }
    }
  }
  const std::string recc_prefix = "RECC_REMOTE_PLATFORM_";
  for (const auto& kv : env) {
    if (kv.rfind(recc_prefix, 0) == 0 && kv.find('=') != std::string::npos) {
      const size_t eq = kv.find('=');
      c.platform[kv.substr(recc_prefix.size(), eq - recc_prefix.size())] = kv.substr(eq + 1);
      c.origin["platform"] = "RECC_REMOTE_PLATFORM_*";
    }
  }
  for (const auto& k : key_table()) {
    for (const auto& kv : env) {
      const size_t n = std::string_view(k.env).size();
      if (kv.size() > n && kv[n] == '=' && kv.compare(0, n, k.env) == 0) {
        CCREX_TRY(apply(c, k, kv.substr(n + 1), k.env));
      }
    }
  }
  // Settings given before the compiler (`ccrex key=value gcc ...`) win over everything.
  const std::string settings = env_value(env, "CCREX_COMMAND_SETTINGS");
  for (const auto line : util::split(settings, '\n', true)) {
    const size_t eq = line.find('=');
    const Key* key = eq == std::string_view::npos ? nullptr : find_key(line.substr(0, eq));
    if (key == nullptr) {
      return util::invalid_argument("command line: unknown setting '" + std::string(line) + "'");
    }
    CCREX_TRY(apply(c, *key, std::string(line.substr(eq + 1)), "command line"));
  }
  if (c.local_jobs == 0) {
    static const int k_cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    c.local_jobs = k_cores;
  }
  return c;
}

std::string user_config_path(const std::vector<std::string>& env) {
  std::string dir = env_value(env, "XDG_CONFIG_HOME");
  if (dir.empty()) {
    const std::string home = env_value(env, "HOME");
    if (home.empty()) {
      return "";
    }
    dir = util::join_path(home, ".config");
  }
  return util::join_path(dir, "ccrex/ccrex.conf");
}

util::Result<std::string> config_value(const Config& config, std::string_view key) {
  const Key* k = find_key(key);
  if (k == nullptr) {
    return util::invalid_argument("unknown key '" + std::string(key) + "'");
  }
  return k->get(config);
}

util::Status set_user_config(const std::vector<std::string>& env, std::string_view key_value) {
  const size_t eq = key_value.find('=');
  if (eq == std::string_view::npos) {
    return util::invalid_argument("expected KEY=VALUE, got '" + std::string(key_value) + "'");
  }
  const std::string name(util::trim(key_value.substr(0, eq)));
  const std::string value(util::trim(key_value.substr(eq + 1)));
  const Key* key = find_key(name);
  if (key == nullptr) {
    return util::invalid_argument("unknown key '" + name + "'");
  }
  Config check;
  CCREX_TRY(apply(check, *key, value, "the new value"));
  const std::string path = user_config_path(env);
  if (path.empty()) {
    return util::invalid_argument("no configuration file: neither HOME nor XDG_CONFIG_HOME is set");
  }
  std::string text = util::read_file(path).value_or("");
  std::string out;
  bool replaced = false;
  auto lines = util::split(text, '\n');
  if (!lines.empty() && lines.back().empty()) {
    lines.pop_back(); // after the last newline
  }
  for (const auto line : lines) {
    const std::string_view content = line.substr(0, line.find('#'));
    const size_t leq = content.find('=');
    if (leq != std::string_view::npos && util::trim(content.substr(0, leq)) == name) {
      if (!replaced) {
        out += name + " = " + value + "\n";
        replaced = true;
      }
      continue; // later duplicates of the key would override the new value
    }
    out += std::string(line) + "\n";
  }
  if (!replaced) {
    out += name + " = " + value + "\n";
  }
  CCREX_TRY(util::make_dirs(util::dirname(path)));
  return util::write_file_atomic(path, out, 0644);
}

std::string describe(const Config& config) {
  std::string out;
  for (const auto& k : key_table()) {
    const auto it = config.origin.find(k.name);
    out += std::string("(") + (it == config.origin.end() ? "default" : it->second) + ") " + k.name
           + " = " + k.get(config) + "\n";
  }
  return out;
}

} // namespace ccrex::agent
