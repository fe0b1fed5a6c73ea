#!/usr/bin/env bash
# ccrex against the plain compiler and ccache, measured side by side in one run.
#
#   test/bench/bench.sh [--quick]
#
# Workloads: (a) a generated C++ project (gen_project.py: 200 translation units over 300
# project headers and the standard library), (b) /usr/src/googletest, (c) one header-heavy
# C++ file for per-compile latency. Contenders: the plain compiler, ccache (Debian, direct
# mode), ccrex on its embedded default, ccrex against a separate ccrex-server over TCP on
# 127.0.0.1. Prints a table of medians and ratios and writes it as CSV ($BENCH_CSV, default
# bench.csv in the scratch directory, whose path is printed). --quick uses 50 units and
# fewer repetitions (for checking the script, not for figures). CCREX_BUILD_DIR picks a
# build to use as it is (default build-bench, a Release build made here).
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
quick=0
[[ ${1:-} == --quick ]] && quick=1
tus=200
hit_reps=51  # per-compile hits (cheap)
miss_reps=7  # per-compile misses (a full compile each)
build_reps=11 # warm whole rebuilds (cheap, and noisy on a small machine)
if ((quick)); then
  tus=50
  hit_reps=11
  miss_reps=2
  build_reps=2
fi

"$repo/scripts/install-deps.sh" --bench
bench_build ccrex ccrexd ccrex-server
jobs=$(nproc)
work=$(bench_scratch ccrex-bench)
bench_clean_env "$work"
csv=${BENCH_CSV:-$work/bench.csv}
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  bench_stop_agents "$work"/agent-*
}
trap cleanup EXIT
echo "scratch directory: $work"
echo "workload,contender,measure,median_ms,p10_ms,p90_ms,cpu_ms" >"$csv"

# ------------------------------------------------------------------------------ contenders
# use CONTENDER: set LAUNCHER and the environment for one contender.
use() {
  unset CCACHE_DIR CCREX_DIR CCREX_AGENT_DIR CCREX_REMOTE
  case $1 in
  plain) LAUNCHER="" ;;
  ccache)
    LAUNCHER=ccache
    export CCACHE_DIR=$work/ccache CCACHE_MAXSIZE=5G
    ;;
  ccrex)
    LAUNCHER=$bin/ccrex
    export CCREX_DIR=$work/ccrex CCREX_AGENT_DIR=$work/agent-embedded
    ;;
  ccrex-server)
    LAUNCHER=$bin/ccrex
    export CCREX_DIR=$work/ccrex-remote CCREX_AGENT_DIR=$work/agent-remote
    export CCREX_REMOTE=grpc://127.0.0.1:$server_port
    ;;
  esac
}

# Clear the caches of CONTENDER (cold start).
clear_cache() {
  case $1 in
  ccache) rm -rf "$work/ccache" ;;
  ccrex) "$bin/ccrex" -C >/dev/null 2>&1 && "$bin/ccrex" -z >/dev/null 2>&1 || true ;;
  ccrex-server)
    "$bin/ccrex" -C >/dev/null 2>&1 && "$bin/ccrex" -z >/dev/null 2>&1 || true
    restart_server
    ;;
  esac
}

restart_server() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work/server" "$work/server.out"
  "$bin/ccrex-server" --listen 127.0.0.1:0 --cache-dir "$work/server" >"$work/server.out" 2>/dev/null &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$work/server.out" 2>/dev/null && break
    sleep 0.05
  done
  server_port=$(sed -n 's/.*listening on 127.0.0.1://p' "$work/server.out" | head -1)
  export CCREX_REMOTE=grpc://127.0.0.1:$server_port
}

# ------------------------------------------------------------------------------ measuring
# Microseconds since the epoch, without forking (bash 5's EPOCHREALTIME).
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }

# stats FILE: print "median p10 p90" of the numbers in FILE (one per line).
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    m = v[int((NR + 1) / 2)]; lo = v[int(NR * 0.1) + 1]; hi = v[int(NR * 0.9 + 0.5)]
    if (hi == "") hi = v[NR]; printf "%.1f %.1f %.1f", m, lo, hi }'
}

# record WORKLOAD CONTENDER MEASURE FILE [CPU_MS]
record() {
  read -r med lo hi <<<"$(stats "$4")"
  echo "$1,$2,$3,$med,$lo,$hi,${5:-}" >>"$csv"
}

