#!/usr/bin/env bash
# The first compiles through a fresh agent: a cold build of test/realbuild/cproject (five
# compiles, make -j) with a new cache and a new agent each time, for the ccrex of this
# working tree and for a baseline, taking turns, against the plain compiler and a cold
# ccache in the same run. Also times one single compile through a fresh agent.
#
#   test/bench/cold_start_bench.sh [--quick] [--baseline-bin DIR]
#
# The baseline is $CCREX_BENCH_BASELINE, or the commit before the one that added
# src/server/startup_probes.cpp (HEAD while that is not committed), built in a worktree
# under the scratch directory; --baseline-bin DIR takes its ccrex, ccrexd and
# ccrex-action-init from DIR instead. Prints median wall milliseconds and their ratios.
# --quick: 3 repetitions instead of 11 (for checking the script). BENCH_REPS overrides.
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
reps=${BENCH_REPS:-11}
baseline_bin=""
while (($#)); do
  case $1 in
  --quick) reps=${BENCH_REPS:-3} ;;
  --baseline-bin) baseline_bin=$(cd "$2" && pwd) && shift ;;
  *)
    echo "usage: $0 [--quick] [--baseline-bin DIR]" >&2
    exit 2
    ;;
  esac
  shift
done
for tool in gcc make ccache; do
  command -v "$tool" >/dev/null || {
    echo "cold_start_bench: $tool is missing" >&2
    exit 1
  }
done

work=$(bench_scratch ccrex-cold-start-bench)
base_tree=$work/baseline-src
cleanup() {
  bench_stop_agents "$work"/agent-*
  bench_remove_worktree "$base_tree" ""
  rm -rf "$work"
}
trap cleanup EXIT

added=$(git -C "$repo" log --diff-filter=A --format=%H -- src/server/startup_probes.cpp | tail -1)
if [[ -n ${CCREX_BENCH_BASELINE:-} ]]; then
  baseline=$CCREX_BENCH_BASELINE
elif [[ -n $added ]]; then
  baseline=$(git -C "$repo" rev-parse "$added^")
else
  baseline=$(git -C "$repo" rev-parse HEAD)
fi
bench_build ccrex ccrexd ccrex-action-init
if [[ -z $baseline_bin ]]; then
  echo "baseline: $(git -C "$repo" log -1 --format='%h %s' "$baseline" | cut -c1-72)"
  bench_baseline "$baseline" "$base_tree" "$base_tree/build-rel" ccrex ccrexd ccrex-action-init
  baseline_bin=$base_tree/build-rel/src/bin
else
  echo "baseline: the binaries in $baseline_bin"
fi
bench_clean_env "$work"
declare -A bins=([old]=$baseline_bin [new]=$bin)

cp -r "$repo/test/realbuild/cproject" "$work/make"
git -C "$work/make" init -q # the project root for its "../" includes
printf 'int one(void) { return 1; }\n' >"$work/one.c"
git -C "$work" init -q
csv=$work/cold.csv
echo "case,contender,wall_ms" >"$csv"

now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

# cold CONTENDER REP: a fresh agent and cache, then the cold build and a lone compile.
cold() {
  local c=$1 rep=$2 t0 t1 cc
  cc="gcc"
  case $c in
  ccache) export CCACHE_DIR=$work/ccache-$rep && cc="ccache gcc" ;;
  old | new)
    export CCREX_AGENT_DIR=$work/agent-$c-$rep CCREX_DIR=$work/cache-$c-$rep
    mkdir -p "$CCREX_AGENT_DIR" && chmod 700 "$CCREX_AGENT_DIR"
    cc="${bins[$c]}/ccrex gcc"
    ;;
  esac
  make -C "$work/make" -s clean >/dev/null 2>&1
  t0=$(now_us)
  make -C "$work/make" -s -j"$(nproc)" CC="$cc" >"$work/make.out" 2>&1 || {
    tail -20 "$work/make.out" >&2
    exit 1
  }
  t1=$(now_us)
  echo "make,$c,$(((t1 - t0) / 1000))" >>"$csv"
  if [[ $c == old || $c == new ]]; then
    "${bins[$c]}/ccrex" --stop-agent >/dev/null 2>&1 || true
    rm -rf "$CCREX_DIR"
  fi
  t0=$(now_us)
  (cd "$work" && $cc -c one.c -o one.o)
  t1=$(now_us)
  echo "one,$c,$(((t1 - t0) / 1000))" >>"$csv"
  if [[ $c == old || $c == new ]]; then
    "${bins[$c]}/ccrex" --stop-agent >/dev/null 2>&1 || true
  fi
  unset CCACHE_DIR CCREX_AGENT_DIR CCREX_DIR
}

for ((rep = 1; rep <= reps; rep++)); do
  echo "== repetition $rep of $reps"
  # The order turns each time, so that a change in the machine's load hits all alike.
  if ((rep % 2)); then order=(plain ccache old new); else order=(new old ccache plain); fi
  for c in "${order[@]}"; do
    cold "$c" "$rep"
  done
done

echo
echo "== medians over $reps repetitions, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for r in rows:
    med.setdefault((r["case"], r["contender"]), []).append(float(r["wall_ms"]))
med = {k: statistics.median(v) for k, v in med.items()}
print(f"{'case':6}{'contender':11}{'wall ms':>9}{'/plain':>8}{'/ccache':>9}{'/old':>7}")
for case in ("make", "one"):
    for c in ("plain", "ccache", "old", "new"):
        w = med[(case, c)]
        print(f"{case:6}{c:11}{w:9.0f}{w / med[(case, 'plain')]:8.2f}"
              f"{w / med[(case, 'ccache')]:9.2f}{w / med[(case, 'old')]:7.2f}")
PY
