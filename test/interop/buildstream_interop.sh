#!/usr/bin/env bash
# BuildStream interop test: Debian's BuildStream 1.6.8 (a REAPI client we did not write)
# uses ccrex-server as its artifact cache.
#
# What BuildStream 1.6.8 calls (buildstream/_artifactcache/cascache.py): GetCapabilities,
# an empty BatchReadBlobs (and BatchUpdateBlobs when pushing) to learn whether batches
# work, and an empty FetchDirectory (and PushDirectory when pushing) expecting
# INVALID_ARGUMENT, which tells it the server speaks the Remote Asset API. Artifacts then
# travel as CAS trees (FindMissingBlobs, BatchUpdateBlobs or ByteStream Write, BatchReadBlobs
# or ByteStream Read) named by Remote Asset mappings "urn:fdc:buildstream.build:2020:v1:REF"
# (PushDirectory, FetchDirectory). Its own buildstream.v2.ReferenceStorage service is used
# only by servers without Remote Asset, so ccrex-server does not serve it.
#
# Steps:
#   1. A project with one `import` element of local files (no sandbox needed) is built
#      into an empty local cache and `bst push`ed to a server started with
#      --allow-asset-pushes; the mapping is in the server's store.
#   2. The server is restarted on the same store without --allow-asset-pushes; the local
#      cache is wiped (bst then reports the element "buildable", not "cached").
#   3. `bst pull` fetches the artifact back; `bst checkout` gives the same files, contents
#      and executable bits as the sources.
#   4. Pushing a changed element to that server fails: BuildStream reports that the server
#      does not allow pushes, and the server holds no new mapping.
#
# Environment:
#   CCREX_SERVER_BIN      the ccrex-server binary (required)
#   BST                   the BuildStream command (default: bst on PATH)
#   CCREX_INTEROP_KEEP    if set, keep the scratch directory and print its path
#
# Exit status: 0 pass, 1 fail, 77 skipped (BuildStream missing or unable to start).
set -euo pipefail

readonly k_skip=77
readonly k_urn='urn:fdc:buildstream.build:2020:v1:'

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

skip() {
  echo "SKIP: $*"
  exit "$k_skip"
}

server_bin=${CCREX_SERVER_BIN:-}
[[ -n $server_bin && -x $server_bin ]] || fail "CCREX_SERVER_BIN ('$server_bin') is not an executable"
# shellcheck source=server.sh
source "$(dirname "${BASH_SOURCE[0]}")/server.sh"
bst_bin=${BST:-$(command -v bst || true)}
[[ -n $bst_bin ]] || skip "bst not found (Debian package buildstream); BuildStream interop test not run"

work=$(mktemp -d "${TMPDIR:-/tmp}/ccrex-bst.XXXXXX")
chmod 711 "$work" # the sandbox user of a root server must reach its store
readonly work
server_pid=""
watchdog_pid=""

