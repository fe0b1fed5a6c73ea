#include "agent/diagnostics_color.h"

#include "protocol/socket_io.h"
#include "util/file.h"
#include "util/subprocess.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iterator>

namespace ccrex::agent {
namespace {

// Options with which a command chooses colours, hyperlinks or plain output itself.
constexpr std::array<std::string_view, 7> k_choosing_options = {"-fdiagnostics-color",
                                                                "-fno-diagnostics-color",
                                                                "-fcolor-diagnostics",
                                                                "-fno-color-diagnostics",
                                                                "-fdiagnostics-urls",
                                                                "-fdiagnostics-plain-output",
                                                                "-fdiagnostics-format"};

// clang options that put the driver's command line into the object.
constexpr std::array<std::string_view, 4> k_record_command_line = {"-grecord-command-line",
                                                                   "-grecord-gcc-switches",
                                                                   "-frecord-command-line",
                                                                   "-frecord-gcc-switches"};

// Variables compilers read to decide whether and how to colour a terminal and link option
// names (gcc leaves links out for some terminals it recognises by these).
constexpr std::array<std::string_view, 9> k_color_variables = {"TERM",
                                                               "NO_COLOR",
                                                               "CLICOLOR",
                                                               "CLICOLOR_FORCE",
                                                               "GCC_COLORS",
                                                               "COLORTERM",
                                                               "GCC_URLS",
                                                               "TERM_URLS",
                                                               "KONSOLE_"};

// The compiler's default said explicitly: forcing after it is what a terminal would get.
constexpr std::string_view k_color_auto = "-fdiagnostics-color=auto";

bool is_choosing_option(std::string_view arg) {
  if (arg == k_color_auto) {
    return false;
  }
  return std::any_of(k_choosing_options.begin(), k_choosing_options.end(), [&](std::string_view o) {
    return arg == o || (arg.starts_with(o) && arg.size() > o.size() && arg[o.size()] == '=');
  });
}

// A source with one warning that names its option (gcc links option names), removed on
// destruction.
class ProbeSource {
public:
  ProbeSource() {
    const char* tmp = std::getenv("TMPDIR"); // NOLINT(concurrency-mt-unsafe)
    std::string pattern =
        std::string(tmp != nullptr && *tmp == '/' ? tmp : "/tmp") + "/ccrex-color-probe-XXXXXX.c";
    const protocol::UniqueFd fd(::mkstemps(pattern.data(), 2));
    if (!fd.valid()) {
      return;
    }
    static constexpr std::string_view k_text = "#warning colour probe\n";
    if (::write(fd.get(), k_text.data(), k_text.size()) == static_cast<ssize_t>(k_text.size())) {
      m_path = pattern;
    } else {
      (void)::unlink(pattern.c_str());
    }
  }
  ProbeSource(const ProbeSource&) = delete;
  ProbeSource& operator=(const ProbeSource&) = delete;
  ~ProbeSource() {
    if (!m_path.empty()) {
      (void)::unlink(m_path.c_str());
    }
  }
  const std::string& path() const { return m_path; }

private:
  std::string m_path;
};

util::SubprocessOptions probe_options(const std::string& compiler,
                                      const std::vector<std::string>& env,
                                      const std::vector<std::string>& extra,
                                      const std::string& source) {
  util::SubprocessOptions o;
  o.argv = {compiler};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.argv.insert(o.argv.end(), {"-E", "-x", "c", source, "-o", "/dev/null"});
  o.env = env;
  o.timeout = std::chrono::seconds(30);
  return o;
}

// Whether `compiler` accepts `options` and colours a pipe with them.
bool forces(const std::string& compiler,
            const std::vector<std::string>& env,
            const std::vector<std::string>& options) {
  const ProbeSource source;
  if (source.path().empty()) {
    return false;
  }
  auto res = util::run_subprocess(probe_options(compiler, env, options, source.path()));
  return res && res->exit_code == 0 && res->stderr_data.find("\x1b[") != std::string::npos;
}

// Run `compiler` on a warning with its stderr on a new pseudo-terminal and see what it
// shows.
TerminalLook probe_terminal(const std::string& compiler, const std::vector<std::string>& env) {
  const ProbeSource source;
  const protocol::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (source.path().empty() || !master.valid() || ::grantpt(master.get()) != 0
      || ::unlockpt(master.get()) != 0) {
    return {};
  }
  std::array<char, 128> name{};
  if (::ptsname_r(master.get(), name.data(), name.size()) != 0) {
    return {};
  }
  auto o = probe_options(compiler, env, {}, source.path());
  o.stdout_path = "/dev/null";
  o.stderr_path = name.data();
  o.capture_output = false;
  if (auto res = util::run_subprocess(o); !res) {
    return {};
  }
  // The terminal keeps what the probe wrote after it exits; read it without blocking.
  (void)::fcntl(master.get(), F_SETFL, O_NONBLOCK);
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(master.get(), buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return {out.find("\x1b[") != std::string::npos, out.find("\x1b]") != std::string::npos};
}

// The compiler's path and modification time: a rebuilt compiler is asked again.
std::string compiler_key(const std::string& compiler) {
  struct stat st {};
  std::string key = compiler;
  if (::stat(compiler.c_str(), &st) == 0) {
    key += '\0' + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "."
           + std::to_string(st.st_ino);
  }
  return key;
}

} // namespace

Forcing what_to_force(const toolchain::ParsedCommand& cmd) {
  const auto& args = cmd.args;
  if (args.empty() || std::any_of(args.begin() + 1, args.end(), is_choosing_option)) {
    return Forcing::nothing;
  }
  const auto has = [&](std::string_view option) {
    return std::find(args.begin(), args.end(), option) != args.end();
  };
  switch (cmd.compiler_info.family) {
  case toolchain::CompilerFamily::gcc:
    return cmd.generates_debug_info || has("-frecord-gcc-switches") ? Forcing::colors
                                                                    : Forcing::colors_and_links;
  case toolchain::CompilerFamily::clang:
    if (std::any_of(k_record_command_line.begin(), k_record_command_line.end(), has)
        || cmd.language == toolchain::Language::assembler) {
      return Forcing::nothing;
    }
    return Forcing::colors;
  case toolchain::CompilerFamily::unknown:
    break;
  }
  return Forcing::nothing;
}

std::vector<std::string> with_options(std::vector<std::string> argv,
                                      const std::vector<std::string>& options) {
  // After the compiler, or after the last explicit "auto" (the last colour option wins).
  auto at = argv.begin() + (argv.empty() ? 0 : 1);
  if (auto last = std::find(argv.rbegin(), argv.rend(), k_color_auto); last != argv.rend()) {
    at = last.base();
  }
  argv.insert(at, options.begin(), options.end());
  return argv;
}

std::string strip_sequences(std::string_view text, StripSequences strip) {
  if (!strip.any()) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t esc = text.find('\x1b', i);
    if (esc == std::string_view::npos || esc + 1 >= text.size()) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, esc - i));
    size_t j = esc + 2;
    if (text[esc + 1] == '[') {
      // Parameter and intermediate bytes (0x20-0x3f), then one final byte (0x40-0x7e).
      while (j < text.size() && text[j] >= 0x20 && text[j] <= 0x3f) {
        ++j;
      }
      if (strip.colors && j < text.size() && text[j] >= 0x40 && text[j] <= 0x7e) {
        i = j + 1;
        continue;
      }
    } else if (text[esc + 1] == ']') {
      // Up to BEL or ESC '\'.
      while (j < text.size() && text[j] != '\a'
             && !(text[j] == '\x1b' && j + 1 < text.size() && text[j + 1] == '\\')) {
        ++j;
      }
      if (strip.links && j < text.size()) {
        i = j + (text[j] == '\a' ? 1 : 2);
        continue;
      }
    }
    out.push_back('\x1b'); // not a sequence this strips: keep it
    i = esc + 1;
  }
  return out;
}

