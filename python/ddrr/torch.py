"""ddrr for PyTorch: a mark and the RNG states at every optimizer step.

    import ddrr.torch
    ddrr.torch.install()            # every optimizer of the process
    ddrr.torch.install(optimizer)   # only this one

After each optimizer step the hook marks `optimizer.step` with the number of steps that optimizer
has taken (1 after the first), so `--from step:N` and `--payload-steps` count optimizer steps,
and records the RNG states of ddrr.rng.record_states() (torch CPU, every CUDA device, random,
numpy). In an application replay the recorder compares them with the recording; with
`ddrr replay --restore-rng` they are set from the recording.
"""

import sys
import threading
import weakref

from . import _capi
from . import rng

MARK_LABEL = "optimizer.step"

_lock = threading.Lock()
_global_handle = None
_steps = weakref.WeakKeyDictionary()  # optimizer -> steps taken
_step_ids = {}  # id(optimizer) -> steps, for optimizers that take no weak reference


def _count_step(optimizer):
    with _lock:
        try:
            n = _steps.get(optimizer, 0) + 1
            _steps[optimizer] = n
        except TypeError:
            n = _step_ids.get(id(optimizer), 0) + 1
            _step_ids[id(optimizer)] = n
    return n


def mark_step(step, label=MARK_LABEL):
    """Marks `step` and records (or restores) every generator's state; never raises."""
    _capi.mark(label, step)
    rng.record_states()


def _on_step(optimizer, args=None, kwargs=None):
    try:
        mark_step(_count_step(optimizer))
    except Exception as e:
        _capi.warn_once("ddrr's optimizer step hook", e)


def install(optimizer=None):
    """Registers the step hook: on `optimizer`, or on every optimizer when None. Returns the
    hook's handle (its remove() takes it off), or None when the process is not under ddrr or
    torch is not importable. Installing the global hook twice registers it once."""
    global _global_handle
    try:
        if _capi.api().mark is None:
            return None
        if optimizer is not None:
            return optimizer.register_step_post_hook(_on_step)
        with _lock:
            if _global_handle is None:
                import torch.optim.optimizer as torch_optimizer
                _global_handle = torch_optimizer.register_optimizer_step_post_hook(_on_step)
            return _global_handle
    except ImportError as e:
        _capi.warn_once("ddrr.torch.install() (torch is not importable)", e)
    except Exception as e:
        _capi.warn_once("ddrr.torch.install()", e)
    return None
