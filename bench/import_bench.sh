#!/usr/bin/env bash
# bench/import_bench.sh [BUILD_DIR] — `ddrr import` speed: an NCCL_DEBUG=INFO log of 8 ranks
# interleaved in one file (init lines, then all-reduces and broadcasts with other INFO lines
# between them), imported three times. Prints input lines/s and calls (entries)/s, wall time
# included (reading, parsing, writing the rank files). Figures: docs/PERFORMANCE.md, "Import".
set -euo pipefail
build=${1:-build}
ddrr="$build/bin/ddrr"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ranks=8 ops=${DDRR_BENCH_OPS:-50000}

python3 - "$out/nccl.log" "$ranks" "$ops" <<'PY'
import sys
path, ranks, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    for r in range(ranks):
        f.write("node%d:%d:%d [%d] NCCL INFO [Rank %d] ncclCommInitRank comm 0x55d0%02x000000 "
                "rank %d nranks %d cudaDev %d nvmlDev %d busId %x000 commId 0x9f3a77c1d2 - "
                "Init START\n" % (r // 8, 1000 + r, 2000 + r, r % 8, r, r, r, ranks, r % 8,
                                  r % 8, r + 1))
    for i in range(ops):
        op = "AllReduce" if i % 4 else "Broadcast"
        for r in range(ranks):
            f.write("node%d:%d:%d [%d] NCCL INFO %s: opCount %x sendbuff 0x7f3a%08x recvbuff "
                    "0x7f3a%08x count %d datatype 7 op 0 root 0 comm 0x55d0%02x000000 "
                    "[nranks=%d] stream 0x55e1%06x\n" % (r // 8, 1000 + r, 2000 + r, r % 8, op,
                                                          i, i * 4096, i * 4096, 1 << 20, r,
                                                          ranks, r))
            if i % 16 == 0:
                f.write("node%d:%d:%d [%d] NCCL INFO Channel 00/02 : 0 1 2 3 4 5 6 7\n"
                        % (r // 8, 1000 + r, 2000 + r, r % 8))
PY
lines=$(wc -l <"$out/nccl.log")
echo "== nccl-log: $ranks ranks, $ops calls each, $lines lines, $(du -m "$out/nccl.log" | cut -f1) MiB"
for trial in 1 2 3; do
  rm -rf "$out/run"
  start=$(date +%s.%N)
  "$ddrr" import "$out/nccl.log" -o "$out/run" >"$out/summary"
  end=$(date +%s.%N)
  entries=$(sed -E 's/.* ([0-9]+) entries.*/\1/' "$out/summary" | head -1)
  python3 -c "
s = $end - $start
print('trial $trial: %.2f s, %.0f lines/s, %.0f entries/s, run %s' % (s, $lines / s, $entries / s,
      '$(du -sh "$out/run" | cut -f1)'))"
done
