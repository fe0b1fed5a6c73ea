# Compiles against a separately started ccrex-server (CCREX_REMOTE over TCP and over a
# unix socket): remote execution and remote hits, large blobs, compile errors, cache-only
# and read-only modes. A server that is down, dies or hangs is the fault suite's
# (faults.bash).

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_remote_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
  [[ -x $CCREX_SERVER_BIN ]] || echo "CCREX_SERVER_BIN not set"
}

SUITE_remote_SETUP() {
  isolate_test
  # Keep failing RPCs short: the tests below make the server fail on purpose.
  export CCREX_RETRIES=1
  write_remote_sources
}

# remote_round_trip CC: miss executed on the server, a clean cache directory then hits the
# server, and a repeat hits the local store; always the plain compiler's object.
remote_round_trip() {
  local cc=$1
  plain $cc -O1 -Iinclude -c main.c -o plain.o
  use_cache_dir "$cc-first"
  expect_exit 0 "$CCREX" $cc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1
  use_cache_dir "$cc-second"
  rm main.o
  expect_exit 0 "$CCREX" $cc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats hit_remote=1
  rm main.o
  expect_exit 0 "$CCREX" $cc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats hit_remote=1 hit_local=1
}

SUITE_remote() {
  TEST "over TCP: executed remotely, then remote hits from a clean cache directory"
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  remote_round_trip gcc
  remote_round_trip clang
  expect_exit 0 "$CCREX" --explain
  expect_contains stdout.txt "remote cache hit"

  TEST "over a unix socket: executed remotely, then remote hits"
  start_server "unix:$TEST_DIR/server.sock" "$TEST_DIR/server-store"
  expect_equal "$SERVER_URL" "unix:$TEST_DIR/server.sock" "server address"
  export CCREX_REMOTE=$SERVER_URL
  remote_round_trip gcc
  # The recc spelling of the setting works too.
  unset CCREX_REMOTE
  export RECC_SERVER=$SERVER_URL
  use_cache_dir recc
  rm main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats hit_remote=1

  TEST "large source and object (more than one gRPC message) over TCP"
  # Cache-only uploads below: the server must accept results from clients.
  start_server 127.0.0.1:0 "$TEST_DIR/server-store" --allow-ac-updates
  export CCREX_REMOTE=$SERVER_URL
  awk 'BEGIN {
    print "const char big[] ="
    for (i = 0; i < 100000; i++) printf "  \"%064d\"\n", i
    print "  ;\nint big_size(void) { return sizeof big; }"
  }' >big.c
  plain gcc -c big.c -o plain.o
  (($(stat -c %s big.c) > 5000000 && $(stat -c %s plain.o) > 5000000)) \
    || test_failed "big.c or its object is smaller than intended"
  use_cache_dir first
  expect_exit 0 "$CCREX" gcc -c big.c -o big.o
  expect_same_file big.o plain.o
  expect_stats miss_executed=1
  use_cache_dir second
  rm big.o
  expect_exit 0 "$CCREX" gcc -c big.c -o big.o
  expect_same_file big.o plain.o
  expect_stats hit_remote=1
  # Cache-only uploads large blobs too.
  sed 's/big/large/g' big.c >large.c
  plain gcc -c large.c -o plain_large.o
  use_cache_dir cache-only
  CCREX_CACHE_ONLY=1 expect_exit 0 "$CCREX" gcc -c large.c -o large.o
  expect_same_file large.o plain_large.o
  expect_stats miss_cache_only=1
  use_cache_dir after-upload
  rm large.o
  expect_exit 0 "$CCREX" gcc -c large.c -o large.o
  expect_same_file large.o plain_large.o
  expect_stats hit_remote=1

  TEST "a compile error on the server: the compiler's message and exit code, no fallback"
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  local cc
  for cc in gcc clang; do
    use_cache_dir "$cc"
    # Failures are not cached, on the server nor in the local store.
    expect_compile_error_replayed $cc
  done
  # With CCREX_CACHE_FAILURES=1 the failure is kept in the local store.
  export CCREX_CACHE_FAILURES=1
  use_cache_dir keep-failures
  local plain_status
  clang -c broken.c -o plain.o 2>plain_stderr.txt
  plain_status=$?
  expect_exit $plain_status "$CCREX" clang -c broken.c -o broken.o
  expect_exit $plain_status "$CCREX" clang -c broken.c -o broken.o
  expect_same_file stderr.txt plain_stderr.txt
  expect_stats compile_error=1 hit_local=1

  TEST "cache-only: compiles locally, uploads, and another checkout hits remotely"
  start_server 127.0.0.1:0 "$TEST_DIR/server-store" --allow-ac-updates
  export CCREX_REMOTE=$SERVER_URL CCREX_CACHE_ONLY=1
  mkdir a b
  cp -r main.c include a/ && cp -r main.c include b/
  cd a || test_failed "cd"
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  use_cache_dir cache-a
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_cache_only=1
  cd ../b || test_failed "cd"
  use_cache_dir cache-b
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o ../a/plain.o
  expect_stats hit_remote=1
  # Not in cache-only mode, the uploaded result is a remote cache hit as well.
  unset CCREX_CACHE_ONLY
  use_cache_dir cache-c
  rm main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o ../a/plain.o
  expect_stats hit_remote=1
  cd .. || test_failed "cd"

  TEST "read-only: uses the remote cache but never writes to it"
  start_server 127.0.0.1:0 "$TEST_DIR/server-store"
  export CCREX_REMOTE=$SERVER_URL
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  use_cache_dir read-only-1
  CCREX_READ_ONLY=1 expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_cache_only=1
  # Nothing reached the server: a normal compile from a clean directory executes.
  use_cache_dir writer
  rm main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1
  # Now that the server has it, a read-only client hits.
  use_cache_dir read-only-2
  rm main.o
  CCREX_READ_ONLY=1 expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats hit_remote=1
  # A read-only miss of a new compile leaves the server without it, too.
  sed -i 's/SCALE 3/SCALE 5/' include/config.h
  plain gcc -O1 -Iinclude -c main.c -o plain5.o
  use_cache_dir read-only-3
  CCREX_READ_ONLY=1 expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain5.o
  use_cache_dir writer-2
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain5.o
  expect_stats miss_executed=1
}
