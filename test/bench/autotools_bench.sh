#!/usr/bin/env bash
# Whole rebuilds of a real autotools + libtool C project and of a make-built C project:
# the plain compiler, ccache and ccrex (embedded default: the agent and its server started
# on demand), measured side by side in one run, in the same build directory.
#
#   test/bench/autotools_bench.sh [--quick]
#
# Projects:
#   gnulib  a gnulib test directory made by `gnulib-tool --create-testdir --libtool` (a
#           configure script, automake's depcomp lines `-MT x.lo -MD -MP -MF .deps/x.Tpo`,
#           libtool compiling most files twice: PIC into .libs/ and non-PIC beside it).
#           Generating it is slow (minutes), so it is kept in $AUTOTOOLS_BENCH_CACHE
#           (default ~/.cache/ccrex-bench) and reused while the module list is the same.
#   make    test/realbuild/cproject (recursive make, -MMD and -MD -MF).
# For each project and repetition: a plain build; then for ccache and for ccrex, each with a
# fresh cache (and, for ccrex, a freshly started agent), a cold build; then, after
# `make clean` each time, warm rebuilds through ccache and ccrex taking turns. Prints the wall and CPU times (CPU: make and every process
# it started, plus the ccrex agent, which is not its child), ratios to plain and to ccache,
# the ccrex counters of the last warm rebuild (a warm hit that needed the compiler's -M
# shows as "Dependencies from -M"), and the target lines. Objects of the last ccrex warm
# rebuild are compared with the plain build's.
#
# Needs: gcc, make, ccache, gnulib, autoconf, automake, libtool
# (scripts/install-deps.sh --bench installs them).
# --quick: one repetition (for checking the script, not for figures). BENCH_REPS overrides.
# CCREX_BUILD_DIR picks a build to use as it is (default build-bench, a Release build made
# here).
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
reps=${BENCH_REPS:-3}
warm_turns=2 # warm rebuilds per contender and repetition
if [[ ${1:-} == --quick ]]; then
  reps=${BENCH_REPS:-1}
  warm_turns=1
fi

"$repo/scripts/install-deps.sh" --bench
for tool in gcc make ccache gnulib-tool autoreconf libtoolize; do
  command -v "$tool" >/dev/null || {
    echo "autotools_bench: $tool is missing (scripts/install-deps.sh --bench)" >&2
    exit 1
  }
done
bench_build ccrex ccrexd ccrex-server
jobs=$(nproc)
work=$(bench_scratch ccrex-autotools-bench)
bench_clean_env "$work"
export CCREX_AGENT_DIR=$work/agent
cleanup() {
  "$bin/ccrex" --stop-agent >/dev/null 2>&1 || true
}
trap cleanup EXIT
echo "scratch directory: $work"
csv=${BENCH_CSV:-$work/autotools.csv}
echo "project,contender,measure,wall_ms,cpu_ms" >"$csv"

# ------------------------------------------------------------------------------ projects
modules=(argp getopt-gnu regex hash xalloc quotearg fnmatch glob progname error verify
  c-ctype c-strcase xstrtol human exclude mbsstr)
cache=${AUTOTOOLS_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ccrex-bench}
key=$( (gnulib-tool --version 2>/dev/null | head -1; echo "${modules[*]}") | sha256sum | cut -c1-12)
gnulib_src=$cache/gnulib-$key
if [[ ! -f $gnulib_src/configure ]]; then
  echo "== generating the gnulib test directory (once; kept in $gnulib_src)"
  mkdir -p "$cache"
  rm -rf "$gnulib_src.tmp"
  gnulib-tool --create-testdir --dir="$gnulib_src.tmp" --libtool --without-tests "${modules[@]}" \
    >"$work/gnulib-tool.log" 2>&1 || {
    tail -20 "$work/gnulib-tool.log" >&2
    exit 1
  }
  mv "$gnulib_src.tmp" "$gnulib_src"
fi
echo "== configuring the projects"
cp -r "$gnulib_src" "$work/gnulib"
(cd "$work/gnulib" && ./configure -q CC=gcc >"$work/configure.log" 2>&1) || {
  tail -20 "$work/configure.log" >&2
  exit 1
}
cp -r "$repo/test/realbuild/cproject" "$work/make"
# ccrex takes the top of a git work tree as the project root; the make project's "../"
# includes need it to reach its sibling directories.
for p in gnulib make; do
  git -C "$work/$p" init -q
done

