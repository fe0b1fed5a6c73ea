# What the benchmark scripts share: sourced (`. "$(dirname "$0")/lib.sh"`), never run.
#
# Sets `repo` (the repository holding this file) and defines:
#   bench_build TARGET...       set `build` and `bin`: $CCREX_BUILD_DIR used as it is when
#                               set, else build-bench in the repository, built here (Release)
#   bench_configure SRC DIR TARGET...   configure DIR as a Release build of SRC and build
#                               TARGETs, quietly
#   bench_baseline COMMIT TREE DIR TARGET...   the same for COMMIT, checked out in a git
#                               worktree TREE (kept when it is there already)
#   bench_remove_worktree TREE KEEP   remove the worktree TREE unless KEEP is set
#   bench_quietly LOG CMD...    run CMD with its output in LOG, shown only when it fails
#   bench_scratch NAME          print a new scratch directory
#   bench_clean_env WORK        drop the caller's ccrex, recc and ccache settings
#   bench_stop_agents DIR...    stop the agents of these agent directories

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

bench_quietly() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 || { tail -40 "$log" >&2 && return 1; }
}

bench_configure() {
  local src=$1 dir=$2
  shift 2
  local launcher=()
  command -v ccache >/dev/null &&
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  mkdir -p "$dir"
  bench_quietly "$dir/bench-build.log" cmake -G Ninja -S "$src" -B "$dir" \
    -DCMAKE_BUILD_TYPE=Release -DCCREX_ENABLE_TESTS=OFF "${launcher[@]}"
  bench_quietly "$dir/bench-build.log" cmake --build "$dir" --target "$@"
}

bench_build() {
  build=${CCREX_BUILD_DIR:-}
  if [[ -z $build ]]; then
    build=$repo/build-bench
    echo "== building (Release): $build"
    bench_configure "$repo" "$build" "$@"
  fi
  bin=$build/src/bin
}

bench_baseline() {
  local commit=$1 tree=$2 dir=$3
  shift 3
  echo "== building the baseline (Release): $dir"
  if [[ ! -d $tree ]]; then
    local log
    log=$(mktemp)
    bench_quietly "$log" git -C "$repo" worktree add --detach "$tree" "$commit" || {
      rm -f "$log" && return 1
    }
    rm -f "$log"
  fi
  [[ $(git -C "$tree" rev-parse HEAD) == "$commit" ]] || {
    echo "$tree is not at $commit" >&2 && return 1
  }
  bench_configure "$tree" "$dir" "$@"
}

bench_remove_worktree() {
  if [[ -z $2 && -d $1 ]]; then
    git -C "$repo" worktree remove --force "$1" >/dev/null 2>&1 || true
  fi
  git -C "$repo" worktree prune >/dev/null 2>&1 || true
}

bench_scratch() {
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  chmod 711 "$work" # the sandbox user of a root server must reach its store
  echo "$work"
}

# Only the run's own settings: nothing from the caller's environment or configuration file
# (CCREX_BUILD_DIR and CCREX_BENCH_BASELINE are read before this).
bench_clean_env() {
  local var
  for var in $(compgen -e | grep -E '^(CCREX_|RECC_|CCACHE_)'); do
    unset "$var"
  done
  export XDG_CONFIG_HOME=$1/no-config
}

bench_stop_agents() {
  local d
  for d in "$@"; do
    [[ -f $d/agent.pid ]] && kill "$(cat "$d/agent.pid")" 2>/dev/null
  done
  true
}
