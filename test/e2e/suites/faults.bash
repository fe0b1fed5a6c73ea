# Client-side faults (ctest labels `e2e` and `faults`): an engine that is unreachable,
# refuses connections, dies during an upload or an execution, hangs, restarts during a
# parallel build or has a read-only store; an agent killed during a compile; compiles
# killed while they write their outputs. Every compile ends with the object a plain local
# compile makes and the compiler's exit code, and the fallback is counted.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_faults_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
  command -v make >/dev/null || echo "make not found"
  command -v python3 >/dev/null || echo "python3 not found"
  [[ -x $CCREX_SERVER_BIN ]] || echo "CCREX_SERVER_BIN not set"
}

SUITE_faults_SETUP() {
  isolate_test
  # Keep failing RPCs short: the tests below make the engine fail on purpose.
  export CCREX_RETRIES=1
  write_remote_sources
}

# server_has_child: the server started a process (it is running a compile).
server_has_child() {
  pgrep -P "$SERVER_PID" >/dev/null
}

# upload_in_progress STORE: the server is receiving a blob of more than 1 MiB.
upload_in_progress() {
  [[ -n $(find "$1/tmp" -type f -size +1M 2>/dev/null | head -n 1) ]]
}

# write_project DIR COUNT [BAD]: a make project of COUNT heavy C files (p1.c ...), plus
# bad.c that does not compile when BAD is given.
write_project() {
  local dir=$1 count=$2 i objs=""
  mkdir -p "$dir"
  for ((i = 1; i <= count; i++)); do
    write_heavy_source "$dir/p$i.c" 60 "$i"
    objs+=" p$i.o"
  done
  if [[ -n ${3:-} ]]; then
    printf 'int bad(void) { return undeclared_name; }\n' >"$dir/bad.c"
    objs+=" bad.o"
  fi
  printf 'OBJS =%s\nall: $(OBJS)\n%%.o: %%.c\n\t$(CC) -O2 -c $< -o $@\n' "$objs" >"$dir/Makefile"
}

# make_with_restart DIR MAKE_ARGS...: run make in DIR with CC="ccrex gcc" against the
# current server; once the server runs a compile, kill it (SIGKILL) and start a new one on
# the same port. Sets MAKE_STATUS; make's output is in DIR/make.log.
make_with_restart() {
  local dir=$1 port=${SERVER_URL##*:}
  shift
  make -C "$dir" -j4 CC="$CCREX gcc" "$@" >"$dir/make.log" 2>&1 &
  local maker=$!
  wait_for 60 server_has_child || test_failed "the server never ran a compile: $(cat "$dir/make.log")"
  kill_server_tree "$SERVER_PID"
  start_server "127.0.0.1:$port" "$TEST_DIR/store-$RANDOM"
  wait "$maker"
  MAKE_STATUS=$?
}

# expect_compiles_accounted N: N compiles went through the agent, each a remote execution
# or hit or a counted fallback. Whether the compile cut off by the restart falls back or is
# retried on the new server depends on timing; both are right, so neither is required.
expect_compiles_accounted() {
  local done
  done=$(stat_sum '^(miss_executed|hit_|fallback_|compile_error)')
  expect_equal "$done" "$1" "compiles counted (counters: $(all_stats))"
  echo "    counters: $(all_stats)"
}

# interrupt_hits N: N times, put an old object at x.o, start a compile whose result is in
# the local store (a hit that writes a large object) and SIGKILL the agent, or the agent
# and the client, after a random delay within the time such a compile takes. x.o must then
# be the old object or the complete new one. Each round starts its agent first (a small
# compile), so the timed window is the hit itself, most of it reading and writing the object.
interrupt_hits() {
  local n=$1 i pid client delay ms leftovers=0 old=0 new=0 t0
  printf 'int warm(void) { return 1; }\n' >warm.c
  expect_exit 0 "$CCREX" gcc -c big.c -o x.o # stores the object
  expect_exit 0 "$CCREX" gcc -c warm.c -o warm.o
  stop_agent
  expect_exit 0 "$CCREX" gcc -c warm.c -o warm.o
  cp plain_old.o x.o
  t0=${EPOCHREALTIME/[.,]/}
  expect_exit 0 "$CCREX" gcc -c big.c -o x.o
  ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000 + 2))
  expect_same_file x.o plain_big.o
  stop_agent
  for ((i = 0; i < n; i++)); do
    "$CCREX" gcc -c warm.c -o warm.o >/dev/null 2>&1 || test_failed "warm-up compile failed"
    cp plain_old.o x.o
    "$CCREX" gcc -c big.c -o x.o >/dev/null 2>&1 &
    client=$!
    # The first quarter is mostly process start-up; the write is at the end.
    delay=$((ms / 4 + RANDOM % (ms - ms / 4)))
    sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
    # Every other time the client dies first, so it cannot fall back to gcc either. When
    # only the agent dies, the client compiles locally and `wait` covers that compile.
    ((i % 2 == 1)) && kill -KILL "$client" 2>/dev/null
    pid=$(agent_pid)
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
    wait "$client" 2>/dev/null
    if cmp -s x.o plain_old.o; then
      old=$((old + 1))
    elif cmp -s x.o plain_big.o; then
      new=$((new + 1))
    else
      test_failed "iteration $i (killed after ${delay} of ${ms} ms): x.o is neither the old nor the new object ($(stat -c %s x.o 2>/dev/null || echo no) bytes)"
    fi
    leftovers=$((leftovers + $(find . -maxdepth 1 -name 'x.o.tmp.*' | wc -l)))
    rm -f x.o.tmp.*
    stop_agent
  done
  echo "    $n compiles killed within ${ms} ms: $old left the old object, $new the new one; $leftovers temporary files were left beside it"
}

