"""The collective solver path on CPU workers (Gloo through torch.distributed).

One long task per worker runs the solver on its slab; halos and dot products go through the
communicator. Each solve is compared with PyLops (and with our fused path for the costs at
checks), on the session's 2-process cluster and, for exchanges that reach past the next
rank, on 4 in-process workers.
"""

import logging

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from distributed import Client, LocalCluster

import pylops_distributed as pld
from pylops_distributed.optimization import cg, cgls, lsqr, sparsity
from pylops_distributed.signalprocessing import Convolve1D

pytest.importorskip("torch")

RAN = "ran collectively"


@pytest.fixture
def collective(process_client, caplog):
    caplog.set_level(logging.INFO, logger="pylops_distributed.optimization")
    with dask.config.set({"pylops_distributed.collective": True}), process_client.as_current():
        yield caplog


def _collectively(caplog):
    return any(RAN in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_cgls_laplacian_equals_pylops_and_fused(collective, dtype):
    rng = np.random.default_rng(1)
    dims = (60, 40)
    y = rng.standard_normal(dims).astype(dtype)
    if np.iscomplexobj(y):
        y = y + 1j * rng.standard_normal(dims)
    Op = pld.Laplacian(dims, dtype=dtype)
    yd = da.from_array(y, chunks=(13, 40))  # irregular chunks: 13, 13, 13, 13, 8
    x, istop, iit, r1, r2, cost = cgls(Op, yd, niter=25, damp=0.3, tol=0, check_every=5)
    assert _collectively(collective)
    ref = pylops.optimization.basic.cgls(pylops.Laplacian(dims, dtype=dtype), y.ravel(),
                                         niter=25, damp=0.3, tol=0)
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(x.compute(), np.reshape(ref[0], dims), rtol=tol, atol=tol)
    assert x.chunks == yd.chunks and (istop, iit) == (ref[1], ref[2])
    np.testing.assert_allclose([r1, r2], [ref[3], ref[4]], rtol=1e-3 if dtype == "float32" else 1e-9)
    with dask.config.set({"pylops_distributed.collective": False}):
        fused = cgls(Op, yd, niter=25, damp=0.3, tol=0, check_every=5)
    np.testing.assert_allclose(cost, fused[-1], rtol=tol)


def test_cgls_tol_stops_where_pylops_does(collective):
    dims = (50, 30)
    y = np.random.default_rng(2).standard_normal(dims)
    Op = pld.FirstDerivative(dims, axis=1, dtype="float64") + pld.Identity(dims, dtype="float64")
    x, istop, iit, r1, *_ = cgls(Op, da.from_array(y, chunks=(20, 30)), niter=200, tol=1e-6,
                                 check_every=7)
    ref = pylops.optimization.basic.cgls(
        pylops.FirstDerivative(dims, axis=1) + pylops.Identity(int(np.prod(dims))), y.ravel(),
        niter=200, tol=1e-6)
    assert _collectively(collective)
    assert (istop, iit) == (ref[1], ref[2])
    np.testing.assert_allclose(x.compute().ravel(), np.ravel(ref[0]), rtol=1e-9, atol=1e-12)


def test_cg_square_spd(collective):
    dims = (40, 24)
    rng = np.random.default_rng(3)
    d = rng.uniform(1.0, 2.0, dims)
    Op = pld.Laplacian(dims).H @ pld.Laplacian(dims) + pld.Diagonal(da.from_array(d, chunks=(10, 24)))
    y = rng.standard_normal(dims)
    x, iit, cost = cg(Op, da.from_array(y, chunks=(10, 24)), niter=30, tol=0)
    assert _collectively(collective)
    L = pylops.Laplacian(dims)
    ref = pylops.optimization.basic.cg(L.H @ L + pylops.Diagonal(d.ravel()), y.ravel(), niter=30,
                                       tol=0)
    np.testing.assert_allclose(x.compute().ravel(), np.ravel(ref[0]), rtol=1e-9, atol=1e-10)
    assert iit == ref[1]


def test_lsqr_with_x0_and_flat_data(collective):
    dims = (48, 20)
    rng = np.random.default_rng(4)
    Op = pld.SecondDerivative(dims, axis=0, dtype="float64") + 0.5 * pld.Identity(dims)
    y, x0 = rng.standard_normal(dims), rng.standard_normal(dims)
    yd = da.from_array(y.ravel(), chunks=240)  # flat: 4 chunks of 12 rows
    out = lsqr(Op, yd, x0=da.from_array(x0, chunks=(12, 20)), niter=20, damp=0.1, atol=0, btol=0)
    assert _collectively(collective)
    ref = pylops.optimization.basic.lsqr(
        pylops.SecondDerivative(dims, axis=0) + 0.5 * pylops.Identity(int(np.prod(dims))),
        y.ravel(), x0=x0.ravel(), niter=20, damp=0.1, atol=0, btol=0)
    assert out[0].shape == (int(np.prod(dims)),)
    np.testing.assert_allclose(out[0].compute(), np.ravel(ref[0]), rtol=1e-9, atol=1e-11)
    assert out[1:3] == ref[1:3]
    np.testing.assert_allclose(out[3:7], ref[3:7], rtol=1e-8)


def test_rectangular_operator(collective):
    n, m = 90, 30
    rng = np.random.default_rng(5)
    iava = np.sort(rng.choice(n, m, replace=False))
    Op = pld.Restriction(n, iava, dtype="float64")
    y = rng.standard_normal(m)
    x = cgls(Op, da.from_array(y, chunks=10), niter=5, tol=0)[0]
    ref = pylops.optimization.basic.cgls(pylops.Restriction(n, iava), y, niter=5, tol=0)
    np.testing.assert_allclose(x.compute(), np.ravel(ref[0]), atol=1e-12)


@pytest.mark.parametrize("solver", ["cgls", "lsqr"])
def test_replicated_model_matrix_by_rows(collective, solver):
    """A matrix cut by rows: every rank holds the whole model and its rows of the data; the
    adjoint's partial products are summed by an all-reduce. PyLops' answer."""
    rng = np.random.default_rng(8)
    A = rng.standard_normal((70, 25)) + 1j * rng.standard_normal((70, 25))
    y = A @ rng.standard_normal(25)
    Op = pld.MatrixMult(da.from_array(A, chunks=(20, 25)))
    x0 = rng.standard_normal(25)
    if solver == "cgls":  # (no x0: PyLops' CGLS damps its first step by damp, not damp^2)
        out = cgls(Op, da.from_array(y, chunks=20), niter=12, damp=0.1, tol=0)
        ref = pylops.optimization.basic.cgls(pylops.MatrixMult(A), y, niter=12, damp=0.1,
                                             tol=0)
    else:
        out = lsqr(Op, da.from_array(y, chunks=20), x0=x0, niter=12, damp=0.1, atol=0, btol=0)
        ref = pylops.optimization.basic.lsqr(pylops.MatrixMult(A), y, x0=x0, niter=12,
                                             damp=0.1, atol=0, btol=0)
    assert "ran collectively on 2 ranks" in collective.text
    assert out[0].shape == (25,) and len(out[0].chunks[0]) == 1
    np.testing.assert_allclose(out[0].compute(), ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out[3], ref[3], rtol=1e-9)


def test_replicated_model_kirchhoff_equals_the_fused_path(collective, process_client):
    """Kirchhoff demigration over shots (the model, an image, whole on every rank; the shots
    in slabs): CGLS on the collective path gives the fused path's answer and cost."""
    import warnings

    from pylops_distributed.waveeqprocessing import Kirchhoff

    x, z, t = np.arange(20) * 10.0, np.arange(15) * 10.0, np.arange(60) * 0.004
    srcs = np.vstack([np.linspace(0, 190, 6), np.zeros(6)])
    recs = np.vstack([np.linspace(0, 190, 10), np.zeros(10)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        wav, _, wc = pylops.utils.wavelets.ricker(t[:21], f0=20)
    Op = Kirchhoff(z, x, t, srcs, recs, 1500.0, wav, wc, mode="analytic", shot_chunks=3)
    m = np.zeros((20, 15))
    m[:, 7] = 1.0
    d = process_client.persist(Op @ da.from_array(m, chunks=(20, 15)))
    got = cgls(Op, d, niter=10, tol=0, check_every=5)
    assert "ran collectively on 2 ranks" in collective.text
    with dask.config.set({"pylops_distributed.collective": False}):
        fused = cgls(Op, d, niter=10, tol=0, check_every=5)
    np.testing.assert_allclose(got[0].compute(), fused[0].compute(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[-1], fused[-1], rtol=1e-9)
    # the workers' profiler, paused while the ranks ran, samples again
    profiling = process_client.run(
        lambda dask_worker: dask_worker.periodic_callbacks["profile"].is_running())
    assert list(profiling.values()) == [True, True]


def test_replicated_model_mdc_equals_pylops(collective, process_client):
    """MDC with G in source blocks (the model whole on every rank, the data's sources in
    slabs, the adjoint's partial models summed by an all-reduce): CGLS equals PyLops'."""
    from pylops_distributed.waveeqprocessing import MDC

    rng = np.random.default_rng(5)
    G = rng.standard_normal((8, 6, 5)) + 1j * rng.standard_normal((8, 6, 5))
    POp = pylops.waveeqprocessing.MDC(G, 15, 2, dt=0.004)
    y = (POp @ rng.standard_normal(POp.shape[1])).reshape(15, 6, 2)
    Op = MDC(process_client.persist(da.from_array(G, chunks=(8, 3, 5))), 15, 2, dt=0.004)
    got = cgls(Op, da.from_array(y, chunks=(15, 3, 2)), niter=6, tol=0, check_every=3)
    assert "ran collectively on 2 ranks" in collective.text
    ref = pylops.optimization.basic.cgls(POp, y.ravel(), niter=6, tol=0)
    np.testing.assert_allclose(got[0].compute().ravel(), np.ravel(ref[0]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[-1], ref[-1][[0, 3, 6]], rtol=1e-9)  # costs at the checks


def test_fallbacks_say_why(collective):
    dims = (30, 20)
    y = da.from_array(np.random.default_rng(6).standard_normal(dims), chunks=(10, 10))
    Op = pld.Laplacian(dims)
    seen = []
    x = cgls(Op, y, niter=3, callback=lambda x: seen.append(1))[0]  # callbacks: fused path
    assert not _collectively(collective) and len(seen) == 3
    assert "callbacks" in collective.text
    cgls(Op, y, niter=3)  # chunked along two axes
    assert "chunked along axes [0, 1]" in collective.text and not _collectively(collective)
    ref = pylops.optimization.basic.cgls(pylops.Laplacian(dims), y.compute().ravel(), niter=3)
    np.testing.assert_allclose(x.compute().ravel(), np.ravel(ref[0]), rtol=1e-10)


def test_bad_settings_raise_the_solvers_errors(collective):
    y = da.from_array(np.ones((20, 10)), chunks=(10, 10))
    with pytest.raises(ValueError, match="niter"):
        cgls(pld.Laplacian((20, 10)), y, niter=-1)
    with pytest.raises(ValueError, match="expected shape"):
        cgls(pld.Laplacian((20, 10)), da.ones((21, 10), chunks=(7, 10)), niter=2)


def test_halos_reaching_past_the_next_rank(caplog):
    """A 31-sample filter on slabs of 10 rows: each rank reads from two ranks each side."""
    caplog.set_level(logging.INFO, logger="pylops_distributed.optimization")
    n = 40
    rng = np.random.default_rng(7)
    h = rng.standard_normal(31)
    y = rng.standard_normal((n, 6))
    with LocalCluster(n_workers=4, threads_per_worker=1, processes=False, protocol="tcp",
                      host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster), \
            dask.config.set({"pylops_distributed.collective": True}):
        caplog.set_level(logging.INFO, logger="pylops_distributed.optimization")  # after start
        Op = Convolve1D((n, 6), h, offset=15, axis=0, dtype="float64")
        x = cgls(Op, da.from_array(y, chunks=(10, 6)), niter=6, damp=2.0, tol=0)[0]
        assert "on 4 ranks" in caplog.text, caplog.text
        got = x.compute()
        with dask.config.set({"pylops_distributed.collective": False}):
            fused = cgls(Op, da.from_array(y, chunks=(10, 6)), niter=6, damp=2.0, tol=0)[0].compute()
    ref = pylops.optimization.basic.cgls(
        pylops.signalprocessing.Convolve1D((n, 6), h, offset=15, axis=0), y.ravel(), niter=6,
        damp=2.0, tol=0)
    np.testing.assert_allclose(got, fused, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got.ravel(), np.ravel(ref[0]), rtol=1e-9, atol=1e-11)


def test_persisted_data_anywhere(collective, process_client):
    """Chunks persisted on one worker: the other rank's slab is moved before the ranks start,
    and two solves in a row reuse the communicator."""
    dims = (80, 30)
    y = np.random.default_rng(8).standard_normal(dims)
    first = sorted(process_client.scheduler_info()["workers"])[0]
    yd = process_client.persist(da.from_array(y, chunks=(20, 30)), workers=[first])
    Op = pld.SecondDerivative(dims, axis=0) + 0.5 * pld.Identity(dims)
    Pop = pylops.SecondDerivative(dims, axis=0) + 0.5 * pylops.Identity(int(np.prod(dims)))
    for niter in (4, 8):
        x = cgls(Op, yd, niter=niter, tol=0)[0]
        ref = pylops.optimization.basic.cgls(Pop, y.ravel(), niter=niter, tol=0)
        np.testing.assert_allclose(x.compute().ravel(), np.ravel(ref[0]), rtol=1e-10, atol=1e-12)
    assert collective.text.count(RAN) == 2


@pytest.mark.parametrize("solver", ["ista", "fista"])
@pytest.mark.parametrize("kw", [dict(threshkind="soft"), dict(threshkind="hard", eps=2.0),
                                dict(threshkind="half", decay=np.linspace(1, 0.5, 20)),
                                dict(alpha=0.01, monitorres=True)],
                         ids=["soft", "hard", "half-decay", "alpha-monitorres"])
def test_ista_fista_equal_pylops_and_fused(collective, solver, kw):
    """The step size (eigenvalue estimate) is found before the ranks start; thresholds, the
    decay and the cost's L1 norm (an all-reduce) on the slabs."""
    rng = np.random.default_rng(11)
    dims = (48, 30)
    y = rng.standard_normal(dims)
    Op = pld.Laplacian(dims)
    yd = da.from_array(y, chunks=(10, 30))
    kw = dict(dict(eps=0.5), **kw)
    ours = getattr(sparsity, solver)(Op, yd, niter=20, tol=0, check_every=5, **kw)
    assert _collectively(collective)
    ref = getattr(pylops.optimization.sparsity, solver)(pylops.Laplacian(dims), y.ravel(),
                                                        niter=20, tol=0, **kw)
    np.testing.assert_allclose(ours[0].compute().ravel(), ref[0], rtol=1e-9, atol=1e-11)
    assert ours[1] == ref[1] and ours[0].chunks == yd.chunks
    with dask.config.set({"pylops_distributed.collective": False}):
        fused = getattr(sparsity, solver)(Op, yd, niter=20, tol=0, check_every=5, **kw)
    np.testing.assert_allclose(ours[2], fused[2], rtol=1e-9)


def test_fista_fallbacks_say_why(collective):
    dims = (30, 20)
    y = da.from_array(np.random.default_rng(6).standard_normal(dims), chunks=(10, 20))
    Op = pld.Laplacian(dims)
    x = sparsity.fista(Op, y, niter=3, SOp=pld.Identity(dims), eps=0.1)[0]
    assert "SOp is a second operator" in collective.text and not _collectively(collective)
    ref = pylops.optimization.sparsity.fista(pylops.Laplacian(dims), y.compute().ravel(), niter=3,
                                             SOp=pylops.Identity(int(np.prod(dims))), eps=0.1)
    np.testing.assert_allclose(x.compute().ravel(), ref[0], rtol=1e-10)
    sparsity.fista(Op, y, niter=3, threshkind="soft-percentile", perc=20)
    assert "percentile" in collective.text and not _collectively(collective)
