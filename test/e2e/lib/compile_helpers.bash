# Helpers shared by the compile suites (cache, local_runs, remote): counters from
# `ccrex --print-stats`, a separately started ccrex-server, and plain reference compiles.
# Sourced by those suite files; relies on test/e2e/run's helpers (test_failed, wait_for,
# process_alive, process_gone) and variables (CCREX, TEST_DIR).

# stat_value NAME: print counter NAME of the current CCREX_DIR (0 when absent).
stat_value() {
  "$CCREX" --print-stats | awk -F'\t' -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

# all_stats: every non-zero counter as "name=value" words on one line (the store's sizes,
# store_bytes_*, are figures, not counters).
all_stats() {
  "$CCREX" --print-stats | awk -F'\t' '$2 != 0 && $1 !~ /^store_bytes_/ { printf "%s=%s ", $1, $2 }'
}

# expect_stat NAME VALUE: counter NAME has VALUE.
expect_stat() {
  local actual
  actual=$(stat_value "$1")
  [[ $actual == "$2" ]] || test_failed "counter $1 is $actual, expected $2; counters: $(all_stats)"
}

# expect_stats NAME=VALUE...: the listed counters have these values and every other
# counter is zero (each test has its own CCREX_DIR, so this is the whole story).
expect_stats() {
  local actual want got
  actual=$(all_stats)
  want=$(printf '%s\n' "$@" | grep -v '=0$' | sort | tr '\n' ' ')
  got=$(printf '%s\n' $actual | sort | tr '\n' ' ')
  [[ $want == "$got" ]] || test_failed "counters are \"$got\", expected \"$want\""
}

# fallback_count: the sum of every fallback_* counter.
fallback_count() {
  "$CCREX" --print-stats | awk -F'\t' '$1 ~ /^fallback_/ { s += $2 } END { print s + 0 }'
}

# plain COMPILER ARGS...: run the compiler directly (no ccrex), failing the test on error.
plain() {
  "$@" >"$TEST_DIR/plain_stdout.txt" 2>"$TEST_DIR/plain_stderr.txt" \
    || test_failed "plain \`$*\` failed: $(cat "$TEST_DIR/plain_stderr.txt")"
}

# expect_compile_error_replayed CC: broken.c fails through ccrex exactly as with CC alone
# (same stderr, same exit code, no object), twice, because failures are not cached; each
# run counts as a compile error, never as a fallback.
expect_compile_error_replayed() {
  local cc=$1 plain_status n
  $cc -c broken.c -o plain.o 2>plain_stderr.txt
  plain_status=$?
  [[ $plain_status -ne 0 ]] || test_failed "broken.c compiled"
  for n in 1 2; do
    expect_exit $plain_status "$CCREX" $cc -c broken.c -o broken.o
    expect_same_file stderr.txt plain_stderr.txt
    expect_missing broken.o
    expect_stats compile_error=$n
  done
}

# ---------------------------------------------------------------------------------------
# A separately started ccrex-server

SERVER_PIDS=()
# A command that runs the server (its argv follows), e.g. to give it its own mount
# namespace; it must exec the server so that SERVER_PID is the server's pid.
SERVER_WRAPPER=()

# start_server LISTEN STORE_DIR [SERVER_OPTION...]: start ccrex-server on LISTEN
# ("127.0.0.1:0" or "unix:/path") with its store in STORE_DIR. Sets SERVER_PID and
# SERVER_URL (the value for CCREX_REMOTE).
start_server() {
  local listen=$1 store=$2
  shift 2
  [[ -x $CCREX_SERVER_BIN ]] || test_failed "CCREX_SERVER_BIN is not set"
  local out
  out=$(mktemp "$TEST_DIR/server.XXXXXX")
  "${SERVER_WRAPPER[@]}" "$CCREX_SERVER_BIN" --listen "$listen" --cache-dir "$store" "$@" \
    >"$out" 2>"$out.log" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  wait_for 20 grep -q '^ccrex-server: listening on ' "$out" \
    || test_failed "ccrex-server did not start: $(cat "$out" "$out.log")"
  local addr
  addr=$(sed -n 's/^ccrex-server: listening on //p' "$out" | head -n 1)
  case $addr in
  unix:*) SERVER_URL=$addr ;;
  *) SERVER_URL=grpc://$addr ;;
  esac
}

