#!/usr/bin/env bash
# What zstd-compressed transfers save on a slow link: two ccrex-servers from one build, one
# as it comes (compressed-blobs/zstd offered) and one with --no-compressed-blobs, each
# behind its own test/bench/relay.py with a bandwidth cap and a small delay, each with its
# own agent. Every repetition is a remote miss of a new C file that includes a new large
# generated header (so the header is uploaded each time), compiled once through each engine,
# the two taking turns. Prints wall time and bytes sent to the engine per miss, the
# compressed engine against the plain one as a ratio, and the compressed uploads the
# compressed engine counted (its status port).
#
#   test/bench/compression_bench.sh [--quick]
#
# --quick: 2 repetitions (for checking the script, not for figures).
# CCREX_BUILD_DIR picks a build (default build-bench, a Release build made here);
# COMPRESSION_KBPS the link in kbit/s each way (default 20000), COMPRESSION_DELAY_MS its
# one-way delay (default 5), COMPRESSION_HEADER_MB the header's size (default 4).
set -euo pipefail
# shellcheck source=test/bench/lib.sh
. "$(dirname "$0")/lib.sh"
reps=7
[[ ${1:-} == --quick ]] && reps=2
kbps=${COMPRESSION_KBPS:-20000}
delay=${COMPRESSION_DELAY_MS:-5}
header_mb=${COMPRESSION_HEADER_MB:-4}

[[ -n ${CCREX_BUILD_DIR:-} ]] || "$repo/scripts/install-deps.sh" --bench
bench_build ccrex ccrexd ccrex-server
work=$(bench_scratch ccrex-compression)
bench_clean_env "$work"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  bench_stop_agents "$work"/*-agent
}
trap cleanup EXIT
echo "scratch directory: $work"

now_us() { echo $(($(date +%s%N) / 1000)); }
wait_for() {
  local i
  for i in $(seq 200); do
    [[ -s $1 ]] && grep -q "$2" "$1" && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  exit 1
}

# engine NAME SERVER-ARGS...: a ccrex-server with its own store behind a capped relay.
declare -A relay_port status_port
engine() {
  local name=$1
  shift
  mkdir -p "$work/$name-server"
  "$bin/ccrex-server" --listen 127.0.0.1:0 --cache-dir "$work/$name-server" \
    --status-listen 127.0.0.1:0 "$@" >"$work/$name.server" 2>"$work/$name.log" &
  pids+=($!)
  wait_for "$work/$name.server" "listening on"
  local port
  port=$(grep 'listening on' "$work/$name.server" | grep -o '[0-9]*$' | head -1)
  status_port[$name]=$(grep -o 'status page at http://127.0.0.1:[0-9]*' "$work/$name.server" |
    grep -o '[0-9]*$')
  python3 "$repo/test/bench/relay.py" --to "127.0.0.1:$port" --delay-ms "$delay" \
    --kbps "$kbps" --stats "$work/$name.stats" >"$work/$name.relay" &
  pids+=($!)
  wait_for "$work/$name.relay" "[0-9]"
  relay_port[$name]=$(head -1 "$work/$name.relay")
}
bytes_up() { cut -d' ' -f3 "$work/$1.stats"; }

# compile NAME FILE: compile FILE through NAME's engine with NAME's own agent and store.
compile() {
  (cd "$work/src" && CCREX_REMOTE=grpc://127.0.0.1:${relay_port[$1]} \
    CCREX_DIR=$work/$1-ccrex CCREX_AGENT_DIR=$work/$1-agent \
    "$bin/ccrex" gcc -O1 -c "$2.c" -o "$2.$1.o")
}

# A header of about HEADER_MB MB that looks like generated code (tables of constants and
# declarations), made unique by SEED.
make_source() {
  python3 - "$work/src/$1" "$header_mb" "$2" <<'PY'
import sys
path, mb, seed = sys.argv[1], float(sys.argv[2]), sys.argv[3]
lines = ["/* generated, seed %s */" % seed]
size, i = 0, 0
while size < mb * 1e6:
    line = "#define CONFIG_%s_OPTION_%d (0x%08x + %d)\nextern int table_entry_%d(int value, const char* name);\n" % (
        seed, i, (i * 2654435761) & 0xffffffff, i % 97, i)
    lines.append(line)
    size += len(line)
    i += 1
open(path + ".h", "w").write("".join(lines))
open(path + ".c", "w").write('#include "%s.h"\nint use_%s(void) { return CONFIG_%s_OPTION_1 > 0; }\n' % (
    path.rsplit("/", 1)[1], seed, seed))
PY
}

mkdir -p "$work/src"
engine zstd
engine plain --no-compressed-blobs
printf 'int warm_up(void) { return 0; }\n' >"$work/src/w.c"
compile zstd w
compile plain w

declare -A times bytes
for i in $(seq "$reps"); do
  make_source "m$i" "r$i"
  # Alternate who goes first, so a burst of background load hits both alike.
  order=(zstd plain)
  ((i % 2 == 0)) && order=(plain zstd)
  for name in "${order[@]}"; do
    b0=$(bytes_up "$name")
    t0=$(now_us)
    compile "$name" "m$i"
    times[$name]+="$((($(now_us) - t0) / 1000)) "
    bytes[$name]+="$(($(bytes_up "$name") - b0)) "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mean() { tr ' ' '\n' | grep -v '^$' | awk '{ s += $1 } END { printf "%.0f", s / NR }'; }
row() {
  local label=$1 p=$2 z=$3
  printf "%-38s %12s %12s %10s\n" "$label" "$p" "$z" \
    "$(awk -v a="$z" -v b="$p" 'BEGIN { printf "%.2f", a / b }')"
}
header_bytes=$(stat -c %s "$work/src/m1.h")
echo
echo "link: ${kbps} kbit/s each way, ${delay} ms one way; header: ${header_bytes} bytes; ${reps} misses each"
printf "%-38s %12s %12s %10s\n" "per miss" plain zstd zstd/plain
row "wall ms, median" "$(median <<<"${times[plain]}")" "$(median <<<"${times[zstd]}")"
row "wall ms, mean" "$(mean <<<"${times[plain]}")" "$(mean <<<"${times[zstd]}")"
row "bytes to the engine, mean" "$(mean <<<"${bytes[plain]}")" "$(mean <<<"${bytes[zstd]}")"
echo
echo "compressed uploads counted by the zstd engine:" \
  "$(curl -s "http://127.0.0.1:${status_port[zstd]}/metrics" |
    awk '/^ccrex_cas_compressed_streams_total\{direction="write"\}/ { print $NF }')"
for name in zstd plain; do
  fell_back=$(CCREX_DIR=$work/$name-ccrex CCREX_AGENT_DIR=$work/$name-agent \
    "$bin/ccrex" --print-stats |
    awk '$1 ~ /^fallback_/ { n += $2 } END { print n + 0 }')
  ((fell_back == 0)) || echo "  ($fell_back compiles through $name fell back: not all remote)"
done
