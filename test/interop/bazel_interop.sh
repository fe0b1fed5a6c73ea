#!/usr/bin/env bash
# Bazel interop test: Debian's Bazel (a REAPI client we did not write) builds the workspace
# in workspace/ against a freshly started ccrex-server.
#
# Usage: bazel_interop.sh cache|remote
#
# Mode "cache" (--remote_cache only; CAS, ByteStream and ActionCache services):
#   1. //:ok_targets (a gcc compile and a directory output) runs locally and Bazel uploads
#      the results; the outputs are checked.
#   2. After `bazel clean` the same build is served from the server: the process summary
#      counts only "remote cache hit" spawns, one per action executed before.
#
# Mode "remote" (--remote_executor, remote execution only, no local fallback):
#   1. //:ok_targets executes remotely: the summary counts only "remote" spawns. The
#      remotely compiled object equals a local `gcc -c` byte for byte; the directory
#      output has the expected files and contents.
#   2. After `bazel clean` the same build is served from the server's action cache: only
#      "remote cache hit" spawns, no remote or local execution.
#   3. With --remote_default_exec_properties=OSFamily=linux (a new action key) the same
#      actions execute remotely again: the server accepts the OSFamily it offers.
#   4. //:fail fails: Bazel exits 1 (build failure, not a remote error) and relays the
#      worker's stderr line.
#
# Both modes check that nothing was downloaded, that the server is alive at the end and
# that it then exits with status 0 on SIGTERM.
#
# What Bazel 4.2.3 sends: an empty Platform in both Action and Command (so the server needs
# neither --lenient-platform nor extra properties), no working_directory, output_files /
# output_directories (not output_paths), PATH=/bin:/usr/bin:/usr/local/bin for genrules
# under --incompatible_strict_action_env and no environment at all for the Starlark
# run_shell action. On failure the script prints the failed gRPC calls of Bazel's
# --experimental_remote_grpc_log (decoded by decode_grpc_log.py).
#
# Environment:
#   CCREX_SERVER_BIN      the ccrex-server binary (required)
#   BAZEL                 the Bazel launcher (default: bazel on PATH)
#   CCREX_INTEROP_KEEP    if set, keep the scratch directory and print its path
#
# Exit status: 0 pass, 1 fail, 77 skipped (Bazel missing or unable to start at all).
set -euo pipefail

readonly k_skip=77
readonly k_fail_line='ccrex-interop: deliberate failure'
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

skip() {
  echo "SKIP: $*"
  exit "$k_skip"
}

mode=${1:-}
[[ $mode == cache || $mode == remote ]] || fail "usage: $0 cache|remote"
server_bin=${CCREX_SERVER_BIN:-}
[[ -n $server_bin && -x $server_bin ]] || fail "CCREX_SERVER_BIN ('$server_bin') is not an executable"
# shellcheck source=server.sh
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"
bazel_bin=${BAZEL:-$(command -v bazel || true)}
[[ -n $bazel_bin ]] || skip "bazel not found (Debian package bazel-bootstrap); interop test not run"

work=$(mktemp -d "${TMPDIR:-/tmp}/ccrex-interop.XXXXXX")
chmod 711 "$work" # the sandbox user of a root server must reach its store
readonly work
server_pid=""
watchdog_pid=""
bazel_started=0

# Startup options. Debian's launcher finds its install base through the system rc, which
# --nosystem_rc turns off, so the two startup lines it holds are passed explicitly.
startup=(--output_user_root="$work/bazel-root" --output_base="$work/bazel-root/base"
  --nohome_rc --nosystem_rc --max_idle_secs=300)
if [[ -r /etc/bazel/bazelrc ]]; then
  while read -r kind option; do
    [[ $kind == startup && $option == --*install_base* ]] && startup+=("$option")
  done </etc/bazel/bazelrc
fi

bazel_cmd() {
  (cd "$work/ws" && "$bazel_bin" "${startup[@]}" "$@")
}