# time_one FILE CMD...: run CMD once; append its wall time (ms) to FILE and the CPU ticks
# it cost (its own, and the agent's and server's for it) to FILE.cpu.
time_one() {
  local f=$1 t0 t1 c0 me=$BASHPID
  shift
  c0=$(cpu_ticks "$me")
  t0=${EPOCHREALTIME/[.,]/}
  "$@" >/dev/null
  t1=${EPOCHREALTIME/[.,]/}
  echo "$(($(cpu_ticks "$me") - c0))" >>"$f.cpu"
  echo "$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))" >>"$f"
}

# cpu_ms_per_run FILE: mean CPU milliseconds per run recorded by time_one in FILE.cpu.
cpu_ms_per_run() {
  awk -v hz="$(getconf CLK_TCK)" '{ t += $1; n++ } END { printf "%.2f", n ? t * 1000 / hz / n : 0 }' \
    "$1.cpu"
}

# cpu_ticks SHELL_PID: CPU time (ticks) of the finished children of the shell SHELL_PID
# (the one that ran the measured command: taken before a command substitution, whose own
# subshell is not that shell) plus the agent and the server, which are not its children
# but do the work for ccrex.
cpu_ticks() {
  local total pid
  total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat")
  for pid in "$(cat "${CCREX_AGENT_DIR:-/nonexistent}/agent.pid" 2>/dev/null)" "$server_pid"; do
    [[ -n $pid && -r /proc/$pid/stat ]] || continue
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  echo "$total"
}

# build_once DIR: clean and build with ninja; print "wall_ms cpu_ms".
build_once() {
  local dir=$1 t0 cpu_before cpu_after me=$BASHPID
  ninja -C "$dir" -t clean >/dev/null
  cpu_before=$(cpu_ticks "$me")
  t0=$(now_us)
  ninja -C "$dir" -j "$jobs" >/dev/null
  local wall=$((($(now_us) - t0) / 1000))
  cpu_after=$(cpu_ticks "$me")
  echo "$wall $(((cpu_after - cpu_before) * 1000 / $(getconf CLK_TCK)))"
}

# ------------------------------------------------------------------------------ workloads
echo "== generating workloads"
python3 "$repo/test/bench/gen_project.py" "$work/project" "$tus" 300 10
{
  for h in algorithm any array atomic bitset chrono complex condition_variable deque \
    filesystem fstream functional future iomanip iostream istream iterator limits list \
    locale map memory mutex numeric optional ostream queue random ratio regex set sstream \
    stack string string_view thread tuple type_traits unordered_map unordered_set utility \
    valarray variant vector; do
    echo "#include <$h>"
  done
  # BENCH_SALT reaches the preprocessed output, so a salted compile is a miss for every cache.
  echo '#ifndef BENCH_SALT'
  echo '#define BENCH_SALT 0'
  echo '#endif'
  echo 'int salt = BENCH_SALT;'
  echo 'int main() { std::vector<int> v{3, 1, 2}; std::sort(v.begin(), v.end()); return v[0]; }'
} >"$work/heavy.cpp"
printf 'int main(void) { return 0; }\n' >"$work/trivial.c"
gcc -O2 "$work/trivial.c" -o "$work/trivial"
restart_server

echo "== per-compile latency (workload c), contenders interleaved"
latency=(plain ccache ccrex ccrex-server)
: >"$work/times-trivial"
for ((i = 0; i < hit_reps; i++)); do
  time_one "$work/times-trivial" "$work/trivial"
done
record c trivial-program startup "$work/times-trivial"
cd "$work"
for c in "${latency[@]}"; do
  use "$c"
  clear_cache "$c"
  : >"$work/times-$c-miss"
  : >"$work/times-$c-miss.cpu"
  : >"$work/times-$c-hit"
  : >"$work/times-$c-hit.cpu"
done
# Misses: every run has its own salt, so no cache can answer it.
for ((i = 0; i < miss_reps; i++)); do
  for c in "${latency[@]}"; do
    use "$c"
    time_one "$work/times-$c-miss" ${LAUNCHER:+"$LAUNCHER"} g++ -O2 -c heavy.cpp -o "heavy-$c.o" \
      -DBENCH_SALT=$RANDOM$i
  done
done
for c in "${latency[@]}"; do
  use "$c"
  record c "$c" miss "$work/times-$c-miss" "$(cpu_ms_per_run "$work/times-$c-miss")"
done
# Hits: the same compile again (after one warm-up run that stores it).
for c in "${latency[@]:1}"; do
  use "$c"
  "$LAUNCHER" g++ -O2 -c heavy.cpp -o "heavy-$c.o"
done
# The trivial program takes its turn among the hits too, so that the start-up the hits are
# compared with is measured under the same conditions (each run finds the CPU caches full of
# the previous contender's data).
: >"$work/times-trivial-interleaved"
for ((i = 0; i < hit_reps; i++)); do
  time_one "$work/times-trivial-interleaved" "$work/trivial"
  for c in "${latency[@]:1}"; do
    use "$c"
    time_one "$work/times-$c-hit" "$LAUNCHER" g++ -O2 -c heavy.cpp -o "heavy-$c.o"
  done
