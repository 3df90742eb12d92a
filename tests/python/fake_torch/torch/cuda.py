"""Two fake CUDA devices, each with its own generator."""
import torch

_DEVICES = 2
_states = [bytes([d] * 16) for d in range(_DEVICES)]


def is_available():
    return True


def is_initialized():
    return True


def device_count():
    return _DEVICES


def manual_seed_all(seed):
    for d in range(_DEVICES):
        _states[d] = bytes(((seed + d) * (i + 3)) & 0xFF for i in range(16))


def get_rng_state_all():
    return [torch.Tensor(s) for s in _states]


def set_rng_state(state, device=0):
    _states[int(device)] = bytes(state.tolist())
    torch.calls.append(("set_rng_state", "cuda.%d" % int(device), _states[int(device)]))
