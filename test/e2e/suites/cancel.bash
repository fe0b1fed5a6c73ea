# Ctrl-C and SIGTERM: when the client goes away in the middle of a compile, the agent stops
# it (a local compile is killed, a remote execution abandoned) and writes nothing afterwards,
# so an object never appears after the interrupt, newer than the user's next edit.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_cancel_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_cancel_SETUP() {
  isolate_test
  # About five seconds of gcc -O2 here; the interrupt comes after one.
  write_heavy_source heavy.c 500
}

# interrupt_compile SIGNAL [killed]: start `ccrex gcc -O2 -c heavy.c`, send SIGNAL to the
# client once the compiler runs, and check that no object appears in the time the compile
# would have taken and that the agent counted the compile as cancelled; with `killed`,
# also that the compiler is gone at once (a compile the agent runs itself).
interrupt_compile() {
  local signal=$1 pid
  rm -f heavy.o
  # A background job of a script ignores SIGINT; a terminal's Ctrl-C finds it at default.
  env --default-signal=INT "$CCREX" gcc -O2 -c heavy.c -o heavy.o 2>client_stderr.txt &
  pid=$!
  wait_for 20 pgrep -f 'cc1 .*heavy.c' >/dev/null || test_failed "the compile never started"
  sleep 1
  kill -"$signal" "$pid"
  wait "$pid" 2>/dev/null
  wait_for 10 expect_counter_is cancelled 1 || test_failed "not counted as cancelled: $(all_stats)"
  if [[ ${2:-} == killed ]]; then
    wait_for 5 no_compiler_of heavy.c || test_failed "a compiler of heavy.c is still running"
  fi
  local end=$((SECONDS + 8))
  while ((SECONDS < end)); do
    [[ -e heavy.o ]] && test_failed "heavy.o was written after the interrupt"
    sleep 0.5
  done
  process_alive "$(agent_pid)" || test_failed "the agent died"
}

# expect_counter_is NAME VALUE: like expect_stat, but a status for wait_for.
expect_counter_is() {
  [[ $(stat_value "$1") == "$2" ]]
}

# no_compiler_of FILE: no cc1 process compiles FILE (run by the agent's local compile).
no_compiler_of() {
  ! pgrep -f "cc1 .*$1" >/dev/null
}

SUITE_cancel() {
  TEST "Ctrl-C during a compile the agent runs itself (cache-only mode): killed, nothing written"
  export CCREX_CACHE_ONLY=1
  interrupt_compile INT killed
  # The next compile of the same file still works and gives the plain object.
  plain gcc -O2 -c heavy.c -o plain.o
  expect_exit 0 "$CCREX" gcc -O2 -c heavy.c -o heavy.o
  expect_same_file heavy.o plain.o

  TEST "SIGTERM during an execution on the embedded server: abandoned, nothing written"
  interrupt_compile TERM

  TEST "Ctrl-C during an execution on a separate ccrex-server: abandoned, nothing written"
  [[ -x $CCREX_SERVER_BIN ]] || test_failed "CCREX_SERVER_BIN is not set"
  start_server "unix:$TEST_DIR/server.sock" "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  interrupt_compile INT
}
