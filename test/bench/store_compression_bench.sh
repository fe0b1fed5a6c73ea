#!/usr/bin/env bash
# What keeping the local store compressed costs a hit and a miss, and what it saves on disk:
# agents on the embedded server, one per compression setting, measured in one run.
#
#   test/bench/store_compression_bench.sh [--quick] [-n RUNS] [LEVEL...]
#
# Contenders: "off" (compression = false) and one per zstd LEVEL (default: 1 3 9). Each has
# its own cache directory and agent. The workload is one header-heavy C++ file compiled
# with -g (an object of about 1 MiB, mostly debug information): RUNS hits of the same
# compile, and RUNS misses (each with its own -D salt), the contenders taking turns so
# that background load hits all alike. Prints medians and means per hit and per miss, the
# ratios against "off", and each store's bytes on disk against its content
# (`ccrex --print-stats`). CCREX_BUILD_DIR picks a build to use as it is (default
# build-bench, a Release build made here).
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
runs=21
levels=()
while (($#)); do
  case $1 in
  --quick) runs=5 ;;
  -n) runs=$2 && shift ;;
  -*) echo "usage: $0 [--quick] [-n RUNS] [LEVEL...]" >&2 && exit 2 ;;
  *) levels+=("$1") ;;
  esac
  shift
done
((${#levels[@]})) || levels=(1 3 9)

work=$(bench_scratch ccrex-compression-bench)
cleanup() {
  bench_stop_agents "$work"/agent-*
  rm -rf "$work"
}
trap cleanup EXIT

bench_build ccrex ccrexd ccrex-server ccrex-action-init
bench_clean_env "$work"
contenders=(off)
for l in "${levels[@]}"; do contenders+=("zstd$l"); done

# use CONTENDER: the environment of CONTENDER's agent.
use() {
  export CCREX_DIR=$work/ccrex-$1 CCREX_AGENT_DIR=$work/agent-$1
  unset CCREX_COMPRESSION_LEVEL
  if [[ $1 == off ]]; then
    export CCREX_COMPRESSION=false
  else
    export CCREX_COMPRESSION=true CCREX_COMPRESSION_LEVEL=${1#zstd}
  fi
}

# ------------------------------------------------------------------------------ workload
mkdir -p "$work/project"
cat >"$work/project/unit.cpp" <<'SRC'
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
int salt = BENCH_SALT;
std::string run(const std::string& s) {
  std::map<std::string, std::vector<int>> m;
  std::unordered_map<int, std::shared_ptr<std::string>> u;
  std::regex re("[a-z]+([0-9]*)");
  std::ostringstream out;
  for (std::sregex_iterator it(s.begin(), s.end(), re), end; it != end; ++it) {
    m[it->str()].push_back(salt);
    u[static_cast<int>(m.size())] = std::make_shared<std::string>(it->str(1));
  }
  std::function<int(int)> f = [&](int v) { return v + static_cast<int>(u.size()); };
  for (auto& [k, v] : m) { std::sort(v.begin(), v.end()); out << k << f(v.front()); }
  return out.str();
}
SRC
cd "$work/project"

echo "== warming up (agents start, one miss and one hit each)"
for c in "${contenders[@]}"; do
  use "$c"
  "$bin/ccrex" g++ -g -O1 -c unit.cpp -o "hit-$c.o" -DBENCH_SALT=0
  "$bin/ccrex" g++ -g -O1 -c unit.cpp -o "hit-$c.o" -DBENCH_SALT=0
  : >"$work/hit-$c" && : >"$work/miss-$c"
done

ms() { echo "$((($2 - $1) / 1000)).$(printf '%03d' $((($2 - $1) % 1000)))"; }
echo "== $runs hits and $runs misses per contender, taking turns"
for ((i = 1; i <= runs; i++)); do
  order=("${contenders[@]:i%${#contenders[@]}}" "${contenders[@]:0:i%${#contenders[@]}}")
  for c in "${order[@]}"; do
    use "$c"
    t0=${EPOCHREALTIME/[.,]/}
    "$bin/ccrex" g++ -g -O1 -c unit.cpp -o "hit-$c.o" -DBENCH_SALT=0
    t1=${EPOCHREALTIME/[.,]/}
    ms "$t0" "$t1" >>"$work/hit-$c"
    t0=${EPOCHREALTIME/[.,]/}
    "$bin/ccrex" g++ -g -O1 -c unit.cpp -o "miss-$c.o" -DBENCH_SALT="$i$RANDOM"
    t1=${EPOCHREALTIME/[.,]/}
    ms "$t0" "$t1" >>"$work/miss-$c"
  done
done

# ------------------------------------------------------------------------------ report
summary() {
  sort -n "$1" | awk '{ v[NR] = $1; s += $1 } END { printf "%.1f %.1f", v[int((NR + 1) / 2)], s / NR }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
declare -A hmed hmean mmed mmean disk content
for c in "${contenders[@]}"; do
  read -r "hmed[$c]" "hmean[$c]" <<<"$(summary "$work/hit-$c")"
  read -r "mmed[$c]" "mmean[$c]" <<<"$(summary "$work/miss-$c")"
  use "$c"
  "$bin/ccrex" --print-stats >"$work/stats-$c"
  disk[$c]=$(awk -F'\t' '$1 == "store_bytes_on_disk" { print $2 }' "$work/stats-$c")
  content[$c]=$(awk -F'\t' '$1 == "store_bytes_uncompressed" { print $2 }' "$work/stats-$c")
  cmp -s "hit-$c.o" "hit-off.o" || echo "warning: the $c hit's object differs from off's" >&2
done
echo
echo "object: $(stat -c %s hit-off.o) bytes; $runs hits and $runs misses per contender"
echo "| contender | hit median (ms) | hit mean | miss median (ms) | miss mean | hit/off | miss/off | store on disk | content | ratio |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for c in "${contenders[@]}"; do
  echo "| $c | ${hmed[$c]} | ${hmean[$c]} | ${mmed[$c]} | ${mmean[$c]}" \
    "| $(ratio "${hmed[$c]}" "${hmed[off]}") | $(ratio "${mmed[$c]}" "${mmed[off]}")" \
    "| ${disk[$c]} | ${content[$c]} | $(ratio "${content[$c]}" "${disk[$c]}") |"
done
