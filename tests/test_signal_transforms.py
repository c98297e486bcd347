"""DCT, wavelets, shifts and interpolations against PyLops, for chunkings along and across
their axes, on threads and on a process cluster."""

import warnings

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import assert_like_pylops, rand

import pylops_distributed as pld
from pylops_distributed import signalprocessing as sp

ps = pylops.signalprocessing
IAVA = np.array([0.5, 3.2, 10.0, 20.7, 29.0])
POINTS = np.array([[1.5, 3.2, 8.0, 0.0], [0.3, 7.7, 10.1, 10.9]])
SHIFTS = np.random.default_rng(3).uniform(-4, 4, (4, 3))


def _pair(name, *args, **kwargs):
    return getattr(sp, name)(*args, **kwargs), getattr(ps, name)(*args, **kwargs)


CASES = {  # id: (ours and PyLops' operator, chunkings, dtypes)
    "dct": (lambda: _pair("DCT", (6, 40), axes=[1]), [(3, 40), (6, 7), (2, 13)], "fdc"),
    "dct3-all": (lambda: _pair("DCT", (6, 40), type=3), [(6, 40), (3, 7)], "fdc"),
    "dct1-3d": (lambda: _pair("DCT", (5, 6, 8), type=1, axes=[0, 2]), [(2, 3, 8), (5, 6, 3)], "fd"),
    "dwt": (lambda: _pair("DWT", (6, 30), axis=1, wavelet="db2", level=2),
            [(2, 30), (6, 7), (5, 29)], "fd"),
    "dwt-axis0": (lambda: _pair("DWT", (33, 4), axis=0, wavelet="haar", level=3),
                  [(33, 2), (8, 4)], "fd"),
    "dwt2d": (lambda: _pair("DWT2D", (6, 30, 20), axes=(0, 2), wavelet="sym3", level=2),
              [(2, 7, 5), (6, 10, 20), (6, 30, 20)], "fd"),
    "dwtnd": (lambda: _pair("DWTND", (6, 30, 20), wavelet="haar", level=1),
              [(2, 7, 5), (6, 30, 20)], "fd"),
    "shift": (lambda: _pair("Shift", (4, 50), 2.7, axis=1), [(2, 50), (4, 9)], "fdc"),
    "shift-real": (lambda: _pair("Shift", (4, 50), np.array([0.5, 1.0, -2.3, 4.0]), axis=1,
                                 real=True, dtype="float64"), [(2, 50), (3, 20)], "fd"),
    "shift-per-trace": (lambda: _pair("Shift", (4, 50, 3), SHIFTS, axis=1, sampling=0.5),
                        [(2, 50, 3), (3, 20, 2), (4, 50, 1)], "fdc"),
    "interp-linear": (lambda: (sp.Interp((5, 30), IAVA, axis=1)[0],
                               ps.Interp((5, 30), IAVA, axis=1)[0]), [(2, 30), (2, 7)], "fd"),
    "interp-sinc": (lambda: (sp.Interp((30, 5), IAVA, axis=0, kind="sinc")[0],
                             ps.Interp((30, 5), IAVA, axis=0, kind="sinc")[0]),
                    [(30, 2), (7, 5)], "fd"),
    "interp-sinc-tol": (lambda: (sp.Interp((5, 30), IAVA, axis=1, kind="sinc", tol=0.05)[0],
                                 ps.Interp((5, 30), IAVA, axis=1, kind="sinc", tol=0.05)[0]),
                        [(2, 30), (5, 7)], "fd"),
    "interp-nearest": (lambda: (sp.Interp((5, 30), IAVA, kind="nearest")[0],
                                ps.Interp((5, 30), IAVA, kind="nearest")[0]), [(2, 9)], "fd"),
    "cubic-spline": (lambda: _pair("InterpCubicSpline", (5, 30), IAVA, axis=1),
                     [(2, 30), (2, 7)], "fd"),
    "bilinear": (lambda: _pair("Bilinear", POINTS, (10, 12)), [(5, 5), (10, 12)], "fd"),
    "bilinear-3d": (lambda: _pair("Bilinear", POINTS, (10, 12, 3)), [(5, 5, 2)], "fd"),
}
DTYPE_CODES = {"f": "float32", "d": "float64", "c": "complex128"}


@pytest.mark.parametrize("case", list(CASES))
def test_like_pylops(case):
    make, chunkings, codes = CASES[case]
    if case.startswith("dwt"):
        pytest.importorskip("pywt", reason="pip install PyWavelets (extra 'signal')")
    for code in codes:
        dtype = DTYPE_CODES[code]
        Op, POp = make()
        for chunks in chunkings:
            assert_like_pylops(Op, POp, chunks, dtype)


def test_interp_returns_pylops_positions():
    for kind in ("linear", "nearest", "sinc"):
        _, ours = sp.Interp((5, 30), IAVA, kind=kind)
        _, theirs = ps.Interp((5, 30), IAVA, kind=kind)
        np.testing.assert_array_equal(ours, theirs)


def test_on_process_cluster(scheduler):
    """Per-trace shifts (an operand cut per chunk) and a wavelet transform on workers."""
    pytest.importorskip("pywt", reason="pip install PyWavelets (extra 'signal')")
    x = rand((4, 50, 3), "float64", 1)
    Op = sp.Shift((4, 50, 3), SHIFTS, axis=1)
    y = Op @ da.from_array(x, chunks=(2, 25, 3))
    np.testing.assert_allclose(y.compute().ravel(), ps.Shift((4, 50, 3), SHIFTS, axis=1) @ x.ravel(),
                               rtol=1e-12, atol=1e-12)
    D = sp.DWT2D((16, 32), wavelet="db3", level=2)
    x2 = rand((16, 32), "float64", 2)
    np.testing.assert_allclose((D.H @ (D @ da.from_array(x2, chunks=8))).compute(), x2,
                               rtol=1e-10, atol=1e-10)  # orthogonal wavelet: D^H D = I


def test_errors_before_compute():
    with pytest.raises(ValueError, match="shape of dims without axis"):
        sp.Shift((4, 50, 3), np.ones((3, 4)), axis=1)
    with pytest.raises(ValueError):
        sp.DWT((4, 50), axis=3)
    assert pld.DCT is sp.DCT and pld.signalprocessing.Bilinear is sp.Bilinear


@pytest.mark.parametrize("make,dtype", [
    (lambda: sp.FFT2D((6, 33), nffts=(3, 40), dtype="complex64"), "float32"),
    (lambda: sp.Shift((6, 33), 1.5, axis=1, dtype="complex64"), "complex64"),
    (lambda: sp.FFT((6, 33), axis=1, nfft=20), "float64"),
])
def test_pylops_warnings_given_once_at_construction(make, dtype):
    """PyLops warns about these arguments when the operator is built; applying it (PyLops'
    operator rebuilt per block, stages of the pencil scheme) warns no more."""
    with pytest.warns(UserWarning):
        Op = make()
    x = rand((6, 33), dtype, 4)
    for chunks in [(2, 33), (6, 11)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = Op @ da.from_array(x, chunks=chunks)
            y.compute(), (Op.H @ y).compute()
