"""Spread, Seislet, UDCT, PWSprayer2D/PWSmoother2D and Fredholm1 against PyLops."""

import inspect

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import assert_like_pylops, rand

from pylops_distributed._graph import _Literal, _run_block
from pylops_distributed.basicoperators.spread import Spread
from pylops_distributed.optimization import cgls
from pylops_distributed.signalprocessing.fredholm1 import Fredholm1
from pylops_distributed.signalprocessing.pwd import PWSmoother2D, PWSprayer2D
from pylops_distributed.signalprocessing.seislet import Seislet
from pylops_distributed.signalprocessing.udct import UDCT
from pylops_distributed.utils import dottest

PS = pylops.signalprocessing
CHUNKS = [(-1, -1), (5, -1), (-1, 7), ((1, 5, 6), (10, 4))]
IDS = ["whole", "axis0", "axis1", "irregular"]


def _table():
    """Spread look-up tables for a (3, 14) model and (12, 14) data: dipping lines."""
    ix0, it0, ix = np.meshgrid(np.arange(3), np.arange(14), np.arange(12), indexing="ij")
    t = it0 + (ix0 - 1) * 0.37 * ix
    table = np.floor(t)
    dtable = t - table
    table[(table < 0) | (table > 12)] = np.nan
    return table, dtable


def spread_fh(ix0, it0):
    """A picklable on-the-fly Spread curve (nearest index)."""
    t = it0 + (ix0 - 1) * np.arange(12) * 0.5
    return np.where((t >= 0) & (t <= 13), np.round(t), np.nan)