SUITE_faults() {
  local plain_status client start took port caught round

  TEST "engine refuses connections (closed TCP port): local compile, counted"
  export CCREX_REMOTE=grpc://127.0.0.1:$(closed_tcp_port)
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats fallback_remote_unavailable=1
  # The user hears of it: one line, once for this agent.
  expect_contains stderr.txt "; compiling locally (fallback_remote_unavailable, said once per agent: see ccrex -s)"
  expect_equal "$(wc -l <stderr.txt)" 1 "lines on stderr ($(cat stderr.txt))"
  # A compile error during a fallback is the compiler's, reported once.
  gcc -c broken.c -o plain.o 2>plain_stderr.txt
  plain_status=$?
  expect_exit $plain_status "$CCREX" gcc -c broken.c -o broken.o
  expect_same_file stderr.txt plain_stderr.txt
  expect_missing broken.o

  TEST "engine unreachable (missing unix socket): local compile, counted"
  export CCREX_REMOTE=unix:$TEST_DIR/nobody-listens.sock
  plain clang -O1 -Iinclude -c main.c -o plain.o
  expect_exit 0 "$CCREX" clang -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats fallback_remote_unavailable=1

  TEST "engine killed with SIGKILL during an upload: local compile, counted"
  # A 24 MiB header (comments of pseudo-random digits, which zstd cannot shrink to a blink)
  # is uploaded through ByteStream; the server is killed once it holds part of it in its
  # temporary directory. On a fast machine the whole upload can still slip between two
  # looks: then the round is repeated with other header bytes (a new blob).
  caught=0
  for round in 1 2 3 4 5; do
    awk -v r="$round" 'BEGIN {
      srand(r)
      for (i = 0; i < 300000; i++) {
        digits = ""
        for (j = 0; j < 7; j++) digits = digits sprintf("%09d", rand() * 1e9)
        printf "/* %d %s%010d */\n", r, digits, i
      }
    }' >include/huge.h
    printf '#include "huge.h"\n' | cat - main.c >upload.c
    plain gcc -O1 -Iinclude -c upload.c -o plain.o
    "$CCREX" -z >/dev/null
    start_server 127.0.0.1:0 "$TEST_DIR/server-store-$round"
    export CCREX_REMOTE=$SERVER_URL
    "$CCREX" gcc -O1 -Iinclude -c upload.c -o upload.o >client_stdout.txt 2>client_stderr.txt &
    client=$!
    until upload_in_progress "$TEST_DIR/server-store-$round" || ! process_alive "$client"; do
      sleep 0.01
    done
    upload_in_progress "$TEST_DIR/server-store-$round" && caught=1
    kill_server_tree "$SERVER_PID"
    wait "$client"
    expect_equal $? 0 "client exit status (stderr: $(cat client_stderr.txt))"
    expect_same_file upload.o plain.o
    ((caught)) && break
  done
  ((caught)) || test_failed "five uploads finished before the server could be killed during one"
  expect_stats fallback_remote_unavailable=1

  TEST "engine killed with SIGKILL during an execution: local compile, counted"
  write_heavy_source heavy.c
  plain gcc -O2 -c heavy.c -o plain.o
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  "$CCREX" gcc -O2 -c heavy.c -o heavy.o >client_stdout.txt 2>client_stderr.txt &
  client=$!
  # Wait until the server runs the compiler, then kill it and everything it started.
  wait_for 120 server_has_child \
    || test_failed "the server never started the compile (counters: $(all_stats))"
  kill_server_tree "$SERVER_PID"
  wait "$client"
  expect_equal $? 0 "client exit status (stderr: $(cat client_stderr.txt))"
  expect_same_file heavy.o plain.o
  expect_stats fallback_remote_unavailable=1

  TEST "engine restarted on the same port: the agent reconnects and executes again"
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  port=${SERVER_URL##*:}
  printf 'int other(void) { return 4; }\n' >other.c
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  expect_exit 0 "$CCREX" gcc -c other.c -o other.o
  stop_servers
  start_server "127.0.0.1:$port" "$TEST_DIR/server-store-2"
  expect_equal "$SERVER_URL" "$CCREX_REMOTE" "address of the restarted server"
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=2

  TEST "engine stopped (SIGSTOP): time limits end the wait, local compile"
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL CCREX_RPC_TIMEOUT=2 CCREX_EXECUTION_TIMEOUT=4
  printf 'int other(void) { return 4; }\n' >other.c
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  # A first compile connects the agent to the server.
  expect_exit 0 "$CCREX" gcc -c other.c -o other.o
  expect_stats miss_executed=1
  kill -STOP "$SERVER_PID"
  start=$SECONDS
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  took=$((SECONDS - start))
  expect_same_file main.o plain.o
  ((took < 60)) || test_failed "the hanging server held the compile for ${took}s"
  expect_stats miss_executed=1 fallback_remote_timeout=1
  kill -CONT "$SERVER_PID"

  TEST "engine accepts connections but never answers: the deadline ends the wait"
  start_silent_listener
  export CCREX_REMOTE=$SERVER_URL CCREX_RPC_TIMEOUT=2 CCREX_EXECUTION_TIMEOUT=4
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  start=$SECONDS
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  took=$((SECONDS - start))
  expect_same_file main.o plain.o
  ((took < 30)) || test_failed "the silent engine held the compile for ${took}s"
  [[ $(fallback_count) == 1 ]] || test_failed "expected one fallback; counters: $(all_stats)"
  # A compile error is still the compiler's own.
  gcc -c broken.c -o plain.o 2>plain_stderr.txt
  plain_status=$?
  expect_exit $plain_status "$CCREX" gcc -c broken.c -o broken.o
  expect_same_file stderr.txt plain_stderr.txt

  TEST "engine restarted during make -j: every object as a local build, make succeeds"
  write_project plain 6
  make -C plain -j4 CC=gcc >plain/make.log 2>&1 || test_failed "plain make failed: $(cat plain/make.log)"
  write_project proj 6
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  make_with_restart proj
  expect_equal "$MAKE_STATUS" 0 "make's exit status (output: $(cat proj/make.log))"
  local i
  for ((i = 1; i <= 6; i++)); do
    expect_same_file proj/p$i.o plain/p$i.o
  done
  expect_compiles_accounted 6

  TEST "engine restarted during make -j with a failing file: the compiler's error and status"
  write_project plain 4 bad
  make -C plain -k -j4 CC=gcc >plain/make.log 2>&1
  plain_status=$?
  ((plain_status != 0)) || test_failed "the plain build of bad.c succeeded"
  write_project proj 4 bad
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  make_with_restart proj -k
  expect_equal "$MAKE_STATUS" "$plain_status" "make's exit status (output: $(cat proj/make.log))"
  # make reports the recipe's status, which is gcc's; gcc's message is shown.
  expect_contains plain/make.log "bad.o] Error 1"
  expect_contains proj/make.log "bad.o] Error 1"
  expect_contains proj/make.log "$(grep -m 1 'error:' plain/make.log | sed 's/^[^ ]* //')"
  expect_missing proj/bad.o
  for ((i = 1; i <= 4; i++)); do
    expect_same_file proj/p$i.o plain/p$i.o
  done
  expect_compiles_accounted 5

  TEST "agent killed with SIGKILL during a compile: local compile, next compile starts a new agent"
  write_heavy_source heavy.c 200
  plain gcc -O2 -c heavy.c -o plain.o
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  "$CCREX" gcc -O2 -c heavy.c -o heavy.o >client_stdout.txt 2>client_stderr.txt &
  client=$!
  wait_for 120 server_has_child || test_failed "the server never started the compile"
  local old_agent
  old_agent=$(agent_pid)
  [[ -n $old_agent ]] || test_failed "no agent runs the compile"
  kill -KILL "$old_agent"
  wait "$client"
  expect_equal $? 0 "client exit status (stderr: $(cat client_stderr.txt))"
  expect_same_file heavy.o plain.o
  plain gcc -O1 -Iinclude -c main.c -o plain_main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain_main.o
  local new_agent
  new_agent=$(agent_pid)
  [[ -n $new_agent && $new_agent != "$old_agent" ]] || test_failed "no new agent after the old one died"
  process_alive "$new_agent" || test_failed "the new agent is not running"
  expect_stat miss_executed 1

  TEST "engine whose store turns read-only: hits keep coming, new compiles fall back"
  if ! unshare --mount --propagation private true 2>/dev/null; then
    echo "    (skipped: mount namespaces are not permitted here)"
  else
    mkdir mnt
    printf 'int other(void) { return 4; }\n' >other.c
    plain gcc -O1 -Iinclude -c main.c -o plain.o
    plain gcc -O1 -c other.c -o plain_other.o
    # The server's store is a tmpfs in the server's own mount namespace.
    SERVER_WRAPPER=(unshare --mount --propagation private
      sh -c 'mount -t tmpfs -o size=64m tmpfs "$0" && exec "$@"' "$TEST_DIR/mnt")
    start_server 127.0.0.1:0 "$TEST_DIR/mnt/store"
    SERVER_WRAPPER=()
    export CCREX_REMOTE=$SERVER_URL
    use_cache_dir writable
    expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
    expect_stats miss_executed=1
    nsenter -t "$SERVER_PID" -m mount -o remount,ro "$TEST_DIR/mnt" \
      || test_failed "cannot remount the server's store read-only"
    use_cache_dir read-only-hit
    rm main.o
    expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
    expect_same_file main.o plain.o
    expect_stats hit_remote=1
    use_cache_dir read-only-miss
    expect_exit 0 "$CCREX" gcc -O1 -c other.c -o other.o
    expect_same_file other.o plain_other.o
    [[ $(fallback_count) == 1 ]] || test_failed "expected one fallback; counters: $(all_stats)"
    expect_contains "$(ls "$TEST_DIR"/server.*.log | head -n 1)" "Read-only file system"
    nsenter -t "$SERVER_PID" -m mount -o remount,rw "$TEST_DIR/mnt" \
      || test_failed "cannot remount the server's store writable"
    use_cache_dir writable-again
    rm other.o
    expect_exit 0 "$CCREX" gcc -O1 -c other.c -o other.o
    expect_same_file other.o plain_other.o
    expect_stats miss_executed=1
  fi

  TEST "bad input: a missing source or a directory as source gives the compiler's error"
  local bad
  mkdir dir.c
  for bad in missing.c dir.c; do
    gcc -c $bad -o plain.o 2>plain_stderr.txt
    plain_status=$?
    ((plain_status != 0)) || test_failed "gcc compiled $bad"
    expect_exit $plain_status "$CCREX" gcc -c $bad -o bad.o
    expect_same_file stderr.txt plain_stderr.txt
    expect_missing bad.o
  done

  TEST "bad input: an invalid configuration value is named on one line, then a local compile"
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  CCREX_MAX_SIZE=lots expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_contains stderr.txt "ccrex: invalid configuration:"
  expect_contains stderr.txt "lots"
  expect_equal "$(wc -l <stderr.txt)" 1 "lines on stderr ($(cat stderr.txt))"

  TEST "compiles killed while writing a large object leave the old or the new object"
  # A large object (about 6 MB) comes from the local store; SIGKILL lands anywhere in the
  # compile, including while the object is being written.
  awk 'BEGIN {
    print "const char big[] ="
    for (i = 0; i < 100000; i++) printf "  \"%064d\"\n", i
    print "  ;\nint big_size(void) { return sizeof big; }"
  }' >big.c
  plain gcc -c big.c -o plain_big.o
  plain gcc -c main.c -Iinclude -o plain_old.o
  interrupt_hits 24
}
