#!/usr/bin/env bash
# What a miss costs on ccrex-server since inputs are staged as copies and every action runs
# in a PID namespace of its own (process tree killed, outputs checked on collection),
# against the server from just before those changes, both measured in one run.
#
#   test/bench/staging_bench.sh [--quick] [-n MISSES] [-i HEADERS] [--keep-baseline DIR]
#
# The baseline is built by this script: a git worktree of the commit before the one that
# added src/server/process_tree.cpp (or $CCREX_BENCH_BASELINE), only the ccrex-server
# target, Release. Worktree and build go to a scratch directory removed at the end, or to
# DIR with --keep-baseline DIR, which keeps them for the next run. The current working
# tree is built in Release into build-bench (as bench.sh; $CCREX_BUILD_DIR names a build to
# use as it is instead). One
# ccrexd agent per server (fresh cache directories) sends MISSES distinct small C compiles
# (each has its own -D salt, so no cache can answer it) through each server over TCP on
# 127.0.0.1; each compile reads HEADERS project headers, so every action stages HEADERS + 1
# input files. The two servers take turns compile by compile, so background load hits both
# alike. Prints medians, means and ratios new/old, and the server's CPU time per miss
# (with the children it waited for: compilers and per-action helpers).
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
misses=200
headers=40
keep=""
while (($#)); do
  case $1 in
  --quick) misses=20 ;;
  -n) misses=$2 && shift ;;
  -i) headers=$2 && shift ;;
  --keep-baseline) keep=$2 && shift ;;
  *) echo "usage: $0 [--quick] [-n MISSES] [-i HEADERS] [--keep-baseline DIR]" >&2 && exit 2 ;;
  esac
  shift
done

work=$(bench_scratch ccrex-staging-bench)
base_dir=${keep:-$work}
mkdir -p "$base_dir"
base_tree=$base_dir/baseline-src
base_build=$base_dir/baseline-build
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bench_stop_agents "$work"/agent-*
  bench_remove_worktree "$base_tree" "$keep"
  rm -rf "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------------------------ builds
added=$(git -C "$repo" log --diff-filter=A --format=%H -- src/server/process_tree.cpp | tail -1)
baseline=${CCREX_BENCH_BASELINE:-$(git -C "$repo" rev-parse "$added^")}
echo "baseline: $(git -C "$repo" log -1 --format='%h %s' "$baseline" | cut -c1-72)"
echo "new:      working tree of $repo"
bench_build ccrex ccrexd ccrex-server
bench_baseline "$baseline" "$base_tree" "$base_build" ccrex-server
bench_clean_env "$work"
declare -A server_bin=([old]=$base_build/src/bin/ccrex-server [new]=$bin/ccrex-server)
declare -A server_args=([old]="" [new]="")
contenders=(old new)
# Where the current server confines actions in a sandbox, a third contender runs without
# it, so the table separates staging and collection from the sandbox's own cost; where it
# builds the sandbox itself, a fourth has bubblewrap build it, so the table shows what
# that saves.
if "$bin/ccrex-server" --help | grep -q -- --no-sandbox; then
  server_bin[unconfined]=$bin/ccrex-server
  server_args[unconfined]=--no-sandbox
  contenders+=(unconfined)
fi
if "$bin/ccrex-server" --help | grep -q -- --sandbox-backend; then
  server_bin[bwrap]=$bin/ccrex-server
  server_args[bwrap]="--sandbox-backend bwrap"
  contenders+=(bwrap)
fi

# ------------------------------------------------------------------------------ servers
declare -A server_pid server_port
for c in "${contenders[@]}"; do
  # shellcheck disable=SC2086 # server_args holds words to split
  "${server_bin[$c]}" ${server_args[$c]} --listen 127.0.0.1:0 --cache-dir "$work/store-$c" \
    >"$work/server-$c.out" 2>&1 &
  server_pid[$c]=$!
  pids+=("${server_pid[$c]}")
  for _ in $(seq 200); do
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
  export CCREX_REMOTE=grpc://127.0.0.1:${server_port[$1]}
}