bool is_color_variable(std::string_view name_value) {
  return std::any_of(
      k_color_variables.begin(), k_color_variables.end(), [&](std::string_view name) {
        if (name.ends_with('_')) { // a prefix
          return name_value.starts_with(name) && name_value.find('=') != std::string_view::npos;
        }
        return name_value.size() > name.size() && name_value.starts_with(name)
               && name_value[name.size()] == '=';
      });
}

std::vector<std::string> DiagnosticsLook::forcing_options(const std::string& compiler,
                                                          toolchain::CompilerFamily family,
                                                          Forcing forcing,
                                                          const std::vector<std::string>& env) {
  if (forcing == Forcing::nothing) {
    return {};
  }
  const auto limit = [forcing](std::vector<std::string> options) {
    if (forcing == Forcing::colors && options.size() > 1) {
      options.resize(1); // the colour option comes first
    }
    return options;
  };
  const std::string key = compiler_key(compiler);
  {
    const std::lock_guard lock(m_mutex);
    if (auto it = m_forcing.find(key); it != m_forcing.end()) {
      return limit(it->second);
    }
  }
  // Most complete first: gcc 10 and later also link option names.
  std::vector<std::vector<std::string>> candidates;
  if (family == toolchain::CompilerFamily::gcc) {
    candidates = {{"-fdiagnostics-color=always", "-fdiagnostics-urls=always"},
                  {"-fdiagnostics-color=always"}};
  } else if (family == toolchain::CompilerFamily::clang) {
    candidates = {{"-fcolor-diagnostics"}};
  }
  std::vector<std::string> chosen;
  for (const auto& c : candidates) {
    if (forces(compiler, env, c)) {
      chosen = c;
      break;
    }
  }
  const std::lock_guard lock(m_mutex);
  m_forcing.emplace(key, chosen);
  return limit(chosen);
}

bool DiagnosticsLook::knows_forcing(const std::string& compiler) {
  const std::lock_guard lock(m_mutex);
  return m_forcing.contains(compiler_key(compiler));
}

TerminalLook DiagnosticsLook::on_terminal(const std::string& compiler,
                                          const std::vector<std::string>& env) {
  std::vector<std::string> relevant;
  std::copy_if(env.begin(), env.end(), std::back_inserter(relevant), is_color_variable);
  std::sort(relevant.begin(), relevant.end());
  std::string key = compiler_key(compiler);
  for (const auto& e : relevant) {
    key += '\n' + e;
  }
  {
    const std::lock_guard lock(m_mutex);
    if (auto it = m_looks.find(key); it != m_looks.end()) {
      return it->second;
    }
  }
  const TerminalLook look = probe_terminal(compiler, env);
  const std::lock_guard lock(m_mutex);
  m_looks.emplace(std::move(key), look);
  return look;
}

StripSequences DiagnosticsLook::strip_for(bool client_terminal,
                                          const std::string& compiler,
                                          const std::vector<std::string>& env) {
  if (!client_terminal) {
    return {true, true};
  }
  const TerminalLook look = on_terminal(compiler, env);
  return {!look.colors, !look.links};
}

} // namespace ccrex::agent
