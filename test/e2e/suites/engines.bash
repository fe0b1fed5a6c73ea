# One compile suite against every engine shape ccrex meets: the embedded default,
# ccrex-server as it is, ccrex-server limited to REAPI 2.0 (reads only output_files) and to
# 2.1 and later (reads only output_paths), and engines that answer like broken ones (an
# empty result, exit 127, death by a signal, a failure from their cache, a failed execution
# status). Every shape must end with the plain compiler's objects, dependency files, stderr
# and exit code; what differs is only the counters saying how ccrex got there.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_engines_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
  [[ -x $CCREX_SERVER_BIN ]] || echo "CCREX_SERVER_BIN not set"
  [[ -x $CCREX_TEST_ENGINE_BIN ]] || echo "CCREX_TEST_ENGINE_BIN not set"
}

SUITE_engines_SETUP() {
  isolate_test
  export CCREX_RETRIES=1
  write_remote_sources
  printf 'int f(int x) {\n  int unused;\n  return x;\n}\n' >warn.c
  mkdir -p got
}

# start_test_engine MODE: start ccrex-test-engine answering Execute as MODE describes
# (see test/support); sets SERVER_URL like start_server.
start_test_engine() {
  local saved=$CCREX_SERVER_BIN
  CCREX_SERVER_BIN=$CCREX_TEST_ENGINE_BIN
  start_server "unix:$TEST_DIR/engine.sock" "$TEST_DIR/engine-store" --lie "$1"
  CCREX_SERVER_BIN=$saved
}

# same_as_plain CC ARGS...: compile through ccrex, keep what it wrote (main.o, main.d,
# stderr, exit code), then compile the same line with CC alone, and require the same files,
# the same stderr (but for the agent's one line about a broken engine) and the same exit
# code. An old object is in place first: a compile that
# fails must leave it exactly as the compiler does.
same_as_plain() {
  local out=$1 status plain_status
  shift
  rm -f "$out" "${out%.o}.d"
  echo "old object" >"$out"
  "$CCREX" "$@" >got/stdout 2>got/stderr
  status=$?
  [[ -e $out ]] && cp "$out" got/object
  [[ -e ${out%.o}.d ]] && cp "${out%.o}.d" got/depfile
  rm -f "$out" "${out%.o}.d" got/plain-object got/plain-depfile
  echo "old object" >"$out"
  "$@" >got/plain-stdout 2>got/plain-stderr
  plain_status=$?
  [[ -e $out ]] && cp "$out" got/plain-object
  [[ -e ${out%.o}.d ]] && cp "${out%.o}.d" got/plain-depfile
  expect_equal "$status" "$plain_status" "exit code of \`$*\`"
  # A lying engine is a setup problem: the agent says so once, on its own line.
  grep -v '^ccrex: .*said once per agent: see ccrex -s)$' got/stderr >got/stderr.compiler
  mv got/stderr.compiler got/stderr
  cmp -s got/stderr got/plain-stderr \
    || test_failed "stderr of \`$*\` differs: $(cat got/stderr) -- plain: $(cat got/plain-stderr)"
  cmp -s got/stdout got/plain-stdout || test_failed "stdout of \`$*\` differs"
  if [[ -e got/plain-object ]]; then
    expect_same_file got/object got/plain-object
  else
    expect_missing got/object
  fi
  if [[ -e got/plain-depfile ]]; then
    expect_same_file got/depfile got/plain-depfile
  fi
  rm -f got/object got/depfile
}

# compile_suite: the compiles every shape must get right, with gcc and clang, each twice
# (the second from whatever the first left behind):
#   A  main.c optimised, with a dependency file
#   B  main.c with -g by relative paths (the object records its directory)
#   C  main.c with -g and a dependency file by absolute path
#   D  warn.c by absolute path with a warning (stderr names the file)
#   E  main.c with split DWARF (the .dwo records the directory too)
#   F  broken.c, a compile error
#
# Arguments: the compilers (default gcc and clang).
compile_suite() {
  local cc round compilers=("$@")
  ((${#compilers[@]} > 0)) || compilers=(gcc clang)
  for cc in "${compilers[@]}"; do
    for round in 1 2; do
      same_as_plain main.o $cc -O1 -Iinclude -MD -MF main.d -c main.c -o main.o
      same_as_plain main.o $cc -g -Iinclude -c main.c -o main.o
      same_as_plain main.o $cc -g -I"$PWD/include" -MD -c "$PWD/main.c" -o main.o
      same_as_plain warn.o $cc -Wall -c "$PWD/warn.c" -o warn.o
      same_as_plain main.o $cc -g -gsplit-dwarf -Iinclude -c main.c -o main.o
      same_as_plain broken.o $cc -c broken.c -o broken.o
    done
  done
}

# The counters below follow from compile_suite's six compiles, two rounds, per compiler.
# An engine that stages the input root elsewhere runs B, C and D through the remapping
# wrapper (its directory mapped to the local one; stderr and the dependency file rewritten);
# E records paths no prefix map covers, so it is compiled here and kept in the engine's
# cache (cache_only_location). A compile error is always confirmed by compiling here.

SUITE_engines() {
  TEST "the embedded default"
  compile_suite
  expect_stats miss_executed=10 hit_local=10 compile_error=4

  local range
  for range in default 2.0 2.1+; do
    TEST "ccrex-server with API versions: $range"
    if [[ $range == default ]]; then
      start_server "unix:$TEST_DIR/server.sock" "$TEST_DIR/server-store"
    else
      start_server "unix:$TEST_DIR/server.sock" "$TEST_DIR/server-store" --api-versions $range
    fi
    export CCREX_REMOTE=$SERVER_URL
    compile_suite
    expect_stats miss_executed=8 miss_cache_only=2 cache_only_location=2 hit_local=10 \
      compile_error=4
  done

  # The lying engines are the client's business, the same for every compiler: gcc only.
  TEST "an engine that answers exit 0 with no outputs (it ignored the output fields)"
  start_test_engine empty-result
  export CCREX_REMOTE=$SERVER_URL
  compile_suite gcc
  # Every executed compile got the empty answer, and none of them was kept as a local hit.
  expect_stats fallback_bad_result=10 miss_cache_only=1 cache_only_location=1 hit_local=1
  expect_exit 0 "$CCREX" --explain
  expect_contains stdout.txt "incomplete result"

  local mode
  for mode in exit-127 signal cached-failure; do
    TEST "an engine whose worker fails: $mode"
    start_test_engine $mode
    export CCREX_REMOTE=$SERVER_URL
    compile_suite gcc
    expect_stats fallback_worker_failure=4 miss_cache_only=1 cache_only_location=1 \
      hit_local=5 compile_error=2
    expect_exit 0 "$CCREX" -s
    expect_contains stdout.txt "worker_failure"
  done
  # Cache-only mode looks every compile up in the engine's cache and ignores its failure.
  export CCREX_CACHE_ONLY=1
  use_cache_dir cache-only
  compile_suite gcc
  expect_stats miss_cache_only=5 hit_local=5 compile_error=2

  TEST "an engine whose execution fails with an error status"
  start_test_engine exec-status
  export CCREX_REMOTE=$SERVER_URL
  compile_suite gcc
  expect_stats fallback_remote_error=10 miss_cache_only=1 cache_only_location=1 hit_local=1
}
