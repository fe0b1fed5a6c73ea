#include "agent/diagnostics_color.h"
#include "toolchain/command_parser.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace ccrex::agent {
namespace {

using toolchain::CompilerFamily;

toolchain::ParsedCommand parse(CompilerFamily family, std::vector<std::string> argv) {
  toolchain::CompilerInfo info;
  info.family = family;
  return toolchain::parse_command(argv, info);
}

std::string strip_all(std::string_view text) {
  return strip_sequences(text, {true, true});
}

TEST(StripSequences, RemovesWhatGccAndClangWrite) {
  // gcc: SGR with erase-in-line after each; clang: SGR with a reset.
  EXPECT_EQ(
      strip_all("\x1b[01m\x1b[Kt.c:1:17:\x1b[m\x1b[K \x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[Kx"),
      "t.c:1:17: warning: x");
  EXPECT_EQ(strip_all("\x1b[1mt.c:2:2: \x1b[0m\x1b[0;1;35mwarning: \x1b[0m\n"),
            "t.c:2:2: warning: \n");
  // Hyperlinks (OSC 8) ending with ST or BEL.
  EXPECT_EQ(strip_all("[\x1b]8;;https://gcc.gnu.org/x\x1b\\-Wall\x1b]8;;\x1b\\]"), "[-Wall]");
  EXPECT_EQ(strip_all("\x1b]8;;u\a-Wall\x1b]8;;\a"), "-Wall");
}

TEST(StripSequences, OnlyWhatIsAsked) {
  const std::string text = "\x1b[01m[\x1b]8;;u\a-Wall\x1b]8;;\a]\x1b[m";
  EXPECT_EQ(strip_sequences(text, {true, false}), "[\x1b]8;;u\a-Wall\x1b]8;;\a]");
  EXPECT_EQ(strip_sequences(text, {false, true}), "\x1b[01m[-Wall]\x1b[m");
  EXPECT_EQ(strip_sequences(text, {false, false}), text);
}

TEST(StripSequences, KeepsEverythingElse) {
  EXPECT_EQ(strip_all(""), "");
  EXPECT_EQ(strip_all("plain text\nwith ‘quotes’\n"), "plain text\nwith ‘quotes’\n");
  // An escape that starts no complete sequence stays, byte for byte.
  EXPECT_EQ(strip_all("a\x1b"), "a\x1b");
  EXPECT_EQ(strip_all("a\x1bZb"), "a\x1bZb");
  EXPECT_EQ(strip_all("a\x1b[12"), "a\x1b[12");
  EXPECT_EQ(strip_all("a\x1b]8;;never ended"), "a\x1b]8;;never ended");
}

TEST(WhatToForce, PerFamily) {
  EXPECT_EQ(what_to_force(parse(CompilerFamily::gcc, {"gcc", "-c", "a.c"})),
            Forcing::colors_and_links);
  EXPECT_EQ(what_to_force(parse(CompilerFamily::clang, {"clang", "-c", "a.c"})), Forcing::colors);
  EXPECT_EQ(what_to_force(parse(CompilerFamily::unknown, {"cc", "-c", "a.c"})), Forcing::nothing);
}

TEST(WhatToForce, NothingWhenTheCommandChooses) {
  for (const char* option : {"-fdiagnostics-color",
                             "-fdiagnostics-color=never",
                             "-fno-diagnostics-color",
                             "-fcolor-diagnostics",
                             "-fno-color-diagnostics",
                             "-fdiagnostics-urls=never",
                             "-fdiagnostics-plain-output",
                             "-fdiagnostics-format=json"}) {
    EXPECT_EQ(what_to_force(parse(CompilerFamily::gcc, {"gcc", option, "-c", "a.c"})),
              Forcing::nothing)
        << option;
    EXPECT_EQ(what_to_force(parse(CompilerFamily::clang, {"clang", "-c", option, "a.c"})),
              Forcing::nothing)
        << option;
  }
  // Not such an option, only a longer name.
  EXPECT_NE(what_to_force(parse(CompilerFamily::gcc, {"gcc", "-c", "a.c", "-fdiagnostics-colorx"})),
            Forcing::nothing);
}

TEST(WhatToForce, NothingTheObjectWouldRecord) {
  // clang records its command line; gcc records -fdiagnostics-urls in debug information
  // and with -frecord-gcc-switches (but never -fdiagnostics-color).
  EXPECT_EQ(what_to_force(parse(CompilerFamily::clang,
                                {"clang", "-g", "-grecord-command-line", "-c", "a.c"})),
            Forcing::nothing);
  EXPECT_EQ(what_to_force(parse(CompilerFamily::gcc, {"gcc", "-g", "-c", "a.c"})), Forcing::colors);
  EXPECT_EQ(
      what_to_force(parse(CompilerFamily::gcc, {"gcc", "-frecord-gcc-switches", "-c", "a.c"})),
      Forcing::colors);
  // clang warns about the option on plain assembly.
  EXPECT_EQ(what_to_force(parse(CompilerFamily::clang, {"clang", "-c", "a.s"})), Forcing::nothing);
  EXPECT_EQ(what_to_force(parse(CompilerFamily::clang, {"clang", "-c", "a.S"})), Forcing::colors);
}

TEST(WithOptions, GoRightAfterTheCompiler) {
  EXPECT_EQ(with_options({"gcc", "-c", "--", "a.c"}, {"-X", "-Y"}),
            (std::vector<std::string>{"gcc", "-X", "-Y", "-c", "--", "a.c"}));
  EXPECT_EQ(with_options({}, {"-X"}), (std::vector<std::string>{"-X"}));
  // An explicit "auto" is the default: forcing goes after the last one.
  EXPECT_EQ(
      with_options({"gcc", "-fdiagnostics-color=auto", "-c", "-fdiagnostics-color=auto", "a.c"},
                   {"-X"}),
      (std::vector<std::string>{
          "gcc", "-fdiagnostics-color=auto", "-c", "-fdiagnostics-color=auto", "-X", "a.c"}));
  EXPECT_EQ(
      what_to_force(parse(CompilerFamily::gcc, {"gcc", "-fdiagnostics-color=auto", "-c", "a.c"})),
      Forcing::colors_and_links);
}

TEST(ColorVariables, Names) {
  EXPECT_TRUE(is_color_variable("TERM=xterm"));
  EXPECT_TRUE(is_color_variable("NO_COLOR="));
  EXPECT_TRUE(is_color_variable("GCC_COLORS=error=01;31"));
  EXPECT_TRUE(is_color_variable("KONSOLE_VERSION=220401"));
  EXPECT_FALSE(is_color_variable("TERMINAL=x"));
  EXPECT_FALSE(is_color_variable("TERM"));
  EXPECT_FALSE(is_color_variable("PATH=/bin"));
}

std::vector<std::string> env_with(std::vector<std::string> extra) {
  const char* path = std::getenv("PATH"); // NOLINT(concurrency-mt-unsafe)
  extra.push_back(std::string("PATH=") + (path != nullptr ? path : "/usr/bin"));
  return extra;
}

// The probes ask a real gcc: it colours an xterm and never a dumb terminal, links option
// names on some terminals only, and takes both forcing options.
TEST(DiagnosticsLook, AsksTheCompiler) {
  if (std::system("command -v gcc >/dev/null 2>&1") != 0) { // NOLINT(concurrency-mt-unsafe)
    GTEST_SKIP() << "gcc not found";
  }
  DiagnosticsLook look;
  EXPECT_TRUE(look.on_terminal("gcc", env_with({"TERM=xterm"})).colors);
  EXPECT_FALSE(look.on_terminal("gcc", env_with({"TERM=dumb"})).colors);
  EXPECT_FALSE(look.on_terminal("gcc", env_with({})).colors);
  EXPECT_FALSE(look.on_terminal("/nonexistent/gcc", env_with({"TERM=xterm"})).colors);
  // Remembered: the same answer, whatever the order of the variables.
  EXPECT_TRUE(look.on_terminal("gcc", {"TERM=xterm", env_with({})[0]}).colors);
  // Away from a terminal: everything stripped, without asking.
  const auto pipe = look.strip_for(false, "/nonexistent/gcc", {});
  EXPECT_TRUE(pipe.colors);
  EXPECT_TRUE(pipe.links);
  EXPECT_FALSE(look.strip_for(true, "gcc", env_with({"TERM=xterm"})).colors);
  EXPECT_TRUE(look.strip_for(true, "gcc", env_with({"TERM=dumb"})).colors);

  const auto all =
      look.forcing_options("gcc", CompilerFamily::gcc, Forcing::colors_and_links, env_with({}));
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), "-fdiagnostics-color=always");
  EXPECT_EQ(look.forcing_options("gcc", CompilerFamily::gcc, Forcing::colors, env_with({})),
            std::vector<std::string>{"-fdiagnostics-color=always"});
  EXPECT_TRUE(
      look.forcing_options("gcc", CompilerFamily::gcc, Forcing::nothing, env_with({})).empty());
  // A compiler that takes none of them gets none.
  EXPECT_TRUE(look.forcing_options(
                      "/bin/false", CompilerFamily::gcc, Forcing::colors_and_links, env_with({}))
                  .empty());
}

} // namespace
} // namespace ccrex::agent
