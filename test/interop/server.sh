# Sourced by the interop scripts: run ccrex-server in the background on a free loopback port.
#
#   start_ccrex_server STORE_DIR OUT_FILE LOG_FILE [SERVER ARGS...]
#
# Needs $server_bin and a `fail MESSAGE` function. Sets server_pid, watchdog_pid (a loop that
# kills the server if the calling script dies without running its trap) and port.
start_ccrex_server() {
  local store=$1 out=$2 log=$3
  shift 3
  "$server_bin" --listen 127.0.0.1:0 --cache-dir "$store" "$@" >"$out" 2>>"$log" &
  server_pid=$!
  local parent=$$
  (while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill "$server_pid") >/dev/null 2>&1 &
  watchdog_pid=$!
  local line=""
  for _ in $(seq 1 300); do
    line=$(grep -m1 -E '^ccrex-server: listening on 127\.0\.0\.1:[0-9]+$' "$out" || true)
    [[ -n $line ]] && break
    kill -0 "$server_pid" 2>/dev/null || fail "ccrex-server exited before listening"
    sleep 0.1
  done
  [[ -n $line ]] || fail "ccrex-server printed no listening line within 30 s"
  port=${line##*:}
  ((port > 0)) || fail "bad port in '$line'"
  echo "ccrex-server (pid $server_pid) listening on 127.0.0.1:$port $*"
}
