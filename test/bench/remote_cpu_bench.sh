#!/usr/bin/env bash
# The CPU that ccrex and ccrexd spend on one compile of a remote engine's path: a remote hit
# (the local store has nothing, the engine's ActionCache has the result another agent left)
# and a remote miss (new inputs: GetActionResult, the upload, Execute), each for a
# one-function C file that includes one small project header. Against a local hit of the
# same compiles in the same run: the client's start and the agent's work before and after
# the engine (request, scan, action memo, writing the object), which a remote compile
# cannot do without.
#
#   test/bench/remote_cpu_bench.sh [--quick] [-n COMPILES] [--baseline-bin DIR]
#
# CPU times are exact, not clock ticks: the agent's from its process CPU clock
# (clock_gettime on the clock of another process: every thread, those gone included), read
# before and after each compile; the client's from the rusage wait4 returns for it. The
# engine is ccrex-server on 127.0.0.1 with a store of its own; its CPU is not counted.
# --baseline-bin DIR: also measure the ccrex and ccrexd in DIR (say, copies from an older
# build), compile by compile in turn with the current ones (each going first every other
# time), against the same server.
# CCREX_BUILD_DIR picks the build (default build-bench, a Release build made here).
# Also an empty statically linked C program, started the same way: the CPU that exec, the
# loader and exit cost on this machine, under any client.
# --quick: 30 compiles of each kind (for checking the script, not for figures).
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
n=300
baseline_bin=""
while (($#)); do
  case $1 in
  --quick) n=30 ;;
  -n) n=$2 && shift ;;
  --baseline-bin) baseline_bin=$(cd "$2" && pwd) && shift ;;
  *) echo "usage: $0 [--quick] [-n COMPILES] [--baseline-bin DIR]" >&2 && exit 2 ;;
  esac
  shift
done

bench_build ccrex ccrexd ccrex-server
work=$(bench_scratch ccrex-remote-cpu)
bench_clean_env "$work"
server_pid=""
cleanup() {
  bench_stop_agents "$work"/agent-*
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/server"
"$bin/ccrex-server" --listen 127.0.0.1:0 --cache-dir "$work/server" >"$work/server.port" \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  [[ -s $work/server.port ]] && break
  sleep 0.1
done
port=$(grep -o '[0-9]*$' "$work/server.port" | head -1)
export CCREX_REMOTE=grpc://127.0.0.1:$port

# The floor of any client: an empty statically linked program, started and done.
printf 'int main(void) { return 0; }\n' >"$work/empty.c"
gcc -O2 -static "$work/empty.c" -o "$work/empty" 2>/dev/null || gcc -O2 "$work/empty.c" -o "$work/empty"

sets=("new:$bin")
[[ -n $baseline_bin ]] && sets+=("baseline:$baseline_bin")
echo "scratch directory: $work; $n compiles of each kind per build"
python3 - "$work" "$n" "${sets[@]}" <<'EOF'
import os, statistics, sys, time

work, n, sets = sys.argv[1], int(sys.argv[2]), [s.split(":", 1) for s in sys.argv[3:]]
src = os.path.join(work, "src")
os.makedirs(src)
with open(os.path.join(src, "cheap.h"), "w") as f:
    f.write("#ifndef CHEAP_H\n#define CHEAP_H\nint cheap(int x);\n#endif\n")

def env_of(name, agent):
    e = dict(os.environ)
    e["CCREX_DIR"] = os.path.join(work, "store-" + agent)
    e["CCREX_AGENT_DIR"] = os.path.join(work, "agent-" + agent)
    return e

def agent_cpu_ns(agent):
    # The CPU clock of process `pid` (every thread, exited ones included), as
    # clock_getcpuclockid() would name it: ((~pid) << 3) | CPUCLOCK_SCHED.
    with open(os.path.join(work, "agent-" + agent, "agent.pid")) as f:
        pid = int(f.read())
    return time.clock_gettime_ns(((~pid) << 3) | 2)

def client_cpu_ns(argv, env):
    """Run `argv` (posix_spawn: no copy of this process); return its CPU in ns."""
    os.chdir(src)
    with open(os.devnull, "w") as null:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=[(os.POSIX_SPAWN_DUP2, null.fileno(), 1)])
        _, status, ru = os.wait4(pid, 0)
    if status != 0:
        sys.exit("%s failed (%d)" % (" ".join(argv), status))
    return int((ru.ru_utime + ru.ru_stime) * 1e9)

