#!/usr/bin/env bash
# What an idle ccrexd costs in memory: after it starts, after 200 distinct compiles (the
# generated C++ project of bench.sh, every unit a miss), and after 10,000 more compiles
# (warm rebuilds of the same project: hits, which are cheap), for the agent of the current
# working tree and for one built from a baseline commit, both measured in one run.
#
#   test/bench/agent_memory_bench.sh [--quick] [--hits N] [--keep-baseline DIR]
#                                    [--baseline-bin DIR]
#
# The baseline is $CCREX_BENCH_BASELINE, or the commit before the one that added
# src/agent/process_memory.cpp. It is built (ccrex and ccrexd, Release) in a git worktree
# under a scratch directory removed at the end, or under DIR with --keep-baseline DIR (kept
# for the next run; inside the ccache base_dir, the build mostly hits). --baseline-bin DIR
# takes the baseline's ccrex and ccrexd from DIR instead (built earlier, from any commit)
# and builds nothing for it. The working tree is built in Release into build-bench (as
# bench.sh; $CCREX_BUILD_DIR names a build to use as it is instead).
#
# Each figure is read from /proc/PID/smaps_rollup once the agent has been idle for a few
# seconds: RSS (everything resident, shared library text included) and Private_Dirty (the
# pages only this agent wrote: what it really costs; file-backed pages can be dropped and
# reread by the kernel at any time). The two agents take turns phase by phase. --quick: 40
# units and 2,000 hits.
#
# Then the time of one hit: the same unit compiled again through each agent, taking turns,
# 300 times (100 with --quick), median and ratio; a change that makes hits slower shows
# there. Last, the target: an idle agent at most 30 MiB RSS after the misses and after the
# hits.
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
tus=200
hits=10000
probes=300
keep=""
baseline_bin=""
while (($#)); do
  case $1 in
  --quick) tus=40 && hits=2000 && probes=100 ;;
  --hits) hits=$2 && shift ;;
  --keep-baseline) keep=$2 && shift ;;
  --baseline-bin) baseline_bin=$(cd "$2" && pwd) && shift ;;
  *)
    echo "usage: $0 [--quick] [--hits N] [--keep-baseline DIR] [--baseline-bin DIR]" >&2
    exit 2
    ;;
  esac
  shift
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ccrex-memory-bench.XXXXXX")
base_dir=${keep:-$work}
mkdir -p "$base_dir"
base_tree=$base_dir/baseline-src
base_build=$base_tree/build-rel
cleanup() {
  bench_stop_agents "$work"/agent-*
  bench_remove_worktree "$base_tree" "$keep"
  rm -rf "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------------------------ builds
added=$(git -C "$repo" log --diff-filter=A --format=%H -- src/agent/process_memory.cpp | tail -1)
if [[ -n ${CCREX_BENCH_BASELINE:-} ]]; then
  baseline=$CCREX_BENCH_BASELINE
elif [[ -n $added ]]; then
  baseline=$(git -C "$repo" rev-parse "$added^")
else
  baseline=$(git -C "$repo" rev-parse HEAD) # not committed yet: HEAD is the baseline
fi
if [[ -n $baseline_bin ]]; then
  echo "baseline: the ccrex and ccrexd in $baseline_bin"
else
  echo "baseline: $(git -C "$repo" log -1 --format='%h %s' "$baseline" | cut -c1-72)"
fi
echo "new:      working tree of $repo"
bench_build ccrex ccrexd
if [[ -z $baseline_bin ]]; then
  bench_baseline "$baseline" "$base_tree" "$base_build" ccrex ccrexd
  baseline_bin=$base_build/src/bin
fi
bench_clean_env "$work"
new_bin=$bin
unset bin
declare -A bin=([old]=$baseline_bin [new]=$new_bin)
contenders=(old new)

# ------------------------------------------------------------------------------ workload
python3 "$repo/test/bench/gen_project.py" "$work/project" "$tus" 300 10
for c in "${contenders[@]}"; do
  cp -r "$work/project" "$work/project-$c"
  sed -i "s|^launcher =.*|launcher = ${bin[$c]}/ccrex|" "$work/project-$c/build.ninja"
  mkdir -p "$work/agent-$c" && chmod 700 "$work/agent-$c"
done
# use CONTENDER: the environment of CONTENDER's agent, in its project directory.
use() {
  export CCREX_DIR=$work/ccrex-$1 CCREX_AGENT_DIR=$work/agent-$1 CCREX_IDLE_TIMEOUT=3600
  cd "$work/project-$1"
}
# memory CONTENDER PHASE: record the agent's RSS, Private_Dirty (KiB) and threads after a
# quiet period (the agent hands freed memory back once it has been quiet for 3 s).
declare -A rss dirty threads
memory() {
  sleep 5
  local pid
  pid=$(cat "$work/agent-$1/agent.pid")
  rss[$1,$2]=$(awk '/^Rss:/ { print $2 }' "/proc/$pid/smaps_rollup")
  dirty[$1,$2]=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$pid/smaps_rollup")
  threads[$1,$2]=$(ls "/proc/$pid/task" | wc -l)
}
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
now_ms() { echo $(($(now_us) / 1000)); }
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== starting the agents"
for c in "${contenders[@]}"; do
  use "$c"
  "${bin[$c]}/ccrex" g++ -c tu0.cpp -Iinclude -o "$work/first-$c.o" # starts the agent
  "${bin[$c]}/ccrex" -z >/dev/null
  memory "$c" start
done
echo "== $tus misses each"
for c in "${contenders[@]}"; do
  use "$c"
  ninja -j2 >/dev/null
  memory "$c" misses
done
rounds=$(((hits + tus - 1) / tus))
echo "== $((rounds * tus)) hits each ($rounds warm rebuilds), taking turns"
declare -A warm
for c in "${contenders[@]}"; do : >"$work/warm-$c"; done
for ((r = 0; r < rounds; r++)); do
  for c in "${contenders[@]}"; do
    use "$c"
    rm -rf obj
    t0=$(now_ms)
    ninja -j2 >/dev/null
    echo $(($(now_ms) - t0)) >>"$work/warm-$c"
  done
done
for c in "${contenders[@]}"; do
  use "$c"
  memory "$c" hits
  warm[$c]=$(median "$work/warm-$c")
  hit_count=$("${bin[$c]}/ccrex" -s | awk '/^ *Hits:/ { print $2 }')
  echo "$c: $hit_count hits of $((tus + rounds * tus)) compiles since the first"
done
echo "== one hit (tu1.cpp) $probes times each, taking turns"
declare -A hit_us
for c in "${contenders[@]}"; do : >"$work/hit-$c"; done
for ((r = 0; r < probes; r++)); do
  for c in "${contenders[@]}"; do
    use "$c"
    t0=$(now_us)
    "${bin[$c]}/ccrex" g++ -O1 -Iinclude -c tu1.cpp -o obj/tu1.o
    echo $(($(now_us) - t0)) >>"$work/hit-$c"
  done
done
for c in "${contenders[@]}"; do hit_us[$c]=$(median "$work/hit-$c"); done

# ------------------------------------------------------------------------------ report
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "idle agent memory (MiB), $tus units, then $((rounds * tus)) hits"
echo "| measure | old | new | new/old |"
echo "| --- | --- | --- | --- |"
for phase in start misses hits; do
  case $phase in
  start) label="after start (one compile)" ;;
  misses) label="after $tus misses" ;;
  hits) label="after $((rounds * tus)) more hits" ;;
  esac
  echo "| RSS, $label | $(mib "${rss[old,$phase]}") | $(mib "${rss[new,$phase]}") |" \
    "$(ratio "${rss[new,$phase]}" "${rss[old,$phase]}") |"
  echo "| Private_Dirty, $label | $(mib "${dirty[old,$phase]}") |" \
    "$(mib "${dirty[new,$phase]}") | $(ratio "${dirty[new,$phase]}" "${dirty[old,$phase]}") |"
done
echo "| threads, idle | ${threads[old,hits]} | ${threads[new,hits]} | |"
echo "| warm rebuild of $tus units, median (ms) | ${warm[old]} | ${warm[new]} |" \
  "$(ratio "${warm[new]}" "${warm[old]}") |"
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
echo "| one hit, median of $probes (ms) | $(ms "${hit_us[old]}") | $(ms "${hit_us[new]}") |" \
  "$(ratio "${hit_us[new]}" "${hit_us[old]}") |"
echo
target=$((30 * 1024))
for phase in misses hits; do
  verdict="met"
  ((rss[new,$phase] <= target)) || verdict="NOT met"
  echo "target: idle RSS <= 30 MiB after the $phase: $(mib "${rss[new,$phase]}") MiB, $verdict"
done
echo "hit latency new/old: $(ratio "${hit_us[new]}" "${hit_us[old]}") (load average:" \
  "$(cut -d' ' -f1-3 /proc/loadavg))"
