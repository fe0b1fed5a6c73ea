# Finding a compile's inputs: every way a file can enter a compile must be part of the
# action, so that changing it is a miss and the remote compile sees it. Each case checks
# the object against the plain compiler's, then that a change of the input is a miss.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_inputs_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
}

SUITE_inputs_SETUP() {
  isolate_test
}

# check_change CC ARGS... : compile (miss), compile again (hit), run `change` (a function
# the test defines), compile again (miss); each object equal to the plain compiler's.
check_change() {
  plain "$@" -o plain1.o
  expect_exit 0 "$CCREX" "$@" -o out.o
  expect_same_file out.o plain1.o
  expect_exit 0 "$CCREX" "$@" -o out.o
  expect_same_file out.o plain1.o
  change
  plain "$@" -o plain2.o
  cmp -s plain1.o plain2.o && test_failed "the change did not change the plain object"
  expect_exit 0 "$CCREX" "$@" -o out.o
  expect_same_file out.o plain2.o
}

# expect_memo yes|no: whether the last compile was answered from the action memo.
expect_memo() {
  local last
  last=$("$CCREX" --explain | tail -1)
  case $1 in
  yes) [[ $last == *"(action memo)" ]] || test_failed "not answered from the memo: $last" ;;
  no) [[ $last != *"(action memo)" ]] || test_failed "answered from the memo: $last" ;;
  esac
}

# memo_round EXPECTED_PLAIN: compile src.c (out.o) twice; the second compile must come from
# the action memo, and both objects must match EXPECTED_PLAIN.
memo_round() {
  expect_exit 0 "$CCREX" gcc -Iinc @args.rsp -c src.c -o out.o
  expect_same_file out.o "$1"
  expect_exit 0 "$CCREX" gcc -Iinc @args.rsp -c src.c -o out.o
  expect_same_file out.o "$1"
  expect_memo yes
}

# The racy window: inputs changed within two seconds of a compile are not memoised.
past_racy_window() { sleep 2.1; }

