"""ISTA and FISTA with PyLops' percentile thresholds and a sparsifying transform ``SOp``,
against PyLops on chunked inputs; the exact distributed percentile against NumPy's."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization import sparsity as psp

import pylops_distributed as pld
from pylops_distributed.optimization import _thresholds
from pylops_distributed.optimization.sparsity import fista, ista

PAIRS = [pytest.param(ista, psp.ista, id="ista"), pytest.param(fista, psp.fista, id="fista")]


def _problem(dtype="float64", seed=2):
    """A 2-D model (12 x 10) seen through a random matrix, 3 spikes."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((90, 120))
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rng.standard_normal(A.shape)
    A = A.astype(dtype)
    xt = np.zeros(120, dtype=dtype)
    xt[[5, 47, 101]] = [1.0, -2.0, 1.5]
    return (pld.MatrixMult(da.from_array(A, chunks=(30, 120)), dtype=dtype),
            pylops.MatrixMult(A, dtype=dtype), A @ xt)


def _close(a, b, rtol):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("kind", ["soft-percentile", "hard-percentile", "half-percentile"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_percentile_thresholds_like_pylops(ours, theirs, kind, dtype):
    Op, POp, y = _problem(dtype)
    kw = dict(niter=20, eps=0.5, tol=0, threshkind=kind, perc=7.5)
    with dask.config.set(scheduler="threads"):
        x, it, cost = ours(Op, da.from_array(y, chunks=30), check_every=10, **kw)
    xr, itr, costr = theirs(POp, y, **kw)
    rtol = 1e-3 if dtype == "float32" else 1e-9
    assert it == itr == 20
    _close(x.compute(), xr, rtol)
    _close(cost, np.asarray(costr)[[9, 19]], rtol)
    assert np.count_nonzero(x.compute()) <= int(np.ceil(0.075 * 120)) + 1  # perc % kept


@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_percentile_and_transform_on_process_cluster(process_client, ours, theirs):
    """Both, on a 2-process cluster (the percentile reduced there, from the chunks' tops)."""
    Op, POp, y = _problem()
    kw = dict(niter=12, eps=0.3, tol=0, threshkind="half-percentile", perc=10)
    SOp = pld.FirstDerivative((12, 10), axis=0, chunks=(6, 10))
    x, it, cost = ours(Op, da.from_array(y, chunks=30), SOp=SOp, check_every=6, **kw)
    xr, itr, costr = theirs(POp, y, SOp=pylops.FirstDerivative((12, 10), axis=0), **kw)
    assert it == itr == 12
    _close(x.compute(), xr, 1e-9)
    _close(cost, np.asarray(costr)[[5, 11]], 1e-9)


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("kind,perc", [("soft", None), ("hard", None), ("soft-percentile", 10)])
def test_sparsifying_transform_like_pylops(ours, theirs, kind, perc):
    """Thresholding in the domain of SOp^H (a DCT along the second axis of a 12 x 10 model,
    given as a PyLops operator, and a chunked first derivative of ours)."""
    Op, POp, y = _problem()
    kw = dict(niter=15, eps=0.2, tol=0, threshkind=kind, perc=perc)
    for SOp, PSOp in [(pylops.signalprocessing.DCT((12, 10), axes=1),) * 2,
                      (pld.FirstDerivative((12, 10), axis=0, chunks=(6, 10)),
                       pylops.FirstDerivative((12, 10), axis=0))]:
        with dask.config.set(scheduler="threads"):
            x, it, cost = ours(Op, y, SOp=SOp, check_every=5, **kw)
        xr, itr, costr = theirs(POp, y, SOp=PSOp, **kw)
        assert it == itr
        _close(x.compute(), xr, 1e-9)
        _close(cost, np.asarray(costr)[[4, 9, 14]], 1e-9)


def test_decay_is_not_used_with_a_percentile():
    Op, POp, y = _problem()
    kw = dict(niter=6, eps=0.5, tol=0, threshkind="hard-percentile", perc=20)
    with dask.config.set(scheduler="sync"):
        x = ista(Op, y, decay=np.zeros(6), **kw)[0].compute()
    _close(x, psp.ista(POp, y, decay=np.zeros(6), **kw)[0], 1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_percentile_from_chunk_tops_is_numpy_percentile(dtype):
    """The threshold from each chunk's largest values equals np.percentile of the whole
    vector, bit for bit (ties, zeros, NaN, any split, q at both ends)."""
    rng = np.random.default_rng(0)
    for trial in range(400):
        n = int(rng.integers(1, 50))
        x = rng.standard_normal(n) + (1j * rng.standard_normal(n) if dtype == "complex64" else 0)
        x = x.astype(dtype)
        if trial % 5 == 0:
            x[rng.integers(0, n, size=n // 2)] = 0
        if trial % 17 == 0:
            x[-1] = np.nan
        q = float(rng.choice([0.0, 100.0, 50.0, 92.5, rng.uniform(0, 100)]))
        keep = _thresholds.percentile_index(n, q)[1]
        parts = np.split(x, np.sort(rng.integers(0, n + 1, size=int(rng.integers(0, 4)))))
        got = _thresholds.percentile_of_tops(n, q, [_thresholds.top_abs(keep, p) for p in parts])
        np.testing.assert_equal(got, float(np.percentile(np.abs(x), q)))
