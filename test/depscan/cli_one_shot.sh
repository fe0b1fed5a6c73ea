#!/usr/bin/env bash
# The ccrex-depscan CLI in its two allocation modes against g++ -M, on every googletest
# source and on a file including every standard header:
#
#   cli_one_shot.sh path/to/ccrex-depscan
#
# A plain run scans once on the one-shot arena allocator (tools/one_shot_allocator.h);
# `--repeat 3` keeps the standard allocator, answers the later scans from the scan cache and
# prints the last one. Both must print the same rule, and that rule must name every file
# g++ -M names (spelled the same way). Exits 125 (skipped) without g++ or googletest.
set -euo pipefail

scanner=$1
gt=/usr/src/googletest
command -v g++ >/dev/null && [[ -d $gt/googletest/src ]] || exit 125

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CCREX_DEPSCAN_PROBE_CACHE=$work/probe

for h in algorithm chrono filesystem functional iostream map memory regex string thread \
  unordered_map variant vector; do
  echo "#include <$h>"
done >"$work/some_std.cc"

flags=(-std=c++17 -I$gt/googletest/include -I$gt/googletest -I$gt/googlemock/include
  -I$gt/googlemock)
mapfile -t sources < <(find "$gt/googletest/src" "$gt/googlemock/src" -name '*.cc' | sort)
sources+=("$work/some_std.cc")

# prerequisites RULE_FILE: the files of a make rule, one per line, sorted.
prerequisites() {
  sed -e 's/\\$//' "$1" | tr ' ' '\n' | grep -v ':$' | grep -v '^$' | sort -u
}

failed=0
for src in "${sources[@]}"; do
  "$scanner" g++ "${flags[@]}" "$src" >"$work/one_shot.d"
  "$scanner" --repeat 3 g++ "${flags[@]}" "$src" >"$work/repeat.d" 2>/dev/null
  g++ -M "${flags[@]}" "$src" >"$work/gxx.d"
  if ! cmp -s "$work/one_shot.d" "$work/repeat.d"; then
    echo "FAIL $src: one-shot and repeated scans differ"
    diff "$work/one_shot.d" "$work/repeat.d" | head -5
    failed=$((failed + 1))
    continue
  fi
  missing=$(comm -13 <(prerequisites "$work/one_shot.d") <(prerequisites "$work/gxx.d"))
  if [[ -n $missing ]]; then
    echo "FAIL $src: g++ -M names files the scan does not:"
    echo "$missing" | head -5
    failed=$((failed + 1))
    continue
  fi
  echo "ok   $src ($(prerequisites "$work/one_shot.d" | wc -l) files)"
done
echo "${#sources[@]} sources, $failed failed"
[[ $failed -eq 0 ]]