SUITE_inputs() {
  TEST "the action memo answers unchanged repeats, and no change slips past it"
  mkdir inc
  printf '#define H 1
' >inc/h.h
  printf '#include "h.h"
int f(void) { return H + R; }
' >src.c
  printf -- '-DR=1
' >args.rsp
  plain gcc -Iinc @args.rsp -c src.c -o plain1.o
  past_racy_window
  memo_round plain1.o
  # A header edited in place, same size: only its stat moved.
  sed -i 's/H 1/H 2/' inc/h.h
  plain gcc -Iinc @args.rsp -c src.c -o plain2.o
  expect_exit 0 "$CCREX" gcc -Iinc @args.rsp -c src.c -o out.o
  expect_memo no
  expect_same_file out.o plain2.o
  past_racy_window
  memo_round plain2.o
  # A new header next to the source shadows inc/h.h: the dependency list changes.
  printf '#define H 3
' >h.h
  plain gcc -Iinc @args.rsp -c src.c -o plain3.o
  expect_exit 0 "$CCREX" gcc -Iinc @args.rsp -c src.c -o out.o
  expect_memo no
  expect_same_file out.o plain3.o
  past_racy_window
  memo_round plain3.o
  # The response file edited: the command line reads the same, the compile does not.
  printf -- '-DR=2
' >args.rsp
  plain gcc -Iinc @args.rsp -c src.c -o plain4.o
  expect_exit 0 "$CCREX" gcc -Iinc @args.rsp -c src.c -o out.o
  expect_memo no
  expect_same_file out.o plain4.o
  expect_stats miss_executed=4 hit_local=5

  TEST "-M's list is remembered (a computed include), and no change slips past it"
  # The scanner cannot evaluate `#include XSTR(USER)` (a header name built by stringizing):
  # the compiler's -M lists the inputs, once; a repeat with nothing changed reuses that list
  # instead of running the preprocessor.
  mkdir inc1 inc2
  printf '#define U 1\n' >inc2/user.h
  printf '#define STR(x) #x\n#define XSTR(x) STR(x)\n#if defined(USER)\n#include XSTR(USER)\n#endif\n#if __has_include("opt.h")\n#include "opt.h"\n#endif\n#ifndef OPT\n#define OPT 0\n#endif\nint f(void) { return U + OPT; }\n' >src.c
  local m_args=(gcc -Iinc1 -Iinc2 -DUSER=user.h -c src.c)
  # remembered_round PLAIN MISSES HITS M_RUNS: after the racy window, a compile that runs
  # -M and remembers its list, then a repeat answered from the list (no -M).
  remembered_round() {
    past_racy_window
    rm -f out.o
    expect_exit 0 "$CCREX" "${m_args[@]}" -o out.o
    expect_same_file out.o "$1"
    rm -f out.o
    expect_exit 0 "$CCREX" "${m_args[@]}" -o out.o
    expect_same_file out.o "$1"
    expect_stats miss_executed="$2" hit_local="$3" depend_compiler="$4" \
      depend_compiler_remembered="$5"
  }
  # changed PLAIN: a compile right after a change runs -M again and matches PLAIN.
  changed() {
    plain "${m_args[@]}" -o "$1"
    expect_exit 0 "$CCREX" "${m_args[@]}" -o out.o
    expect_same_file out.o "$1"
  }
  plain "${m_args[@]}" -o plain1.o
  remembered_round plain1.o 1 1 1 1
  # The computed include's header edited.
  printf '#define U 2\n' >inc2/user.h
  changed plain2.o
  remembered_round plain2.o 2 3 3 2
  # A header created earlier in the search path shadows it.
  printf '#define U 3\n' >inc1/user.h
  changed plain3.o
  remembered_round plain3.o 3 5 5 3
  # A header that __has_include tests for appears next to the source.
  printf '#define OPT 4\n' >opt.h
  changed plain4.o
  remembered_round plain4.o 4 7 7 4
  cmp -s plain3.o plain4.o && test_failed "opt.h did not change the plain object"
  # depend_mode=compiler runs -M every time.
  expect_exit 0 "$CCREX" depend_mode=compiler "${m_args[@]}" -o out.o
  expect_stats miss_executed=4 hit_local=8 depend_compiler=8 depend_compiler_remembered=4

  local cc
  for cc in gcc clang; do
    TEST "$cc: a forced -include header"
    printf '#define FORCED 1\n' >forced.h
    printf 'int f(void) { return FORCED; }\n' >src.c
    change() { printf '#define FORCED 2\n' >forced.h; }
    check_change $cc -include forced.h -c src.c
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: -isystem and -iquote directories"
    mkdir sys quote
    printf '#define SYS 1\n' >sys/sys.h
    printf '#define QUOTE 1\n' >quote/quote.h
    printf '#include <sys.h>\n#include "quote.h"\nint f(void) { return SYS + QUOTE; }\n' >src.c
    change() { printf '#define QUOTE 5\n' >quote/quote.h; }
    check_change $cc -isystem sys -iquote quote -c src.c
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: #include_next"
    mkdir a b
    printf '#include_next <layer.h>\n#define A_LAYER (B_LAYER + 1)\n' >a/layer.h
    printf '#define B_LAYER 10\n' >b/layer.h
    printf '#include <layer.h>\nint f(void) { return A_LAYER; }\n' >src.c
    change() { printf '#define B_LAYER 20\n' >b/layer.h; }
    check_change $cc -Ia -Ib -c src.c
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: __has_include picks up a header that appears later"
    mkdir inc
    cat >src.c <<'SRC'
#if __has_include("extra.h")
#include "extra.h"
#else
#define EXTRA 0
#endif
int f(void) { return EXTRA; }
SRC
    change() { printf '#define EXTRA 7\n' >inc/extra.h; }
    check_change $cc -Iinc -c src.c
    expect_stat miss_executed 2
    expect_stat hit_local 1

    TEST "$cc: a computed include (dependencies from the compiler)"
    printf '#define VALUE 1\n' >values.h
    printf '#define HEADER(x) #x\n#include HEADER(values.h)\nint f(void) { return VALUE; }\n' >src.c
    change() { printf '#define VALUE 2\n' >values.h; }
    check_change $cc -c src.c
    expect_stat miss_executed 2
    expect_stat hit_local 1
    expect_equal "$(($(stat_value depend_compiler) + $(stat_value depend_compiler_remembered) > 0))" \
      1 "compiles whose dependencies came from -M (counters: $(all_stats))"
    expect_equal "$(fallback_count)" 0 "fallbacks (counters: $(all_stats))"

    TEST "$cc: #include USER_H resolved by the scanner, without -M"
    # A widely included header that pulls in a header the build names on the command line,
    # and one a later header names: the scanner resolves both, so no compile runs -M.
    mkdir inc
    printf '#define U 1\n' >inc/user.h
    printf '#define E 1\n' >extra.h
    printf '#if defined(USER_H)\n#include USER_H\n#endif\n#ifdef EXTRA_H\n#include EXTRA_H\n#endif\n' >config.h
    printf '#define EXTRA_H "extra.h"\n' >defs.h
    printf '#include "config.h"\n#include "defs.h"\n#include "config.h"\nint f(void) { return U + E; }\n' >src.c
    change() { printf '#define E 2\n' >extra.h; }
    check_change $cc -Iinc '-DUSER_H=<user.h>' -c src.c
    change() { printf '#define U 3\n' >inc/user.h; }
    check_change $cc -Iinc '-DUSER_H=<user.h>' -c src.c
    expect_stats miss_executed=3 hit_local=3

    TEST "$cc: a response file"
    mkdir inc
    printf '#define FROM_RSP 1\n' >inc/rsp.h
    printf '#include "rsp.h"\nint f(void) { return FROM_RSP + DEF; }\n' >src.c
    printf -- '-Iinc -DDEF=3\n' >args.rsp
    change() { printf -- '-Iinc -DDEF=4\n' >args.rsp; }
    check_change $cc @args.rsp -c src.c
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: paths with spaces"
    mkdir "my include" "my src"
    printf '#define SPACED 1\n' >"my include/spaced.h"
    printf '#include "spaced.h"\nint f(void) { return SPACED; }\n' >"my src/src file.c"
    change() { printf '#define SPACED 2\n' >"my include/spaced.h"; }
    check_change $cc -I"my include" -c "my src/src file.c"
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: a header reached through a symlinked directory"
    mkdir real
    ln -s real linked
    printf '#define LINKED 1\n' >real/linked.h
    printf '#include "linked.h"\nint f(void) { return LINKED; }\n' >src.c
    change() { printf '#define LINKED 2\n' >real/linked.h; }
    check_change $cc -Ilinked -c src.c
    expect_stats miss_executed=2 hit_local=1

    TEST "$cc: CCREX_DEPEND_MODE=compiler"
    export CCREX_DEPEND_MODE=compiler
    mkdir inc
    printf '#define MODE 1\n' >inc/mode.h
    printf '#include "mode.h"\nint f(void) { return MODE; }\n' >src.c
    change() { printf '#define MODE 2\n' >inc/mode.h; }
    check_change $cc -Iinc -c src.c
    expect_stat miss_executed 2
    expect_stat hit_local 1
  done

  TEST "-x c++ on a .c file, and C++ headers"
  printf '#include <vector>\nint f() { return static_cast<int>(std::vector<int>{1, 2}.size()); }\n' \
    >src.c
  plain g++ -x c++ -std=c++17 -c src.c -o plain.o
  expect_exit 0 "$CCREX" g++ -x c++ -std=c++17 -c src.c -o out.o
  expect_same_file out.o plain.o
  expect_stats miss_executed=1
}
