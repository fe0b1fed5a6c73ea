#!/usr/bin/env bash
# Real build: cproject/ (recursive make, a static library, a generated header, -D and -I
# flags, "../" includes, -MMD and -MD -MF dependency files) built with CC="ccrex CC" for gcc
# and clang, each against a fresh cache directory:
#   1. a plain build (CC=compiler) in the very same directory gives the reference objects;
#   2. through ccrex every compile is a miss executed through REAPI, and nothing else;
#   3. after `make clean` every compile is a local hit;
# and every object and dependency file is byte-identical to the plain build's.
#
# The link runs through ccrex too and is counted as local_no_compile. With
# REALBUILD_HERMETIC=1 the compiles run in hermetic mode against one sandboxed ccrex-server
# (common.sh): each ran there with the input root as `/`, each compiler's closure went up
# once (with its first compiles, not with the incremental ones).
#
# Environment: CCREX_BIN (required), CCREXD_BIN (optional: the agent to start),
# REALBUILD_CFLAGS (default "-O2 -g -Wall"), REALBUILD_HERMETIC (default 0; 1 needs
# CCREX_SERVER_BIN and a working bubblewrap).

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"

# The project lives in a git work tree, as it would for a developer; ccrex takes the top
# of the work tree as the project root, so the sub-makes' "../" paths stay inside it.
CFLAGS=${REALBUILD_CFLAGS:--O2 -g -Wall}
export CFLAGS
PROJECT=$WORK/project
cp -r "$HERE/cproject" "$PROJECT"
git -C "$PROJECT" init -q
git -C "$PROJECT" add .
git -C "$PROJECT" -c user.name=test -c user.email=test@example.com commit -qm import

if [[ ${REALBUILD_HERMETIC:-0} == 1 ]]; then
  why=$(hermetic_unavailable)
  [[ -z $why ]] || {
    echo "skipped: $why"
    exit 125
  }
  echo "== hermetic mode against a sandboxed ccrex-server"
  start_hermetic_server
fi
# check_remote COMPILES FIRST: in hermetic mode, check_hermetic on the project.
check_remote() {
  [[ ${REALBUILD_HERMETIC:-0} == 1 ]] || return 0
  check_hermetic "$PROJECT" "$@"
}

for compiler in gcc clang; do
  command -v "$compiler" >/dev/null || fail "$compiler not found"
  echo "== $compiler"
  export CCREX_DIR=$WORK/ccrex-dir-$compiler
  cd "$PROJECT"
  make -s clean

  make -s CC="$compiler" >"$WORK/plain.out" || fail "plain build failed"
  app/build/calcapp >"$WORK/plain-run.txt" || fail "plain program failed"
  rm -rf "$WORK/ref"
  save_files . "$WORK/ref" '*.o' '*.d'
  objects=$(list_objects . | wc -l)
  [[ $objects -eq 5 ]] || fail "the plain build made $objects objects, expected 5"
  make -s clean

  make -s CC="$CCREX_BIN $compiler" >"$WORK/ccrex.out" || fail "build through ccrex failed"
  expect_stats local_no_compile=1 "miss_executed=$objects"
  check_remote "$objects" yes
  compare_trees "$WORK/ref" . '*.o' '*.d'
  app/build/calcapp >"$WORK/ccrex-run.txt" || fail "program built through ccrex failed"
  cmp -s "$WORK/plain-run.txt" "$WORK/ccrex-run.txt" || fail "the programs print different things"

  make -s clean
  "$CCREX_BIN" -z >/dev/null
  make -s CC="$CCREX_BIN $compiler" >"$WORK/ccrex.out" || fail "rebuild through ccrex failed"
  expect_stats "hit_local=$objects" local_no_compile=1
  compare_trees "$WORK/ref" . '*.o' '*.d'

  # A header change rebuilds (make's own dependency tracking) and misses exactly where the
  # header is included.
  "$CCREX_BIN" -z >/dev/null
  sed -i 's/INT_MAX \/ 2/INT_MAX \/ 4/g' lib/internal.h
  make -s CC="$CCREX_BIN $compiler" >"$WORK/ccrex.out" || fail "incremental build failed"
  expect_stats local_no_compile=1 miss_executed=2
  check_remote 2 no
  git checkout -q lib/internal.h
done
echo "PASSED"
