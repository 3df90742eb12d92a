"""Cost of ddrr's Python API per call, in the process it runs in (bench/python_api_bench.sh runs
it outside ddrr and under `ddrr record`). Prints microseconds per call; asserts nothing."""
import sys
import time

import ddrr
import ddrr.rng

try:
    import numpy  # noqa: F401  (record_states covers numpy's generator once it is imported)
except ImportError:
    numpy = None


def per_call_us(fn, n):
    fn()  # the first call looks the C API up
    t0 = time.perf_counter()
    for i in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    recorded = ddrr.enabled()
    names = ",".join(ddrr.rng.record_states())
    print("%s, %d calls each" % ("recorded" if recorded else "not under ddrr", n))
    print("  ddrr.mark:               %7.2f us" % per_call_us(lambda: ddrr.mark("step", 1), n))
    print("  ddrr.record_rng (16 B):  %7.2f us" %
          per_call_us(lambda: ddrr.record_rng("x", b"0123456789abcdef"), n))
    print("  ddrr.rng.record_states:  %7.2f us  (%s)" %
          (per_call_us(ddrr.rng.record_states, n), names or "nothing: not under ddrr"))


if __name__ == "__main__":
    main()
