# Several agents on one cache directory (two agent directories: two users of a group store,
# or one user's builds with different agent directories): they share the local store for
# real. Each gets hits for what the other compiled, neither breaks the other's compiles
# (work directories, temporary files), and the counters of `ccrex -s` are the sum over all
# of them.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_shared_store_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_shared_store_SETUP() {
  isolate_test
  SECOND_AGENT_DIR=$TEST_DIR/.agent-2
  local i
  for i in 1 2 3 4 5 6 7 8; do
    write_heavy_source "src$i.c" 15 "$i"
  done
  mkdir -p plain
}

# compile_through AGENT_DIR FILE...: compile each FILE.c to FILE.o through the agent of
# AGENT_DIR, two at a time; every failure is appended to failures.txt, stderr to FILE.err.
compile_through() {
  local agent=$1 f
  shift
  for f in "$@"; do
    (CCREX_AGENT_DIR=$agent "$CCREX" gcc -O1 -c "$f.c" -o "$f.o" 2>>"$f.err" \
      || echo "$agent: $f" >>failures.txt) &
    if (($(jobs -rp | wc -l) >= 2)); then
      wait -n
    fi
  done
  wait
}

# Hits recorded in an agent's log.
hits_in() {
  grep -c 'local store hit' "$1/agent.log"
}

stop_second_agent() {
  CCREX_AGENT_DIR=$SECOND_AGENT_DIR "$CCREX" --stop-agent >/dev/null
}

