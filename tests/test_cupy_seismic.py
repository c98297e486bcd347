"""Seismic operators on CuPy chunks (run on the lent GPU): PyLops/NumPy's numbers, CuPy out."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

from pylops_distributed.avo.poststack import PoststackLinearModelling  # noqa: E402
from pylops_distributed.avo.prestack import PrestackLinearModelling  # noqa: E402
from pylops_distributed.stacked import compute_all  # noqa: E402
from pylops_distributed.waveeqprocessing import MDC  # noqa: E402


def check(Op, POp, chunks, dtype, rtol=1e-6):
    x, y = rand(Op.dims, dtype, 1), rand(Op.dimsd, dtype, 2)
    f, a = compute_all(Op @ da.from_array(cp.asarray(x), chunks=chunks, asarray=False),
                       Op.H @ da.from_array(cp.asarray(y), chunks=chunks, asarray=False))
    assert isinstance(f, cp.ndarray) and isinstance(a, cp.ndarray)
    for got, want in ((f, POp @ x.ravel()), (a, POp.H @ y.ravel())):
        want = np.ravel(want)
        np.testing.assert_allclose(cp.asnumpy(got).ravel(), want, rtol=rtol,
                                   atol=rtol * max(1.0, float(np.abs(want).max())))


def test_poststack_and_prestack_modelling_on_gpu():
    wav = pylops.utils.wavelets.ricker(np.arange(11) * 0.004, f0=20)[0]
    check(PoststackLinearModelling(wav, 60, spatdims=(6, 5)),
          pylops.avo.poststack.PoststackLinearModelling(wav, 60, spatdims=(6, 5)),
          (60, 3, 5), "float64")
    theta = np.linspace(0, 30, 5)
    Op = PrestackLinearModelling(wav, theta, nt0=40, spatdims=(6,))
    POp = pylops.avo.prestack.PrestackLinearModelling(wav, theta, nt0=40, spatdims=(6,))
    x, y = rand(Op.dims, "float64", 1), rand(Op.dimsd, "float64", 2)
    f = (Op @ da.from_array(cp.asarray(x), chunks=(40, 3, 3), asarray=False)).compute()
    np.testing.assert_allclose(cp.asnumpy(f).ravel(), POp @ x.ravel(), rtol=1e-8, atol=1e-8)
    a = (Op.H @ da.from_array(cp.asarray(y), chunks=(40, 5, 3), asarray=False)).compute()
    np.testing.assert_allclose(cp.asnumpy(a).ravel(), POp.H @ y.ravel(), rtol=1e-8, atol=1e-8)


def test_mdc_on_gpu():
    nt, ns, nr, nv = 21, 6, 5, 3
    G = rand((11, ns, nr), "complex128", 3)
    Op = MDC(cp.asarray(G), nt=nt, nv=nv, dt=0.004, dr=10.0)
    POp = pylops.waveeqprocessing.MDC(G, nt=nt, nv=nv, dt=0.004, dr=10.0)
    x, y = rand(Op.dims, "float64", 1), rand(Op.dimsd, "float64", 2)
    f = (Op @ da.from_array(cp.asarray(x), chunks=(nt, 3, nv), asarray=False)).compute()
    np.testing.assert_allclose(cp.asnumpy(f).ravel(), np.ravel(POp @ x.ravel()), rtol=1e-8,
                               atol=1e-8)
    a = (Op.H @ da.from_array(cp.asarray(y), chunks=(nt, 3, nv), asarray=False)).compute()
    np.testing.assert_allclose(cp.asnumpy(a).ravel(), np.ravel(POp.H @ y.ravel()), rtol=1e-8,
                               atol=1e-8)


def test_marchenko_on_gpu():
    """R on the GPU: our Marchenko (CGLS, as PyLops on CuPy) equals PyLops+CuPy's, CuPy out."""
    import logging

    from pylops_distributed.waveeqprocessing import Marchenko

    rng = np.random.default_rng(4)
    ns, nt = 8, 24
    R = rng.standard_normal((ns, ns, nt))
    trav, G0 = rng.uniform(0.01, 0.06, ns), rng.standard_normal((ns, nt))
    logging.disable(logging.WARNING)
    try:
        ours = Marchenko(cp.asarray(R), dt=0.004, nsmooth=3).apply_onepoint(
            trav, cp.asarray(G0), rtm=True, greens=True, niter=8, tol=0)
        ref = pylops.waveeqprocessing.Marchenko(cp.asarray(R), dt=0.004, nsmooth=3).apply_onepoint(
            trav, cp.asarray(G0), rtm=True, greens=True, niter=8, tol=0)
    finally:
        logging.disable(logging.NOTSET)
    got = compute_all(*ours)
    assert len(got) == len(ref) == 5
    for a, b in zip(got, ref):
        assert isinstance(a, cp.ndarray)
        b = cp.asnumpy(b)
        np.testing.assert_allclose(cp.asnumpy(a), b, rtol=1e-8, atol=1e-8 * np.abs(b).max())
