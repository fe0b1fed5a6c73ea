# Many compiles at once against one engine (ctest labels `e2e` and `faults`): the agent
# shares one connection per engine among all of them, and when the engine goes away and
# comes back under a -j200 load it reconnects once, not once per compile, and sends
# compiles there again as soon as it answers.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_scale_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v python3 >/dev/null || echo "python3 not found"
  command -v xargs >/dev/null || echo "xargs not found"
  command -v curl >/dev/null || echo "curl not found"
  [[ -x $CCREX_SERVER_BIN ]] || echo "CCREX_SERVER_BIN not set"
}

SUITE_scale_SETUP() {
  isolate_test
}

# write_small_sources COUNT: s<i>.c for i in 1..COUNT, each its own cheap compile, and
# plain/s<i>.o, the plain compiler's object of each (compiled in plain/ from a copy, so
# the file name recorded in the object is the same).
write_small_sources() {
  local i
  mkdir -p plain
  for ((i = 1; i <= $1; i++)); do
    printf 'int f%d(int x) { return x * %d + %d; }\n' "$i" "$i" "$((i % 7))" >"s$i.c"
  done
  cp s*.c plain/
  (cd plain && find . -name 's*.c' -print0 | xargs -0 -n 40 -P 2 gcc -O1 -c) \
    || test_failed "plain gcc failed"
}

# compile_wave FIRST LAST: compile s<i>.c for i in FIRST..LAST through ccrex, all at once;
# a compile that fails is listed in failed.txt.
compile_wave() {
  seq "$1" "$2" | xargs -P 0 -I{} sh -c \
    "'$CCREX' gcc -O1 -c s{}.c -o s{}.o >/dev/null 2>s{}.err || echo s{} >>failed.txt"
}

# start_counting_relay PORT TARGET STATS: relay 127.0.0.1:PORT (0: any free port) to
# TARGET (host:port) with test/bench/relay.py, which counts the calls and connections it
# carries in STATS. Sets RELAY_PID and RELAY_PORT.
start_counting_relay() {
  local out
  out=$(mktemp "$TEST_DIR/relay.XXXXXX")
  python3 "$E2E_DIR/../bench/relay.py" --listen "$1" --to "$2" --stats "$3" >"$out" 2>"$out.log" &
  RELAY_PID=$!
  SERVER_PIDS+=("$RELAY_PID")
  wait_for 20 grep -q . "$out" || test_failed "the relay did not start: $(cat "$out.log")"
  RELAY_PORT=$(head -n 1 "$out")
}

# objects_at_least N: at least N objects s<i>.o exist.
objects_at_least() {
  (($(find . -maxdepth 1 -name 's*.o' | wc -l) >= $1))
}

# engine_reached: the restarted engine behind the relay has had a call. Otherwise compile
# the next of the spare sources (s<SPARE_NEXT>.c up to s<SPARE_LAST>.c), so that compiles
# keep coming even when the first part has ended, and look again.
engine_reached() {
  relay_saw_calls && return 0
  if ((SPARE_NEXT <= SPARE_LAST)); then
    "$CCREX" gcc -O1 -c "s$SPARE_NEXT.c" -o "s$SPARE_NEXT.o" >/dev/null 2>&1 \
      || echo "s$SPARE_NEXT" >>failed.txt
    SPARE_NEXT=$((SPARE_NEXT + 1))
  fi
  relay_saw_calls
}

# relay_saw_calls: the relay's counters (round trips first) show a call.
relay_saw_calls() {
  [[ -s relay.txt ]] && awk '{ exit !($1 > 0) }' relay.txt
}

# met_unreachable: a compile fell back because the engine could not be reached.
met_unreachable() {
  (($(stat_value fallback_remote_unavailable) >= 1))
}

