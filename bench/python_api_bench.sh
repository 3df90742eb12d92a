#!/usr/bin/env bash
# bench/python_api_bench.sh [BUILD_DIR] [CALLS] — the Python package's cost per call (ddrr.mark,
# ddrr.record_rng, ddrr.rng.record_states), outside ddrr (the no-op path) and recorded. numpy's
# generator is in record_states when numpy is importable. Prints figures (docs/PERFORMANCE.md,
# "Python API"); asserts nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
calls=${2:-5000}
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONPATH="$here/../python"
python3 "$here/python_api_bench.py" "$calls"
"$ddrr" record -o "$out/run" -- python3 "$here/python_api_bench.py" "$calls" 2>&1 \
  | grep -v '^ddrr: recorded'