done
record c trivial-program startup_interleaved "$work/times-trivial-interleaved"
for c in "${latency[@]:1}"; do
  use "$c"
  record c "$c" hit "$work/times-$c-hit" "$(cpu_ms_per_run "$work/times-$c-hit")"
done
# The same hits back to back, one contender at a time (like the trivial program's own loop
# above): each run finds its own data still in the CPU caches.
for c in ccache ccrex; do
  use "$c"
  : >"$work/times-$c-hit-b2b"
  for ((i = 0; i < hit_reps; i++)); do
    time_one "$work/times-$c-hit-b2b" "$LAUNCHER" g++ -O2 -c heavy.cpp -o "heavy-$c.o"
  done
  record c "$c" hit_back_to_back "$work/times-$c-hit-b2b" \
    "$(cpu_ms_per_run "$work/times-$c-hit-b2b")"
done

echo "== client and agent memory"
use ccrex
cd "$work"
client_rss=$( (/usr/bin/time -f %M "$bin/ccrex" g++ -O2 -c heavy.cpp -o heavy.o) 2>&1 | tail -1)
echo "c,ccrex,client_peak_rss_kib,$client_rss,,," >>"$csv"

echo "== whole builds (workloads a and b, -j$jobs): cold once each, then warm rebuilds interleaved"
# Every contender builds its own copy of (a) and its own googletest build tree, so the warm
# rebuilds can take turns.
contenders=(plain ccache ccrex ccrex-server)
for c in "${contenders[@]}"; do
  use "$c"
  clear_cache "$c"
  rm -rf "$work/project-$c"
  cp -r "$work/project" "$work/project-$c"
  sed -i "s|^launcher =.*|launcher = $LAUNCHER|" "$work/project-$c/build.ninja"
  cmake -G Ninja -S /usr/src/googletest -B "$work/gtest-$c" -DCMAKE_BUILD_TYPE=Release \
    ${LAUNCHER:+-DCMAKE_C_COMPILER_LAUNCHER=$LAUNCHER -DCMAKE_CXX_COMPILER_LAUNCHER=$LAUNCHER} \
    >/dev/null
  for w in a b; do
    dir=$work/project-$c
    [[ $w == b ]] && dir=$work/gtest-$c
    read -r wall cpu <<<"$(build_once "$dir")"
    echo "$wall" >"$work/build-$w-$c-cold"
    record "$w" "$c" build_cold "$work/build-$w-$c-cold" "$cpu"
    : >"$work/build-$w-$c-warm"
    : >"$work/build-$w-$c-warm.cpu"
  done
done
for ((i = 0; i < build_reps; i++)); do
  for c in "${contenders[@]:1}"; do
    use "$c"
    for w in a b; do
      dir=$work/project-$c
      [[ $w == b ]] && dir=$work/gtest-$c
      read -r wall cpu <<<"$(build_once "$dir")"
      echo "$wall" >>"$work/build-$w-$c-warm"
      echo "$cpu" >>"$work/build-$w-$c-warm.cpu"
    done
  done
done
for c in "${contenders[@]:1}"; do
  for w in a b; do
    record "$w" "$c" build_warm "$work/build-$w-$c-warm" \
      "$(sort -n "$work/build-$w-$c-warm.cpu" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
  done
done

echo "== high parallelism and agent memory (ccrex)"
use ccrex
: >"$work/build-a-j64"
for ((i = 0; i < build_reps; i++)); do
  ninja -C "$work/project-ccrex" -t clean >/dev/null
  t0=$(now_us)
  ninja -C "$work/project-ccrex" -j 64 >/dev/null
  echo "$((($(now_us) - t0) / 1000))" >>"$work/build-a-j64"
done
record a ccrex build_warm_j64 "$work/build-a-j64"
# Agent RSS over 2,000 more compiles (warm rebuilds of a), sampled after each rebuild.
agent=$(cat "$CCREX_AGENT_DIR/agent.pid")
rss() { awk '/VmRSS/ { print $2 }' "/proc/$agent/status"; }
first_rss=$(rss)
max_rss=$first_rss
for ((n = 0; n < 2000; n += tus)); do
  ninja -C "$work/project-ccrex" -t clean >/dev/null
  ninja -C "$work/project-ccrex" -j "$jobs" >/dev/null
  r=$(rss)
  ((r > max_rss)) && max_rss=$r