SUITE_scale() {
  TEST "engine killed and restarted under -j200: one reconnection, compiles go remote again"
  local n=200 more=40 spares=30 i
  write_small_sources $((n + more + spares))
  # Two engines, the second one idle until the first one is gone; compiles reach them
  # through relays on one port, which count the connections and calls each one carries.
  # Killing the first engine kills its relay, so the port refuses connections until the
  # second relay takes it over: the engine seems to restart, and no slow start of an
  # engine decides the timing. The actions need no sandbox here: this is about
  # connections, and starting one per action would only make the test slower.
  start_server 127.0.0.1:0 "$TEST_DIR/store-1" --no-sandbox --workers 4
  local first_pid=$SERVER_PID first_target=${SERVER_URL#grpc://}
  start_server 127.0.0.1:0 "$TEST_DIR/store-2" --no-sandbox --workers 4
  local second_target=${SERVER_URL#grpc://}
  start_counting_relay 0 "$first_target" "$TEST_DIR/relay-first.txt"
  local first_relay=$RELAY_PID port=$RELAY_PORT
  export CCREX_REMOTE=grpc://127.0.0.1:$port
  # The agent is up and connected before the load starts.
  expect_exit 0 "$CCREX" gcc -O1 -c s1.c -o s1.o
  expect_stats miss_executed=1
  rm s1.o
  compile_wave 1 "$n" &
  local wave=$!
  wait_for 120 objects_at_least $((n / 5)) \
    || test_failed "the first fifth of the compiles never finished"
  kill -KILL "$first_relay"
  kill_server_tree "$first_pid"
  wait "$first_relay" "$first_pid" 2>/dev/null
  wait_for 60 met_unreachable \
    || test_failed "no compile met the engine unreachable; counters: $(all_stats)"
  start_counting_relay "$port" "$second_target" "$TEST_DIR/relay.txt"
  # The agent finds the engine again by itself after at most a couple of its probe delays
  # (2 s at most each), before the 10 s an agent that only paused after a failure would
  # wait.
  local back=$SECONDS
  SPARE_NEXT=$((n + more + 1)) SPARE_LAST=$((n + more + spares))
  wait_for 6 engine_reached \
    || test_failed "no compile reached the restarted engine within 6 s; counters: $(all_stats)"
  local found=$((SECONDS - back))
  wait "$wave"
  local executed_before
  executed_before=$(stat_value miss_executed)
  compile_wave $((n + 1)) $((n + more))
  [[ ! -s failed.txt ]] || test_failed "compiles failed: $(tr '\n' ' ' <failed.txt)"
  for ((i = 1; i < SPARE_NEXT; i++)); do
    expect_same_file "s$i.o" "plain/s$i.o"
  done
  local first_connections connections executed_after
  first_connections=$(awk '{ print $2 }' relay-first.txt 2>/dev/null)
  connections=$(awk '{ print $2 }' relay.txt 2>/dev/null)
  executed_after=$(stat_value miss_executed)
  echo "    counters: $(all_stats)"
  echo "    the first engine: $first_connections connection(s) for $((n / 5)) compiles or more"
  echo "    the restarted engine: reached after ${found} s, $connections connection(s) accepted, $((executed_after - executed_before)) of the $more compiles that followed executed there"
  # Every compile is accounted for: executed remotely or a counted local fallback.
  expect_equal "$(stat_sum '^(miss_executed|hit_|fallback_)')" "$SPARE_NEXT" "compiles counted"
  # One shared channel: one connection for 200 compiles at once, and a reconnection, not
  # one per waiting compile.
  ((first_connections <= 3)) || test_failed "the first engine accepted $first_connections connections"
  ((connections <= 3)) || test_failed "the restarted engine accepted $connections connections"
  # Once the engine answers, compiles go there again.
  (((executed_after - executed_before) >= more - 3)) \
    || test_failed "only $((executed_after - executed_before)) of $more compiles after the restart went to the engine; counters: $(all_stats)"

  limit_tests
}

# sample_running URL FILE: append the server's running actions (from its /metrics at URL)
# to FILE every 20 ms until killed.
sample_running() {
  while :; do
    curl -s "$1/metrics" | awk '$1 == "ccrex_actions_running" { print $2 }' >>"$2"
    sleep 0.02
  done
}

# peak_running N: run N heavy compiles at once through ccrex against a fresh server with
# 8 workers, sampling how many actions it runs; set PEAK to the highest count seen.
peak_running() {
  local n=$1 i url sampler
  rm -f running.txt failed.txt h*.o
  touch running.mark
  sleep 0.01
  start_server 127.0.0.1:0 "$TEST_DIR/store-$RANDOM" --no-sandbox --workers 8 \
    --status-listen 127.0.0.1:0
  url=$(sed -n 's/^ccrex-server: status page at \(http:[^ ]*\)\/$/\1/p' \
    "$(find "$TEST_DIR" -maxdepth 1 -name 'server.*' ! -name '*.log' -newer running.mark)")
  [[ -n $url ]] || test_failed "no status page address in the server's output"
  export CCREX_REMOTE=$SERVER_URL
  sample_running "$url" running.txt &
  sampler=$!
  seq 1 "$n" | xargs -P 0 -I{} sh -c \
    "'$CCREX' gcc -O2 -c h{}.c -o h{}.o >/dev/null 2>h{}.err || echo h{} >>failed.txt"
  kill "$sampler"
  wait "$sampler" 2>/dev/null
  [[ ! -s failed.txt ]] || test_failed "compiles failed: $(tr '\n' ' ' <failed.txt)"
  for ((i = 1; i <= n; i++)); do
    expect_same_file "h$i.o" "plain_h$i.o"
  done
  PEAK=$(sort -n running.txt | tail -n 1)
  [[ -n $PEAK ]] || test_failed "the server's status page was never read"
}

limit_tests() {
  TEST "max_remote_calls: no more calls in flight than allowed, the other compiles wait their turn"
  local n=8 i peak_free peak_limited
  for ((i = 1; i <= n; i++)); do
    write_heavy_source "h$i.c" 30 "$i"
    gcc -O2 -c "h$i.c" -o "plain_h$i.o" || test_failed "plain gcc failed on h$i.c"
  done
  # Without a limit the agent's workers (four per core) run several at once: the sampling
  # can see concurrency.
  export CCREX_MAX_REMOTE_CALLS=0
  peak_running "$n"
  peak_free=$PEAK
  expect_stats miss_executed=$n
  stop_agent
  stop_servers
  rm -rf "$CCREX_DIR"
  export CCREX_MAX_REMOTE_CALLS=2
  peak_running "$n"
  peak_limited=$PEAK
  echo "    actions running at once on the engine: up to $peak_free without a limit, $peak_limited with max_remote_calls=2"
  ((peak_free >= 3)) || test_failed "without a limit only $peak_free actions ran at once"
  ((peak_limited <= 2)) || test_failed "$peak_limited actions ran at once with max_remote_calls=2"
  # They waited in line instead of giving up: every compile executed on the engine.
  expect_stats miss_executed=$n
}
