"""The C API of include/ddrr/ddrr.h, found in the libddrr.so the process already has.

Nothing is loaded: under `ddrr record` or `ddrr replay` the recorder is preloaded and its symbols
are in the process's global scope; anywhere else the lookup finds nothing and every call is a
no-op. Nothing here raises into the program: the first failure is one warning, then the API
stays quiet.
"""

import ctypes
import os
import sys
import threading

_lock = threading.Lock()
_api = None  # _Api once looked up
_warned = False


def warn_once(what, error):
    """One line on stderr for the first failure of the process; later ones are silent."""
    global _warned
    if _warned:
        return
    _warned = True
    try:
        sys.stderr.write("ddrr: warning: %s failed (%s: %s); the program goes on, and ddrr's "
                         "Python API says nothing more\n" % (what, type(error).__name__, error))
    except Exception:  # a closed stderr must not stop the program either
        pass


class _Api(object):
    def __init__(self, lib):
        self.enabled = self.mark = self.record_rng = self.restore_rng = None
        if lib is None:
            return
        enabled = lib.ddrr_enabled
        enabled.argtypes = []
        enabled.restype = ctypes.c_int
        mark = lib.ddrr_mark
        mark.argtypes = [ctypes.c_char_p, ctypes.c_int64]
        mark.restype = None
        record = lib.ddrr_record_rng
        record.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
        record.restype = None
        restore = lib.ddrr_restore_rng
        restore.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
        restore.restype = ctypes.c_size_t
        self.enabled, self.mark, self.record_rng, self.restore_rng = (enabled, mark, record,
                                                                      restore)


def _find_library():
    """The already-loaded recorder, or None. The global scope first (LD_PRELOAD puts it there);
    then a copy opened with RTLD_LOCAL, by name, without loading one that is not there."""
    try:
        lib = ctypes.CDLL(None)
        lib.ddrr_enabled  # AttributeError when absent
        return lib
    except (AttributeError, OSError):
        pass
    noload = getattr(os, "RTLD_NOLOAD", 0)
    if not noload:
        return None
    try:
        return ctypes.CDLL("libddrr.so", mode=noload | ctypes.RTLD_GLOBAL)
    except OSError:
        return None


def api():
    """The looked-up functions (each None when the process is not under ddrr)."""
    global _api
    if _api is None:
        with _lock:
            if _api is None:
                try:
                    _api = _Api(_find_library())
                except Exception as e:  # a symbol missing from an old libddrr.so
                    warn_once("looking up libddrr.so's C API", e)
                    _api = _Api(None)
    return _api


def _text(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "replace")


def enabled():
    """True when this process is being recorded (under `ddrr record`, or a replay recording
    itself)."""
    try:
        f = api().enabled
        return bool(f and f())
    except Exception as e:
        warn_once("ddrr.enabled()", e)
        return False


def mark(label, step=-1):
    """Marks a point of the run, e.g. the start of training step `step` (an int; -1: no step)."""
    try:
        f = api().mark
        if f:
            f(_text(label), int(step))
    except Exception as e:
        warn_once("ddrr.mark()", e)


def record_rng(name, state):
    """Records an opaque RNG state (bytes) under `name`; in a replay the recorder compares it
    with the recording's state of that name."""
    try:
        f = api().record_rng
        if f:
            data = bytes(state)
            f(_text(name), data, len(data))
    except Exception as e:
        warn_once("ddrr.record_rng()", e)


def restore_rng(name):
    """Under `ddrr replay --restore-rng`: the recorded state of `name` at the matching
    record_rng (call that first), as bytes; None otherwise (the program keeps its own state)."""
    try:
        f = api().restore_rng
        if not f:
            return None
        size = f(_text(name), None, 0)
        if size == 0:
            return None
        buf = ctypes.create_string_buffer(size)
        if f(_text(name), buf, size) != size:
            return None
        return buf.raw
    except Exception as e:
        warn_once("ddrr.restore_rng()", e)
        return None
