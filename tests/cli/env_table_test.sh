#!/usr/bin/env bash
# env_table_test.sh DDRR README [--update] — README.md's environment table is exactly
# `ddrr help env --markdown` (generated from src/common/param_list.h) between the
# <!-- env-table:begin --> and <!-- env-table:end --> markers; --update rewrites it.
set -uo pipefail
ddrr=$1 readme=$2 mode=${3:-}
begin='<!-- env-table:begin -->' end='<!-- env-table:end -->'
fail() { echo "FAIL [env_table]: $*" >&2; exit 1; }
[ "$(grep -cxF "$begin" "$readme")" -eq 1 ] && [ "$(grep -cxF "$end" "$readme")" -eq 1 ] \
  || fail "$readme needs one '$begin' line and one '$end' line"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ddrr" help env --markdown >"$work/table" || fail "'$ddrr help env --markdown' failed"
[ -s "$work/table" ] || fail "'$ddrr help env --markdown' printed nothing"
awk -v b="$begin" -v e="$end" '$0 == e {inside = 0} inside {print} $0 == b {inside = 1}' \
  "$readme" >"$work/current"
if [ "$mode" = --update ]; then
  awk -v b="$begin" -v e="$end" -v t="$work/table" '
    $0 == e {inside = 0}
    !inside {print}
    $0 == b {inside = 1; while ((getline line < t) > 0) print line}' "$readme" >"$work/readme"
  cat "$work/readme" >"$readme"
  exit 0
fi
diff -u "$work/current" "$work/table" >&2 \
  || fail "$readme's environment table differs from 'ddrr help env --markdown'; regenerate it:" \
          "bash tests/cli/env_table_test.sh build/bin/ddrr README.md --update"