SUITE_shared_store() {
  TEST "two agents on one store: each hits what the other compiled; the counters add up"
  local first=$CCREX_AGENT_DIR second=$SECOND_AGENT_DIR i
  for i in 1 2 3 4 5 6 7 8; do
    plain gcc -O1 -c "src$i.c" -o "plain/src$i.o"
  done
  # Both agents compile at once, each its half: every compile is a miss.
  compile_through "$first" src1 src3 src5 src7 &
  compile_through "$second" src2 src4 src6 src8 &
  wait
  [[ ! -s failures.txt ]] || test_failed "compiles failed: $(cat failures.txt)"
  for i in 1 2 3 4 5 6 7 8; do
    expect_same_file "src$i.o" "plain/src$i.o"
  done
  rm src?.o
  # Then each compiles the other's half, again at the same time: every one is a hit from
  # the shared store.
  compile_through "$first" src2 src4 src6 src8 &
  compile_through "$second" src1 src3 src5 src7 &
  wait
  [[ ! -s failures.txt ]] || test_failed "compiles failed: $(cat failures.txt)"
  for i in 1 2 3 4 5 6 7 8; do
    [[ -s src$i.err ]] && test_failed "stderr for src$i: $(cat "src$i.err")"
    expect_same_file "src$i.o" "plain/src$i.o"
  done
  expect_equal "$(hits_in "$first")" 4 "local store hits in the first agent's log"
  expect_equal "$(hits_in "$second")" 4 "local store hits in the second agent's log"
  # Both agents together: 16 compiles, every one counted once, nothing fell back.
  expect_stats hit_local=8 miss_executed=8
  CCREX_AGENT_DIR=$second expect_stats hit_local=8 miss_executed=8
  expect_exit 0 "$CCREX" -s
  expect_contains stdout.txt "Cacheable calls:                   16"
  # Nobody's work was lost: no work directory or temporary file left behind.
  [[ -z $(ls -A "$CCREX_DIR/store/tmp") ]] || test_failed "leftovers in tmp: $(ls "$CCREX_DIR/store/tmp")"
  [[ -z $(ls -A "$CCREX_DIR/store/work" 2>/dev/null) ]] || test_failed "work directories left"
  # Zeroing through one agent zeroes the counts of both.
  CCREX_AGENT_DIR=$second expect_exit 0 "$CCREX" -z
  expect_stats
  expect_exit 0 "$CCREX" gcc -O1 -c src1.c -o src1.o
  CCREX_AGENT_DIR=$second expect_exit 0 "$CCREX" gcc -O1 -c src2.c -o src2.o
  expect_stats hit_local=2
  stop_second_agent

  TEST "a second agent that opens the store never breaks the first one's running compile"
  local first=$CCREX_AGENT_DIR second=$SECOND_AGENT_DIR pid n
  write_heavy_source heavy.c 300
  plain gcc -O2 -c heavy.c -o plain_heavy.o
  plain gcc -O1 -c src1.c -o plain_src1.o
  # The first agent is busy with a compile in its embedded server's work directory.
  "$CCREX" gcc -O2 -c heavy.c -o heavy.o 2>heavy.err &
  pid=$!
  wait_for 20 pgrep -f 'cc1 .*heavy.c' >/dev/null || test_failed "the first compile never started"
  # The second agent opens the same store meanwhile and uses it: a miss, then hits.
  for n in 1 2 3; do
    rm -f src1.o
    CCREX_AGENT_DIR=$second expect_exit 0 "$CCREX" gcc -O1 -c src1.c -o src1.o
    expect_same_file src1.o plain_src1.o
  done
  expect_equal "$(hits_in "$second")" 2 "local store hits in the second agent's log"
  wait "$pid" || test_failed "the first agent's compile failed: $(cat heavy.err)"
  expect_same_file heavy.o plain_heavy.o
  # The heavy compile ran in the first agent's server, and src1 comes from the second's.
  rm src1.o
  expect_exit 0 "$CCREX" gcc -O1 -c src1.c -o src1.o
  expect_same_file src1.o plain_src1.o
  expect_stats hit_local=3 miss_executed=2
  stop_second_agent

  TEST "with umask 002 everything ccrex creates in the cache directory stays group-writable"
  local saved_umask path
  saved_umask=$(umask)
  umask 002 # the agent started by this client inherits it
  plain gcc -O1 -c src1.c -o plain_src1.o
  expect_exit 0 "$CCREX" gcc -O1 -c src1.c -o src1.o
  rm src1.o
  CCREX_AGENT_DIR=$SECOND_AGENT_DIR expect_exit 0 "$CCREX" gcc -O1 -c src1.c -o src1.o
  umask "$saved_umask"
  expect_same_file src1.o plain_src1.o
  expect_equal "$(hits_in "$SECOND_AGENT_DIR")" 1 "local store hits in the second agent's log"
  while read -r path; do
    [[ $(stat -c %A "$path") == ?????w* ]] || test_failed "$path is not group-writable: $(stat -c %A "$path")"
  done < <(find "$CCREX_DIR" -type d -o -name stats -o -name lock)
  for path in "$CCREX_DIR/stats" "$CCREX_DIR/store/lock" \
    "$CCREX_DIR/store/cas" "$CCREX_DIR/store/ac" "$CCREX_DIR/store/tmp" "$CCREX_DIR/store/work"; do
    expect_file_exists "$path"
  done
  stop_second_agent

  TEST "a standalone server keeps its store to itself; agents compile locally then"
  [[ -x ${CCREX_SERVER_BIN:-} ]] || return 0
  mkdir -p "$CCREX_DIR"
  "$CCREX_SERVER_BIN" --listen 127.0.0.1:0 --cache-dir "$CCREX_DIR/store" >server.out 2>server.err &
  local server=$!
  SERVER_PIDS+=("$server")
  wait_for 20 grep -q 'listening on' server.out || test_failed "the server did not start: $(cat server.err)"
  plain gcc -O1 -c src1.c -o plain_src1.o
  expect_exit 0 "$CCREX" gcc -O1 -c src1.c -o src1.o
  expect_same_file src1.o plain_src1.o
  expect_stat fallback_backend 1
  grep -q 'does not share it' "$CCREX_AGENT_DIR/agent.log" \
    || test_failed "the agent did not say why it compiled locally"
  stop_servers
}
