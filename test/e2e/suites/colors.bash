# Coloured diagnostics: a compile through ccrex shows on a terminal exactly the bytes the
# compiler shows there by itself (colours included, whatever TERM, NO_COLOR or GCC_COLORS
# say), and exactly its plain text anywhere else, from one cache entry.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_colors_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v python3 >/dev/null || echo "python3 not found"
}

SUITE_colors_SETUP() {
  isolate_test
  cat >warn.c <<'SRC'
#warning a warning from the preprocessor
int f(void) { int unused; return 0; }
SRC
  cat >broken.c <<'SRC'
int g(void) { return undeclared_name + 1; }
SRC
}

# tty OUT COMMAND...: run COMMAND with stderr on a new terminal, its bytes into OUT. The
# helper (lib/on_tty.c) is compiled on first use, once per run of the suite.
tty() {
  local out=$1
  shift
  if [[ ! -x $SUITE_DIR/on_tty ]]; then
    gcc -O1 -Wall -o "$SUITE_DIR/on_tty" "$E2E_DIR/lib/on_tty.c" \
      || test_failed "cannot compile lib/on_tty.c"
  fi
  "$SUITE_DIR/on_tty" "$out" -- "$@"
}

# same_on_tty CC ENV... -- ARGS...: CC ARGS on a terminal with ENV gives the same exit
# status, terminal bytes and object through ccrex (twice: cold, then a hit) as alone.
same_on_tty() {
  local cc=$1 env=() status n
  shift
  while [[ $1 != -- ]]; do
    env+=("$1")
    shift
  done
  shift
  tty plain_tty.txt env -u TERM "${env[@]}" "$cc" "$@" -o plain.o
  status=$?
  for n in 1 2; do
    tty via_tty.txt env -u TERM "${env[@]}" "$CCREX" "$cc" "$@" -o via.o
    [[ $? -eq $status ]] || test_failed "$cc ${env[*]}: exit status differs (run $n)"
    cmp -s plain_tty.txt via_tty.txt \
      || test_failed "$cc ${env[*]} $*: terminal output differs (run $n): plain $(od -c plain_tty.txt | head -n 3) ccrex $(od -c via_tty.txt | head -n 3)"
    if [[ $status -eq 0 ]]; then
      expect_same_file via.o plain.o
    fi
  done
}

# families: the compiler families installed.
families() {
  echo gcc
  command -v clang >/dev/null && echo clang
}

SUITE_colors() {
  local cc term

  TEST "the compilers colour a terminal here (or this suite proves nothing)"
  for cc in $(families); do
    tty plain_tty.txt env TERM=xterm "$cc" -Wall -c warn.c -o plain.o
    grep -q $'\x1b\\[' plain_tty.txt || test_failed "$cc does not colour a terminal"
  done

  for cc in $(families); do
    TEST "$cc: a terminal shows what the compiler shows, whatever the variables say"
    same_on_tty "$cc" TERM=xterm -- -Wall -c warn.c
    same_on_tty "$cc" TERM=xterm-256color -- -Wall -c warn.c
    same_on_tty "$cc" TERM=dumb -- -Wall -c warn.c
    same_on_tty "$cc" -- -Wall -c warn.c
    same_on_tty "$cc" TERM=xterm NO_COLOR=1 -- -Wall -c warn.c
    same_on_tty "$cc" TERM=xterm GCC_COLORS= -- -Wall -c warn.c
    same_on_tty "$cc" TERM=xterm 'GCC_COLORS=error=01;32:warning=01;34' -- -Wall -c warn.c
    expect_equal "$(fallback_count)" 0

    TEST "$cc: with debug information, colours exact and no hyperlinks"
    # gcc writes -fdiagnostics-urls into the debug information, so ccrex cannot force
    # hyperlinks there: the terminal shows the compiler's colours without them.
    for term in xterm xterm-256color; do
      tty plain_tty.txt env TERM=$term "$cc" -g -Wall -c warn.c -o plain.o
      python3 -c 'import re, sys; sys.stdout.buffer.write(re.sub(rb"\x1b\][^\x07\x1b]*(\x07|\x1b\\)", b"", open(sys.argv[1], "rb").read()))' plain_tty.txt >plain_nolinks.txt
      tty via_tty.txt env TERM=$term "$CCREX" "$cc" -g -Wall -c warn.c -o via.o
      expect_same_file via_tty.txt plain_nolinks.txt
      expect_same_file via.o plain.o
    done

    TEST "$cc: errors are coloured too, and never cached as results"
    same_on_tty "$cc" TERM=xterm -- -c broken.c
    [[ $(stat_value compile_error) -ge 2 ]] || test_failed "compile errors not counted: $(all_stats)"

    TEST "$cc: colour options on the command line are the compiler's business"
    same_on_tty "$cc" TERM=xterm -- -Wall -fdiagnostics-color=never -c warn.c
    same_on_tty "$cc" TERM=dumb -- -Wall -fdiagnostics-color=always -c warn.c
    same_on_tty "$cc" TERM=xterm -- -Wall -fdiagnostics-color=auto -c warn.c
    # Away from a terminal: forced colours stay, the default has none.
    "$cc" -Wall -fdiagnostics-color=always -c warn.c -o plain.o 2>plain_stderr.txt
    expect_exit 0 "$CCREX" "$cc" -Wall -fdiagnostics-color=always -c warn.c -o via.o
    expect_same_file stderr.txt plain_stderr.txt

    TEST "$cc: one cache entry serves a terminal and a pipe"
    "$CCREX" -z >/dev/null
    same_on_tty "$cc" TERM=xterm -- -Wall -O1 -c warn.c
    "$cc" -Wall -O1 -c warn.c -o plain.o 2>plain_stderr.txt
    expect_exit 0 "$CCREX" "$cc" -Wall -O1 -c warn.c -o via.o
    expect_same_file stderr.txt plain_stderr.txt
    expect_same_file via.o plain.o
    grep -q $'\x1b' stderr.txt && test_failed "colour sequences in a pipe: $(od -c stderr.txt | head -n 3)"
    expect_stat hit_local 2
  done
}