# ------------------------------------------------------------------------------ measuring
# cpu_ticks: CPU ticks of this script's finished children plus the ccrex agent's, with the
# compiles its embedded server ran (the agent's children). $$, not $BASHPID: called in a
# command substitution, whose own children are not make.
cpu_ticks() {
  local total pid
  total=$(awk '{ print $14 + $15 + $16 + $17 }' /proc/$$/stat)
  pid=$(cat "$CCREX_AGENT_DIR/agent.pid" 2>/dev/null || true)
  if [[ -n $pid && -r /proc/$pid/stat ]]; then
    total=$((total + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat")))
  fi
  echo "$total"
}

# make_once PROJECT CONTENDER MEASURE CC: `make clean`, then time `make -j` with CC; record
# its wall and CPU milliseconds. The agent started by a cold ccrex build counts from its start.
make_once() {
  local project=$1 contender=$2 measure=$3 cc=$4 t0 t1 c0 c1
  make -C "$work/$project" -s clean >/dev/null 2>&1
  c0=$(cpu_ticks)
  t0=${EPOCHREALTIME/[.,]/}
  make -C "$work/$project" -s -j"$jobs" CC="$cc" >"$work/make.out" 2>&1 || {
    tail -20 "$work/make.out" >&2
    echo "autotools_bench: $contender build of $project failed" >&2
    exit 1
  }
  t1=${EPOCHREALTIME/[.,]/}
  c1=$(cpu_ticks)
  echo "$project,$contender,$measure,$(((t1 - t0) / 1000)),$(((c1 - c0) * 1000 / $(getconf CLK_TCK)))" \
    >>"$csv"
}

# objects PROJECT DEST: copy the project's objects to DEST.
objects() {
  rm -rf "$2"
  mkdir -p "$2"
  (cd "$work/$1" && find . -name '*.o' -exec cp --parents {} "$2" \;)
}

for ((rep = 1; rep <= reps; rep++)); do
  for p in gnulib make; do
    echo "== $p, repetition $rep of $reps"
    make_once "$p" plain build gcc
    ((rep == reps)) && objects "$p" "$work/ref-$p"
    # Cold: each with a fresh cache; ccrex also starts its agent (and embedded server).
    rm -rf "$work/ccache-$p"
    CCACHE_DIR=$work/ccache-$p CCACHE_MAXSIZE=5G make_once "$p" ccache cold "ccache gcc"
    "$bin/ccrex" --stop-agent >/dev/null 2>&1 || true
    CCREX_DIR=$work/ccrex-$p-$rep make_once "$p" ccrex cold "$bin/ccrex gcc"
    # Warm: the two take turns, so that a change in the machine's load hits both alike.
    CCREX_DIR=$work/ccrex-$p-$rep "$bin/ccrex" -z >/dev/null
    for ((w = 0; w < warm_turns; w++)); do
      CCACHE_DIR=$work/ccache-$p CCACHE_MAXSIZE=5G make_once "$p" ccache warm "ccache gcc"
      CCREX_DIR=$work/ccrex-$p-$rep make_once "$p" ccrex warm "$bin/ccrex gcc"
    done
    if ((rep == reps)); then
      CCREX_DIR=$work/ccrex-$p-$rep "$bin/ccrex" -s >"$work/stats-$p.txt"
      objects "$p" "$work/ccrex-$p"
      if diff -r "$work/ref-$p" "$work/ccrex-$p" >/dev/null; then
        echo "   objects of the last ccrex warm rebuild: identical to the plain build's"
      else
        echo "   objects of the last ccrex warm rebuild: DIFFERENT from the plain build's"
      fi
    fi
  done
done
"$bin/ccrex" --stop-agent >/dev/null 2>&1 || true

for p in gnulib make; do
  echo
  echo "== ccrex counters over the last repetition's warm rebuilds of $p"
  sed 's/^/   /' "$work/stats-$p.txt"
done
echo
echo "== results: medians over $reps repetitions ($warm_turns warm rebuilds each), -j$jobs, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
med = {}
for key in {(r["project"], r["contender"], r["measure"]) for r in rows}:
    sel = [r for r in rows if (r["project"], r["contender"], r["measure"]) == key]
    med[key] = (statistics.median(float(r["wall_ms"]) for r in sel),
                statistics.median(float(r["cpu_ms"]) for r in sel), len(sel))
def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"
print(f"{'project':8}{'contender':11}{'measure':8}{'wall ms':>9}{'cpu ms':>9}{'/plain':>8}{'/ccache':>9}{'cpu/plain':>11}")
for p in ("gnulib", "make"):
    plain = med.get((p, "plain", "build"))
    for c, m in (("plain", "build"), ("ccache", "cold"), ("ccrex", "cold"), ("ccache", "warm"), ("ccrex", "warm")):
        v = med.get((p, c, m))
        if not v:
            continue
        cc = med.get((p, "ccache", m)) if c == "ccrex" else None
        print(f"{p:8}{c:11}{m:8}{v[0]:9.0f}{v[1]:9.0f}{ratio(v[0], plain[0]):>8}"
              f"{ratio(v[0], cc[0]) if cc else '-':>9}{ratio(v[1], plain[1]):>11}")
print()
print("targets:")
for p in ("gnulib", "make"):
    for m in ("warm", "cold"):
        a = med.get((p, "ccrex", m)); b = med.get((p, "ccache", m))
        if a and b:
            ok = a[0] <= b[0]
            print(f"  {'met ' if ok else 'MISS'} ({p}) {m} ccrex <= {m} ccache ({a[0]:.0f} vs {b[0]:.0f} ms)")
PY
echo
echo "CSV: $csv"
