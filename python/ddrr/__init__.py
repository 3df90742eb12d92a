"""ddrr's Python API: marks and RNG states in a recorded training job.

    import ddrr
    ddrr.mark("step", step)            # a consistent cut across ranks
    ddrr.record_rng("sampler", state)  # bytes: compared in a replay, or handed back
    ddrr.rng.record_states()           # torch, CUDA, random and numpy generators at once
    ddrr.torch.install()               # all of it at every optimizer step

The functions call the C API (include/ddrr/ddrr.h) of the libddrr.so that `ddrr record` and
`ddrr replay` preload; the package never loads it. Outside ddrr every call is a no-op, and no
call raises into the program: a failure is one warning on stderr. Standard library only.
"""

from ._capi import enabled, mark, record_rng, restore_rng
from . import rng

__all__ = ["enabled", "mark", "record_rng", "restore_rng", "rng"]
