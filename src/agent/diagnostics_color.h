#pragma once

// Coloured diagnostics through the agent. The compiler runs in the agent or on a worker,
// never on the client's terminal, so left alone it would never colour its diagnostics (nor
// add gcc's hyperlinks to option names). Instead, a compile that leaves these choices to
// the compiler runs with them forced on, so one cache entry serves every terminal, and the
// agent removes on replay what the compiler, run directly by the client, would not have
// shown: everything when the client's stderr is not a terminal, and on a terminal what the
// compiler's own rules for TERM, NO_COLOR, GCC_COLORS, COLORTERM, ... leave out. Those
// rules differ between compilers and versions, so they are not modelled: the agent asks
// the compiler once, on a pseudo-terminal, with the client's values of the variables that
// matter, and remembers the answer.
//
// Thread safety: free functions are pure; DiagnosticsLook may be used from any thread.

#include "toolchain/command_parser.h"

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::agent {

// What ccrex may force on a command. Nothing when the command makes the choice itself
// (any colour, hyperlink or plain-output option but `-fdiagnostics-color=auto`), the family is
// unknown, or the option would change the output (clang records its command line in the object with
// -grecord-command-line; clang warns about the option for plain assembly). gcc's hyperlinks only
// without debug information and -frecord-gcc-switches: gcc records that option in the object (so
// debug compiles show no hyperlinks through ccrex).
enum class Forcing { nothing, colors, colors_and_links };
Forcing what_to_force(const toolchain::ParsedCommand& cmd);

// `argv` with `options` inserted right after the compiler (before any `--`), or after the
// last `-fdiagnostics-color=auto`, which is the default said explicitly.
std::vector<std::string> with_options(std::vector<std::string> argv,
                                      const std::vector<std::string>& options);

// What of the forced escape sequences to remove from stderr.
struct StripSequences {
  bool colors = false; // CSI sequences: SGR "\x1b[01;31m", erase-in-line "\x1b[K"
  bool links = false;  // OSC sequences ending in BEL or ESC '\': gcc's hyperlinks
  bool any() const { return colors || links; }
};

// `text` without the sequences `strip` names; an escape that starts no complete sequence
// is kept.
std::string strip_sequences(std::string_view text, StripSequences strip);

// The environment variables that decide whether a compiler colours a terminal.
bool is_color_variable(std::string_view name_value);

// What a compiler shows on a terminal.
struct TerminalLook {
  bool colors = false;
  bool links = false;
};

class DiagnosticsLook {
public:
  // The options that force what `forcing` says (hyperlinks only where the compiler has
  // them) that `compiler` accepts, tried once per compiler; empty when it accepts none.
  std::vector<std::string> forcing_options(const std::string& compiler,
                                           toolchain::CompilerFamily family,
                                           Forcing forcing,
                                           const std::vector<std::string>& env);

  // Whether forcing_options() has its answer for `compiler` (so asking runs nothing).
  bool knows_forcing(const std::string& compiler);

  // What `compiler`, run with `env` and stderr on a terminal, shows. Asked once per
  // compiler and set of colour variables; nothing when it cannot be told.
  TerminalLook on_terminal(const std::string& compiler, const std::vector<std::string>& env);

  // What to strip for a client whose stderr is (or is not) a terminal.
  StripSequences
  strip_for(bool client_terminal, const std::string& compiler, const std::vector<std::string>& env);

private:
  std::mutex m_mutex;
  std::map<std::string, std::vector<std::string>> m_forcing; // guarded by m_mutex
  std::map<std::string, TerminalLook> m_looks;               // guarded by m_mutex
};

} // namespace ccrex::agent
