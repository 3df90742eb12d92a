#!/usr/bin/env bash
# golden_test.sh CASE DDRR SAMPLES_DIR GOLDEN_DIR — `ddrr CASE` of a recorded sample against
# GOLDEN_DIR/CASE.txt (`dump`: rank 1's events, the rank with the finding). DDRR_UPDATE_GOLDEN=1 rewrites the golden instead of comparing.
#
# The recording is sgd_allreduce on 2 ranks with one unmatched ncclSend (a finding that does not
# depend on timing). Completion tracking is off: its events come from a polling thread, so their
# sequence numbers, and those of every later call, would vary from run to run.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 golden=$4
source "$(dirname "$0")/../lib.sh"

# Placeholders for what differs between two recordings of one program; everything else (calls,
# counts, sequence numbers, findings) stays visible.
# Allocations, streams and communicators keep their names (alloc5+0x0, stream1, comm1): they are
# numbered by first appearance, the same in every recording.
normalize() {
  sed -E -e 's/<128 bytes [0-9a-f]+\.\.\.>/<unique id>/' \
         -e 's/\b[0-9a-f]{16}\b/<comm>/g' \
         -e 's/^(\[[0-9]+\] #[0-9]+) [0-9]+\.[0-9]+ /\1 <time> /' \
         -e 's/ [0-9.]+(ns|us|ms|s)$/ <dur>/' \
         -e 's/=0x[0-9a-f]+\b/=<host pointer>/g' \
         -e 's/host [^ ]+  pid [0-9]+/host <host>  pid <pid>/' \
         -e 's/\([0-9.]+ (B|KiB|MiB|GiB), /(<size>, /' \
         -e 's/span [0-9.]+ s; [0-9.]+ bytes\/event/span <dur>; <n> bytes\/event/' \
         -e 's/ddrr [0-9]+\.[0-9]+\.[0-9]+/ddrr <version>/'
}

cd "$work" || fail "no scratch directory"
DDRR_COMPLETIONS=0 "$ddrr" record -o run -- "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
  --steps 4 --seed 1 --fault unmatched-send --fault-rank 1 --fault-step 2 >"$work/out" 2>&1 \
  || fail "recording exited $?"
args=(run)
case $case_name in
  check) want_rc=1 ;;  # a finding
  info) want_rc=0 ;;
  dump) want_rc=0 args=(run --rank 1) ;;
  *) fail "unknown case" ;;
esac
"$ddrr" "$case_name" "${args[@]}" >"$work/actual" 2>"$work/err"
rc=$?
[ "$rc" -eq "$want_rc" ] || fail "ddrr $case_name exited $rc, want $want_rc: $(head -3 "$work/err")"
[ -s "$work/err" ] && fail "ddrr $case_name wrote to stderr: $(head -3 "$work/err")"
normalize <"$work/actual" >"$work/normalized"
if [ "${DDRR_UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$work/normalized" "$golden/$case_name.txt"
  exit 0
fi
diff -u "$golden/$case_name.txt" "$work/normalized" || fail "ddrr $case_name differs from $case_name.txt"