done
echo "a,ccrex,agent_rss_before_2000_kib,$first_rss,,," >>"$csv"
echo "a,ccrex,agent_rss_after_2000_kib,$(rss),,," >>"$csv"
echo "a,ccrex,agent_rss_max_2000_kib,$max_rss,,," >>"$csv"
for c in ccrex ccrex-server; do
  use "$c"
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$(cat "$CCREX_AGENT_DIR/agent.pid")/status")
  echo "a+b,$c,agent_peak_rss_kib,$hwm,,," >>"$csv"
done
for c in ccrex ccrex-server; do
  use "$c"
  fell_back=$("$bin/ccrex" --print-stats | awk '$1 ~ /^(fallback_|local_)/ { n += $2 } END { print n + 0 }')
  echo "a+b+c,$c,fallbacks_or_local_runs,$fell_back,,," >>"$csv"
done
use ccrex
echo "   ccrex counters over the whole run:"
"$bin/ccrex" --print-stats | sed 's/^/   /'

echo
echo "== results (ms; ratio = contender / plain and / ccache for the same measure)"
python3 - "$csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
val = {(r["workload"], r["contender"], r["measure"]): float(r["median_ms"]) for r in rows if r["median_ms"]}
def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"
print(f"{'workload':9}{'contender':14}{'measure':22}{'median':>10}{'p10':>9}{'p90':>9}{'cpu':>9}{'/plain':>8}{'/ccache':>9}")
for r in rows:
    if not r["median_ms"]:
        continue
    m = float(r["median_ms"])
    key = (r["workload"], r["measure"])
    plain = val.get((r["workload"], "plain", r["measure"].replace("warm", "cold").replace("hit", "miss")))
    cc = val.get((r["workload"], "ccache", r["measure"]))
    print(f"{r['workload']:9}{r['contender']:14}{r['measure']:22}{m:10.1f}{r['p10_ms'] or '':>9}{r['p90_ms'] or '':>9}{r['cpu_ms'] or '':>9}"
          f"{ratio(m, plain) if plain else '-':>8}{ratio(m, cc) if cc else '-':>9}")
hit = val.get(("c", "ccrex", "hit")); cchit = val.get(("c", "ccache", "hit"))
trivial = val.get(("c", "trivial-program", "startup_interleaved"))
hit_b2b = val.get(("c", "ccrex", "hit_back_to_back")); trivial_b2b = val.get(("c", "trivial-program", "startup"))
print()
print("targets:")
def target(name, ok):
    print(f"  {'met ' if ok else 'MISS'} {name}")
if hit and cchit: target(f"warm hit <= ccache hit ({hit:.1f} vs {cchit:.1f} ms)", hit <= cchit)
if hit and trivial: target(f"warm hit <= 2x trivial program start, interleaved ({hit:.1f} vs {trivial:.1f} ms)", hit <= 2 * trivial)
if hit_b2b and trivial_b2b: target(f"warm hit <= 2x trivial program start, back to back ({hit_b2b:.1f} vs {trivial_b2b:.1f} ms)", hit_b2b <= 2 * trivial_b2b)
for w in "ab":
    a = val.get((w, "ccrex", "build_warm")); b = val.get((w, "ccache", "build_warm"))
    if a and b: target(f"({w}) warm rebuild <= ccache warm ({a:.0f} vs {b:.0f} ms)", a <= b)
    a = val.get((w, "ccrex", "build_cold")); b = val.get((w, "plain", "build_cold"))
    if a and b: target(f"({w}) cold build <= 1.10x plain ({a:.0f} vs {b:.0f} ms)", a <= 1.1 * b)
rss = val.get(("c", "ccrex", "client_peak_rss_kib"))
if rss: target(f"client peak RSS <= 4 MiB ({rss / 1024:.1f} MiB)", rss <= 4096)
before = val.get(("a", "ccrex", "agent_rss_before_2000_kib")); after = val.get(("a", "ccrex", "agent_rss_max_2000_kib"))
if before and after: target(f"agent RSS bounded over 2,000 compiles ({before / 1024:.0f} -> max {after / 1024:.0f} MiB, within +25%)", after <= 1.25 * before)
j64 = val.get(("a", "ccrex", "build_warm_j64")); jn = val.get(("a", "ccrex", "build_warm"))
for c in ("ccrex", "ccrex-server"):
    n = val.get(("a+b+c", c, "fallbacks_or_local_runs"))
    if n is not None: target(f"{c}: no compile fell back or ran locally ({n:.0f})", n == 0)
if j64 and jn: target(f"-j64 warm rebuild <= -j{__import__('os').cpu_count()} ({j64:.0f} vs {jn:.0f} ms)", j64 <= jn)
PY
echo
echo "CSV: $csv"
