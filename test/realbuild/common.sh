# Shared by the real-build scripts: a private ccrex environment, counters and object
# comparison. Sourced; expects CCREX_BIN (the ccrex executable) in the environment.

set -euo pipefail

fail() {
  echo "FAILED: $*" >&2
  if [[ -n ${CCREX_DIR:-} ]]; then
    echo "counters: $(all_stats)" >&2
    echo "last compiles:" >&2
    "$CCREX_BIN" --explain 2>&1 | tail -n 20 | sed 's/^/  /' >&2
  fi
  exit 1
}

[[ -n ${CCREX_BIN:-} && -x $CCREX_BIN ]] || fail "CCREX_BIN ('${CCREX_BIN:-}') is not an executable"

# Only this test's settings: nothing from the caller's CCREX_*/RECC_* or config files.
for var in $(compgen -e | grep -E '^(CCREX_|RECC_)'); do
  case $var in
  CCREX_BIN | CCREXD_BIN | CCREX_SERVER_BIN) ;;
  *) unset "$var" ;;
  esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ccrex-realbuild.XXXXXX")
export CCREX_AGENT_DIR=$WORK/agent
export CCREX_AGENT_IDLE_TIMEOUT=300
export XDG_CONFIG_HOME=$WORK/no-config
[[ -n ${CCREXD_BIN:-} ]] && export CCREX_AGENT_BIN=$CCREXD_BIN

SERVER_PID=
cleanup() {
  local status=$?
  "$CCREX_BIN" --stop-agent >/dev/null 2>&1 || true
  stop_hermetic_server
  if [[ $status -eq 0 ]]; then
    rm -rf "$WORK"
  else
    echo "work directory kept: $WORK" >&2
  fi
}
trap cleanup EXIT

# all_stats: every non-zero counter as "name=value" words (not the store's sizes).
all_stats() {
  "$CCREX_BIN" --print-stats | awk -F'\t' '$2 != 0 && $1 !~ /^store_bytes_/ { printf "%s=%s ", $1, $2 }'
}