# kill_server_tree PID: SIGKILL the server PID and every process it started.
kill_server_tree() {
  local pid=$1 children
  children=$(pgrep -P "$pid" | tr '\n' ' ')
  kill -KILL "$pid" 2>/dev/null
  local child
  for child in $children; do
    kill_server_tree "$child"
  done
}

# stop_servers: stop every server this test started (resumes stopped ones first).
stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    process_alive "$pid" || continue
    kill -CONT "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
    wait_for 10 process_gone "$pid" || kill_server_tree "$pid"
    wait "$pid" 2>/dev/null
  done
  SERVER_PIDS=()
}

# A failing test exits the run script: take the servers along.
trap stop_servers EXIT

# closed_tcp_port: print a local TCP port nothing listens on.
closed_tcp_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------------------------------
# Per-test environment

# isolate_test: give the current test its own CCREX_DIR (in $TEST_DIR/ccrex-dir), no
# user config file, no ccrex setting left over from an earlier test, and no server.
isolate_test() {
  stop_servers
  local var
  for var in $(compgen -e | grep -E '^(CCREX_|RECC_)'); do
    case $var in
    CCREX_BIN | CCREXD_BIN | CCREX_SERVER_BIN | CCREX_TEST_ENGINE_BIN | CCREX_AGENT_DIR | CCREX_AGENT_IDLE_TIMEOUT) ;;
    *) unset "$var" ;;
    esac
  done
  export CCREX_DIR=$TEST_DIR/ccrex-dir
  export XDG_CONFIG_HOME=$TEST_DIR/no-config
}

# ---------------------------------------------------------------------------------------
# Faulty engines and projects for the fault suite

# start_silent_listener: start a TCP listener on 127.0.0.1 that accepts connections and
# never answers (an engine that hangs before it says anything). Sets SERVER_PID (stopped
# by stop_servers) and SERVER_URL. It exits by itself after two minutes.
start_silent_listener() {
  local out
  out=$(mktemp "$TEST_DIR/listener.XXXXXX")
  python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
s.settimeout(1)
print(s.getsockname()[1], flush=True)
held = []
end = time.time() + 120
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
' >"$out" &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  wait_for 10 grep -q . "$out" || test_failed "the silent listener did not start"
  SERVER_URL=grpc://127.0.0.1:$(head -n 1 "$out")
}

# write_heavy_source FILE [FUNCTIONS] [SALT]: a C file that takes gcc -O2 a while (about
# a second per 100 functions here); SALT makes files with the same size differ.
write_heavy_source() {
  awk -v n="${2:-400}" -v salt="${3:-0}" 'BEGIN {
    for (i = 0; i < n; i++) {
      printf "int f%d_%d(int *a, int n) {\n  int s = %d;\n", salt, i, salt
      printf "  for (int j = 0; j < n; ++j) { s += a[j] * %d ^ (s >> 3); if (s > %d) s -= a[(j + %d) %% n]; }\n", i, i * 7, i
      printf "  for (int k = 0; k < n; k += 2) s ^= a[k] << (k & 7);\n  return s;\n}\n"
    }
  }' >"$1"
}

# stat_sum REGEX: the sum of the counters whose name matches REGEX (awk syntax).
stat_sum() {
  "$CCREX" --print-stats | awk -F'\t' -v re="$1" '$1 ~ re { s += $2 } END { print s + 0 }'
}

# write_remote_sources: main.c (includes include/config.h) and broken.c (does not compile),
# the sources of the suites that drive a ccrex-server.
write_remote_sources() {
  mkdir -p include
  printf '#pragma once\n#define SCALE 3\n' >include/config.h
  cat >main.c <<'SRC'
#include <stdio.h>
#include "config.h"
int compute(int v) { return v * SCALE; }
int main(void) { printf("%d\n", compute(7)); return 0; }
SRC
  cat >broken.c <<'SRC'
int f(void) { return undeclared_name; }
SRC
}

# use_cache_dir NAME: switch to a fresh agent cache directory (no local hits).
use_cache_dir() {
  export CCREX_DIR=$TEST_DIR/$1
}
