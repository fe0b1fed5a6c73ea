# ccache's command line, for users and scripts that know it: combined short options,
# -M/-o/-k/-p, cleanup by size and by age, settings before the compiler, CCACHE_*
# variables, and a link named `ccache`.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_ccache_cli_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_ccache_cli_SETUP() {
  isolate_test
  local i
  for i in 1 2 3; do
    printf 'int f%d(void) { return %d; }\n' "$i" "$i" >"f$i.c"
  done
}

SUITE_ccache_cli() {
  TEST "combined and repeated short options run in order"
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_exit 0 "$CCREX" -zs
  expect_contains stdout.txt "Statistics zeroed"
  expect_contains stdout.txt "Cacheable calls:                   0"
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_exit 0 "$CCREX" -s -z
  expect_contains stdout.txt "  Hits:                            1 / 1 (100.00%)"
  expect_contains stdout.txt "Statistics zeroed"
  expect_exit 1 "$CCREX" -zq
  expect_contains stderr.txt "unknown option: -q (in -zq)"
  expect_exit 1 "$CCREX" -M
  expect_contains stderr.txt "option --max-size needs a value"

  TEST "-M, -o, -k and -p: the user configuration file"
  expect_exit 0 "$CCREX" -M 2G
  expect_exit 0 "$CCREX" -k max_size
  expect_equal "$(cat stdout.txt)" 2147483648 "max_size"
  expect_exit 0 "$CCREX" --max-size=3G
  expect_exit 0 "$CCREX" -o depend_mode=compiler
  expect_exit 0 "$CCREX" -p
  expect_contains stdout.txt "ccrex.conf:1) max_size = 3221225472"
  expect_contains stdout.txt ") depend_mode = compiler"
  expect_equal "$(grep -c max_size "$XDG_CONFIG_HOME/ccrex/ccrex.conf")" 1 "max_size lines"
  # A bad value or key changes nothing.
  expect_exit 1 "$CCREX" -o max_size=lots
  expect_contains stderr.txt "max_size"
  expect_exit 1 "$CCREX" -o no_such_key=1
  expect_contains stderr.txt "unknown key 'no_such_key'"
  expect_exit 1 "$CCREX" -k no_such_key
  expect_exit 0 "$CCREX" -k max_size
  expect_equal "$(cat stdout.txt)" 3221225472 "max_size after refused changes"
  # The new setting is used by the next compile, without restarting the agent.
  expect_exit 0 "$CCREX" gcc -c f2.c -o f2.o
  expect_stat depend_compiler 1

  TEST "settings before the compiler apply to that compile only"
  expect_exit 0 "$CCREX" depend_mode=compiler gcc -c f1.c -o f1.o
  expect_stat depend_compiler 1
  expect_exit 0 "$CCREX" gcc -c f2.c -o f2.o
  expect_stat depend_compiler 1
  expect_exit 0 "$CCREX" disable=true gcc -c f3.c -o f3.o
  expect_stat miss_cache_only 0
  expect_exit 0 "$CCREX" no_such_key=1 gcc -c f3.c -o f3.o
  expect_contains stderr.txt "unknown setting 'no_such_key=1'"
  plain gcc -c f3.c -o plain.o
  expect_same_file f3.o plain.o

  TEST "cleanup by size (-c) and by age (--evict-older-than)"
  local i
  for i in 1 2 3; do
    expect_exit 0 "$CCREX" gcc -c "f$i.c" -o "f$i.o"
  done
  # Everything stored is made two days old, then one compile is used again.
  find "$CCREX_DIR/store" -type f -path '*/cas/*' -exec touch -d '2 days ago' {} +
  find "$CCREX_DIR/store" -type f -path '*/ac/*' -exec touch -d '2 days ago' {} +
  expect_exit 0 "$CCREX" --evict-older-than 1d
  expect_contains stdout.txt "Evicted "
  "$CCREX" -z >/dev/null
  expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_stats miss_executed=1
  expect_exit 2 "$CCREX" --evict-older-than 10x
  expect_contains stderr.txt "invalid age '10x'"
  # -c with a limit below what is stored leaves the store within it.
  expect_exit 0 "$CCREX" -M 1
  expect_exit 0 "$CCREX" -c
  expect_contains stdout.txt "(limit 1)"
  expect_exit 0 "$CCREX" -F 100
  expect_contains stderr.txt "max_files does not apply"
  expect_exit 0 "$CCREX" -x
  expect_contains stdout.txt "Compression ratio:"
  expect_contains stdout.txt "zstd level 1"

  TEST "CCACHE_* variables map to ccrex settings; CCACHE_DIR is not used"
  CCACHE_MAXSIZE=1G expect_exit 0 "$CCREX" --show-config
  expect_contains stdout.txt "(CCACHE_MAXSIZE) max_size = 1073741824"
  CCACHE_MAXSIZE=1G CCREX_MAX_SIZE=2G expect_exit 0 "$CCREX" --show-config
  expect_contains stdout.txt "(CCREX_MAX_SIZE) max_size = 2147483648"
  CCACHE_DISABLE= expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_stats
  CCACHE_DIR=$TEST_DIR/ccache-dir expect_exit 0 "$CCREX" gcc -c f1.c -o f1.o
  expect_missing "$TEST_DIR/ccache-dir"

  TEST "a link named ccache takes ccache's command line"
  mkdir bin
  ln -s "$CCREX" bin/ccache
  expect_exit 0 bin/ccache gcc -c f1.c -o f1.o
  plain gcc -c f1.c -o plain.o
  expect_same_file f1.o plain.o
  expect_exit 0 bin/ccache -s
  expect_contains stdout.txt "Cacheable calls:                   1"
  expect_exit 0 bin/ccache -M 4G
  expect_exit 0 bin/ccache -k max_size
  expect_equal "$(cat stdout.txt)" 4294967296 "max_size set through ccache"

  TEST "cc and gcc, one compiler under two names, share results"
  local real
  real=$(readlink -f "$(command -v gcc)")
  [[ $(readlink -f "$(command -v cc)") == "$real" ]] || {
    echo "    (cc is not gcc here: skipped)"
    return 0
  }
  expect_exit 0 "$CCREX" cc -O1 -c f1.c -o f1.o
  expect_exit 0 "$CCREX" gcc -O1 -c f1.c -o f1.o
  expect_exit 0 "$CCREX" "$real" -O1 -c f1.c -o f1.o
  expect_stats miss_executed=1 hit_local=2
  plain cc -O1 -c f1.c -o plain.o
  expect_same_file f1.o plain.o
  # g++ is not gcc: compiling f1.c as C++ is another compile.
  expect_exit 0 "$CCREX" g++ -O1 -c f1.c -o f1.o
  expect_stats miss_executed=2 hit_local=2
}
