#!/usr/bin/env bash
# Real build: Debian's googletest sources (/usr/src/googletest: gtest, gmock and the gtest
# samples) configured with CMake, Ninja and CMAKE_<LANG>_COMPILER_LAUNCHER=ccrex, -j2,
# against a fresh cache directory:
#   1. a plain build (no launcher) in the very build directory ccrex uses afterwards gives
#      the reference objects (same absolute paths, so __FILE__ and debug info match);
#   2. through ccrex every compile is a miss executed through REAPI, and nothing else;
#   3. after `ninja -t clean` every compile is a local hit;
# and every object is byte-identical to the plain build's. The sample tests then pass.
# With REALBUILD_HERMETIC=1 step 2 runs in hermetic mode against a sandboxed ccrex-server
# (common.sh): every compile ran there with the input root as `/`, and the compiler's
# closure went up once.
#
# Environment: CCREX_BIN (required), CCREXD_BIN (optional), GTEST_SRC (default
# /usr/src/googletest), REALBUILD_BUILD_TYPE (default RelWithDebInfo), REALBUILD_GMOCK
# (default ON; OFF builds gtest and its samples only, about half the compile time),
# REALBUILD_TARGETS (default: every target; else the Ninja targets to build, which are
# also the sample tests run at the end), REALBUILD_HERMETIC (default 0; 1 needs
# CCREX_SERVER_BIN and a working bubblewrap).

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"

GTEST_SRC=${GTEST_SRC:-/usr/src/googletest}
BUILD_TYPE=${REALBUILD_BUILD_TYPE:-RelWithDebInfo}
GMOCK=${REALBUILD_GMOCK:-ON}
read -r -a TARGETS <<<"${REALBUILD_TARGETS:-}"
[[ -f $GTEST_SRC/CMakeLists.txt ]] || {
  echo "skipped: no googletest sources in $GTEST_SRC"
  exit 125
}
command -v cmake >/dev/null && command -v ninja >/dev/null || {
  echo "skipped: cmake or ninja missing"
  exit 125
}
HERMETIC=${REALBUILD_HERMETIC:-0}
if [[ $HERMETIC == 1 ]]; then
  why=$(hermetic_unavailable)
  [[ -z $why ]] || {
    echo "skipped: $why"
    exit 125
  }
fi

# Sources in a git work tree with the build directory inside it (ccrex's project root).
SRC=$WORK/googletest
cp -r "$GTEST_SRC" "$SRC"
git -C "$SRC" init -q
git -C "$SRC" add .
git -C "$SRC" -c user.name=test -c user.email=test@example.com commit -qm import
BUILD=$SRC/build
export CCREX_DIR=$WORK/ccrex-dir

configure() {
  cmake -G Ninja -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -Dgtest_build_samples=ON -DBUILD_GMOCK="$GMOCK" "$@" >"$WORK/configure.log" 2>&1 \
    || fail "cmake failed: $(tail -n 20 "$WORK/configure.log")"
}

build() {
  local start=$SECONDS
  ninja -C "$BUILD" -j2 "${TARGETS[@]}" >"$WORK/build.log" 2>&1 || fail "$1 failed: $(tail -n 30 "$WORK/build.log")"
  echo "  $1: $((SECONDS - start)) s"
}

echo "== plain build"
configure
build "plain build"
save_files "$BUILD" "$WORK/ref" '*.o'
objects=$(list_objects "$BUILD" | wc -l)
[[ $objects -ge 5 ]] || fail "the plain build made only $objects objects"
echo "  $objects objects"
rm -rf "$BUILD"

if [[ $HERMETIC == 1 ]]; then
  echo "== through ccrex in hermetic mode, cold cache"
  start_hermetic_server
else
  echo "== through ccrex, cold cache"
fi
configure -DCMAKE_C_COMPILER_LAUNCHER="$CCREX_BIN" -DCMAKE_CXX_COMPILER_LAUNCHER="$CCREX_BIN"
build "cold build"
expect_stats "miss_executed=$objects"
[[ $HERMETIC == 1 ]] && check_hermetic "$BUILD" "$objects" yes
compare_trees "$WORK/ref" "$BUILD" '*.o'

echo "== through ccrex after ninja -t clean"
ninja -C "$BUILD" -t clean >/dev/null
[[ -z $(list_objects "$BUILD") ]] || fail "ninja -t clean left objects behind"
"$CCREX_BIN" -z >/dev/null
build "warm build"
expect_stats "hit_local=$objects"
compare_trees "$WORK/ref" "$BUILD" '*.o'

echo "== sample tests"
samples=("$BUILD"/googletest/sample*_unittest)
[[ -x ${samples[0]} ]] || fail "no sample test was built"
for t in "${samples[@]}"; do
  "$t" >"$WORK/sample.log" 2>&1 || fail "$(basename "$t") failed: $(tail -n 20 "$WORK/sample.log")"
done
echo "PASSED"
