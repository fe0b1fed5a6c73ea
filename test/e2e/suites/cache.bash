# Compiles through the agent with the embedded server (zero configuration): misses run
# through REAPI, repeats hit the local store, and every output (objects, dependency files,
# split DWARF, coverage notes, diagnostics) is byte-identical to the plain compiler's.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_cache_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v clang >/dev/null || echo "clang not found"
}

SUITE_cache_SETUP() {
  isolate_test
  mkdir -p include
  cat >include/config.h <<'SRC'
#pragma once
#define SCALE 3
SRC
  cat >main.c <<'SRC'
#include <stdio.h>
#include "config.h"
static int twice(int v) { return 2 * v; }
int compute(int v) { return twice(v) * SCALE + VALUE; }
int main(void) { printf("%d %s\n", compute(7), __FILE__); return 0; }
SRC
  cat >warn.c <<'SRC'
int f(int a) {
  int unused;
  return a;
}
SRC
  cat >broken.c <<'SRC'
int f(void) { return undeclared_name; }
SRC
  cat >shapes.cpp <<'SRC'
#include <map>
#include <string>
#include <vector>
template <typename T> T sum(const std::vector<T>& v) { T s{}; for (auto x : v) s += x; return s; }
std::map<std::string, int> table() { return {{"a", sum<int>({1, 2, 3})}, {"b", 4}}; }
SRC
}

# compile_twice CC ARGS... (output main.o): plain reference, miss, then hit; every time the
# same bytes.
suite_cache_miss_then_hit() {
  plain "$@" -o plain.o
  expect_exit 0 "$CCREX" "$@" -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1
  rm main.o
  expect_exit 0 "$CCREX" "$@" -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1 hit_local=1
}

