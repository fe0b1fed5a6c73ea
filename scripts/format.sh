#!/usr/bin/env bash
# scripts/format.sh CLANG_FORMAT [--check]: format (or check) every C++ file under git.
set -euo pipefail
clang_format=${1:-clang-format}
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.cpp' '*.h' '*.cc' | grep -Ev '^test/(fixtures|fuzz/corpus|fuzz/regressions|data)/' || true)
((${#files[@]})) || exit 0
if [[ "${2:-}" == "--check" ]]; then
  exec "$clang_format" --dry-run --Werror "${files[@]}"
fi
exec "$clang_format" -i "${files[@]}"
