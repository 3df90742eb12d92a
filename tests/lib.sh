# Sourced by the scenario scripts (tests/*/*_test.sh) after they set case_name and ddrr: a scratch
# directory removed at exit, the samples' bootstrap and short emu timeouts, and the helpers
# every scenario uses. A script may redefine fail() to show something other than $work/out.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DDRR_SAMPLE_BOOTSTRAP_DIR="$work/bootstrap" DDRR_EMU_TIMEOUT=5 DDRR_RUN_GRACE=5
mkdir -p "$DDRR_SAMPLE_BOOTSTRAP_DIR"
fail() { echo "FAIL [$case_name]: $*" >&2; tail -20 "$work/out" >&2 2>/dev/null; exit 1; }
# `ddrr dump --json` of $work/run into $work/dump.json; py runs a Python script (stdin) on it,
# with json, sys and collections imported and the events in `ev`, a list of dicts.
json() { "$ddrr" dump "$work/run" --json >"$work/dump.json" || fail "dump failed"; }
py() {
  python3 - "$work/dump.json" "$@" < <(
    printf '%s\n' 'import collections, json, sys' 'ev = [json.loads(l) for l in open(sys.argv[1])]'
    cat
  )
}
