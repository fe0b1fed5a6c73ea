# The compile-line differential suite: a few hundred unusual compile lines (lines/*.txt),
# each run with gcc and with clang, plain, then cold and warm through ccrex, at the same
# absolute path, comparing exit status, stdout, stderr and every file created, changed or
# removed (lines/lines.py drives them, two at a time). One test per table, each with its
# own agent and store; ctest runs each table as a test of its own (e2e_lines_<table>, the
# table named by E2E_LINES_TABLES). Tables may name the families a line runs with
# (`%families gcc`, `{gcc,clang}`) to keep the suite near a minute and a half on two cores.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_lines_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v python3 >/dev/null || echo "python3 not found"
}

SUITE_lines_SETUP() {
  isolate_test
}

# run_lines TABLE: every line of lines/TABLE.txt with every compiler family installed.
run_lines() {
  local families=gcc
  command -v clang >/dev/null && families=gcc,clang
  python3 "$E2E_DIR/lines/lines.py" --ccrex "$CCREX" --work "$TEST_DIR/lines" \
    --jobs "${CCREX_LINES_JOBS:-2}" --families "$families" "$E2E_DIR/lines/$1.txt" \
    >"$TEST_DIR/lines.log" 2>&1
  local status=$?
  sed 's/^/    /' "$TEST_DIR/lines.log" | grep -v '^    \(DIFFERS\|BAD ROW\)' | head -n 8
  [[ $status -eq 0 ]] || test_failed "lines of $1.txt differ (to look at the trees, run lines.py with --keep --only ID): $(cat "$TEST_DIR/lines.log")"
}

SUITE_lines() {
  local table
  # E2E_LINES_TABLES (ctest runs one test per table) picks tables; all by default.
  for table in ${E2E_LINES_TABLES:-c deps paths asm_cxx runs}; do
    TEST "$table.txt: plain, cold and warm runs agree"
    run_lines "$table"
  done
}
