"""Kirchhoff demigration and least-squares migration, distributed over shots, against PyLops."""

import warnings

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from dask.core import get_dependencies

from pylops_distributed.optimization import cgls
from pylops_distributed.utils.dottest import dottest
from pylops_distributed.waveeqprocessing import LSM, Kirchhoff

NX, NZ, NT, NS, NR = 20, 15, 60, 5, 10


def _geometry(three_d=False):
    x, z, t = np.arange(NX) * 10.0, np.arange(NZ) * 10.0, np.arange(NT) * 0.004
    y = np.arange(3) * 10.0 if three_d else None
    if three_d:
        srcs = np.vstack([np.full(NS, 10.0), np.linspace(0, 190, NS), np.zeros(NS)])
        recs = np.vstack([np.full(NR, 10.0), np.linspace(0, 190, NR), np.zeros(NR)])
    else:
        srcs = np.vstack([np.linspace(0, 190, NS), np.zeros(NS)])
        recs = np.vstack([np.linspace(0, 190, NR), np.zeros(NR)])
    wav, _, wc = pylops.utils.wavelets.ricker(t[:21], f0=20)
    return dict(z=z, x=x, t=t, srcs=srcs, recs=recs, vel=1500.0, wav=wav, wavcenter=wc, y=y)


def _pylops(g, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return pylops.waveeqprocessing.Kirchhoff(**g, engine="numba", **kw)


def _tables(g):
    """Traveltimes brought by the user (mode="byot"): PyLops' analytic ones."""
    P = _pylops(g, mode="analytic")
    return P.trav_srcs, P.trav_recs


MODES = {
    "analytic": lambda g: dict(mode="analytic"),
    "analytic-dynamic": lambda g: dict(mode="analytic", dynamic=True),
    "analytic-wavfilter": lambda g: dict(mode="analytic", wavfilter=True),
    "byot-tuple": lambda g: dict(mode="byot", trav=_tables(g)),
    # times up to twice the recording: the arrivals past the last sample are dropped
    "byot-late": lambda g: dict(mode="byot", trav=tuple(2.0 * t for t in _tables(g))),
    "byot-one-table": lambda g: dict(mode="byot", trav=(_tables(g)[0][:, :, None]
                                                        + _tables(g)[1][:, None, :]).reshape(-1, NS * NR)),
}


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("shot_chunks,data_chunks", [(None, (5, 10, 60)), (2, (2, 5, 30)),
                                                     ((3, 2), (1, 10, 60)), (1, (4, 3, 60))])
def test_forward_and_adjoint_like_pylops(mode, shot_chunks, data_chunks):
    g = _geometry()
    kw = MODES[mode](g)
    P = _pylops(g, **kw)
    Op = Kirchhoff(**g, shot_chunks=shot_chunks, **kw)
    assert (Op.dims, Op.dimsd) == (tuple(P.dims), tuple(P.dimsd))
    m, d = _random(Op.dims, 1), _random(Op.dimsd, 2)
    with dask.config.set(scheduler="threads"):
        fwd = Op @ da.from_array(m, chunks=(7, 15))
        adj = Op.H @ da.from_array(d, chunks=data_chunks)
        assert fwd.chunks[0] == Op.shot_chunks and fwd.chunks[1:] == ((NR,), (NT,))
        fwd, adj = dask.compute(fwd, adj)
        assert dottest(Op, *Op.shape, raiseerror=False, rtol=1e-10)
    scale = np.abs(P @ m.ravel()).max()
    np.testing.assert_allclose(fwd.ravel(), P @ m.ravel(), rtol=1e-10, atol=1e-12 * scale)
    ref = P.H @ d.ravel()
    np.testing.assert_allclose(adj.ravel(), ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())


def test_three_d_and_float32():
    g = _geometry(three_d=True)
    P = _pylops(g, mode="analytic", dtype="float32")
    Op = Kirchhoff(**g, mode="analytic", shot_chunks=2, dtype="float32")
    m, d = _random(Op.dims, 3).astype("float32"), _random(Op.dimsd, 4).astype("float32")
    with dask.config.set(scheduler="threads"):
        fwd = (Op @ da.from_array(m, chunks=(30, 15))).compute()
        adj = (Op.H @ da.from_array(d, chunks=(2, 10, 60))).compute()
    assert fwd.dtype == adj.dtype == np.float32
    np.testing.assert_allclose(fwd.ravel(), P @ m.ravel(), rtol=1e-4, atol=1e-4)
    ref = P.H @ d.ravel()
    np.testing.assert_allclose(adj.ravel(), ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def test_one_partial_image_per_chunk_of_shots_summed_by_a_tree():
    """Migration of 20 shots in 20 chunks: 20 partial images, added up by a tree (no task
    receives more than 8 images), equal to PyLops' image."""
    g = _geometry()
    g["srcs"] = np.vstack([np.linspace(0, 190, 20), np.zeros(20)])
    Op = Kirchhoff(**g, mode="analytic")
    d = _random(Op.dimsd, 5)
    image = Op.H @ da.from_array(d, chunks=(1, 10, 60))
    graph = dict(image.__dask_graph__())
    partials = [k for k in graph if isinstance(k, tuple) and "kirchhoff-adjoint-partial" in k[0]]
    assert len(partials) == 20
    images = set(partials) | {k for k in graph if isinstance(k, tuple) and "-sum-" in k[0]}
    for key, task in graph.items():
        deps = [d for d in images if d != key and d in get_dependencies(graph, key)]
        assert len(deps) <= 8, (key, len(deps))
    with dask.config.set(scheduler="threads"):
        got = image.compute()
    np.testing.assert_allclose(got.ravel(), _pylops(g, mode="analytic").H @ d.ravel(),
                               rtol=1e-10, atol=1e-10)


def test_lsm_like_pylops(scheduler):
    """LSM with our CGLS equals PyLops' LSM with PyLops' CGLS (threads and 2 processes)."""
    g = _geometry()
    m = np.zeros((NX, NZ))
    m[8:12, 6] = 1.0
    m[4, 10] = -0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref_lsm = pylops.waveeqprocessing.LSM(**g, mode="analytic", engine="numba")
    d = ref_lsm.Demop @ m.ravel()
    ref = ref_lsm.solve(d, solver=pylops.optimization.basic.cgls, niter=20, tol=0)
    lsm = LSM(**g, mode="analytic", shot_chunks=2, dottest=True)
    for solver in (cgls, pylops.optimization.basic.cgls):  # PyLops' cgls is taken as ours
        minv = lsm.solve(d.reshape(NS, NR, NT), solver=solver, niter=20, tol=0)
        assert minv.shape == (NX, NZ)
        # (20 CGLS iterations on an ill-conditioned operator: sums in another order move
        # the last digits more than in a single apply)
        np.testing.assert_allclose(minv.compute(), ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())


@pytest.mark.parametrize("make,exc,match", [
    (lambda: Kirchhoff(**_geometry(), mode="analytic", engine="cuda"), ValueError, "engine"),
    (lambda: Kirchhoff(**_geometry(), mode="analytic", shot_chunks=(2, 2)), ValueError,
     "add up to the 5 sources"),
    (lambda: LSM(**_geometry(), kind="twowayac"), NotImplementedError, "not distributed"),
    (lambda: LSM(**_geometry(), kind="other"), ValueError, "kind must be"),
])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
