# Outputs that record the compile's absolute directory (debug info, split DWARF names,
# coverage data paths). With the embedded server (zero configuration) compiles are staged
# at the same absolute path as the local one, so these outputs must be byte-identical to
# the plain compiler's and work where they were built.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_same_path_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
}

SUITE_same_path_SETUP() {
  isolate_test
  mkdir -p include
  printf '#pragma once\n#define SCALE 3\n' >include/config.h
  cat >main.c <<'SRC'
#include <stdio.h>
#include "config.h"
static int twice(int v) { return 2 * v; }
int compute(int v) { return twice(v) * SCALE + VALUE; }
int main(void) { printf("%d %s\n", compute(7), __FILE__); return 0; }
SRC
}

SUITE_same_path() {
  local cc
  for cc in gcc clang; do
    TEST "$cc: -g objects are byte-identical to a local compile"
    plain $cc -g -O1 -DVALUE=2 -Iinclude -c main.c -o plain.o
    expect_exit 0 "$CCREX" $cc -g -O1 -DVALUE=2 -Iinclude -c main.c -o main.o
    expect_same_file main.o plain.o
    rm main.o
    expect_exit 0 "$CCREX" $cc -g -O1 -DVALUE=2 -Iinclude -c main.c -o main.o
    expect_same_file main.o plain.o
    expect_stats miss_executed=1 hit_local=1

    TEST "$cc: split DWARF writes the .dwo next to the object"
    mkdir obj
    plain $cc -g -gsplit-dwarf -DVALUE=2 -Iinclude -c main.c -o obj/main.o
    mv obj/main.o plain.o && mv obj/main.dwo plain.dwo
    expect_exit 0 "$CCREX" $cc -g -gsplit-dwarf -DVALUE=2 -Iinclude -c main.c -o obj/main.o
    expect_same_file obj/main.o plain.o
    expect_same_file obj/main.dwo plain.dwo
    rm obj/main.o obj/main.dwo
    expect_exit 0 "$CCREX" $cc -g -gsplit-dwarf -DVALUE=2 -Iinclude -c main.c -o obj/main.o
    expect_same_file obj/main.o plain.o
    expect_same_file obj/main.dwo plain.dwo
    expect_stats miss_executed=1 hit_local=1

    TEST "$cc: --coverage writes the .gcno, and the program writes its .gcda here"
    mkdir obj
    plain $cc --coverage -DVALUE=2 -Iinclude -c main.c -o obj/main.o
    mv obj/main.o plain.o && mv obj/main.gcno plain.gcno
    expect_exit 0 "$CCREX" $cc --coverage -DVALUE=2 -Iinclude -c main.c -o obj/main.o
    expect_file_exists obj/main.gcno
    if [[ $cc == clang ]]; then
      # gcc stamps every .gcno with a fresh value; clang's are reproducible.
      expect_same_file obj/main.o plain.o
      expect_same_file obj/main.gcno plain.gcno
    fi
    rm obj/main.gcno obj/main.o
    expect_exit 0 "$CCREX" $cc --coverage -DVALUE=2 -Iinclude -c main.c -o obj/main.o
    expect_file_exists obj/main.gcno
    expect_stats miss_executed=1 hit_local=1
    $cc --coverage obj/main.o -o prog || test_failed "link failed"
    ./prog >/dev/null || test_failed "prog failed"
    expect_file_exists obj/main.gcda
    if [[ $cc == gcc ]]; then
      # The notes and the object come from the same compile: gcov accepts the pair.
      expect_exit 0 gcov -o obj main.c
      expect_contains stdout.txt "Lines executed:100.00% of"
      grep -q "stamp mismatch" stderr.txt && test_failed "gcov: $(cat stderr.txt)"
    fi

  done
}