cleanup() {
  local rc=$?
  set +e
  if ((bazel_started)); then
    bazel_cmd shutdown >/dev/null 2>&1
  fi
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [[ -n $watchdog_pid ]]; then
    kill "$watchdog_pid" 2>/dev/null
    wait "$watchdog_pid" 2>/dev/null
  fi
  if ((rc != 0 && rc != k_skip)) && [[ -s $work/server.log ]]; then
    echo "---- ccrex-server log (last 60 lines) ----" >&2
    tail -n 60 "$work/server.log" >&2
  fi
  if ((rc != 0 && rc != k_skip)) && command -v protoc >/dev/null &&
    [[ -d /usr/src/bazel-bootstrap/src/main/protobuf ]]; then
    local log
    for log in "$work"/grpc-*.log; do
      [[ -s $log ]] || continue
      echo "---- failed gRPC calls in $(basename "$log") (first 80 lines) ----" >&2
      python3 "$here/decode_grpc_log.py" --errors "$log" 2>&1 | head -n 80 >&2
    done
  fi
  if [[ -n ${CCREX_INTEROP_KEEP:-} ]]; then
    echo "scratch directory kept: $work" >&2
  else
    chmod -R u+w "$work" 2>/dev/null
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------- server
start_server() {
  # Bazel uploads the results of actions it runs itself: the server must accept them.
  start_ccrex_server "$work/cas" "$work/server.out" "$work/server.log" --workers 2 \
    --allow-ac-updates
}

# stop_server: SIGTERM must end the server within 20 s with exit status 0.
stop_server() {
  local pid=$server_pid
  kill -TERM "$pid"
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "ccrex-server still running 20 s after SIGTERM"
  local rc=0
  wait "$pid" || rc=$?
  server_pid=""
  ((rc == 0)) || fail "ccrex-server exited with status $rc after SIGTERM"
  echo "ok: ccrex-server shut down cleanly on SIGTERM"
}

# ---------------------------------------------------------------------------- bazel
# run_bazel NAME ARGS...: run a Bazel command, keep its combined output in $work/NAME.txt,
# show it, and return Bazel's exit code.
run_bazel() {
  local name=$1
  shift
  local rc=0
  bazel_cmd "$@" >"$work/$name.txt" 2>&1 || rc=$?
  sed "s/^/  [$name] /" "$work/$name.txt"
  echo "  [$name] exit code $rc"
  return "$rc"
}

# bazel_build NAME TARGET FLAGS...: build TARGET offline (no disk or repository cache,
# downloads forbidden) with a fixed action environment and the given remote FLAGS.
bazel_build() {
  local name=$1 target=$2
  shift 2
  run_bazel "$name" build --color=no --curses=no --repository_cache= --disk_cache= \
    --experimental_repository_disable_download --incompatible_strict_action_env \
    --remote_timeout=60 --experimental_remote_grpc_log="$work/grpc-$name.log" \
    "$@" "$target"
}

# remote_build NAME TARGET [FLAGS...]: build TARGET with remote execution only, no local
# fallback.
remote_build() {
  local name=$1 target=$2
  shift 2
  bazel_build "$name" "$target" --remote_executor="grpc://127.0.0.1:$port" \
    --spawn_strategy=remote --noremote_local_fallback "$@"
}

# cache_build NAME TARGET: build TARGET locally with the server as remote cache.
cache_build() {
  bazel_build "$1" "$2" --remote_cache="grpc://127.0.0.1:$port" --spawn_strategy=local
}

# summary_count FILE KIND: the count for KIND ("remote", "remote cache hit", ...) in the
# process summary line ("INFO: 3 processes: 1 internal, 2 remote.") of Bazel's output.
summary_count() {
  local file=$1 kind=$2
  local line
  line=$(grep -E '^INFO: [0-9]+ process(es)?: ' "$file" | tail -n 1)
  [[ -n $line ]] || fail "no process summary line in $(basename "$file")"
  local part n
  IFS=',' read -ra parts <<<"${line#*: *: }"
  for part in "${parts[@]}"; do
    part=${part# }
    part=${part%.}
    n=${part%% *}
    if [[ ${part#* } == "$kind" ]]; then
      echo "$n"
      return
    fi
  done
  echo 0
}

# summary_kinds FILE: the spawn kinds of the summary line other than "internal", sorted.
summary_kinds() {
  local line
  line=$(grep -E '^INFO: [0-9]+ process(es)?: ' "$1" | tail -n 1)
  local parts part
  IFS=',' read -ra parts <<<"${line#*: *: }"
  for part in "${parts[@]}"; do
    part=${part# }
    part=${part%.}
    part=${part#* }
    [[ $part == internal ]] || echo "$part"
  done | sort
}

expect_no_download() {
  if grep -E -i 'download|fetching' "$work/$1.txt" | grep -v -- '--remote_download' >&2; then
    fail "$1: Bazel tried to fetch something; the workspace must build offline"
  fi
}

check_outputs() {
  local bin=$work/ws/bazel-bin
  [[ -f $bin/hello.o ]] || fail "$1: bazel-bin/hello.o missing"
  cmp "$bin/hello.o" "$work/local.o" || fail "$1: remote hello.o differs from a local gcc -c"
  [[ $(cat "$bin/tree/a.txt") == one ]] || fail "$1: tree/a.txt content"
  [[ $(cat "$bin/tree/sub/b.txt") == two ]] || fail "$1: tree/sub/b.txt content"
  cmp "$bin/tree/copy.c" "$work/ws/hello.c" || fail "$1: tree/copy.c differs from hello.c"
  # Bazel marks every output executable, so only the script's content can be checked here.
  [[ $(sh "$bin/tree/sub/deeper/run.sh") == three ]] || fail "$1: tree/sub/deeper/run.sh content"
  local count
  count=$(find "$bin/tree" -type f | wc -l)
  ((count == 4)) || fail "$1: tree has $count files, expected 4"
  echo "ok: $1 outputs match (hello.o equals a local gcc -c; the tree has its 4 files)"
}

# ---------------------------------------------------------------------------- checks
# expect_only_kind NAME KIND: the summary of build NAME counts only KIND spawns (besides
# Bazel's internal ones); print their number.
expect_only_kind() {
  local name=$1 kind=$2
  local kinds
  kinds=$(summary_kinds "$work/$name.txt")
  [[ $kinds == "$kind" ]] || fail "$name: expected only '$kind' spawns, summary has: ${kinds//$'\n'/, }"
  summary_count "$work/$name.txt" "$kind"
}

# rebuild_from_cache NAME EXPECTED BUILD_FUNCTION: clean, rebuild with BUILD_FUNCTION and
# check that all EXPECTED actions came from the remote cache.
rebuild_from_cache() {
  local name=$1 expected=$2 build_fn=$3
  run_bazel "clean_$name" clean || fail "bazel clean failed"
  [[ ! -e $work/ws/bazel-bin/hello.o ]] || fail "bazel clean left hello.o behind"
  "$build_fn" "$name" //:ok_targets || fail "$name: build failed"
  expect_no_download "$name"
  local hits
  hits=$(expect_only_kind "$name" "remote cache hit")
  ((hits == expected)) || fail "$name: $hits cache hits, expected $expected"
  echo "ok: $name served all $hits actions from the remote cache, none executed"
  check_outputs "$name"
}

test_cache_mode() {
  cache_build build1 //:ok_targets || fail "build1: build failed"
  expect_no_download build1
  local executed
  executed=$(expect_only_kind build1 local)
  ((executed >= 2)) || fail "build1: $executed local executions, expected at least 2"
  echo "ok: build1 executed $executed actions locally and uploaded them"
  check_outputs build1
  rebuild_from_cache build2 "$executed" cache_build
}

test_remote_mode() {
  remote_build build1 //:ok_targets || fail "build1: build failed"
  expect_no_download build1
  local executed
  executed=$(expect_only_kind build1 remote)
  ((executed >= 2)) || fail "build1: $executed remote executions, expected at least 2"
  echo "ok: build1 executed $executed actions remotely"
  check_outputs build1
  rebuild_from_cache build2 "$executed" remote_build

  # A platform property is part of the action key: the same targets run again, and the
  # server must accept the OSFamily it offers by default.
  remote_build build_platform //:ok_targets --remote_default_exec_properties=OSFamily=linux ||
    fail "build_platform: build failed"
  expect_no_download build_platform
  local again
  again=$(expect_only_kind build_platform remote)
  ((again == executed)) || fail "build_platform: $again remote executions, expected $executed"
  echo "ok: with OSFamily=linux the $again actions executed remotely again"
  check_outputs build_platform

  local rc=0
  remote_build build_fail //:fail || rc=$?
  ((rc == 1)) || fail "build_fail: Bazel exit code $rc, expected 1 (build failure)"
  grep -q -F -x "$k_fail_line" "$work/build_fail.txt" ||
    fail "build_fail: the action's stderr line '$k_fail_line' is not in Bazel's output"
  grep -q -F 'Executing genrule //:fail failed' "$work/build_fail.txt" ||
    fail "build_fail: Bazel did not report the genrule as failed"
  echo "ok: failing action reported with exit code 1 and its stderr"
}

# ---------------------------------------------------------------------------- test
mkdir -p "$work/ws"
cp -R "$here/workspace/." "$work/ws/"
(cd "$work/ws" && gcc -c ./hello.c -o "$work/local.o") || fail "local gcc -c hello.c failed"

start_server

bazel_started=1
if ! run_bazel info info release; then
  skip "Bazel cannot start here (see its output above); interop test not run"
fi

"test_${mode}_mode"
kill -0 "$server_pid" 2>/dev/null || fail "ccrex-server died during the test"
bazel_cmd shutdown >/dev/null 2>&1 || fail "bazel shutdown failed"
bazel_started=0
stop_server
echo "PASS: Bazel interop, $mode mode"
