# The client with its agent: starting it once, stopping it, and falling back to a local
# compile whenever the agent dies, hangs up or talks nonsense.

SUITE_agent_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
}

SUITE_agent_SETUP() {
  printf 'int add(int a, int b) { return a + b; }\n' >add.c
  gcc -c add.c -o plain.o
}

# A stand-in agent on the test's socket that reads a request and then answers with
# $1 (python bytes literal) or hangs up when $1 is empty.
start_fake_agent() {
  mkdir -m 700 -p "$CCREX_AGENT_DIR"
  python3 - "$CCREX_AGENT_DIR/agent.sock" "$1" <<'PY' &
import os, socket, sys
path, answer = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
open(path + ".ready", "w").close()
conn, _ = s.accept()
conn.recv(65536)
if answer:
    conn.sendall(eval(answer))
conn.close()
PY
  FAKE_AGENT_PID=$!
  wait_for 5 test -e "$CCREX_AGENT_DIR/agent.sock.ready" || test_failed "fake agent did not start"
}

SUITE_agent() {
  TEST "first compile starts the agent; --stop-agent stops it"
  expect_exit 0 "$CCREX" gcc -c add.c -o add.o
  expect_same_file add.o plain.o
  pid=$(agent_pid)
  [[ -n $pid ]] || test_failed "no agent pid file"
  process_alive "$pid" || test_failed "agent $pid is not running"
  expect_equal "$(stat -c %a "$CCREX_AGENT_DIR")" 700 "agent directory mode"
  expect_equal "$(stat -c %a "$CCREX_AGENT_DIR/agent.sock")" 600 "socket mode"
  # The agent runs in a session of its own (double fork: it is not the session leader),
  # detached from the client's session and terminal.
  agent_sid=$(ps -o sid= -p "$pid" | tr -d ' ')
  [[ $agent_sid != "$(ps -o sid= -p $$ | tr -d ' ')" ]] || test_failed "agent in the test's session"
  [[ $agent_sid != "$pid" ]] || test_failed "agent is a session leader"
  # A second compile uses the same agent.
  expect_exit 0 "$CCREX" gcc -c add.c -o add2.o
  expect_equal "$(agent_pid)" "$pid" "agent pid after second compile"
  expect_exit 0 "$CCREX" --stop-agent
  expect_contains stdout.txt "stopping"
  # --stop-agent returns once the agent has exited (scripts remove its directory next).
  process_gone "$pid" || test_failed "agent still running when --stop-agent returned"
  expect_missing "$CCREX_AGENT_DIR/agent.sock"
  expect_missing "$CCREX_AGENT_DIR/agent.pid"
  expect_exit 0 "$CCREX" --stop-agent
  expect_contains stdout.txt "no agent is running"

  TEST "SIGTERM stops the agent cleanly"
  expect_exit 0 "$CCREX" gcc -c add.c -o add.o
  pid=$(agent_pid)
  kill -TERM "$pid"
  wait_for 5 process_gone "$pid" || test_failed "agent ignored SIGTERM"
  expect_missing "$CCREX_AGENT_DIR/agent.sock"
  expect_missing "$CCREX_AGENT_DIR/agent.pid"

  TEST "a new agent opens its store before the first compile arrives"
  # --show-config starts the agent and reads no store; the agent opens the store of the
  # cache directory it was started for by itself, for the compile that usually follows.
  expect_exit 0 "$CCREX" --stop-agent
  expect_missing "$CCREX_DIR/store"
  expect_exit 0 "$CCREX" --show-config
  wait_for 10 test -e "$CCREX_DIR/store/lock" || test_failed "the agent did not open its store"
  expect_exit 0 "$CCREX" gcc -c add.c -o add.o
  expect_same_file add.o plain.o
  expect_exit 0 "$CCREX" --print-stats
  expect_contains stdout.txt "miss_executed	1"

  TEST "idle agent exits by itself"
  export CCREX_IDLE_TIMEOUT=1
  expect_exit 0 "$CCREX" gcc -c add.c -o add.o
  pid=$(agent_pid)
  process_alive "$pid" || test_failed "agent not running"
  wait_for 10 process_gone "$pid" || test_failed "agent did not exit when idle"
  expect_missing "$CCREX_AGENT_DIR/agent.sock"

  TEST "agent killed while the client waits: the client compiles locally"
  expect_exit 0 "$CCREX" gcc -c add.c -o first.o
  pid=$(agent_pid)
  kill -STOP "$pid"
  "$CCREX" gcc -c add.c -o add.o 2>client_stderr.txt &
  client=$!
  sleep 0.5
  process_alive "$client" || test_failed "client did not wait for the stopped agent"
  kill -KILL "$pid"
  wait "$client"
  expect_equal $? 0 "client exit status"
  expect_same_file add.o plain.o
  # The next compile replaces the dead agent (stale socket and pid file).
  expect_exit 0 "$CCREX" gcc -c add.c -o again.o
  expect_same_file again.o plain.o
  new_pid=$(agent_pid)
  [[ -n $new_pid && $new_pid != "$pid" ]] || test_failed "no new agent after the old one died"
  process_alive "$new_pid" || test_failed "new agent not running"

  TEST "a stopped agent: the compile finishes locally after the silence limit, with a note"
  expect_exit 0 "$CCREX" gcc -c add.c -o first.o
  pid=$(agent_pid)
  kill -STOP "$pid"
  start=$SECONDS
  # `timeout` turns a client that waits for ever into a failure instead of a hung suite.
  expect_exit 0 timeout 60 "$CCREX" gcc -c add.c -o add.o
  elapsed=$((SECONDS - start))
  kill -CONT "$pid"
  ((elapsed <= 15)) || test_failed "the client waited $elapsed s for a stopped agent"
  expect_same_file add.o plain.o
  expect_equal "$(wc -l <stderr.txt)" 1 "lines on stderr"
  expect_contains stderr.txt "ccrex: the agent made no progress for 5 s; compiling locally"

  TEST "a compile longer than the silence limit through a healthy agent is not cut off"
  mkdir slowbin
  # gcc slowed down where it compiles (not where ccrex asks for its version).
  cat >slowbin/gcc <<SH
#!/bin/sh
case " \$* " in *" -c "*) sleep 8 ;; esac
exec $(command -v gcc) "\$@"
SH
  chmod +x slowbin/gcc
  start=$SECONDS
  expect_exit 0 "$CCREX" "$PWD/slowbin/gcc" -c add.c -o slow.o
  ((SECONDS - start >= 7)) || test_failed "the slow compile took only $((SECONDS - start)) s"
  expect_same_file slow.o plain.o
  [[ ! -s stderr.txt ]] || test_failed "stderr: $(cat stderr.txt)"
  expect_exit 0 "$CCREX" --print-stats
  expect_contains stdout.txt "miss_executed	1"
  grep -q 'fallback\|ran locally' "$CCREX_AGENT_DIR/agent.log" \
    && test_failed "the slow compile did not go through the agent: $(cat "$CCREX_AGENT_DIR/agent.log")"

  TEST "compiler temporaries go to the TMPDIR the agent was started with, and are removed"
  mkdir tmpbin mytmp
  # gcc reports where TMPDIR points while it compiles, and leaves a file there.
  cat >tmpbin/gcc <<SH
