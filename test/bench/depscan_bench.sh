#!/usr/bin/env bash
# Compare ccrex-depscan with `g++ -M` on header-heavy inputs (not part of ctest).
#
#   test/bench/depscan_bench.sh [path/to/ccrex-depscan] [runs]
#
# Cold = a fresh ccrex-depscan process per scan (empty caches, built-in probe included).
# Cold+pc = the same, but with the built-in directories already in a --probe-cache directory
#           (what a second build on the same machine sees; the directive caches still start empty).
# Warm = `ccrex-depscan --repeat N` in one process: the per-scan median after the first.
# Every figure is the median of `runs` measurements taken in this run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
scanner=${1:-"$here/../../build-depscan/deps-scanner/ccrex-depscan"}
runs=${2:-7}
[[ -x $scanner ]] || { echo "no scanner binary at $scanner" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One file that includes every standard header g++ 12 ships for C++20.
for h in algorithm any array atomic barrier bit bitset cassert cctype cerrno cfenv cfloat \
  charconv chrono cinttypes climits clocale cmath codecvt compare complex concepts \
  condition_variable coroutine csetjmp csignal cstdarg cstddef cstdint cstdio cstdlib cstring \
  ctime cuchar cwchar cwctype deque exception execution filesystem forward_list fstream \
  functional future initializer_list iomanip ios iosfwd iostream istream iterator latch limits \
  list locale map memory memory_resource mutex new numbers numeric optional ostream queue random \
  ranges ratio regex scoped_allocator semaphore set shared_mutex source_location span sstream \
  stack stdexcept stop_token streambuf string string_view syncstream system_error thread tuple \
  type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant vector \
  version; do
  [[ -e /usr/include/c++/12/$h ]] && echo "#include <$h>"
done >"$work/all_std.cc"

gt=/usr/src/googletest
gt_flags=(-std=c++17 -I$gt/googletest/include -I$gt/googletest -I$gt/googlemock/include -I$gt/googlemock)
mapfile -t gt_files < <(find "$gt/googletest/src" "$gt/googlemock/src" -name '*.cc' | sort)

now_ns() { date +%s%N; }

# median_ms CMD...: run CMD `runs` times, print the median wall time in ms.
median_ms() {
  local times=() t0 t1
  for ((i = 0; i < runs; i++)); do
    t0=$(now_ns)
    "$@" >/dev/null
    t1=$(now_ns)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

gxx_all() { g++ -M -std=c++20 "$work/all_std.cc"; }
scan_all() { "$scanner" "$@" g++ -std=c++20 "$work/all_std.cc"; }
gxx_gt() { for f in "${gt_files[@]}"; do g++ -M "${gt_flags[@]}" "$f"; done; }
scan_gt() { for f in "${gt_files[@]}"; do "$scanner" "$@" g++ "${gt_flags[@]}" "$f"; done; }

# warm_ms ARGS...: per-scan warm median reported by --repeat.
warm_ms() {
  "$scanner" --repeat 50 "$@" 2>&1 >/dev/null | sed -n 's/.*warm_median_ms=\([0-9.]*\).*/\1/p'
}
warm_gt() {
  local total=0 t
  for f in "${gt_files[@]}"; do
    t=$(warm_ms g++ "${gt_flags[@]}" "$f")
    total=$(awk -v a="$total" -v b="$t" 'BEGIN {printf "%.4f", a + b}')
  done
  echo "$total"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", (b > 0 ? a / b : 0)}'; }

echo "scanner: $scanner   runs: $runs   googletest files: ${#gt_files[@]}"
g_all=$(median_ms gxx_all)
c_all=$(median_ms scan_all)
scan_all --probe-cache "$work/pc" >/dev/null
p_all=$(median_ms scan_all --probe-cache "$work/pc")
w_all=$(warm_ms g++ -std=c++20 "$work/all_std.cc")
g_gt=$(median_ms gxx_gt)
c_gt=$(median_ms scan_gt)
p_gt=$(median_ms scan_gt --probe-cache "$work/pc")
w_gt=$(warm_gt)

fmt='%-26s %10s %9s %10s %9s %7s %8s %7s\n'
printf "\n$fmt" input "g++ -M ms" "cold ms" "cold+pc ms" "warm ms" cold "cold+pc" warm
printf "$fmt" "all standard headers" "$g_all" "$c_all" "$p_all" "$w_all" \
  "$(ratio "$g_all" "$c_all")" "$(ratio "$g_all" "$p_all")" "$(ratio "$g_all" "$w_all")"
printf "$fmt" "googletest sources (sum)" "$g_gt" "$c_gt" "$p_gt" "$w_gt" \
  "$(ratio "$g_gt" "$c_gt")" "$(ratio "$g_gt" "$p_gt")" "$(ratio "$g_gt" "$w_gt")"
echo
echo "targets: warm >= 20x, cold >= 3x faster than g++ -M"
