"""Marchenko redatuming (our MDC over frequencies and our solvers) against PyLops'."""

import logging

import dask
import dask.array as da
import numpy as np
import pylops
import pytest

from pylops_distributed.waveeqprocessing import Marchenko
from pylops_distributed.waveeqprocessing.marchenko import directwave

NS, NT, DT = 6, 20, 0.004
SOLVER = dict(iter_lim=6, atol=0, btol=0)


@pytest.fixture(autouse=True)
def _quiet():
    """Both Marchenkos warn when they set nfmax."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _problem(seed=0, nvs=None, dtype="float64"):
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((NS, NS, NT)).astype(dtype)
    shape = (NS,) if nvs is None else (NS, nvs)
    trav = rng.uniform(0.01, 0.06, shape)
    G0 = rng.standard_normal(shape + (NT,)).astype(dtype)
    return R, trav, G0


def _close(ours, ref, rtol=1e-9):
    assert len(ours) == len(ref)
    for a, b in zip(dask.compute(*ours), ref):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


@pytest.mark.parametrize("rtm,greens", [(False, False), (True, False), (False, True),
                                        (True, True)])
@pytest.mark.parametrize("kind", ["numpy", "dask", "dask-chunks", "frequency"])
def test_onepoint_like_pylops(rtm, greens, kind):
    R, trav, G0 = _problem()
    kw = dict(dt=DT, dr=2.0, toff=0.004, nsmooth=3)
    ref = pylops.waveeqprocessing.Marchenko(R, **kw).apply_onepoint(
        trav, G0, rtm=rtm, greens=greens, **SOLVER)
    if kind == "frequency":  # R given as PyLops keeps it: two-sided, scaled, in frequency
        Rf = pylops.waveeqprocessing.Marchenko(R, **kw).Rtwosided_fft.transpose(1, 2, 0)
        M = Marchenko(da.from_array(Rf, chunks=(NS, 3, 4)), nt=NT, **kw)
    elif kind == "numpy":
        M = Marchenko(R, **kw)
    else:
        M = Marchenko(da.from_array(R, chunks=(3, 2, NT)), chunks=3 if kind == "dask-chunks"
                      else None, **kw)
    ours = M.apply_onepoint(trav, G0, rtm=rtm, greens=greens, **SOLVER)
    ref = ref if isinstance(ref, tuple) else (ref,)
    _close(ours, ref)


def test_multiplepoints_like_pylops(scheduler):
    """Three points at once, every output, on threads and on the 2-process cluster."""
    R, trav, G0 = _problem(1, nvs=3)
    kw = dict(dt=DT, nfmax=15, nsmooth=4)
    ref = pylops.waveeqprocessing.Marchenko(R, **kw).apply_multiplepoints(
        trav, G0, rtm=True, greens=True, **SOLVER)
    ours = Marchenko(da.from_array(R, chunks=(NS, 3, NT)), **kw).apply_multiplepoints(
        trav, G0, rtm=True, greens=True, **SOLVER)
    _close(ours, ref)


def test_direct_wave_made_from_wavelet_and_float32():
    """G0 made by PyLops' directwave from wav and nfft; float32 throughout (PyLops returns
    SciPy's float64 focusing functions); usematmul."""
    R, trav, _ = _problem(2, dtype="float32")
    wav = pylops.utils.wavelets.ricker(np.arange(7) * DT, f0=30)[0]
    kw = dict(dt=DT, wav=wav, nsmooth=2, dtype="float32")
    ref = pylops.waveeqprocessing.Marchenko(R, **kw).apply_onepoint(
        trav, nfft=64, greens=True, usematmul=True, **SOLVER)
    ours = Marchenko(R, **kw).apply_onepoint(trav, nfft=64, greens=True, usematmul=True,
                                             **SOLVER)
    assert all(o.dtype == np.float32 for o in ours)
    _close(ours, ref, rtol=2e-4)
    assert directwave is pylops.waveeqprocessing.marchenko.directwave


def test_more_iterations_and_dottest():
    """SciPy's defaults when no iteration count is given (as PyLops runs SciPy's lsqr),
    damping by SciPy's name, and the operators' dot tests."""
    R, trav, G0 = _problem(3)
    kw = dict(dt=DT, nsmooth=0)
    ref = pylops.waveeqprocessing.Marchenko(R, **kw).apply_onepoint(trav, G0, damp=0.1,
                                                                      iter_lim=40)
    ours = Marchenko(R, **kw).apply_onepoint(trav, G0, damp=0.1, iter_lim=40, dottest=True)
    _close(ours, ref, rtol=1e-7)


@pytest.mark.parametrize("args,kwargs,match", [
    ((np.ones((3, 3)),), {}, "3-D"),
    ((np.ones((3, 3, 5), complex),), {}, "nt must be provided"),
    ((np.ones((3, 4, 5)),), {}, "as many sources as receivers"),
    ((np.ones((3, 3, 8), complex),), dict(nt=5), "more than the 5"),
])
def test_constructor_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Marchenko(*args, **kwargs)


@pytest.mark.parametrize("call,match", [
    (lambda M, t, g: M.apply_onepoint(t, g[:, :-1]), r"G0 must have shape \(nr, nt\)"),
    (lambda M, t, g: M.apply_onepoint(t), "Provide either G0 or wav and nfft"),
    (lambda M, t, g: M.apply_onepoint(t[:-1], g), "trav must have nr=6 rows"),
    (lambda M, t, g: M.apply_multiplepoints(t, g), r"trav must have shape \(nr, nvs\)"),
    (lambda M, t, g: M.apply_multiplepoints(t[:, None], g), r"G0 must have shape \(nr, nvs"),
])
def test_apply_errors(call, match):
    R, trav, G0 = _problem()
    with pytest.raises(ValueError, match=match):
        call(Marchenko(R, dt=DT), trav, G0)