SUITE_cache() {
  local cc cxx
  for cc in gcc clang; do
    [[ $cc == gcc ]] && cxx=g++ || cxx=clang++

    TEST "$cc: miss then hit, object identical to the plain compiler's"
    suite_cache_miss_then_hit $cc -O2 -Wall -DVALUE=5 -Iinclude -c main.c
    expect_exit 0 "$CCREX" --explain
    expect_contains stdout.txt "executed remotely"
    expect_contains stdout.txt "local store hit"
    # Another define is another action.
    plain $cc -O2 -Wall -DVALUE=6 -Iinclude -c main.c -o plain6.o
    expect_exit 0 "$CCREX" $cc -O2 -Wall -DVALUE=6 -Iinclude -c main.c -o main6.o
    expect_same_file main6.o plain6.o
    expect_stats miss_executed=2 hit_local=1
    # The object links into a working program.
    $cc main.o -o prog || test_failed "link failed"
    expect_exit 0 ./prog
    expect_contains stdout.txt "47 main.c"

    TEST "$cxx: C++ miss then hit"
    plain $cxx -std=c++17 -O1 -c shapes.cpp -o plain.o
    expect_exit 0 "$CCREX" $cxx -std=c++17 -O1 -c shapes.cpp -o shapes.o
    expect_same_file shapes.o plain.o
    rm shapes.o
    expect_exit 0 "$CCREX" $cxx -std=c++17 -O1 -c shapes.cpp -o shapes.o
    expect_same_file shapes.o plain.o
    expect_stats miss_executed=1 hit_local=1

    TEST "$cc: output named from the source when -o is absent"
    # The headers are in ../include: the project root must be above the working directory.
    export CCREX_PROJECT_ROOT=$TEST_DIR
    mkdir ref via
    cp main.c ref/ && cp main.c via/
    cd ref || test_failed "cd"
    plain $cc -DVALUE=1 -I../include -c main.c
    cd ../via || test_failed "cd"
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -I../include -c main.c
    expect_same_file main.o ../ref/main.o
    cd .. || test_failed "cd"
    expect_stats miss_executed=1

    TEST "$cc: warnings are replayed on a miss and on a hit"
    $cc -Wall -c warn.c -o plain.o 2>plain_stderr.txt || test_failed "plain compile failed"
    [[ -s plain_stderr.txt ]] || test_failed "$cc gave no warning for warn.c"
    expect_exit 0 "$CCREX" $cc -Wall -c warn.c -o warn.o
    expect_same_file stderr.txt plain_stderr.txt
    expect_same_file warn.o plain.o
    rm warn.o
    expect_exit 0 "$CCREX" $cc -Wall -c warn.c -o warn.o
    expect_same_file stderr.txt plain_stderr.txt
    expect_same_file warn.o plain.o
    expect_stats miss_executed=1 hit_local=1

    TEST "$cc: a header change is a miss, changing it back a hit"
    suite_cache_miss_then_hit $cc -DVALUE=1 -Iinclude -c main.c
    cp plain.o plain_scale3.o
    sed -i 's/SCALE 3/SCALE 4/' include/config.h
    plain $cc -DVALUE=1 -Iinclude -c main.c -o plain_scale4.o
    cmp -s plain_scale3.o plain_scale4.o && test_failed "the header change did not change the object"
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -Iinclude -c main.c -o main.o
    expect_same_file main.o plain_scale4.o
    expect_stats miss_executed=2 hit_local=1
    sed -i 's/SCALE 4/SCALE 3/' include/config.h
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -Iinclude -c main.c -o main.o
    expect_same_file main.o plain_scale3.o
    expect_stats miss_executed=2 hit_local=2
    # A header that appears earlier in the search path is a new dependency.
    mkdir first
    printf '#pragma once\n#define SCALE 9\n' >first/config.h
    plain $cc -DVALUE=1 -Ifirst -Iinclude -c main.c -o plain_first.o
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -Ifirst -Iinclude -c main.c -o main.o
    expect_same_file main.o plain_first.o
    expect_stats miss_executed=3 hit_local=2

    TEST "$cc: -MD -MF and -MMD dependency files equal the plain compiler's"
    plain $cc -DVALUE=1 -Iinclude -MD -MF plain.d -MT main.o -c main.c -o plain.o
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -Iinclude -MD -MF main.d -MT main.o -c main.c -o main.o
    expect_same_file main.d plain.d
    expect_same_file main.o plain.o
    expect_contains main.d "include/config.h"
    expect_contains main.d "stdio.h"
    rm main.d main.o
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -Iinclude -MD -MF main.d -MT main.o -c main.c -o main.o
    expect_same_file main.d plain.d
    expect_same_file main.o plain.o
    expect_stats miss_executed=1 hit_local=1
    # -MMD with the default dependency file name (next to the object).
    mkdir plain obj
    plain $cc -DVALUE=1 -Iinclude -MMD -c main.c -o plain/main.o
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -Iinclude -MMD -c main.c -o obj/main.o
    expect_file_exists obj/main.d
    grep -q stdio.h obj/main.d && test_failed "-MMD listed a system header"
    expect_contains obj/main.d "include/config.h"
    diff <(sed 's|plain/main.o|obj/main.o|' plain/main.d) obj/main.d >/dev/null \
      || test_failed "obj/main.d differs from the plain one: $(cat obj/main.d)"
    expect_same_file obj/main.o plain/main.o
    # -MP adds phony targets; -MQ quotes the target.
    plain $cc -DVALUE=1 -Iinclude -MMD -MP -MQ 'with$dollar.o' -c main.c -o plain/mp.o
    expect_exit 0 "$CCREX" $cc -DVALUE=1 -Iinclude -MMD -MP -MQ 'with$dollar.o' -c main.c -o obj/mp.o
    expect_same_file obj/mp.d plain/mp.d

    TEST "$cc: a compile error is the compiler's message and exit code, not a fallback"
    expect_compile_error_replayed $cc
  done

  TEST "CCREX_CACHE_FAILURES=1 caches a failing compile"
  export CCREX_CACHE_FAILURES=1
  gcc -c broken.c -o plain.o 2>plain_stderr.txt
  plain_status=$?
  expect_exit $plain_status "$CCREX" gcc -c broken.c -o broken.o
  expect_same_file stderr.txt plain_stderr.txt
  expect_exit $plain_status "$CCREX" gcc -c broken.c -o broken.o
  expect_same_file stderr.txt plain_stderr.txt
  expect_missing broken.o
  expect_stat hit_local 1

  TEST "objects get the client's umask, not the agent's"
  # The agent starts under umask 022; later clients run under 077 and 002.
  expect_exit 0 "$CCREX" gcc -c main.c -Iinclude -DVALUE=1 -o first.o
  expect_equal "$(stat -c %a first.o)" 644 "mode under umask 022"
  for mask in 077 002; do
    (umask $mask && gcc -c main.c -Iinclude -DVALUE=$mask -o plain.o)
    want=$(stat -c %a plain.o)
    for kind in miss hit; do
      rm -f out.o
      (umask $mask && "$CCREX" gcc -c main.c -Iinclude -DVALUE=$mask -o out.o) ||
        test_failed "compile under umask $mask failed"
      expect_equal "$(stat -c %a out.o)" "$want" "mode of a $kind under umask $mask"
      expect_same_file out.o plain.o
    done
  done
  expect_stats miss_executed=3 hit_local=2

  for cc in gcc clang; do
    TEST "$cc: the same sources in two git checkouts share hits"
    mkdir -p origin/src origin/include
    cp main.c origin/src/main.c
    cp include/config.h origin/include/config.h
    git -C origin init -q
    git -C origin add . && git -C origin -c user.name=t -c user.email=t@t commit -qm init \
      || test_failed "git commit failed"
    git clone -q origin first && git clone -q origin second || test_failed "git clone failed"
    mkdir first/build second/build
    cd first/build || test_failed "cd"
    plain $cc -O1 -DVALUE=3 -I../include -c ../src/main.c -o plain.o
    expect_exit 0 "$CCREX" $cc -O1 -DVALUE=3 -I../include -c ../src/main.c -o main.o
    expect_same_file main.o plain.o
    cd ../../second/build || test_failed "cd"
    expect_exit 0 "$CCREX" $cc -O1 -DVALUE=3 -I../include -c ../src/main.c -o main.o
    expect_same_file main.o ../../first/build/plain.o
    expect_stats miss_executed=1 hit_local=1
    # A change in one checkout does not leak into the other.
    sed -i 's/SCALE 3/SCALE 8/' ../include/config.h
    plain $cc -O1 -DVALUE=3 -I../include -c ../src/main.c -o plain8.o
    expect_exit 0 "$CCREX" $cc -O1 -DVALUE=3 -I../include -c ../src/main.c -o main.o
    expect_same_file main.o plain8.o
    expect_stats miss_executed=2 hit_local=1
    cd ../.. || test_failed "cd"
  done

  TEST "masquerade: a gcc symlink to ccrex earlier in PATH"
  mkdir bin
  ln -s "$CCREX" bin/gcc
  plain gcc -DVALUE=4 -Iinclude -c main.c -o plain.o
  PATH=$PWD/bin:$PATH expect_exit 0 gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  rm main.o
  PATH=$PWD/bin:$PATH expect_exit 0 gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1 hit_local=1

  TEST "an invalid setting: one clear line on stderr, the compile still succeeds"
  plain gcc -DVALUE=4 -Iinclude -c main.c -o plain.o
  CCREX_CACHE_ONLY=maybe expect_exit 0 "$CCREX" gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_equal "$(wc -l <stderr.txt | tr -d ' ')" 1 "stderr lines"
  expect_contains stderr.txt "CCREX_CACHE_ONLY"
  expect_contains stderr.txt "maybe"
  CCREX_CACHE_ONLY=maybe expect_exit 1 "$CCREX" --show-config
  expect_contains stderr.txt "CCREX_CACHE_ONLY"
  # Settings that are fine again: the compile goes through the cache as usual.
  expect_exit 0 "$CCREX" gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1

  TEST "16 parallel compiles of different files all hit on the second round"
  local i pids
  for i in $(seq 16); do
    sed "s/compute/compute_$i/g" main.c >"par$i.c"
    gcc -DVALUE=$i -Iinclude -c "par$i.c" -o "plain$i.o" || test_failed "plain compile $i"
  done
  for round in 1 2; do
    rm -f par*.o
    pids=()
    for i in $(seq 16); do
      "$CCREX" gcc -DVALUE=$i -Iinclude -c "par$i.c" -o "par$i.o" 2>"stderr$i.txt" &
      pids+=($!)
    done
    for i in $(seq 16); do
      wait "${pids[$((i - 1))]}" || test_failed "round $round compile $i failed: $(cat "stderr$i.txt")"
      expect_same_file "par$i.o" "plain$i.o"
    done
  done
  expect_stats miss_executed=16 hit_local=16

  TEST "-z zeroes the counters, -C empties the store"
  plain gcc -DVALUE=4 -Iinclude -c main.c -o plain.o
  expect_exit 0 "$CCREX" gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_exit 0 "$CCREX" gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_stats miss_executed=1 hit_local=1
  expect_exit 0 "$CCREX" -s
  expect_contains stdout.txt "Hits:"
  expect_exit 0 "$CCREX" -z
  expect_stats
  expect_exit 0 "$CCREX" -C
  expect_exit 0 "$CCREX" gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1

  TEST "CCREX_DISABLE=1 compiles without the cache"
  plain gcc -DVALUE=4 -Iinclude -c main.c -o plain.o
  CCREX_DISABLE=1 expect_exit 0 "$CCREX" gcc -DVALUE=4 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats

  TEST "an output into a missing directory fails as with the plain compiler"
  for args in "-c main.c -o nodir/main.o" "-MD -MF nodir/main.d -c main.c -o main.o"; do
    gcc -DVALUE=1 -Iinclude $args 2>plain_stderr.txt
    plain_status=$?
    [[ $plain_status -ne 0 ]] || test_failed "plain gcc $args succeeded"
    expect_exit $plain_status "$CCREX" gcc -DVALUE=1 -Iinclude $args
    expect_same_file stderr.txt plain_stderr.txt
    expect_missing nodir
  done
  expect_stats fallback_output_dir=2

  TEST "an output outside the working directory (recursive make writing to ../build)"
  export CCREX_PROJECT_ROOT=$TEST_DIR
  mkdir -p lib build/lib
  cp main.c lib/main.c
  cd lib || test_failed "cd"
  plain gcc -O1 -DVALUE=2 -I../include -c main.c -o ../build/lib/plain.o
  expect_exit 0 "$CCREX" gcc -O1 -DVALUE=2 -I../include -c main.c -o ../build/lib/main.o
  cd .. || test_failed "cd"
  expect_same_file build/lib/main.o build/lib/plain.o
  # It lies inside the project root, so the compile can run remotely.
  expect_stats miss_executed=1

  TEST "the store keeps objects compressed: identical objects, smaller on disk"
  plain g++ -std=c++17 -g -O1 -c shapes.cpp -o plain.o
  expect_exit 0 "$CCREX" g++ -std=c++17 -g -O1 -c shapes.cpp -o shapes.o
  expect_same_file shapes.o plain.o
  rm shapes.o
  expect_exit 0 "$CCREX" g++ -std=c++17 -g -O1 -c shapes.cpp -o shapes.o
  expect_same_file shapes.o plain.o
  expect_stats miss_executed=1 hit_local=1
  # The object is stored as a zstd frame; the store on disk is well below its content.
  [[ -n $(find "$CCREX_DIR/store/cas" -name '*.zst') ]] || test_failed "no compressed blob"
  local disk content
  disk=$(stat_value store_bytes_on_disk)
  content=$(stat_value store_bytes_uncompressed)
  ((disk > 0 && content > 2 * disk)) || test_failed "store: $disk bytes on disk, $content content"
  expect_exit 0 "$CCREX" -s
  expect_contains stdout.txt "Compression ratio:"
  # Compression off: new blobs are stored raw, the compressed ones still hit.
  expect_exit 0 "$CCREX" compression=false g++ -std=c++17 -g -O1 -c shapes.cpp -o shapes.o
  expect_same_file shapes.o plain.o
  local frames
  frames=$(find "$CCREX_DIR/store/cas" -name '*.zst' | wc -l)
  plain g++ -std=c++17 -g -O2 -c shapes.cpp -o plain2.o
  expect_exit 0 "$CCREX" compression=false g++ -std=c++17 -g -O2 -c shapes.cpp -o shapes2.o
  expect_same_file shapes2.o plain2.o
  expect_stats miss_executed=2 hit_local=2
  expect_equal "$(find "$CCREX_DIR/store/cas" -name '*.zst' | wc -l)" "$frames" "frames"
  CCREX_COMPRESSION=false expect_exit 0 "$CCREX" -x
  expect_contains stdout.txt "stored raw (compression off)"
}