# ------------------------------------------------------------------------------ workload
mkdir -p "$work/project/include"
for ((h = 0; h < headers; h++)); do
  {
    echo "#pragma once"
    for ((k = 0; k < 40; k++)); do
      echo "static inline int h${h}_f$k(int x) { return x * $k + $h; }"
    done
  } >"$work/project/include/h$h.h"
done
{
  for ((h = 0; h < headers; h++)); do echo "#include \"h$h.h\""; done
  echo '#include <stdio.h>'
  echo 'int salt = BENCH_SALT;'
  # shellcheck disable=SC2028 # the \n is C source, not for echo
  echo 'int main(void) { printf("%d\n", salt + h0_f1(2)); return 0; }'
} >"$work/project/unit.c"
cd "$work/project"

# server_cpu CONTENDER: CPU ticks of the server and every child it waited for (the
# compilers, and the helpers that set up each action).
server_cpu() {
  awk '{ print $14 + $15 + $16 + $17 }' "/proc/${server_pid[$1]}/stat"
}

echo "== warming up (agents start, compiler identity probed)"
for c in "${contenders[@]}"; do
  use "$c"
  "$bin/ccrex" gcc -Iinclude -c unit.c -o "warm-$c.o" -DBENCH_SALT=0
done
declare -A cpu0
for c in "${contenders[@]}"; do
  : >"$work/times-$c"
  use "$c"
  "$bin/ccrex" -z >/dev/null
  cpu0[$c]=$(server_cpu "$c")
done

echo "== $misses misses through each server, taking turns"
for ((i = 1; i <= misses; i++)); do
  # Rotate who goes first.
  order=("${contenders[@]:i%${#contenders[@]}}" "${contenders[@]:0:i%${#contenders[@]}}")
  for c in "${order[@]}"; do
    use "$c"
    t0=${EPOCHREALTIME/[.,]/}
    "$bin/ccrex" gcc -Iinclude -c unit.c -o "out-$c.o" -DBENCH_SALT="$i$RANDOM"
    t1=${EPOCHREALTIME/[.,]/}
    echo "$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))" >>"$work/times-$c"
  done
done

# ------------------------------------------------------------------------------ report
# summary FILE: "median mean p90" of the numbers in FILE.
summary() {
  sort -n "$1" | awk '{ v[NR] = $1; s += $1 } END {
    hi = v[int(NR * 0.9 + 0.5)]; if (hi == "") hi = v[NR]
    printf "%.2f %.2f %.2f", v[int((NR + 1) / 2)], s / NR, hi }'
}
hz=$(getconf CLK_TCK)
# shellcheck disable=SC2034 # read through the nameref below
declare -A med mean p90 cpu remote
for c in "${contenders[@]}"; do
  read -r "med[$c]" "mean[$c]" "p90[$c]" <<<"$(summary "$work/times-$c")"
  # shellcheck disable=SC2034 # read through the nameref below
  cpu[$c]=$(awk -v a="$(server_cpu "$c")" -v b="${cpu0[$c]}" -v hz="$hz" -v n="$misses" \
    'BEGIN { printf "%.2f", (a - b) * 1000 / hz / n }')
  use "$c"
  # Every measured compile must have run on the server: none fell back or hit a cache.
  remote[$c]=$("$bin/ccrex" -s | awk '/Executed remotely:/ { print $NF }')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo
echo "staging + collection on a miss: $misses distinct compiles, $((headers + 1)) inputs each"
header="| measure | old (ms) |"
for c in "${contenders[@]:1}"; do header+=" $c (ms) | $c/old |"; done
echo "$header"
echo "|$(printf ' --- |%.0s' $(seq $((2 * ${#contenders[@]}))))"
for m in med mean p90 cpu; do
  declare -n v=$m
  case $m in
  med) line="| wall per miss, median |" ;;
  mean) line="| wall per miss, mean |" ;;
  p90) line="| wall per miss, p90 |" ;;
  cpu) line="| server CPU per miss (+ children) |" ;;
  esac
  line+=" ${v[old]} |"
  for c in "${contenders[@]:1}"; do line+=" ${v[$c]} | $(ratio "${v[$c]}" "${v[old]}") |"; done
  echo "$line"
  unset -n v
done

