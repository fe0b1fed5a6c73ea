#!/usr/bin/env bash
# What ccrex-server's tree cache saves on a hermetic miss: two servers from the same build,
# one with --tree-cache-size 0 (every input root staged as a copy, the compiler's closure
# included) and one with the default cache (the closure's directories mounted read-only
# from the store after their second use), both measured in one run.
#
#   test/bench/tree_cache_bench.sh [--quick] [-n MISSES]
#
# One ccrexd agent per server (fresh cache directories, hermetic_toolchain on) sends MISSES
# distinct small C compiles (each has its own -D salt, so no cache can answer it) to each
# server over TCP on 127.0.0.1; the two take turns compile by compile, so background load
# hits both alike. Prints medians, means and p90 of the wall time per miss, the server's CPU
# per miss (with the children it waited for), and the ratios cached/copy. Needs bubblewrap
# working for the server (the input root as / exists only in its sandbox).
# CCREX_BUILD_DIR picks a build to use as it is (default build-bench, a Release build made
# here).
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
misses=40
while (($#)); do
  case $1 in
  --quick) misses=6 ;;
  -n) misses=$2 && shift ;;
  *) echo "usage: $0 [--quick] [-n MISSES]" >&2 && exit 2 ;;
  esac
  shift
done

work=$(bench_scratch ccrex-tree-cache-bench)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bench_stop_agents "$work"/agent-*
  rm -rf "$work"
}
trap cleanup EXIT

bench_build ccrex ccrexd ccrex-server ccrex-action-init
bench_clean_env "$work"
contenders=(copy cached)
declare -A server_args=([copy]="--tree-cache-size 0" [cached]="")

# ------------------------------------------------------------------------------ servers
declare -A server_pid server_port
for c in "${contenders[@]}"; do
  # shellcheck disable=SC2086 # server_args holds zero or two words
  "$bin/ccrex-server" ${server_args[$c]} --listen 127.0.0.1:0 --cache-dir "$work/store-$c" \
    >"$work/server-$c.out" 2>&1 &
  server_pid[$c]=$!
  pids+=("${server_pid[$c]}")
  for _ in $(seq 400); do
    grep -q "listening on" "$work/server-$c.out" 2>/dev/null && break
    sleep 0.05
  done
  server_port[$c]=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
    "$work/server-$c.out" | head -1)
  [[ -n ${server_port[$c]} ]] || { cat "$work/server-$c.out" >&2 && exit 1; }
done

# use CONTENDER: the environment of the agent that talks to CONTENDER's server.
use() {
  export CCREX_DIR=$work/ccrex-$1 CCREX_AGENT_DIR=$work/agent-$1
  export CCREX_REMOTE=grpc://127.0.0.1:${server_port[$1]} CCREX_HERMETIC_TOOLCHAIN=true
}

# ------------------------------------------------------------------------------ workload
mkdir -p "$work/project"
{
  echo '#include <stdio.h>'
  echo 'int salt = BENCH_SALT;'
  # shellcheck disable=SC2028 # the \n is C source, not for echo
  echo 'int main(void) { printf("%d\n", salt); return 0; }'
} >"$work/project/unit.c"
cd "$work/project"

server_cpu() {
  awk '{ print $14 + $15 + $16 + $17 }' "/proc/${server_pid[$1]}/stat"
}

echo "== warming up (agents start, closures uploaded, the cached server builds its trees)"
for c in "${contenders[@]}"; do
  use "$c"
  for k in 1 2 3; do
    "$bin/ccrex" gcc -c unit.c -o "warm-$c.o" -DBENCH_SALT="-$k$RANDOM"
  done
done
declare -A cpu0
for c in "${contenders[@]}"; do
  : >"$work/times-$c"
  use "$c"
  "$bin/ccrex" -z >/dev/null
  cpu0[$c]=$(server_cpu "$c")
done

echo "== $misses hermetic misses through each server, taking turns"
for ((i = 1; i <= misses; i++)); do
  order=("${contenders[@]:i%2}" "${contenders[@]:0:i%2}")
  for c in "${order[@]}"; do
    use "$c"
    t0=${EPOCHREALTIME/[.,]/}
    "$bin/ccrex" gcc -c unit.c -o "out-$c.o" -DBENCH_SALT="$i$RANDOM"
    t1=${EPOCHREALTIME/[.,]/}
    echo "$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))" >>"$work/times-$c"
  done
done

# ------------------------------------------------------------------------------ report
summary() {
  sort -n "$1" | awk '{ v[NR] = $1; s += $1 } END {
    hi = v[int(NR * 0.9 + 0.5)]; if (hi == "") hi = v[NR]
    printf "%.1f %.1f %.1f", v[int((NR + 1) / 2)], s / NR, hi }'
}
hz=$(getconf CLK_TCK)
# shellcheck disable=SC2034 # read through the nameref below
declare -A med mean p90 cpu remote
for c in "${contenders[@]}"; do
  read -r "med[$c]" "mean[$c]" "p90[$c]" <<<"$(summary "$work/times-$c")"
  # shellcheck disable=SC2034 # read through the nameref below
  cpu[$c]=$(awk -v a="$(server_cpu "$c")" -v b="${cpu0[$c]}" -v hz="$hz" -v n="$misses" \
    'BEGIN { printf "%.1f", (a - b) * 1000 / hz / n }')
  use "$c"
  remote[$c]=$("$bin/ccrex" -s | awk '/Executed remotely:/ { print $NF }')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo
echo "hermetic miss (gcc, input root as /): $misses distinct compiles"
echo "| measure | copy (ms) | cached (ms) | cached/copy |"
echo "| --- | --- | --- | --- |"
for m in med mean p90 cpu; do
  declare -n v=$m
  case $m in
  med) label="wall per miss, median" ;;
  mean) label="wall per miss, mean" ;;
  p90) label="wall per miss, p90" ;;
  cpu) label="server CPU per miss (+ children)" ;;
  esac
  echo "| $label | ${v[copy]} | ${v[cached]} | $(ratio "${v[cached]}" "${v[copy]}") |"
  unset -n v
done
echo
echo "tree cache of the cached server: $(du -sh "$work/store-cached/trees" 2>/dev/null | cut -f1) in" \
  "$(find "$work/store-cached/trees" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) trees"
for c in "${contenders[@]}"; do
  echo "compiles executed on the $c server: ${remote[$c]} of $misses"
done