#!/bin/sh
case " \$* " in *" -c "*)
  echo "\$TMPDIR" >>"$PWD/seen"
  : >"\$TMPDIR/left-behind" || exit 1 ;;
esac
exec $(command -v gcc) "\$@"
SH
  chmod +x tmpbin/gcc
  TMPDIR=$PWD/mytmp expect_exit 0 "$CCREX" "$PWD/tmpbin/gcc" -c add.c -o tmp.o
  expect_same_file tmp.o plain.o
  expect_exit 0 "$CCREX" --print-stats
  expect_contains stdout.txt "miss_executed	1"
  [[ $(cat seen) == "$PWD"/mytmp/ccrex-action-* ]] || test_failed "TMPDIR was '$(cat seen)'"
  [[ -z $(ls -A mytmp) ]] || test_failed "left in TMPDIR: $(ls -A mytmp)"

  if command -v python3 >/dev/null; then
    TEST "agent hangs up without replying: the client compiles locally"
    export CCREX_AGENT_BIN=/nonexistent
    start_fake_agent ""
    expect_exit 0 "$CCREX" gcc -c add.c -o add.o
    expect_same_file add.o plain.o
    wait "$FAKE_AGENT_PID"

    TEST "malformed reply: the client compiles locally"
    export CCREX_AGENT_BIN=/nonexistent
    start_fake_agent "b'CCRX\\x03\\x00\\x00\\x00\\x04\\x00\\x00\\x00\\x09\\x00\\x00\\x00'"
    expect_exit 0 "$CCREX" gcc -c add.c -o add.o
    expect_same_file add.o plain.o
    wait "$FAKE_AGENT_PID"

    TEST "reply in another protocol version: the client compiles locally"
    export CCREX_AGENT_BIN=/nonexistent
    start_fake_agent "b'CCRX\\x63\\x00\\x00\\x00\\x08\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00'"
    expect_exit 0 "$CCREX" gcc -c add.c -o add.o
    expect_same_file add.o plain.o
    wait "$FAKE_AGENT_PID"

    TEST "a \"done\" reply is taken as the compile's result"
    export CCREX_AGENT_BIN=/nonexistent
    # done with exit code 7: the client must not run the compiler.
    start_fake_agent "b'CCRX\\x03\\x00\\x00\\x00\\x08\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x07\\x00\\x00\\x00'"
    expect_exit 7 "$CCREX" gcc -c add.c -o add.o
    expect_missing add.o
    wait "$FAKE_AGENT_PID"
  fi

  TEST "a burst of 16 concurrent compiles starts exactly one agent"
  cat >launch-counter <<SH
#!/bin/sh
echo \$\$ >>"$PWD/launches"
exec "$CCREXD_BIN" "\$@"
SH
  chmod +x launch-counter
  export CCREX_AGENT_BIN=$PWD/launch-counter
  for i in $(seq 16); do
    cp add.c "add$i.c"
  done
  pids=()
  for i in $(seq 16); do
    "$CCREX" gcc -c "add$i.c" -o "add$i.o" 2>"stderr$i.txt" &
    pids+=($!)
  done
  for i in $(seq 16); do
    wait "${pids[$((i - 1))]}" || test_failed "compile $i failed: $(cat "stderr$i.txt")"
    [[ -s add$i.o ]] || test_failed "add$i.o missing"
  done
  expect_equal "$(wc -l <launches | tr -d ' ')" 1 "agent launches"
  process_alive "$(agent_pid)" || test_failed "the agent is not running"
}
