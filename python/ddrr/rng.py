"""The program's random generators, recorded as opaque states at a point of the run.

record_states() records, under fixed names, the state of every generator the program uses:

  torch.cpu        torch.get_rng_state()                       (when torch is imported)
  torch.cuda.<i>   torch.cuda.get_rng_state_all()[i]            (once torch has initialised CUDA)
  python.random    random.getstate()
  numpy.random     numpy.random.get_state()                     (when numpy is imported)

torch and numpy count only when the program has imported them already (nothing heavy is imported
here). The states are serialised deterministically: the same generator state gives the same bytes
in every process. In an application replay the recorder compares each with the recording; with
`ddrr replay --restore-rng` the recorded state is handed back and set on the generator.
"""

import random
import struct
import sys

from . import _capi

_PY_MAGIC = b"ddrr-pyrandom-1\0"
_NP_MAGIC = b"ddrr-numpy-1\0"


def python_random_state(generator=random):
    """random.getstate() as bytes: version, the Mersenne Twister words, the cached gauss."""
    version, internal, gauss = generator.getstate()
    out = [_PY_MAGIC, struct.pack("<iI", version, len(internal))]
    out.append(struct.pack("<%dI" % len(internal), *internal))
    out.append(struct.pack("<Bd", gauss is not None, gauss if gauss is not None else 0.0))
    return b"".join(out)


def set_python_random_state(data, generator=random):
    if not data.startswith(_PY_MAGIC):
        raise ValueError("not a python.random state")
    at = len(_PY_MAGIC)
    version, count = struct.unpack_from("<iI", data, at)
    at += 8
    internal = struct.unpack_from("<%dI" % count, data, at)
    at += 4 * count
    has_gauss, gauss = struct.unpack_from("<Bd", data, at)
    generator.setstate((version, tuple(internal), gauss if has_gauss else None))


def numpy_random_state(np):
    """numpy.random.get_state() (the legacy global generator) as bytes."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    words = np.asarray(keys, dtype="<u4").tobytes()
    return b"".join([_NP_MAGIC, name.encode("ascii") + b"\0",
                     struct.pack("<I", len(words)), words,
                     struct.pack("<iid", int(pos), int(has_gauss), float(cached))])


def set_numpy_random_state(np, data):
    if not data.startswith(_NP_MAGIC):
        raise ValueError("not a numpy.random state")
    at = len(_NP_MAGIC)
    end = data.index(b"\0", at)
    name = data[at:end].decode("ascii")
    at = end + 1
    (size,) = struct.unpack_from("<I", data, at)
    at += 4
    keys = np.frombuffer(data[at:at + size], dtype="<u4").astype(np.uint32)
    at += size
    pos, has_gauss, cached = struct.unpack_from("<iid", data, at)
    np.random.set_state((name, keys, pos, has_gauss, cached))


def _tensor_bytes(tensor):
    return bytes(tensor.tolist())


def _byte_tensor(torch, data):
    return torch.tensor(list(data), dtype=torch.uint8)


def _generators():
    """(name, get bytes, set from bytes) for every generator the program uses now."""
    gens = []
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_rng_state"):
        gens.append(("torch.cpu", lambda: _tensor_bytes(torch.get_rng_state()),
                     lambda b: torch.set_rng_state(_byte_tensor(torch, b))))
        cuda = getattr(torch, "cuda", None)
        # Only once the program has initialised CUDA: reading the states would initialise it.
        if cuda is not None and cuda.is_initialized():
            for i, state in enumerate(cuda.get_rng_state_all()):
                gens.append(("torch.cuda.%d" % i, lambda s=state: _tensor_bytes(s),
                             lambda b, i=i: cuda.set_rng_state(_byte_tensor(torch, b), i)))
    gens.append(("python.random", python_random_state, set_python_random_state))
    np = sys.modules.get("numpy")
    if np is not None and hasattr(np, "random"):
        gens.append(("numpy.random", lambda: numpy_random_state(np),
                     lambda b: set_numpy_random_state(np, b)))
    return gens


def record_states():
    """Records every generator's state (and, under --restore-rng, sets the recorded one).
    Returns the names recorded; never raises."""
    names = []
    try:
        if _capi.api().record_rng is None:
            return names
        for name, get, put in _generators():
            _capi.record_rng(name, get())
            names.append(name)
            restored = _capi.restore_rng(name)
            if restored is not None:
                put(restored)
    except Exception as e:
        _capi.warn_once("recording the RNG states", e)
    return names
