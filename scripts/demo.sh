#!/usr/bin/env bash
# Set up this Debian 12 machine and show ccrex at work: build a real project
# (/usr/src/googletest, from Debian's googletest package) through ccrex on its zero-config
# default (the embedded REAPI server), then rebuild it from scratch and print the cache
# statistics of the second build.
#
# Environment:
#   CCREX_BUILD_DIR   where ccrex itself is built (default: build)
#   DEMO_DIR          scratch directory (default: a fresh temporary one, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

scripts/install-deps.sh

build=${CCREX_BUILD_DIR:-build}
echo "== building ccrex ($build)"
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCCREX_ENABLE_TESTS=OFF >/dev/null
cmake --build "$build" --target ccrex ccrexd ccrex-server >/dev/null
bin=$repo/$build/src/bin

demo=${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ccrex-demo.XXXXXX")}
cleanup() {
  "$bin/ccrex" --stop-agent >/dev/null 2>&1 || true
  [[ -n ${DEMO_DIR:-} ]] || rm -rf "$demo"
}
trap cleanup EXIT
# A private cache and agent for the demo, so it starts cold and leaves nothing behind.
export CCREX_DIR=$demo/cache CCREX_AGENT_DIR=$demo/agent
export PATH=$bin:$PATH

project=/usr/src/googletest
configure() {
  cmake -G Ninja -S "$project" -B "$demo/gtest-build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER_LAUNCHER=ccrex -DCMAKE_CXX_COMPILER_LAUNCHER=ccrex >/dev/null
}

echo "== first build of $project through ccrex (cold cache: every compile executes via REAPI)"
configure
ccrex -z >/dev/null
start=$(date +%s%N)
cmake --build "$demo/gtest-build" -j "$(nproc)" >/dev/null
cold_ms=$((($(date +%s%N) - start) / 1000000))
ccrex --print-stats | sed 's/^/   /'

echo "== second build from scratch (warm cache)"
rm -rf "$demo/gtest-build"
configure
ccrex -z >/dev/null
start=$(date +%s%N)
cmake --build "$demo/gtest-build" -j "$(nproc)" >/dev/null
warm_ms=$((($(date +%s%N) - start) / 1000000))
echo
ccrex -s
echo
echo "cold build: ${cold_ms} ms, warm build: ${warm_ms} ms"
