"""Solvers on CuPy chunks (run on the lent GPU): threaded scheduler and LocalCUDACluster.

Same answers as PyLops/NumPy, chunks stay CuPy, checked scalars come back as Python floats,
and on LocalCUDACluster the blocking round trips stay at about niter / check_every.
"""

import math

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization.basic import cg as pcg, cgls as pcgls, lsqr as plsqr

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.optimization import CGLS, cg, cgls, lsqr  # noqa: E402
from pylops_distributed.optimization import CG, LSQR  # noqa: E402
from pylops_distributed.optimization._space import ROUND_TRIPS  # noqa: E402

from _helpers import rand  # noqa: E402


def on_gpu(x, chunks):
    return da.from_array(cp.asarray(x), chunks=chunks, asarray=False)


def _problems(dtype):
    A = (rand((60, 30), dtype, 1) + 3 * np.eye(60, 30)).astype(dtype)
    L = pylops.Laplacian((24, 18), dtype=dtype)
    xt = rand((24, 18), dtype, 2)
    return {
        "matrix": (pld.MatrixMult(on_gpu(A, (15, 30)), dtype=dtype), pylops.MatrixMult(A, dtype=dtype),
                   on_gpu(A @ rand(30, dtype, 3), 15)),
        "laplacian": (pld.Laplacian((24, 18), dtype=dtype), L,
                      on_gpu((L @ xt.ravel()).reshape(24, 18), (6, 18))),
        # one chunk: the iterations between checks run as one task
        "laplacian-1chunk": (pld.Laplacian((24, 18), dtype=dtype), L,
                             on_gpu((L @ xt.ravel()).reshape(24, 18), (24, 18))),
    }


def _check_cgls(Op, POp, y, fused=True):
    with dask.config.set({"pylops_distributed.fused": fused}):
        solver = CGLS(Op)
        x, istop, iit, r1, r2, cost = solver.solve(y, niter=10, tol=0, damp=0.1, check_every=4)
    assert solver.fused == fused
    assert isinstance(x._meta, cp.ndarray), "the model left the GPU"
    assert all(type(v) is float for v in (r1, r2, *cost.tolist()))
    ref = pcgls(POp, cp.asnumpy(y.compute()).ravel(), niter=10, tol=0, damp=0.1)[0]
    xc = x.compute()
    assert isinstance(xc, cp.ndarray)
    tol = 1e-3 if x.dtype == np.float32 else 1e-8
    np.testing.assert_allclose(cp.asnumpy(xc).ravel(), np.ravel(ref), rtol=tol,
                               atol=tol * np.abs(ref).max())


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("case", ["matrix", "laplacian", "laplacian-1chunk"])
@pytest.mark.parametrize("fused", [True, False])
def test_cgls_cupy_threads(dtype, case, fused):
    Op, POp, y = _problems(dtype)[case]
    with dask.config.set(scheduler="threads"):
        _check_cgls(Op, POp, y, fused)


def test_cg_lsqr_cupy_threads():
    Op, POp, y = _problems("float64")["matrix"]
    A = cp.asnumpy(Op.A.compute())
    S = A.T @ A
    with dask.config.set(scheduler="threads"):
        x, iit, cost = cg(pld.MatrixMult(on_gpu(S, (15, 30))), on_gpu(S @ np.ones(30), 15),
                          niter=8, tol=0, check_every=3)
        assert isinstance(x._meta, cp.ndarray) and all(type(v) is float for v in cost.tolist())
        np.testing.assert_allclose(cp.asnumpy(x.compute()),
                                   pcg(pylops.MatrixMult(S), S @ np.ones(30), niter=8, tol=0)[0],
                                   rtol=1e-8)
        out = lsqr(Op, y, niter=8, atol=0, btol=0, check_every=3)
        assert isinstance(out[0]._meta, cp.ndarray) and type(out[3]) is float
        ref = plsqr(POp, cp.asnumpy(y.compute()), niter=8, atol=0, btol=0)
        np.testing.assert_allclose(cp.asnumpy(out[0].compute()), ref[0], rtol=1e-8)


@pytest.fixture(scope="module")
def cuda_client():
    dask_cuda = pytest.importorskip("dask_cuda")
    from distributed import Client

    cluster = dask_cuda.LocalCUDACluster(host="127.0.0.1", dashboard_address=":0")
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@pytest.mark.parametrize("case", ["matrix", "laplacian", "laplacian-1chunk"])
def test_cgls_local_cuda_cluster(cuda_client, case, monkeypatch):
    from distributed import Client

    Op, POp, y = _problems("float64")[case]
    n = [0]
    orig = Client.gather

    def gather(client, *args, **kwargs):
        n[0] += 1
        return orig(client, *args, **kwargs)

    with cuda_client.as_current():
        y = cuda_client.persist(y)
        if case == "matrix":
            Op = pld.MatrixMult(cuda_client.persist(Op.A), dtype="float64")
        monkeypatch.setattr(Client, "gather", gather)
        x, istop, iit, r1, r2, cost = cgls(Op, y, niter=50, tol=0, check_every=10)
        monkeypatch.setattr(Client, "gather", orig)
        assert n[0] <= math.ceil(50 / 10) + 2
        assert all(type(v) is float for v in (r1, r2, *cost.tolist()))
        assert isinstance(x._meta, cp.ndarray)
        xc = cuda_client.compute(x, sync=True)
    ref = pcgls(POp, cp.asnumpy(cuda_client.compute(y, sync=True)).ravel(), niter=50, tol=0)[0]
    np.testing.assert_allclose(cp.asnumpy(xc).ravel(), np.ravel(ref), rtol=1e-7,
                               atol=1e-7 * np.abs(ref).max())


@pytest.mark.parametrize("which", ["lsqr", "cg"])
def test_lsqr_cg_local_cuda_cluster(cuda_client, which):
    """LSQR and CG (normal equations) on CuPy chunks on the GPU worker, fused: PyLops' answer."""
    Op, POp, y = _problems("float64")["laplacian"]
    with cuda_client.as_current():
        y = cuda_client.persist(y)
        if which == "lsqr":
            solver = LSQR(Op)
            x = solver.solve(y, niter=20, atol=0, btol=0, conlim=0, check_every=5)[0]
            ref = plsqr(POp, cp.asnumpy(cuda_client.compute(y, sync=True)).ravel(), niter=20,
                        atol=0, btol=0, conlim=0)[0]
        else:
            N, yn = Op.H @ Op, cuda_client.persist(Op.H @ y)
            solver = CG(N)
            x = solver.solve(yn, niter=20, tol=0, check_every=5)[0]
            ref = pcg(POp.H @ POp, cp.asnumpy(cuda_client.compute(yn, sync=True)).ravel(),
                      niter=20, tol=0)[0]
        assert solver.fused and isinstance(x._meta, cp.ndarray)
        xc = cuda_client.compute(x, sync=True)
    np.testing.assert_allclose(cp.asnumpy(xc).ravel(), np.ravel(ref), rtol=1e-7,
                               atol=1e-7 * np.abs(ref).max())


def test_round_trip_counter_counts_gpu_checks(cuda_client):
    Op, POp, y = _problems("float32")["laplacian"]
    with cuda_client.as_current():
        before = ROUND_TRIPS[0]
        cgls(Op, cuda_client.persist(y), niter=30, tol=0, check_every=10)
        assert ROUND_TRIPS[0] - before <= 5
