#!/usr/bin/env bash
# Set up this Debian 12 machine (packages, build) and run ccrex's whole test suite.
#
# The suite runs on an AddressSanitizer + UndefinedBehaviorSanitizer build, so every test is
# also a memory-safety check. Environment:
#   CCREX_BUILD_DIR   build directory (default build-test)
#   CCREX_SANITIZE    0 to build without sanitizers (faster to iterate)
#   CCREX_TEST_JOBS   tests run at once (default: one per core)
#   CTEST_ARGS        extra ctest arguments, e.g. "-L unit"
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build=${CCREX_BUILD_DIR:-build-test}
sanitize=${CCREX_SANITIZE:-1}
jobs=$(nproc)
san_flags=(-DCCREX_ENABLE_ASAN=OFF -DCCREX_ENABLE_UBSAN=OFF)
if [[ "$sanitize" == 1 ]]; then
  san_flags=(-DCCREX_ENABLE_ASAN=ON -DCCREX_ENABLE_UBSAN=ON)
fi

echo "== configure ($build)"
cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug "${san_flags[@]}" >/dev/null
echo "== format check"
cmake --build "$build" --target check_format
echo "== build"
if ! cmake --build "$build" -j "$jobs" >"$build/build.log" 2>&1; then
  grep -E -B2 -A12 'error|FAILED' "$build/build.log" | head -200
  echo "build failed; full log in $build/build.log" >&2
  exit 1
fi

# Leaks in third-party static state (gRPC, protobuf) at exit are not ours to fix.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_container_overflow=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== test"
cd "$build"
# shellcheck disable=SC2086
exec ctest --output-on-failure -j "${CCREX_TEST_JOBS:-$jobs}" ${CTEST_ARGS:-}
