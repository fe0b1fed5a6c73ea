#!/usr/bin/env bash
# Compare ccrex-depscan with `g++ -M` on header-heavy inputs (not part of ctest).
#
#   test/bench/depscan_bench.sh [path/to/ccrex-depscan] [runs]
#
# Cold = a fresh ccrex-depscan process per scan with default settings: nothing about any
#        file is cached, only the compiler's built-in directories are already in the on-disk
#        probe cache (filled once by an earlier scan, like ccache's compiler check).
# No-pc = the same with --no-probe-cache: every process also runs `g++ -E -v` (the very first
#         scan on a machine).
# Warm = `ccrex-depscan --repeat N` in one process: the per-scan median after the first.
# Every figure is the median of `runs` measurements taken in this run; g++ -M, cold and no-pc
# runs are interleaved (one of each per round).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
scanner=${1:-"$here/../../build-depscan/deps-scanner/ccrex-depscan"}
runs=${2:-7}
[[ -x $scanner ]] || { echo "no scanner binary at $scanner" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Keep the probe cache of this run away from the user's own.
export XDG_CACHE_HOME=$work/xdg
unset CCREX_DEPSCAN_PROBE_CACHE

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

# measure CMD...: run the commands (each one string, split like a shell would) round-robin
# `runs` times, so that load from other jobs on a shared machine falls on all of them alike;
# print "median-wall-ms median-cpu-ms" per command, one line each (cpu = user+sys of every
# child process).
measure() {
  python3 - "$runs" "$@" <<'PY'
import resource, shlex, statistics, subprocess, sys, time
runs, cmds = int(sys.argv[1]), [shlex.split(c) for c in sys.argv[2:]]
walls, cpus = [[] for _ in cmds], [[] for _ in cmds]
for _ in range(runs):
    for i, cmd in enumerate(cmds):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        walls[i].append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus[i].append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
for w, c in zip(walls, cpus):
    print(f"{statistics.median(w):.2f} {statistics.median(c):.2f}")
PY
}

scan_all() { "$scanner" "$@" g++ -std=c++20 "$work/all_std.cc"; }
export scanner work gt_flags_str="${gt_flags[*]}" gt_files_str="${gt_files[*]}"
# The googletest loops are written for `bash -c` so that python can time them as one command.
gt_loop() {
  local which=$1
  shift
  bash -c 'read -ra flags <<<"$gt_flags_str"; read -ra files <<<"$gt_files_str"
    for f in "${files[@]}"; do
      if [[ $0 == gxx ]]; then g++ -M "${flags[@]}" "$f"; else "$scanner" "$@" g++ "${flags[@]}" "$f"; fi
    done >/dev/null' "$which" "$@"
}

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
scan_all >/dev/null # fills the probe cache
all_cc=$(printf %q "$work/all_std.cc")
q_scanner=$(printf %q "$scanner")
{
  read -r g_all g_all_cpu
  read -r c_all c_all_cpu
  read -r p_all p_all_cpu
} < <(measure "g++ -M -std=c++20 $all_cc" "$q_scanner g++ -std=c++20 $all_cc" \
  "$q_scanner --no-probe-cache g++ -std=c++20 $all_cc")
w_all=$(warm_ms g++ -std=c++20 "$work/all_std.cc")
export -f gt_loop
{
  read -r g_gt g_gt_cpu
  read -r c_gt c_gt_cpu
  read -r p_gt p_gt_cpu
} < <(measure "bash -c 'gt_loop gxx'" "bash -c 'gt_loop scan'" \
  "bash -c 'gt_loop scan --no-probe-cache'")
w_gt=$(warm_gt)

fmt='%-34s %10s %9s %10s %9s %7s %8s %7s\n'
printf "\n$fmt" input "g++ -M ms" "cold ms" "no-pc ms" "warm ms" cold "no-pc" warm
row() { # label gxx cold no-pc warm
  printf "$fmt" "$1" "$2" "$3" "$4" "$5" "$(ratio "$2" "$3")" "$(ratio "$2" "$4")" "$(ratio "$2" "$5")"
}
row "all standard headers (wall)" "$g_all" "$c_all" "$p_all" "$w_all"
row "all standard headers (cpu)" "$g_all_cpu" "$c_all_cpu" "$p_all_cpu" "$w_all"
row "googletest sources, sum (wall)" "$g_gt" "$c_gt" "$p_gt" "$w_gt"
row "googletest sources, sum (cpu)" "$g_gt_cpu" "$c_gt_cpu" "$p_gt_cpu" "$w_gt"
echo
echo "warm = in-process per-scan median (--repeat 50), the same figure in both rows"
echo "targets: warm >= 20x, cold >= 3x faster than g++ -M"