def compile_once(ccrex, env, name):
    """Compile src/NAME.c; return the client's CPU in ns."""
    return client_cpu_ns([ccrex, "gcc", "-O1", "-c", name + ".c", "-o", name + ".o"], env)

def measured(ccrex, env, agent, name):
    """Agent + client CPU of one compile, in ns: (agent, client)."""
    a0 = agent_cpu_ns(agent)
    c = compile_once(ccrex, env, name)
    return agent_cpu_ns(agent) - a0, c

def write_source(name, body):
    with open(os.path.join(src, name + ".c"), "w") as f:
        f.write('#include "cheap.h"\n' + body)

kinds = ("remote miss", "remote hit", "local hit", "client start")
results = {label: {kind: [] for kind in kinds} for label, _ in sets}
empty_program = []
for label, d in sets:  # agents up, channels open
    write_source("warm_" + label, "int warm(void) { return cheap(0); }\n")
    compile_once(os.path.join(d, "ccrex"), env_of(label, label), "warm_" + label)

for i in range(n):
    for label, d in sets if i % 2 == 0 else reversed(sets):  # neither always goes first
        ccrex, env = os.path.join(d, "ccrex"), env_of(label, label)
        # A miss: inputs nobody has seen.
        name = "miss_%s_%d" % (label, i)
        write_source(name, "int miss_%d(int x) { return cheap(x) * %d; }\n" % (i, i))
        results[label]["remote miss"].append(measured(ccrex, env, label, name))
        # A hit: another agent (own store) compiled it first.
        name = "hit_%s_%d" % (label, i)
        write_source(name, "int hit_%d(int x) { return cheap(x) + %d; }\n" % (i, i))
        compile_once(ccrex, env_of(label, "other-" + label), name)
        results[label]["remote hit"].append(measured(ccrex, env, label, name))
        # The same compile again: a local hit.
        results[label]["local hit"].append(measured(ccrex, env, label, name))
        # The client alone, started and done (`--version`): the floor of its share.
        results[label]["client start"].append((0, client_cpu_ns([ccrex, "--version"], env)))
    empty_program.append(client_cpu_ns([os.path.join(work, "empty")], dict(os.environ)))

def ms(ns):
    return ns / 1e6

print("%-9s %-12s %10s %10s %10s %12s %9s" % ("build", "compile", "agent_ms", "client_ms",
                                             "sum_ms", "sum_median", "x local"))
summary = {}
for label, _ in sets:
    local = statistics.mean(a + c for a, c in results[label]["local hit"])
    for kind, rows in results[label].items():
        agent = statistics.mean(a for a, _ in rows)
        client = statistics.mean(c for _, c in rows)
        total = [a + c for a, c in rows]
        summary[(label, kind)] = statistics.mean(total)
        print("%-9s %-12s %10.3f %10.3f %10.3f %12.3f %9.2f" % (
            label, kind, ms(agent), ms(client), ms(statistics.mean(total)),
            ms(statistics.median(total)), statistics.mean(total) / local))
floor = statistics.mean(empty_program)
print("%-9s %-12s %10s %10.3f %10.3f %12.3f %9s" % (
    "-", "empty program", "", ms(floor), ms(floor), ms(statistics.median(empty_program)), ""))
print()
for label, _ in sets:
    print("%s: agent+client CPU per remote hit: %.2f ms (target <= 1 ms); per remote miss: %.2f ms"
          % (label, ms(summary[(label, "remote hit")]), ms(summary[(label, "remote miss")])))
print("starting and ending an empty static program costs %.2f ms of CPU on this machine "
      "(the floor under any client's share)" % ms(floor))
if len(sets) > 1:
    for kind in kinds:
        print("%s new/baseline: %.2f" % (kind, summary[("new", kind)] / summary[("baseline", kind)]))
EOF
