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

cleanup() {
  local status=$?
  "$CCREX_BIN" --stop-agent >/dev/null 2>&1 || true
  if [[ $status -eq 0 ]]; then
    rm -rf "$WORK"
  else
    echo "work directory kept: $WORK" >&2
  fi
}
trap cleanup EXIT

# all_stats: every non-zero counter as "name=value" words.
all_stats() {
  "$CCREX_BIN" --print-stats | awk -F'\t' '$2 != 0 { printf "%s=%s ", $1, $2 }'
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
