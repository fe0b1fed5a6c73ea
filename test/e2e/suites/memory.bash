# Bounded memory: what the agent would have to hold to serve a compile is capped. Endless
# or oversized response files and headers are left to the compiler, results larger than
# max_result_size are compiled locally and not stored, and the agent stays small while
# doing so. Each compile is compared with the plain compiler.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_memory_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_memory_SETUP() {
  isolate_test
  printf 'int main(void) { return 0; }\n' >m.c
  # About 400 KB of initialised data: an object far above the small limits used below.
  {
    printf 'const int table[] = {'
    seq -s, 1 100000
    printf '};\nint pick(int i) { return table[i]; }\n'
  } >big.c
}

# agent_rss_kib: the resident size of the running agent, in KiB.
agent_rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$(agent_pid)/status"
}

SUITE_memory() {
  TEST "@/dev/zero is left to the compiler: same object, the agent does not grow"
  plain gcc -c m.c -o plain.o
  expect_exit 0 "$CCREX" gcc -c m.c -o warm.o # the agent is up
  local before after
  before=$(agent_rss_kib)
  expect_exit 0 timeout 60 "$CCREX" gcc @/dev/zero -c m.c -o m.o
  expect_same_file m.o plain.o
  after=$(agent_rss_kib)
  ((after - before < 65536)) || test_failed "the agent grew from $before KiB to $after KiB"
  expect_stat local_response_file 1

  TEST "a response file that is a FIFO is left to the compiler and does not block the agent"
  plain gcc -c m.c -o plain.o
  mkfifo args.rsp
  # gcc opens the FIFO, waits for a writer, then cannot use what it got (exit 1).
  (timeout 10 sh -c 'sleep 2; echo -DX >args.rsp') &
  timeout 30 gcc @args.rsp -c m.c -o p.o >plain_stdout.txt 2>plain_stderr.txt
  local plain_status=$? status
  (timeout 10 sh -c 'sleep 2; echo -DX >args.rsp') &
  timeout 30 "$CCREX" gcc @args.rsp -c m.c -o p.o >stdout.txt 2>stderr.txt &
  local pid=$!
  sleep 0.5
  # Meanwhile the agent serves other compiles.
  expect_exit 0 timeout 30 "$CCREX" gcc -c m.c -o other.o
  expect_same_file other.o plain.o
  wait "$pid"
  status=$?
  wait
  ((status == plain_status)) || test_failed "exit $status, the plain compiler's $plain_status"
  expect_same_file stderr.txt plain_stderr.txt

  TEST "a header that is a FIFO does not block the agent; the compile runs as gcc's would"
  plain gcc -c m.c -o plain.o
  mkfifo pipe.h
  printf '#include "pipe.h"\nint x;\n' >p.c
  "$CCREX" gcc -c p.c -o p.o &
  local pid=$!
  sleep 1
  expect_exit 0 timeout 30 "$CCREX" gcc -c m.c -o other.o
  expect_same_file other.o plain.o
  # Every reader of the FIFO (gcc -M, then the compile itself) gets one declaration.
  local round
  for round in 1 2 3 4 5 6 7 8 9 10; do
    process_alive "$pid" || break
    timeout 2 sh -c "printf 'int y;\n' >pipe.h"
  done
  wait "$pid" || test_failed "the compile reading the FIFO header failed"
  nm p.o | grep -q ' y$' || test_failed "the object lacks the declaration read from the FIFO"
  expect_stat fallback_input 1

  TEST "a remote result larger than max_result_size: compiled locally, same object"
  plain gcc -O1 -c big.c -o plain.o
  CCREX_MAX_RESULT_SIZE=64k expect_exit 0 "$CCREX" gcc -O1 -c big.c -o big.o
  expect_same_file big.o plain.o
  expect_stats fallback_result_too_large=1
  # Within the limit the same compile is a hit of the result the engine stored.
  rm big.o
  expect_exit 0 "$CCREX" gcc -O1 -c big.c -o big.o
  expect_same_file big.o plain.o
  expect_stats fallback_result_too_large=1 hit_local=1

  TEST "a compile in the agent larger than max_result_size is not stored"
  plain gcc -O1 -c big.c -o plain.o
  export CCREX_CACHE_ONLY=1 CCREX_MAX_RESULT_SIZE=64k
  expect_exit 0 "$CCREX" gcc -O1 -c big.c -o big.o
  expect_same_file big.o plain.o
  expect_exit 0 "$CCREX" gcc -O1 -c big.c -o big.o
  expect_stats miss_cache_only=2 result_not_stored=2
  unset CCREX_MAX_RESULT_SIZE
  expect_exit 0 "$CCREX" gcc -O1 -c big.c -o big.o
  expect_exit 0 "$CCREX" gcc -O1 -c big.c -o big.o
  expect_same_file big.o plain.o
  expect_stats miss_cache_only=3 result_not_stored=2 hit_local=1
  unset CCREX_CACHE_ONLY
}
