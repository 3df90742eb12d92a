"""A small stand-in for PyTorch with the surface ddrr.torch uses: generator states as byte
tensors, CUDA generators of two devices, optimizers with step post-hooks (global and per
optimizer). Every state change is logged in `calls`, so a test sees what ddrr.torch did."""
import random as _random

from . import cuda, optim  # noqa: F401  (submodules, as torch has them)

uint8 = "uint8"
calls = []  # ("set_rng_state", device or "cpu", bytes)


class Tensor(object):
    def __init__(self, data, dtype=uint8):
        self._data = [int(b) & 0xFF for b in data]
        self.dtype = dtype

    def tolist(self):
        return list(self._data)


def tensor(data, dtype=None):
    return Tensor(data, dtype)


class _Generator(object):
    """A byte state that manual_seed sets and every draw advances."""

    def __init__(self, seed):
        draws = _random.Random(seed)
        self.state = bytes(draws.getrandbits(8) for _ in range(16))

    def draw(self):
        self.state = bytes((b * 31 + 7) & 0xFF for b in self.state)
        return self.state[0]


_cpu = _Generator(0)


def manual_seed(seed):
    global _cpu
    _cpu = _Generator(seed)
    cuda.manual_seed_all(seed)


def get_rng_state():
    return Tensor(_cpu.state)


def set_rng_state(state):
    _cpu.state = bytes(state.tolist())
    calls.append(("set_rng_state", "cpu", _cpu.state))


def randint_byte():
    return _cpu.draw()
