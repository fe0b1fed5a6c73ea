# Hermetic toolchains (CCREX_HERMETIC_TOOLCHAIN): the compiler travels in the input root and
# a sandboxed ccrex-server runs the compile with that root as `/`, where nothing of the host
# is visible; objects are byte for byte those of a local compile.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_hermetic_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v g++ >/dev/null || echo "g++ not found"
  [[ -x $CCREX_SERVER_BIN ]] || echo "CCREX_SERVER_BIN not set"
  # As the server would run it: as root it starts bwrap as the sandbox user (65534).
  local as_user=()
  [[ $(id -u) == 0 ]] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  if [[ ! -x /usr/bin/bwrap ]]; then
    echo "bubblewrap not installed"
  elif ! (cd / && "${as_user[@]}" /usr/bin/bwrap --unshare-user --unshare-pid --unshare-net \
    --ro-bind / / --dev /dev --proc /proc true) 2>/dev/null; then
    echo "bubblewrap cannot create namespaces here"
  fi
}

SUITE_hermetic_SETUP() {
  isolate_test
  # A server running as root runs actions as another user, which must be able to reach the
  # store through the run's private directory (search only).
  chmod o+x "$ROOT_DIR"
  export CCREX_RETRIES=1
  mkdir -p include
  cat >include/answer.h <<'EOF'
#define ANSWER 42
EOF
  cat >main.c <<'EOF'
#include <stdio.h>
#include <string.h>
#include "answer.h"
int main(int argc, char** argv) {
  printf("%d %zu\n", ANSWER, strlen(argv[argc - 1]));
  return 0;
}
EOF
  cat >hello.cpp <<'EOF'
#include <iostream>
#include <map>
#include <string>
#include <vector>
#include "answer.h"
int main() {
  std::map<std::string, std::vector<int>> m{{"a", {ANSWER}}};
  std::cout << m["a"].size() << '\n';
}
EOF
}

# sandboxed_server: start ccrex-server with its sandbox on a unix socket and point ccrex at
# it in hermetic mode.
sandboxed_server() {
  start_server "unix:$TEST_DIR/server.sock" "$TEST_DIR/server-store" "$@"
  wait_for 10 grep -q 'sandbox: ' "$(ls "$TEST_DIR"/server.*.log)" || true
  if grep -q 'sandbox: unavailable' "$TEST_DIR"/server.*.log; then
    test_failed "the server has no sandbox although bwrap works: $(cat "$TEST_DIR"/server.*.log)"
  fi
  export CCREX_REMOTE=$SERVER_URL
  export CCREX_HERMETIC_TOOLCHAIN=true
}

# hermetic_round CC SOURCE OBJECT ARGS...: compile locally and through ccrex; same object,
# and the action asked for the input root.
hermetic_round() {
  local cc=$1 src=$2 obj=$3
  shift 3
  plain $cc "$@" -Iinclude -c "$src" -o "plain-$obj"
  CCREX_DEBUG=true expect_exit 0 "$CCREX" $cc "$@" -Iinclude -c "$src" -o "$obj"
  expect_same_file "$obj" "plain-$obj"
  expect_contains "$obj.ccrex-debug" "ccrex-root=input"
  # The compiler's own files and the project's sources are in the root at their paths.
  expect_contains "$obj.ccrex-debug" "$($cc -print-prog-name=cc1 | sed 's|^/||')"
  expect_contains "$obj.ccrex-debug" "${PWD#/}/include/answer.h"
}

SUITE_hermetic() {
  TEST "C and C++, with and without -g, run remotely in the input root; objects are local ones"
  sandboxed_server --log-level debug
  hermetic_round gcc main.c main.o -O1
  expect_stats miss_executed=1
  local before after
  # The CAS, without the server's tree cache (copies of subtrees it mounts into actions).
  before=$(du -sb --exclude=trees "$TEST_DIR/server-store" | cut -f1)
  hermetic_round gcc main.c main-g.o -g -O0
  expect_stats miss_executed=2
  after=$(du -sb --exclude=trees "$TEST_DIR/server-store" | cut -f1)
  # The toolchain went up once: the second compile added its source tree and results only.
  ((after - before < 4000000)) || test_failed "the second compile grew the store by $((after - before)) bytes"
  # The second compile that carried the closure had its largest directories copied once
  # into the tree cache, to be mounted read-only from then on.
  [[ -n $(ls -A "$TEST_DIR/server-store/trees" 2>/dev/null) ]] \
    || test_failed "the server's tree cache is empty after two hermetic compiles"
  ((before > 20000000)) || test_failed "the store holds only $before bytes: no toolchain was sent"
  hermetic_round g++ hello.cpp hello.o -O1
  hermetic_round g++ hello.cpp hello-g.o -g
  expect_stats miss_executed=4
  # A compiler found through the PATH entry ".": the compile's directory, not the agent's.
  mkdir -p tools
  ln -s "$(command -v gcc)" tools/mygcc
  (cd tools && gcc -O2 -I../include -c ../main.c -o ../plain-rel.o) || test_failed "gcc failed"
  cd tools
  PATH=.:$PATH expect_exit 0 "$CCREX" mygcc -O2 -I../include -c ../main.c -o ../rel.o
  cd ..
  expect_same_file rel.o plain-rel.o
  expect_stats miss_executed=5
  # The server ran each in its sandbox, in the input root (one debug line per execution).
  local in_input
  in_input=$(cat "$TEST_DIR"/server.*.log | grep -c ': input root, sandboxed$' || true)
  [[ $in_input == 5 ]] || test_failed "$in_input of 5 executions logged as sandboxed in the input root"
  # A repeat from a clean cache directory is a remote hit.
  use_cache_dir second
  rm main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain-main.o
  expect_stats hit_remote=1

  TEST "a server without the sandbox refuses the input root: the compile runs locally"
  sandboxed_server --no-sandbox
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  [[ $(stat_value miss_executed) == 0 ]] || test_failed "executed remotely: $(all_stats)"
  [[ $(fallback_count) == 1 ]] || test_failed "no fallback: $(all_stats)"

  TEST "the embedded server cannot run hermetic compiles: they run locally, saying why"
  export CCREX_HERMETIC_TOOLCHAIN=true
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats fallback_hermetic_toolchain=1
  expect_contains stderr.txt "fallback_hermetic_toolchain"
}
