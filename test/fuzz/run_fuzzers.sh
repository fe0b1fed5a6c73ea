#!/usr/bin/env bash
# Build ccrex's libFuzzer targets in a separate clang tree and run each for a bounded time,
# then replay every saved crash in test/fuzz/regressions/<target>/.
#
#   test/fuzz/run_fuzzers.sh [BUILD_DIR]
#
# BUILD_DIR defaults to build-fuzz-clang in the repository. Environment:
#   CCREX_FUZZ_SECONDS  time per target (default 20)
#   CCREX_FUZZ_TARGETS  space-separated subset of the targets (default: all)
#   CCREX_FUZZ_JOBS     ninja parallelism (default 2)
#
# The seed corpus in test/fuzz/corpus/<target>/ is only read: new inputs go to
# BUILD_DIR/fuzz-corpus/<target>/. A crash leaves its input in BUILD_DIR/fuzz-artifacts/;
# copy it into regressions/<target>/ once the bug is fixed. Exits 125 (skipped) when clang
# or libFuzzer is missing, 1 when a target crashes or a regression input fails.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build_dir="${1:-$repo/build-fuzz-clang}"
seconds="${CCREX_FUZZ_SECONDS:-20}"
jobs="${CCREX_FUZZ_JOBS:-2}"
all_targets=(fuzz_command_parser fuzz_directive_lexer fuzz_protocol fuzz_resource_name
             fuzz_directory fuzz_zstd_stream)
read -r -a targets <<<"${CCREX_FUZZ_TARGETS:-${all_targets[*]}}"

log() { echo "run_fuzzers: $*" >&2; }

if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
  log "SKIP: clang/clang++ not found (Debian package clang)"
  exit 125
fi
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
cat >"$probe_dir/probe.cpp" <<'CPP'
#include <cstddef>
#include <cstdint>
extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }
CPP
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" \
     2>"$probe_dir/err"; then
  log "SKIP: clang++ cannot link libFuzzer:"
  cat "$probe_dir/err" >&2
  exit 125
fi

log "configuring $build_dir"
mkdir -p "$build_dir"
# Warnings are not errors here: the GCC build enforces them, and a clang-only warning in
# new code should not hide fuzzing results. Line tables are all a crash report needs; full
# debug information costs 10 to 20% more compile time (measured on the generated protobuf
# code, the bulk of this build).
if ! CC=clang CXX=clang++ cmake -G Ninja -S "$repo" -B "$build_dir" \
       -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-gline-tables-only -O1" \
       -DCMAKE_CXX_FLAGS_DEBUG="-gline-tables-only -O1" \
       -DCCREX_ENABLE_FUZZERS=ON -DCCREX_ENABLE_TESTS=OFF -DCCREX_WARNINGS_AS_ERRORS=OFF \
       >"$build_dir/fuzz-configure.log" 2>&1; then
  cat "$build_dir/fuzz-configure.log" >&2
  log "FAIL: configure"
  exit 1
fi
log "building ${targets[*]}"
if ! ninja -C "$build_dir" -j"$jobs" "${targets[@]}" >&2; then
  log "FAIL: build"
  exit 1
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for target in "${targets[@]}"; do
  binary="$build_dir/test/fuzz/$target"
  work="$build_dir/fuzz-corpus/$target"
  artifacts="$build_dir/fuzz-artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  seeds=()
  if [[ -d "$here/corpus/$target" ]]; then
    seeds=("$here/corpus/$target")
  fi
  log "fuzzing $target for ${seconds}s"
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
         -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "${seeds[@]}" \
         >"$build_dir/$target.log" 2>&1; then
    # The crash report, without libFuzzer's progress lines.
    grep -v -E '^#[0-9]+' "$build_dir/$target.log" | tail -n 60 >&2
    log "FAIL: $target crashed; input saved under $artifacts"
    failed+=("$target")
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' \
      "$build_dir/$target.log" | sed "s/^/  $target /" >&2
  fi

  regressions=("$here/regressions/$target"/*)
  if [[ -e "${regressions[0]}" ]]; then
    log "replaying ${#regressions[@]} regression input(s) for $target"
    if ! "$binary" -timeout=10 -rss_limit_mb=2048 "${regressions[@]}" \
         >"$build_dir/$target.regressions.log" 2>&1; then
      tail -n 60 "$build_dir/$target.regressions.log" >&2
      log "FAIL: $target regression input"
      failed+=("$target (regressions)")
    fi
  fi
done

if ((${#failed[@]} > 0)); then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "all targets passed"
