# Two agents on one cache directory (two agent directories, or a user's agent restarted
# while the old one finishes): the second must never break the first's compiles, and its
# own compiles give the plain compiler's objects without waiting on the first.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_shared_store_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_shared_store_SETUP() {
  isolate_test
  write_heavy_source heavy.c 300
  write_remote_sources
}

SUITE_shared_store() {
  TEST "a second agent on the same cache directory compiles locally at once; the first keeps working"
  local first=$CCREX_AGENT_DIR second=$TEST_DIR/.agent-2 pid
  plain gcc -O2 -c heavy.c -o plain_heavy.o
  plain gcc -O1 -Iinclude -c main.c -o plain_main.o
  # The first agent opens the store and is busy with a compile.
  "$CCREX" gcc -O2 -c heavy.c -o heavy.o &
  pid=$!
  wait_for 20 pgrep -f 'cc1 .*heavy.c' >/dev/null || test_failed "the first compile never started"
  # The second agent gets the same cache directory.
  local start=$SECONDS n
  for n in 1 2 3; do
    CCREX_AGENT_DIR=$second expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main$n.o
    expect_same_file main$n.o plain_main.o
  done
  ((SECONDS - start < 15)) || test_failed "the second agent waited $((SECONDS - start)) s"
  wait "$pid" || test_failed "the first agent's compile failed"
  expect_same_file heavy.o plain_heavy.o
  # The first agent still serves hits from its store.
  rm heavy.o
  expect_exit 0 "$CCREX" gcc -O2 -c heavy.c -o heavy.o
  expect_same_file heavy.o plain_heavy.o
  grep -q 'local store hit' "$first/agent.log" || test_failed "no hit from the first agent's store"
  grep -q 'cannot open the store' "$second/agent.log" \
    || test_failed "the second agent did not say why it compiled locally"
  CCREX_AGENT_DIR=$second "$CCREX" --stop-agent >/dev/null
}
