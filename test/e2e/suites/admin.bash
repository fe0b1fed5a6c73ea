# Administrative commands racing with compiles: `ccrex -C` while a burst of compiles runs
# never breaks a compile (it waits for the running ones) and never kills the agent.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_admin_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_admin_SETUP() {
  isolate_test
  local i
  for i in 1 2 3 4 5 6; do
    printf '#include <stdio.h>\nint f%d(void) { return printf("%d"); }\n' "$i" "$i" >"f$i.c"
  done
}

SUITE_admin() {
  TEST "ccrex -C during a burst of compiles"
  local round i pid
  for round in 1 2 3 4 5; do
    for i in 1 2 3 4 5 6; do
      "$CCREX" gcc -c "f$i.c" -o "f$i.o" 2>>errors.txt || echo "f$i.c" >>failed.txt &
    done
    "$CCREX" -C >/dev/null &
    wait
  done
  expect_missing failed.txt
  for i in 1 2 3 4 5 6; do
    plain gcc -c "f$i.c" -o "ref$i.o"
    expect_same_file "f$i.o" "ref$i.o"
  done
  [[ $(fallback_count) == 0 ]] || test_failed "compiles fell back: $(all_stats)"
  [[ $(stat_value compile_error) == 0 ]] || test_failed "compile errors: $(all_stats)"
  pid=$(agent_pid)
  process_alive "$pid" || test_failed "the agent died"

  TEST "ccrex -z, -s and --show-config answer while idle"
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_exit 0 "$CCREX" -s
  expect_contains "$TEST_DIR/stdout.txt" "Cacheable calls:                   2 / 2 (100.00%)"
  expect_contains "$TEST_DIR/stdout.txt" "  Hits:                            1 / 2 (50.00%)"
  expect_contains "$TEST_DIR/stdout.txt" "Cache directory:                   $CCREX_DIR"
  grep -qE '^  Store size: +[0-9.]+ [KM]iB / 5.0 GiB \([0-9.]+%\)$' "$TEST_DIR/stdout.txt" \
    || test_failed "no store size: $(cat "$TEST_DIR/stdout.txt")"
  expect_exit 0 "$CCREX" -z
  expect_equal "$(stat_value miss_executed)" 0 "miss_executed after -z"
  # Machine-readable counters stay complete after zeroing.
  expect_exit 0 "$CCREX" --print-stats
  expect_contains "$TEST_DIR/stdout.txt" "hit_local	0"
  expect_contains "$TEST_DIR/stdout.txt" "miss_executed	0"
  expect_exit 0 env CCREX_CACHE_ONLY=on "$CCREX" --show-config
  expect_contains "$TEST_DIR/stdout.txt" "(CCREX_CACHE_ONLY) cache_only = true"

  admin_idle_timeout_from_file

  TEST "CCREX_LOG_FILE names the agent's log"
  CCREX_LOG_FILE=$TEST_DIR/my.log expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_contains "$TEST_DIR/my.log" "agent started"
  expect_contains "$TEST_DIR/my.log" "f1.c"
}

admin_idle_timeout_from_file() {
  TEST "idle_timeout from the configuration file stops the agent"
  mkdir -p "$XDG_CONFIG_HOME/ccrex"
  echo "idle_timeout = 1" >"$XDG_CONFIG_HOME/ccrex/ccrex.conf"
  unset CCREX_IDLE_TIMEOUT
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  local pid
  pid=$(agent_pid)
  [[ -n $pid ]] || test_failed "no agent started"
  wait_for 10 process_gone "$pid" || test_failed "the agent did not exit after 1 s idle"

  TEST "ccrex --doctor: every check passes on the embedded default"
  expect_exit 0 "$CCREX" --doctor gcc
  expect_contains stdout.txt "ok:      agent pid"
  expect_contains stdout.txt "ok:      cache directory $CCREX_DIR"
  expect_contains stdout.txt "ok:      embedded engine: REAPI"
  expect_contains stdout.txt "ok:      compiler $(command -v gcc): gcc"
  grep -q '^problem' stdout.txt && test_failed "problems on a good setup: $(cat stdout.txt)"

  TEST "ccrex --doctor names each problem on one line and exits 1"
  local port
  port=$(closed_tcp_port)
  CCREX_REMOTE=grpc://127.0.0.1:$port CCREX_DISABLE=1 expect_exit 1 "$CCREX" --doctor no-such-cc-xyz
  expect_contains stdout.txt "problem: engine grpc://127.0.0.1:$port cannot be reached"
  expect_contains stdout.txt "problem: ccrex is disabled"
  expect_contains stdout.txt "problem: compiler no-such-cc-xyz is not in PATH"
  expect_contains stdout.txt "ok:      cache directory"
  expect_equal "$(grep -c '^problem' stdout.txt)" 3 "problem lines ($(cat stdout.txt))"
  # A compiler given by a relative path is the one the compile would run.
  ln -s "$(command -v gcc)" my-gcc
  expect_exit 0 "$CCREX" --doctor ./my-gcc
  expect_contains stdout.txt "ok:      compiler $PWD/my-gcc: gcc"

  TEST "--explain: a journal that outlives the agent, filtered by source"
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_exit 0 "$CCREX" gcc -c f2.c -o f2.o
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  stop_agent
  expect_exit 0 "$CCREX" --explain
  expect_equal "$(grep -c ' f1.c: ' stdout.txt)" 2 "f1.c lines ($(cat stdout.txt))"
  expect_equal "$(grep -c ' f2.c: ' stdout.txt)" 1 "f2.c lines"
  expect_contains stdout.txt "f1.c: local store hit"
  expect_exit 0 "$CCREX" --explain f2.c
  expect_equal "$(wc -l <stdout.txt)" 1 "lines for f2.c ($(cat stdout.txt))"
  expect_contains stdout.txt " f2.c: "

  TEST "debug mode writes what went into the key beside the object"
  CCREX_DEBUG=1 expect_exit 0 "$CCREX" gcc -O1 -c f1.c -o f1.o
  expect_file_exists f1.o.ccrex-debug
  expect_contains f1.o.ccrex-debug "[compiler]"
  expect_contains f1.o.ccrex-debug "$(readlink -f "$(command -v gcc)")"
  expect_contains f1.o.ccrex-debug "-O1"
  expect_contains f1.o.ccrex-debug "f1.c $(sha256sum f1.c | cut -d' ' -f1)/$(stat -c %s f1.c)"
  expect_contains f1.o.ccrex-debug "[platform]"
  # Another define, another key: the files tell the two compiles apart.
  cp f1.o.ccrex-debug first.txt
  CCACHE_DEBUG=1 expect_exit 0 "$CCREX" gcc -O2 -c f1.c -o f1.o
  diff first.txt f1.o.ccrex-debug >diff.txt && test_failed "no difference between -O1 and -O2"
  grep -q '^> -O2$' diff.txt || test_failed "the difference is not -O2: $(cat diff.txt)"
  # Off by default.
  rm f1.o.ccrex-debug
  expect_exit 0 "$CCREX" gcc -O1 -c f1.c -o f1.o
  expect_missing f1.o.ccrex-debug
}