# Where the difference goes: the pieces a miss on the new server adds, alone.
# piece LABEL CMD...: print the CPU (this shell's waited children) and wall time of one
# run of CMD, averaged over 50.
piece() {
  local label=$1 c0 c1 t0 t1
  shift
  c0=$(awk '{ print $16 + $17 }' /proc/$$/stat)
  t0=${EPOCHREALTIME/[.,]/}
  for ((k = 0; k < 50; k++)); do "$@" >/dev/null; done
  t1=${EPOCHREALTIME/[.,]/}
  c1=$(awk '{ print $16 + $17 }' /proc/$$/stat)
  awk -v l="$label" -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v hz="$hz" \
    'BEGIN { printf "| %s | %.2f | %.2f |\n", l, c * 1000 / hz / 50, t / 1000 / 50 }'
}
ns=(/usr/bin/unshare)
(($(id -u) == 0)) || ns+=(--user --map-current-user)
ns+=(--pid --fork --kill-child --)
# shellcheck disable=SC2016 # Perl source
init=(/usr/bin/perl -e 'my $st = shift; my $p = fork; if ($p == 0) { exec { $ARGV[0] } @ARGV }
  waitpid($p, 0); exit($? >> 8)' -- "$work/status")
copy_inputs() { rm -rf "$work/staged" && cp -r "$work/project/include" "$work/staged"; }
link_inputs() { rm -rf "$work/staged" && cp -rl "$work/project/include" "$work/staged"; }
echo
echo "per action, alone (mean of 50):"
echo "| piece | CPU (ms) | wall (ms) |"
echo "| --- | --- | --- |"
piece "/bin/true (a process start)" /bin/true
piece "unshare --pid --fork, then /bin/true" "${ns[@]}" /bin/true
piece "unshare, perl init, then /bin/true" "${ns[@]}" "${init[@]}" /bin/true
piece "unshare, sh init, then /bin/true" "${ns[@]}" /bin/sh -c 'shift; "$@"' sh "$work/status" \
  /bin/true
if [[ -x $bin/ccrex-action-init ]]; then
  piece "ccrex-action-init, then /bin/true" "$bin/ccrex-action-init" "$work/status" /bin/true
fi
# The sandbox of a host-root action, built by the server's own program and by bubblewrap
# (the options the server gives each; the status descriptor is 4, the root 3).
mkdir -p "$work/sandbox-root"
mounts=(--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64
  /lib64 --ro-bind /etc /etc --dev /dev --proc /proc --tmpfs /tmp
  --bind-fd 3 "$work/sandbox-root" --chdir "$work/sandbox-root")
native_sandbox() {
  "$bin/ccrex-action-init" --sandbox --hostname ccrex --unshare-net "${mounts[@]}" \
    --status-fd 4 -- /bin/true 3<"$work/sandbox-root" 4>"$work/status"
}
bwrap_sandbox() {
  /usr/bin/bwrap --unshare-user --unshare-ipc --unshare-pid --unshare-uts --hostname ccrex \
    --unshare-cgroup-try --disable-userns --die-with-parent --new-session --cap-drop ALL \
    --unshare-net "${mounts[@]}" --as-pid-1 -- /proc/self/fd/5 --status-fd 4 --close-fd 5 -- \
    /bin/true 3<"$work/sandbox-root" 4>"$work/status" 5<"$bin/ccrex-action-init"
}
if { "$bin/ccrex-action-init" --sandbox 2>&1 || true; } | grep -q -- --sandbox; then
  piece "sandbox by ccrex-action-init --sandbox, then /bin/true" native_sandbox
fi
if [[ -x /usr/bin/bwrap ]]; then
  piece "sandbox by bwrap + ccrex-action-init --status-fd, then /bin/true" bwrap_sandbox
fi
piece "stage $headers headers by hard links (cp -rl)" link_inputs
piece "stage $headers headers by copies (cp -r)" copy_inputs
for c in "${contenders[@]}"; do
  echo "compiles executed on the $c server: ${remote[$c]} of $misses"
  if [[ ${remote[$c]} != "$misses" ]]; then
    echo "warning: some compiles did not run on the server; the figures are not comparable" >&2
  fi
done
