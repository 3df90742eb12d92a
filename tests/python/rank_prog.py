"""A training-like rank program in Python: the CUDA runtime through ctypes, a mark and the RNG
states at every step (ddrr.rng.record_states), a random draw per step that changes the data it
copies to the device. Run by python_test.sh under `ddrr run --host`, `ddrr record` and
`ddrr replay`.

    rank_prog.py [--steps N] [--seed S]   (--seed: python's random generator; numpy's is S+1)

Prints one line `rank R: sum=... draws=...` from the values it drew.
"""
import argparse
import ctypes
import os
import random
import sys

import ddrr

try:
    import numpy
except ImportError:
    numpy = None


def check(rc, what):
    if rc != 0:
        sys.stderr.write("%s failed: CUDA error %d\n" % (what, rc))
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rank = int(os.environ.get("RANK", "0"))
    cudart = ctypes.CDLL("libcudart.so.13")
    cudart.cudaMalloc.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t]
    cudart.cudaMemcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    cudart.cudaFree.argtypes = [ctypes.c_void_p]
    count = ctypes.c_int(0)
    check(cudart.cudaGetDeviceCount(ctypes.byref(count)), "cudaGetDeviceCount")
    check(cudart.cudaSetDevice(int(os.environ.get("LOCAL_RANK", "0")) % count.value),
          "cudaSetDevice")
    random.seed(args.seed * 100 + rank)
    if numpy is not None:
        numpy.random.seed(args.seed + 1 + rank)
    floats = 64
    host = (ctypes.c_float * floats)()
    device = ctypes.c_void_p()
    check(cudart.cudaMalloc(ctypes.byref(device), ctypes.sizeof(host)), "cudaMalloc")
    total = 0.0
    draws = []
    for step in range(args.steps):
        ddrr.mark("step", step)
        names = ddrr.rng.record_states()
        draw = random.random()
        if numpy is not None:
            draw += float(numpy.random.random())
        draws.append("%.6f" % draw)
        for i in range(floats):
            host[i] = draw * i
        check(cudart.cudaMemcpy(device, host, ctypes.sizeof(host), 1), "cudaMemcpy H2D")
        check(cudart.cudaMemcpy(host, device, ctypes.sizeof(host), 2), "cudaMemcpy D2H")
        total += sum(host)
    check(cudart.cudaFree(device), "cudaFree")
    print("rank %d: sum=%.6f draws=%s rng=%s enabled=%d" %
          (rank, total, ",".join(draws), ",".join(names), ddrr.enabled()))


if __name__ == "__main__":
    main()