@pytest.mark.parametrize("kind", ["table", "dtable", "fh"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_spread(kind, dtype):
    table, dtable = _table()
    kwargs = dict(table=table) if kind == "table" else \
        dict(table=table, dtable=dtable) if kind == "dtable" else dict(fh=spread_fh)
    if kind == "table":
        kwargs["table"] = np.where(np.isnan(table), np.nan, np.minimum(table, 13))
    Op = Spread((3, 14), (12, 14), dtype=dtype, **kwargs)
    POp = pylops.Spread((3, 14), (12, 14), dtype=dtype, **kwargs)
    for chunks in [(-1, -1), (1, 7), (2, (3, 11))]:
        assert_like_pylops(Op, POp, chunks, dtype)
    assert Op.usetable == (kind != "fh") and Op.interp == (kind == "dtable")


@pytest.mark.parametrize("chunks", CHUNKS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_seislet(chunks, dtype):
    slopes = np.linspace(-0.5, 0.8, 12 * 14).reshape(12, 14)
    for kwargs in (dict(), dict(level=2, kind="linear", sampling=(2.0, 1.0))):
        Op = Seislet(slopes, dtype=dtype, **kwargs)
        POp = PS.Seislet(slopes, dtype=dtype, **kwargs)
        assert (Op.dims, Op.dimsd) == ((12, 14), (16, 14))
        assert_like_pylops(Op, POp, chunks if chunks[0] != (1, 5, 6) else (5, (10, 4)), dtype)
        y = rand(Op.dimsd, dtype, seed=4)
        rtol = 1e-4 if dtype == "float32" else 1e-10
        np.testing.assert_allclose(Op.inverse(da.from_array(y, chunks=4)).compute().ravel(),
                                   POp.inverse(y.ravel()), rtol=rtol, atol=rtol)


def test_seislet_inv_adjoint_is_pylops_inverse():
    slopes = np.full((12, 14), 0.3)
    Op, POp = Seislet(slopes, inv=True), PS.Seislet(slopes, inv=True)
    y = rand(Op.dimsd, "float64", seed=5)
    np.testing.assert_allclose((Op.H @ da.from_array(y, chunks=(4, 7))).compute().ravel(),
                               POp.H @ y.ravel(), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("chunks", [(-1, -1), (8, -1), (4, 12)], ids=["whole", "axis0", "both"])
def test_udct_real(dtype, chunks):
    """Real transform (R-linear): real model, complex coefficients."""
    Op, POp = UDCT((16, 24), dtype=dtype), PS.UDCT((16, 24), dtype=dtype)
    assert Op.dimsd == (int(np.prod(POp.dimsd)),) and not Op.clinear
    assert Op.dtype == ("complex64" if dtype == "float32" else "complex128")
    assert_like_pylops(Op, POp, chunks, dtype, check_dot=False)
    assert dottest(Op, complexflag=1, rtol=1e-4)
    x = rand(Op.dims, dtype, seed=6)
    np.testing.assert_allclose(Op.inverse(Op @ da.from_array(x, chunks=chunks)).compute(), x,
                               rtol=1e-4, atol=1e-4)


def test_udct_complex():
    kwargs = dict(transform_kind="complex", num_scales=2, wedges_per_direction=3)
    Op, POp = UDCT((16, 12, 8), **kwargs), PS.UDCT((16, 12, 8), **kwargs)
    assert_like_pylops(Op, POp, (8, 12, 4), "complex128")


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_pwsprayer_pwsmoother(dtype):
    sigma = np.linspace(-0.6, 0.9, 12 * 14).reshape(12, 14)
    for cls, kwargs in ((PWSprayer2D, dict()), (PWSmoother2D, dict(radius=3, alpha=0.7))):
        Op = cls((12, 14), sigma, dtype=dtype, **kwargs)
        POp = getattr(PS, cls.__name__)((12, 14), sigma, dtype=dtype, **kwargs)
        for chunks in CHUNKS:
            assert_like_pylops(Op, POp, chunks, dtype)


@pytest.mark.parametrize("usematmul", [True, False])
@pytest.mark.parametrize("saveGt", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_fredholm1(dtype, saveGt, usematmul):
    G = rand((7, 9, 6), dtype, seed=3)
    kwargs = dict(saveGt=saveGt, usematmul=usematmul, dtype=dtype)
    for nz, chunks in [(4, (-1, -1, -1)), (4, (2, -1, -1)), (4, (3, 3, 2)),
                       (4, ((1, 4, 2), 6, (1, 3))), (1, (3, 2, 1)), (1, (1, -1, -1))]:
        Op, POp = Fredholm1(G, nz=nz, **kwargs), PS.Fredholm1(G, nz=nz, **kwargs)
        assert (Op.dims, Op.dimsd) == ((7, 6, nz), (7, 9, nz))
        assert_like_pylops(Op, POp, chunks, dtype)


def test_fredholm1_tasks_carry_their_slices():
    """One task per chunk of slices and z, each with its own slices of G (never the whole)."""
    G = rand((6, 10, 8), "float64", seed=3)
    Op = Fredholm1(G, nz=4)
    for adjoint, dims in ((False, Op.dims), (True, Op.dimsd)):
        x = da.from_array(rand(dims, "float64"), chunks=(2, dims[1], 2))
        y = (Op.H if adjoint else Op) @ x
        assert y.numblocks == (3, 1, 2)
        tasks = [v for v in dict(y.__dask_graph__()).values()
                 if isinstance(v, tuple) and v and v[0] is _run_block]
        assert len(tasks) == 6
        slabs = [a.v for t in tasks for a in t if isinstance(a, _Literal)]
        assert len(slabs) == 6 and all(s.shape == (2, 10, 8) for s in slabs)


def test_fredholm1_dask_kernel():
    G = rand((6, 10, 8), "float64", seed=3)
    Gd = da.from_array(G, chunks=(2, 5, 8))
    assert_like_pylops(Fredholm1(Gd, nz=3), PS.Fredholm1(G, nz=3), (3, -1, 2), "float64")


def test_signatures_like_pylops():
    """Same arguments, order and defaults as PyLops, plus ``chunks=None`` last."""
    for ours, theirs in [(Spread, pylops.Spread), (Seislet, PS.Seislet), (UDCT, PS.UDCT),
                         (PWSprayer2D, PS.PWSprayer2D), (PWSmoother2D, PS.PWSmoother2D),
                         (Fredholm1, PS.Fredholm1)]:
        a = list(inspect.signature(ours).parameters.values())
        b = list(inspect.signature(theirs).parameters.values())
        assert a[-1].name == "chunks" and a[-1].default is None
        assert [(p.name, p.default) for p in a[:-1]] == [(p.name, p.default) for p in b], ours


def test_errors_like_pylops():
    with pytest.raises(NotImplementedError, match="table or fh"):
        Spread((3, 14), (12, 14))
    with pytest.raises(NotImplementedError, match="kind"):
        Seislet(np.zeros((8, 10)), kind="cubic")
    with pytest.raises(ValueError, match="dimensions"):
        PWSprayer2D((4, 5, 6), np.zeros((4, 5, 6)))


def test_fredholm1_cgls_matches_pylops(scheduler):
    """Damped CGLS with Fredholm1 chunked along slices and z, threads and 2 processes."""
    G = rand((6, 12, 8), "float64", seed=3)
    Op, POp = Fredholm1(G, nz=5), PS.Fredholm1(G, nz=5)
    xtrue = rand(Op.dims, "float64", seed=4)
    y = (POp @ xtrue.ravel()).reshape(Op.dimsd)
    xo, istop, it = cgls(Op, da.from_array(y, chunks=(2, 12, 3)), niter=10, tol=0,
                         damp=0.1)[:3]
    xr = pylops.optimization.basic.cgls(POp, y.ravel(), niter=10, tol=0, damp=0.1)[0].ravel()
    assert it == 10
    np.testing.assert_allclose(xo.compute().ravel(), xr, rtol=1e-9, atol=1e-9 * np.abs(xr).max())
