# Commands ccrex does not send through REAPI: they run locally with the plain compiler's
# result, and the reason is counted (local_<reason>).

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_local_runs_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
}

SUITE_local_runs_SETUP() {
  isolate_test
  cat >hello.c <<'SRC'
#include <stdio.h>
#define GREETING "hello"
int main(void) { printf("%s\n", GREETING); return 0; }
SRC
  printf 'int one(void) { return 1; }\n' >one.c
  printf 'int two(void) { return 2; }\n' >two.c
}

SUITE_local_runs() {
  local cc
  for cc in gcc clang; do
    TEST "$cc: -E prints the preprocessed source on stdout"
    plain $cc -E hello.c
    expect_exit 0 "$CCREX" $cc -E hello.c
    expect_same_file stdout.txt plain_stdout.txt
    expect_contains stdout.txt '"hello"'
    expect_stats local_preprocess_only=1

    TEST "$cc: -S writes the assembly"
    plain $cc -O1 -S hello.c -o plain.s
    expect_exit 0 "$CCREX" $cc -O1 -S hello.c -o hello.s
    expect_same_file hello.s plain.s
    expect_stats local_assembly_only=1

    TEST "$cc: -march=native"
    plain $cc -march=native -c hello.c -o plain.o
    expect_exit 0 "$CCREX" $cc -march=native -c hello.c -o hello.o
    expect_same_file hello.o plain.o
    expect_stats local_native_cpu=1

    TEST "$cc: compile and link without -c"
    expect_exit 0 "$CCREX" $cc hello.c -o hello
    expect_exit 0 ./hello
    expect_equal "$(cat stdout.txt)" hello "program output"
    expect_stats local_no_compile=1
    # Linking objects only.
    plain $cc -c one.c -o one.o
    printf 'int one(void);\nint main(void) { return one() == 1 ? 0 : 1; }\n' >usesone.c
    plain $cc -c usesone.c -o usesone.o
    expect_exit 0 "$CCREX" $cc one.o usesone.o -o linked
    expect_exit 0 ./linked
    expect_stats local_no_compile=2

    TEST "$cc: several sources in one command"
    mkdir ref
    cd ref || test_failed "cd"
    plain $cc -c ../one.c ../two.c
    cd .. || test_failed "cd"
    mkdir via
    cd via || test_failed "cd"
    expect_exit 0 "$CCREX" $cc -c ../one.c ../two.c
    expect_same_file one.o ../ref/one.o
    expect_same_file two.o ../ref/two.o
    cd .. || test_failed "cd"
    expect_stats local_multiple_sources=1

    TEST "$cc: source on stdin"
    plain $cc -x c -c - -o plain.o <one.c
    expect_exit 0 "$CCREX" $cc -x c -c - -o stdin.o <one.c
    expect_same_file stdin.o plain.o
    expect_stats local_stdin_input=1

    TEST "$cc: a failing local run keeps its exit code and message"
    printf 'int f(void) { return nope; }\n' >broken.c
    $cc -S broken.c -o plain.s 2>plain_stderr.txt
    plain_status=$?
    [[ $plain_status -ne 0 ]] || test_failed "broken.c compiled"
    expect_exit $plain_status "$CCREX" $cc -S broken.c -o broken.s
    expect_same_file stderr.txt plain_stderr.txt
    expect_stats local_assembly_only=1
  done

  TEST "-M without -c only lists dependencies"
  plain gcc -M hello.c
  expect_exit 0 "$CCREX" gcc -M hello.c
  expect_same_file stdout.txt plain_stdout.txt
  expect_contains stdout.txt "hello.o: hello.c"
  expect_stats local_dependencies_only=1

  TEST "DEPENDENCIES_OUTPUT and SUNPRO_DEPENDENCIES (dependency files named by the environment)"
  mkdir ref
  cd ref || test_failed "cd"
  DEPENDENCIES_OUTPUT=deps.d plain gcc -c ../hello.c -o hello.o
  SUNPRO_DEPENDENCIES="sun.d hello.o" plain gcc -c ../hello.c -o hello.o
  cd .. || test_failed "cd"
  DEPENDENCIES_OUTPUT=deps.d expect_exit 0 "$CCREX" gcc -c hello.c -o hello.o
  SUNPRO_DEPENDENCIES="sun.d hello.o" expect_exit 0 "$CCREX" gcc -c hello.c -o hello.o
  expect_file_exists deps.d
  expect_file_exists sun.d
  diff <(sed 's|\.\./hello.c|hello.c|' ref/deps.d) deps.d >/dev/null \
    || test_failed "deps.d differs: $(cat deps.d) vs $(cat ref/deps.d)"
  expect_stats local_dependencies_env=2

  TEST "-save-temps"
  mkdir ref via
  cd ref || test_failed "cd"
  plain gcc -save-temps -c ../hello.c -o hello.o
  cd ../via || test_failed "cd"
  expect_exit 0 "$CCREX" gcc -save-temps -c ../hello.c -o hello.o
  expect_same_file hello.o ../ref/hello.o
  expect_same_file hello.i ../ref/hello.i
  expect_same_file hello.s ../ref/hello.s
  cd .. || test_failed "cd"
  expect_stats local_save_temps=1
}