# expect_stats NAME=VALUE...: exactly these counters are non-zero, with these values.
expect_stats() {
  local got want
  got=$(all_stats | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/^ *//')
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [[ $got == "$want" ]] || fail "counters are \"$got\", expected \"$want\""
}

# list_objects DIR [FIND_ARGS...]: the object files below DIR, relative, sorted.
list_objects() {
  local dir=$1
  shift
  (cd "$dir" && find . -name '*.o' -not -path './CMakeFiles/[0-9]*' "$@" | sort)
}

# save_files DIR DEST PATTERN...: copy the files named PATTERN below DIR to DEST, keeping
# their relative paths.
save_files() {
  local dir=$1 dest=$2
  shift 2
  local args=() p
  for p in "$@"; do
    args+=(-o -name "$p")
  done
  mkdir -p "$dest"
  (cd "$dir" && find . -type f -not -path './CMakeFiles/[0-9]*' \( -false "${args[@]}" \) \
    -exec cp --parents -p {} "$dest" \;) || fail "cannot save $* from $dir"
}

# compare_trees REF DIR PATTERN...: every REF file named PATTERN is byte-identical in DIR.
compare_trees() {
  local ref=$1 dir=$2 f n=0
  shift 2
  local args=() p
  for p in "$@"; do
    args+=(-o -name "$p")
  done
  while IFS= read -r f; do
    f=${f#./}
    [[ -f $dir/$f ]] || fail "$dir/$f was not produced"
    cmp -s "$ref/$f" "$dir/$f" || fail "$dir/$f differs from the plain build's"
    n=$((n + 1))
  done < <(cd "$ref" && find . -type f \( -false "${args[@]}" \) | sort)
  [[ $n -gt 0 ]] || fail "no files to compare in $ref"
  echo "  $n files identical to the plain build"
}

# ---------------------------------------------------------------------------------------
# Hermetic runs (REALBUILD_HERMETIC=1): the compiles go, with the compiler's closure, to a
# standalone ccrex-server whose sandbox gives each action its input root as `/`, so no
# compiler of the host is visible to them. Expects CCREX_SERVER_BIN.

# hermetic_unavailable: print why a hermetic run cannot happen here; nothing when it can.
hermetic_unavailable() {
  if [[ ! -x ${CCREX_SERVER_BIN:-} ]]; then
    echo "CCREX_SERVER_BIN ('${CCREX_SERVER_BIN:-}') is not an executable"
    return
  fi
  # As the server would run it: as root it starts bwrap as the sandbox user (65534).
  local as_user=()
  [[ $(id -u) == 0 ]] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  if [[ ! -x /usr/bin/bwrap ]]; then
    echo "bubblewrap is not installed"
  elif ! (cd / && "${as_user[@]}" /usr/bin/bwrap --unshare-user --unshare-pid --unshare-net \
    --ro-bind / / --dev /dev --proc /proc true) 2>/dev/null; then
    echo "bubblewrap cannot create namespaces here"
  fi
}

# start_hermetic_server: start ccrex-server with its sandbox on a unix socket in $WORK, its
# status page on loopback and debug logging (a line per execution naming its root), and
# point ccrex at it with hermetic_toolchain on. Sets SERVER_PID and STATUS_URL.
start_hermetic_server() {
  # The sandbox user must be able to search its way to the store's work directories.
  chmod 711 "$WORK"
  local dir=$WORK
  while dir=$(dirname "$dir") && [[ $dir != / ]]; do
    ((0$(stat -c %a "$dir") & 1)) || fail "$dir is not searchable by others (the sandbox user)"
  done
  "$CCREX_SERVER_BIN" --listen "unix:$WORK/server.sock" --cache-dir "$WORK/server-store" \
    --status-listen 127.0.0.1:0 --log-level debug >"$WORK/server.out" 2>"$WORK/server.log" &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q '^ccrex-server: status page at ' "$WORK/server.out" && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "ccrex-server exited: $(cat "$WORK/server.log")"
    sleep 0.1
  done
  STATUS_URL=$(sed -n 's|^ccrex-server: status page at \(http://[^ ]*\)/$|\1|p' "$WORK/server.out")
  [[ -n $STATUS_URL ]] || fail "ccrex-server did not start: $(cat "$WORK/server.out" "$WORK/server.log")"
  grep -qE 'sandbox: (own namespaces|bubblewrap)' "$WORK/server.log" \
    || fail "ccrex-server runs without its sandbox: $(grep 'sandbox' "$WORK/server.log")"
  export CCREX_REMOTE=unix:$WORK/server.sock
  export CCREX_HERMETIC_TOOLCHAIN=true
  # <object>.ccrex-debug beside each object: the action's platform and inputs.
  export CCREX_DEBUG=true
}

stop_hermetic_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# server_metric NAME: the sum of the status port's samples of the Prometheus metric NAME.
server_metric() {
  local text
  text=$(curl -sf --noproxy "*" "$STATUS_URL/metrics") || fail "cannot read $STATUS_URL/metrics"
  awk -v name="$1" '
    $1 == name || index($1, name "{") == 1 { sum += $NF }
    END { printf "%d\n", sum }' <<<"$text"
}

# debug_inputs_bytes DIR: the bytes of the distinct input files named by the .ccrex-debug
# files below DIR (each file once, however many actions read it).
debug_inputs_bytes() {
  find "$1" -name '*.ccrex-debug' -exec awk '
    /^\[/ { inputs = ($0 == "[inputs]") ; next }
    inputs && $2 ~ /^[0-9a-f]+\/[0-9]+$/ { print $2 }' {} + \
    | sort -u | awk -F/ '{ sum += $2 } END { printf "%d\n", sum }'
}

HERMETIC_EXECUTIONS=0
HERMETIC_RECEIVED=0

# check_hermetic DIR COMPILES FIRST: the last COMPILES compiles (whose objects and debug
# files are below DIR) ran on the server, each in its sandbox with the input root as `/`
# as the client asked. FIRST=yes: they were the compiler's first, so what the server
# received since the last check holds the compiler's closure, once: at least 20 MB and at
# most the distinct inputs of these actions plus their Directory, Command and Action
# messages. FIRST=no: the closure was not sent again (at most those messages and a few
# changed files).
check_hermetic() {
  local dir=$1 compiles=$2 first=$3
  local executions received delta inputs debug_files asked in_input in_host
  executions=$(server_metric ccrex_executions_total)
  [[ $((executions - HERMETIC_EXECUTIONS)) -eq $compiles ]] \
    || fail "the server ran $((executions - HERMETIC_EXECUTIONS)) actions, expected $compiles"
  HERMETIC_EXECUTIONS=$executions
  # One debug line per execution names the root it ran in; none may be the host's.
  in_input=$(grep -c ': input root, sandboxed$' "$WORK/server.log" || true)
  in_host=$(grep -c ': host root, ' "$WORK/server.log" || true)
  [[ $in_input -eq $executions && $in_host -eq 0 ]] \
    || fail "of $executions executions, $in_input ran sandboxed in the input root and $in_host in the host's"
  debug_files=$(find "$dir" -name '*.ccrex-debug' | wc -l)
  asked=$(find "$dir" -name '*.ccrex-debug' -exec grep -l '^ccrex-root=input' {} + | wc -l || true)
  [[ $debug_files -ge $compiles && $asked -eq $debug_files ]] \
    || fail "$asked of $debug_files debug files (for $compiles compiles) ask for ccrex-root=input"
  received=$(server_metric ccrex_cas_received_bytes_total)
  delta=$((received - HERMETIC_RECEIVED))
  HERMETIC_RECEIVED=$received
  local slack=$((1048576 + compiles * 65536))
  if [[ $first == yes ]]; then
    inputs=$(debug_inputs_bytes "$dir")
    ((delta >= 20000000)) || fail "the server received only $delta bytes: no compiler was sent"
    ((delta <= inputs + slack)) \
      || fail "the server received $delta bytes for $inputs bytes of distinct inputs: some were sent more than once"
    echo "  $compiles executions in the input root; $((delta / 1048576)) MiB received for $((inputs / 1048576)) MiB of distinct inputs"
  else
    ((delta <= slack)) || fail "the server received $delta bytes for $compiles compiles: the compiler was sent again"
    echo "  $compiles executions in the input root; $((delta / 1024)) KiB received"
  fi
}
