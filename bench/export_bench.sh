#!/usr/bin/env bash
# bench/export_bench.sh [BUILD_DIR] [RUN_DIR] — `ddrr export` against `ddrr check` on the same
# run: ROUNDS rounds (default 3) of check, export (native) and export --format json, interleaved
# so that the machine's load falls on all three alike. Each line: wall, user + sys, peak RSS,
# output size, then the export's wall and CPU as multiples of the same round's check. Without
# RUN_DIR it makes a synthetic run of RANKS x STEPS*4 all-reduces (ddrr-synth; defaults 1,024 x
# 1,000) and removes it afterwards. DDRR_BENCH_JSON=0 leaves the JSON form out. Figures:
# docs/PERFORMANCE.md, "ddrr export".
set -euo pipefail
build=${1:-build}
run=${2:-}
ddrr="$build/bin/ddrr"
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$run" ]; then
  run="$work/run"
  "$build/bin/ddrr-synth" -o "$run" -n "${RANKS:-1024}" --steps "${STEPS:-250}" --buckets 4 \
    >/dev/null
fi
echo "== $run: $(du -sm "$run" | cut -f1) MiB of rank files; $(nproc) cores;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Runs a command under /usr/bin/time; prints "wall cpu rss_mib" (seconds, seconds, MiB).
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >/dev/null 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  read -r wall user sys rss <"$work/time"
  echo "$wall $(echo "$user + $sys" | bc) $((rss / 1024))"
}

for round in $(seq "$rounds"); do
  read -r cw cc cr <<<"$(measure "$ddrr" check "$run")"
  printf 'round %d  check          wall %6.2f s  cpu %6.2f s  rss %4d MiB\n' \
    "$round" "$cw" "$cc" "$cr"
  read -r ew ec er <<<"$(measure "$ddrr" export "$run" -o "$work/t.perfetto-trace")"
  printf 'round %d  export         wall %6.2f s  cpu %6.2f s  rss %4d MiB  %6d MiB  %.2fx wall  %.2fx cpu\n' \
    "$round" "$ew" "$ec" "$er" "$(( $(stat -c %s "$work/t.perfetto-trace") >> 20 ))" \
    "$(echo "$ew / $cw" | bc -l)" "$(echo "$ec / $cc" | bc -l)"
  rm -f "$work/t.perfetto-trace"
  if [ "${DDRR_BENCH_JSON:-1}" != 0 ]; then
    read -r jw jc jr <<<"$(measure "$ddrr" export "$run" --format json -o "$work/t.json")"
    printf 'round %d  export json    wall %6.2f s  cpu %6.2f s  rss %4d MiB  %6d MiB  %.2fx wall  %.2fx cpu\n' \
      "$round" "$jw" "$jc" "$jr" "$(( $(stat -c %s "$work/t.json") >> 20 ))" \
      "$(echo "$jw / $cw" | bc -l)" "$(echo "$jc / $cc" | bc -l)"
    rm -f "$work/t.json"
  fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
