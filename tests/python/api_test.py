"""ddrr's Python API outside ddrr and its pieces that need no recorder: every call a no-op that
returns at once, failures caught with one warning, generator states serialised
deterministically and set back exactly (numpy's only when numpy is importable).

    python3 api_test.py          (PYTHONPATH holds the repository's python/ folder)
"""
import contextlib
import io
import random
import sys
import unittest

import ddrr
import ddrr.torch
from ddrr import _capi, rng

try:
    import numpy
except ImportError:
    numpy = None


class NotUnderDdrr(unittest.TestCase):
    def test_every_call_is_a_noop(self):
        self.assertIsNone(_capi.api().mark, "libddrr.so is in this process: run it without ddrr")
        self.assertFalse(ddrr.enabled())
        self.assertIsNone(ddrr.mark("step", 3))
        self.assertIsNone(ddrr.record_rng("x", b"\x01\x02"))
        self.assertIsNone(ddrr.restore_rng("x"))
        self.assertEqual(rng.record_states(), [])
        self.assertIsNone(ddrr.torch.install())

    def test_python_state_unchanged_by_noop(self):
        random.seed(5)
        before = random.getstate()
        rng.record_states()
        self.assertEqual(random.getstate(), before)


class _Raising(object):
    def __call__(self, *args):
        raise OSError("the recorder is gone")


class FailuresWarnOnce(unittest.TestCase):
    def test_no_exception_and_one_warning(self):
        saved_api, saved_warned = _capi._api, _capi._warned
        fake = _capi._Api(None)
        fake.enabled = fake.mark = fake.record_rng = fake.restore_rng = _Raising()
        _capi._api, _capi._warned = fake, False
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                self.assertFalse(ddrr.enabled())
                ddrr.mark("step", 1)
                ddrr.record_rng("x", b"y")
                self.assertIsNone(ddrr.restore_rng("x"))
                self.assertEqual(rng.record_states(),
                                 ["python.random"] + (["numpy.random"] if numpy else []))
        finally:
            _capi._api, _capi._warned = saved_api, saved_warned
        lines = err.getvalue().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("ddrr: warning: ddrr.enabled() failed (OSError: the recorder is gone)",
                      lines[0])


class States(unittest.TestCase):
    def test_python_random_round_trip(self):
        g = random.Random(42)
        g.gauss(0, 1)  # leaves a cached gauss in the state
        data = rng.python_random_state(g)
        expected = [g.random() for _ in range(5)] + [g.gauss(0, 1)]
        h = random.Random(7)
        rng.set_python_random_state(data, h)
        self.assertEqual([h.random() for _ in range(5)] + [h.gauss(0, 1)], expected)

    def test_python_random_deterministic(self):
        a, b = random.Random(9), random.Random(9)
        self.assertEqual(rng.python_random_state(a), rng.python_random_state(b))
        b.random()
        self.assertNotEqual(rng.python_random_state(a), rng.python_random_state(b))

    def test_bad_state_refused(self):
        with self.assertRaises(ValueError):
            rng.set_python_random_state(b"garbage", random.Random())

    @unittest.skipIf(numpy is None, "numpy is not importable")
    def test_numpy_round_trip(self):
        numpy.random.seed(3)
        numpy.random.standard_normal()  # a cached gaussian
        data = rng.numpy_random_state(numpy)
        expected = numpy.random.standard_normal(4).tolist()
        numpy.random.seed(11)
        rng.set_numpy_random_state(numpy, data)
        self.assertEqual(numpy.random.standard_normal(4).tolist(), expected)
        numpy.random.seed(3)
        numpy.random.standard_normal()
        self.assertEqual(rng.numpy_random_state(numpy), data)


if __name__ == "__main__":
    unittest.main()