cleanup() {
  local status=$?
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  [[ -n $watchdog_pid ]] && kill "$watchdog_pid" 2>/dev/null || true
  if ((status != 0 && status != k_skip)) && [[ -f $work/server.log ]]; then
    echo "--- ccrex-server log (last 30 lines) ---" >&2
    tail -n 30 "$work/server.log" >&2 || true
  fi
  if [[ -n ${CCREX_INTEROP_KEEP:-} ]]; then
    echo "scratch directory kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# BuildStream keeps everything under the scratch directory, never in the user's home.
export HOME=$work/home XDG_CACHE_HOME=$work/home/.cache XDG_CONFIG_HOME=$work/home/.config
mkdir -p "$HOME"
"$bst_bin" --version >/dev/null 2>&1 || skip "bst cannot start here"
echo "BuildStream $("$bst_bin" --version 2>/dev/null)"

# start_server [ARGS...]: run ccrex-server on a free loopback port over $work/store.
start_server() {
  start_ccrex_server "$work/store" "$work/server.out" "$work/server.log" --workers 1 "$@"
  # The user configurations: the local cache in the scratch directory (bst-local.conf,
  # for builds, so that only `bst push` pushes), plus ccrex-server as the artifact cache
  # with pushing on (bst.conf, for push) or off (bst-pull.conf, for everything else:
  # BuildStream drops a remote it may not push to altogether).
  cat >"$work/bst-local.conf" <<EOF
artifactdir: $work/local/artifacts
sourcedir: $work/local/sources
builddir: $work/local/build
logdir: $work/local/logs
EOF
  cat - "$work/bst-local.conf" >"$work/bst.conf" <<EOF
artifacts:
  url: http://127.0.0.1:$port
  push: true
EOF
  cat - "$work/bst-local.conf" >"$work/bst-pull.conf" <<EOF
artifacts:
  url: http://127.0.0.1:$port
  push: false
EOF
}

stop_server() {
  kill -TERM "$server_pid"
  for _ in $(seq 1 200); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server_pid" 2>/dev/null && fail "ccrex-server still running 20 s after SIGTERM"
  local status=0
  wait "$server_pid" || status=$?
  ((status == 0)) || fail "ccrex-server exited with status $status on SIGTERM"
  kill "$watchdog_pid" 2>/dev/null || true
  server_pid=""
  watchdog_pid=""
}

# bst_run NAME ARGS...: run bst in the project; output in $work/NAME.log. Builds use no
# remote, only push pushes.
bst_run() {
  local name=$1
  shift
  local conf=$work/bst-pull.conf
  [[ $1 == build ]] && conf=$work/bst-local.conf
  [[ $1 == push ]] && conf=$work/bst.conf
  (cd "$work/project" && "$bst_bin" --no-colors --no-interactive -c "$conf" "$@") \
    >"$work/$name.log" 2>&1
}

bst_must() {
  local name=$1
  bst_run "$@" || {
    tail -n 40 "$work/$name.log" >&2
    fail "bst ${*:2} failed"
  }
}

element_state() {
  (cd "$work/project" && "$bst_bin" --no-colors -c "$work/bst-pull.conf" show --deps none \
    --format '%{state}' "$1" 2>/dev/null) | tail -n 1
}

mappings() {
  find "$work/store/assets" -type f -regextype posix-extended -regex '.*/[0-9a-f]{64}' | wc -l
}

# The project: one import element of a small tree.
mkdir -p "$work/project/elements" "$work/project/files/sub/deeper"
cat >"$work/project/project.conf" <<'EOF'
name: ccrex-interop
element-path: elements
EOF
cat >"$work/project/elements/files.bst" <<'EOF'
kind: import
sources:
- kind: local
  path: files
EOF
echo "hello from ccrex" >"$work/project/files/hello.txt"
printf '#!/bin/sh\necho tool\n' >"$work/project/files/tool.sh"
chmod 755 "$work/project/files/tool.sh"
echo "nested" >"$work/project/files/sub/nested.txt"
head -c 300000 /dev/urandom >"$work/project/files/sub/deeper/big.bin" # beyond one batch chunk
: >"$work/project/files/sub/empty"

# 1. Build locally and push.
start_server --allow-asset-pushes
bst_must build build files.bst
[[ $(element_state files.bst) == cached ]] || fail "the element is not cached after bst build"
bst_must push push files.bst
grep -q "Pushed artifact" "$work/push.log" || {
  cat "$work/push.log" >&2
  fail "bst push did not push the artifact"
}
pushed=$(mappings)
((pushed >= 1)) || fail "no Remote Asset mapping in the server's store after bst push"
grep -rqa -- "$k_urn" "$work/store/assets" || fail "no mapping names a BuildStream artifact URN"
echo "pushed: $pushed mapping(s)"

# 2. Restart the server read-only for assets; wipe the local cache.
stop_server
start_server
rm -rf "$work/local"
[[ $(element_state files.bst) == buildable ]] || fail "the element is still cached after wiping"

# 3. Pull it back and check it out.
bst_must pull pull files.bst
grep -q "Pull Queue: processed 1" "$work/pull.log" || {
  cat "$work/pull.log" >&2
  fail "bst pull did not pull the artifact"
}
[[ $(element_state files.bst) == cached ]] || fail "the element is not cached after bst pull"
bst_must checkout checkout files.bst "$work/checkout"
diff -r "$work/project/files" "$work/checkout" || fail "the checked-out artifact differs from the sources"
[[ -x $work/checkout/tool.sh && ! -x $work/checkout/hello.txt ]] ||
  fail "executable bits were not kept"
echo "pulled and checked out: identical to the sources"

# 4. This server refuses pushes.
echo "changed" >"$work/project/files/hello.txt"
bst_must build2 build files.bst
if bst_run push2 push files.bst && grep -q "Pushed artifact" "$work/push2.log"; then
  fail "the server accepted a push without --allow-asset-pushes"
fi
grep -qi "does not allow push" "$work/push2.log" || {
  cat "$work/push2.log" >&2
  fail "BuildStream did not report that the server refuses pushes"
}
(($(mappings) == pushed)) || fail "a refused push left a mapping"

stop_server
echo "PASS: BuildStream pushed to and pulled from ccrex-server"
