# The thin client on its own: command line, compiler lookup, masquerading, and compiles
# that must give the same result as the plain compiler whatever the agent does.

SUITE_client_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_client_SETUP() {
  cat >hello.c <<'SRC'
#include <stdio.h>
int main(void) { printf("hello\n"); return 0; }
SRC
  cat >broken.c <<'SRC'
int f(void) { return undeclared_name; }
SRC
}

SUITE_client() {
  TEST "--version and --help work without an agent"
  export CCREX_AGENT_BIN=/nonexistent
  expect_exit 0 "$CCREX" --version
  expect_contains stdout.txt "ccrex version"
  expect_exit 0 "$CCREX" --help
  expect_contains stdout.txt "Usage:"
  expect_missing "$CCREX_AGENT_DIR/agent.sock"

  TEST "usage errors"
  expect_exit 1 "$CCREX"
  expect_contains stderr.txt "Usage:"
  expect_exit 1 "$CCREX" --no-such-option
  expect_contains stderr.txt "unknown option: --no-such-option"

  TEST "ccrex gcc gives the same object as gcc"
  expect_exit 0 "$CCREX" gcc -O2 -c hello.c -o via_ccrex.o
  gcc -O2 -c hello.c -o plain.o
  expect_same_file via_ccrex.o plain.o
  expect_exit 0 "$CCREX" gcc hello.c -o hello
  expect_exit 0 ./hello
  expect_contains stdout.txt "hello"

  TEST "CC=\"ccrex gcc\" in make"
  printf 'hello.o: hello.c\n\t$(CC) -c hello.c -o hello.o\n' >Makefile
  expect_exit 0 make CC="$CCREX gcc"
  gcc -c hello.c -o plain.o
  expect_same_file hello.o plain.o

  TEST "compiler given by absolute path"
  expect_exit 0 "$CCREX" "$(command -v gcc)" -c hello.c -o via_ccrex.o
  gcc -c hello.c -o plain.o
  expect_same_file via_ccrex.o plain.o

  TEST "masquerade through a gcc symlink"
  mkdir bin
  ln -s "$CCREX" bin/gcc
  PATH=$PWD/bin:$PATH expect_exit 0 gcc -c hello.c -o via_link.o
  gcc -c hello.c -o plain.o
  expect_same_file via_link.o plain.o
  # The symlink is called by absolute path too.
  expect_exit 0 "$PWD/bin/gcc" -c hello.c -o via_path.o
  expect_same_file via_path.o plain.o

  TEST "masquerade behind another wrapper's link directory: no loop, the real compiler"
  # A wrapper in ccache's style: its gcc link runs the next gcc in PATH that is not its
  # own. In front of ccrex's links the two would call each other forever.
  local kind
  for kind in ccache mywrapper; do
    mkdir -p "wrap-$kind" "links-$kind" bin
    cat >"wrap-$kind/$kind" <<SH
#!/bin/bash
echo run >>"$PWD/runs-$kind"
[[ \$(wc -l <"$PWD/runs-$kind") -lt 20 ]] || exit 99
IFS=: read -ra dirs <<<"\$PATH"
for d in "\${dirs[@]}"; do
  [[ \$d == "$PWD/links-$kind" ]] && continue
  [[ -x \$d/gcc ]] && exec "\$d/gcc" "\$@"
done
exit 127
SH
    chmod +x "wrap-$kind/$kind"
    ln -s "$PWD/wrap-$kind/$kind" "links-$kind/gcc"
    ln -sf "$CCREX" bin/gcc
    rm -f "runs-$kind"
    PATH=$PWD/links-$kind:$PWD/bin:$PATH expect_exit 0 timeout 60 gcc -c hello.c -o via_link.o
    gcc -c hello.c -o plain.o
    expect_same_file via_link.o plain.o
    # ccache is known: ccrex never runs it. An unknown wrapper may run a few more times
    # (ccrex asks the compiler it was given for its identity), never in a loop.
    if [[ $kind == ccache ]]; then
      expect_equal "$(wc -l <"runs-$kind")" 1 "runs of $kind"
    else
      (($(wc -l <"runs-$kind") < 10)) || test_failed "$kind ran $(wc -l <"runs-$kind") times"
    fi
  done

  if command -v bear >/dev/null; then
    TEST "bear records the real compiler of compiles through ccrex"
    printf 'int two(void) { return 2; }\n' >two.c
    printf 'all: hello.o two.o\n%%.o: %%.c\n\t$(CC) -O1 -c $< -o $@\n' >Makefile
    # bear preloads its library; a sanitizer build of ccrex wants its runtime first.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
      expect_exit 0 bear --output cc.json -- make CC="$CCREX gcc"
    python3 - cc.json "$(command -v gcc)" <<'PY' || test_failed "compilation database: $(cat cc.json)"
import json, os, sys
entries = json.load(open(sys.argv[1]))
files = sorted(os.path.basename(e["file"]) for e in entries)
assert files == ["hello.c", "two.c"], files
for e in entries:
    assert os.path.realpath(e["arguments"][0]) == os.path.realpath(sys.argv[2]), e
    assert "-O1" in e["arguments"] and "-c" in e["arguments"], e
PY
    gcc -O1 -c two.c -o plain.o
    expect_same_file two.o plain.o
  fi

  TEST "masquerade only finds itself: compiler not found"
  mkdir bin
  ln -s "$CCREX" bin/nosuchcc
  PATH=$PWD/bin expect_exit 127 "$PWD/bin/nosuchcc" -c hello.c
  expect_contains stderr.txt "nosuchcc"

  TEST "missing compiler exits 127"
  expect_exit 127 "$CCREX" no-such-compiler-xyz -c hello.c
  expect_contains stderr.txt "no-such-compiler-xyz"

  TEST "failing compile keeps exit code and stderr"
  gcc -c broken.c -o plain.o 2>plain_stderr.txt
  plain_status=$?
  expect_exit $plain_status "$CCREX" gcc -c broken.c -o via_ccrex.o
  expect_same_file stderr.txt plain_stderr.txt
  expect_missing via_ccrex.o

  TEST "compiler stdout is preserved"
  gcc -E hello.c >plain.i
  expect_exit 0 "$CCREX" gcc -E hello.c
  expect_same_file stdout.txt plain.i

  TEST "agent that cannot start: still compiles, and says so once"
  export CCREX_AGENT_BIN=/nonexistent/ccrexd
  expect_exit 0 "$CCREX" gcc -c hello.c -o via_ccrex.o
  gcc -c hello.c -o plain.o
  expect_same_file via_ccrex.o plain.o
  expect_missing "$CCREX_AGENT_DIR/agent.pid"
  expect_equal "$(cat stderr.txt)" "ccrex: cannot use the agent: cannot run the agent /nonexistent/ccrexd: No such file or directory; compiling without ccrex"
  # The next compiles of the build are not told again.
  expect_exit 0 "$CCREX" gcc -c hello.c -o via_ccrex.o
  [[ ! -s stderr.txt ]] || test_failed "said again: $(cat stderr.txt)"

  TEST "CCREX_DISABLE=1: the compiler alone, no agent started"
  CCREX_DISABLE=1 expect_exit 0 "$CCREX" gcc -c hello.c -o via_ccrex.o
  gcc -c hello.c -o plain.o
  expect_same_file via_ccrex.o plain.o
  expect_missing "$CCREX_AGENT_DIR/agent.pid"
  expect_missing "$CCREX_AGENT_DIR/agent.sock"
  # Any other value is the agent's to judge (it reports an invalid one).
  CCREX_DISABLE=maybe expect_exit 0 "$CCREX" gcc -c hello.c -o via_ccrex.o
  expect_contains stderr.txt "invalid configuration"

  TEST "agent that exits without answering: said once, then local compiles at once"
  printf '#!/bin/sh\nexit 0\n' >dead-agent
  chmod +x dead-agent
  export CCREX_AGENT_BIN=$PWD/dead-agent
  expect_exit 0 "$CCREX" gcc -c hello.c -o first.o
  expect_file_exists "$CCREX_AGENT_DIR/start.failed"
  expect_equal "$(cat stderr.txt)" "ccrex: cannot use the agent: the agent $PWD/dead-agent exited without answering; compiling without ccrex"
  start=$(date +%s%N)
  expect_exit 0 "$CCREX" gcc -c hello.c -o second.o
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  ((elapsed_ms < 1500)) || test_failed "second compile waited ${elapsed_ms} ms for the agent"
  [[ ! -s stderr.txt ]] || test_failed "said again: $(cat stderr.txt)"
  gcc -c hello.c -o plain.o
  expect_same_file first.o plain.o
  expect_same_file second.o plain.o

  TEST "agent slow to start (a loaded machine): waited for, and the compile goes through it"
  # Seconds of start-up are what a sanitizer build sees on two busy cores.
  printf '#!/bin/sh\nsleep 3\nexec "%s" "$@"\n' "$(dirname "$(realpath "$CCREX")")/ccrexd" >slow-agent
  chmod +x slow-agent
  export CCREX_AGENT_BIN=$PWD/slow-agent
  expect_exit 0 "$CCREX" gcc -c hello.c -o first.o
  [[ ! -s stderr.txt ]] || test_failed "the client gave up: $(cat stderr.txt)"
  expect_file_exists "$CCREX_AGENT_DIR/agent.sock"
  expect_missing "$CCREX_AGENT_DIR/start.failed"
  gcc -c hello.c -o plain.o
  expect_same_file first.o plain.o
  expect_exit 0 "$CCREX" gcc -c hello.c -o first.o
  expect_exit 0 "$CCREX" --print-stats
  grep -q $'^hit_local\t1$' stdout.txt || test_failed "the second compile was no hit: $(cat stdout.txt)"
  expect_same_file first.o plain.o

  TEST "agent that cannot start: its reason reaches the user"
  CCREX_IDLE_TIMEOUT=soon expect_exit 0 "$CCREX" gcc -c hello.c -o first.o
  expect_contains stderr.txt "ccrex: cannot use the agent: the agent "
  expect_contains stderr.txt " did not start: "
  expect_contains stderr.txt "CCREX_IDLE_TIMEOUT"
  expect_missing "$CCREX_AGENT_DIR/agent.sock"
  gcc -c hello.c -o plain.o
  expect_same_file first.o plain.o

  TEST "agent directory open to other users: compiles locally, starts no agent"
  mkdir -m 755 "$CCREX_AGENT_DIR"
  expect_exit 0 "$CCREX" gcc -c hello.c -o via_ccrex.o
  gcc -c hello.c -o plain.o
  expect_same_file via_ccrex.o plain.o
  expect_contains stderr.txt "ccrex: cannot use the agent: $CCREX_AGENT_DIR is accessible to other users; compiling without ccrex"
  expect_missing "$CCREX_AGENT_DIR/agent.sock"
  expect_missing "$CCREX_AGENT_DIR/agent.pid"

  TEST "a working directory longer than PATH_MAX: compiled where it is, no hang"
  local deep=$TEST_DIR i
  # 24 levels of 200 characters: over 4096, reached one relative step at a time.
  local part
  part=$(printf 'd%.0s' $(seq 200))
  for i in $(seq 24); do
    mkdir "$deep/$part" 2>/dev/null || (cd "$deep" && mkdir "$part") || true
    cd "$part" || test_failed "cannot enter level $i"
    deep=.
  done
  cp "$TEST_DIR/hello.c" .
  pwd >/dev/null 2>&1 && [[ ${#PWD} -gt 4096 ]] || test_failed "the directory is not deep enough"
  timeout 60 "$CCREX" gcc -c hello.c -o via_ccrex.o >"$TEST_DIR/stdout.txt" 2>"$TEST_DIR/stderr.txt" \
    || test_failed "ccrex failed or hung: $(cat "$TEST_DIR/stderr.txt")"
  gcc -c hello.c -o plain.o
  cmp -s via_ccrex.o plain.o || test_failed "the object differs from gcc's"
  cd "$TEST_DIR" || test_failed "cd back"
}
