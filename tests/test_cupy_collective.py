"""The collective solver path on GPU workers (NCCL between the GPUs): run with ``pytest -m gpu``
on a machine with two GPUs or more (the lent nvidia-h200-x2); one GPU runs it on one rank.

CuPy chunks take the collective path by default: one task per GPU worker runs the solver on its
slab, halos and dot products go through NCCL. The answers are compared with PyLops on NumPy.
The client never touches the GPU (the data is made on the workers).
"""

import logging
import os

import numpy as np
import pytest

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")
pytest.importorskip("dask_cuda")
pytest.importorskip("cupy.cuda.nccl")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import pylops  # noqa: E402
from distributed.diagnostics import nvml  # noqa: E402

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.cluster import get_client  # noqa: E402
from pylops_distributed.optimization import cgls, lsqr  # noqa: E402

NGPUS = nvml.device_get_count()
os.environ.setdefault("NCCL_NVLS_ENABLE", "0")  # NVLink multicast stays off (shared GPUs)


@pytest.fixture(scope="module")
def cuda_client():
    if NGPUS < 1:
        pytest.skip("no GPU")
    client = get_client("local-cuda", host="127.0.0.1", dashboard_address=":0")
    try:
        yield client
    finally:
        client.close()


def _on_gpus(client, a, chunks):
    y = da.from_array(a, chunks=chunks).map_blocks(cupy.asarray, dtype=a.dtype,
                                                   meta=cupy.empty((0,) * a.ndim, a.dtype))
    return client.persist(y)


def _host(x):
    return x.map_blocks(cupy.asnumpy, dtype=x.dtype, meta=np.empty((0,) * x.ndim, x.dtype)).compute()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cgls_laplacian_on_every_gpu(cuda_client, caplog, dtype):
    caplog.set_level(logging.INFO, logger="pylops_distributed.optimization")
    dims = (64, 48, 40)
    y = np.random.default_rng(0).standard_normal(dims).astype(dtype)
    yg = _on_gpus(cuda_client, y, (16, 48, 40))
    Op = pld.Laplacian(dims, dtype=dtype)
    x, istop, iit, r1, r2, cost = cgls(Op, yg, niter=30, damp=0.2, tol=0)
    ranks = min(NGPUS, 4)
    assert f"ran collectively on {ranks} ranks (nccl)" in caplog.text
    ref = pylops.optimization.basic.cgls(pylops.Laplacian(dims, dtype=dtype), y.ravel(), niter=30,
                                         damp=0.2, tol=0)
    tol = 2e-3 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(_host(x).ravel(), np.ravel(ref[0]), rtol=tol, atol=tol * 1e-1)
    assert (istop, iit) == (ref[1], ref[2])
    with dask.config.set({"pylops_distributed.collective": False}):  # the fused path agrees
        fused = cgls(Op, yg, niter=30, damp=0.2, tol=0)
    np.testing.assert_allclose(cost, fused[-1], rtol=tol)


def test_lsqr_and_a_second_solve_reuse_the_communicator(cuda_client, caplog):
    caplog.set_level(logging.INFO, logger="pylops_distributed.optimization")
    dims = (80, 30)
    rng = np.random.default_rng(1)
    y = rng.standard_normal(dims)
    yg = _on_gpus(cuda_client, y, (20, 30))
    Op = pld.SecondDerivative(dims, axis=0) + 0.5 * pld.Identity(dims)
    Pop = pylops.SecondDerivative(dims, axis=0) + 0.5 * pylops.Identity(int(np.prod(dims)))
    for niter in (10, 20):
        out = lsqr(Op, yg, niter=niter, damp=0.1, atol=0, btol=0)
        ref = pylops.optimization.basic.lsqr(Pop, y.ravel(), niter=niter, damp=0.1, atol=0, btol=0)
        np.testing.assert_allclose(_host(out[0]).ravel(), np.ravel(ref[0]), rtol=1e-9, atol=1e-11)
        assert out[2] == ref[2]
    assert caplog.text.count("ran collectively") == 2


def test_fista_on_every_gpu(cuda_client, caplog):
    """FISTA: thresholds and the L1 cost on the slabs, equal to PyLops' and to our fused path;
    without ``alpha``, the step size is estimated first (power iteration on the GPUs)."""
    from pylops_distributed.optimization import sparsity

    caplog.set_level(logging.INFO, logger="pylops_distributed.optimization")
    dims = (64, 40)
    y = np.random.default_rng(2).standard_normal(dims)
    yg = _on_gpus(cuda_client, y, (16, 40))
    Op = pld.Laplacian(dims)
    alpha = 1 / np.abs(pylops.Laplacian(dims).eigs(neigs=1, symmetric=True)[0]) ** 2
    x, niter, cost = sparsity.fista(Op, yg, niter=25, eps=0.5, tol=0, alpha=alpha)
    ranks = min(NGPUS, 4)
    assert f"FISTA ran collectively on {ranks} ranks (nccl)" in caplog.text
    ref = pylops.optimization.sparsity.fista(pylops.Laplacian(dims), y.ravel(), niter=25,
                                             eps=0.5, tol=0, alpha=alpha)
    np.testing.assert_allclose(_host(x).ravel(), ref[0], rtol=1e-9, atol=1e-11)
    assert niter == ref[1]
    with dask.config.set({"pylops_distributed.collective": False}):
        fused = sparsity.fista(Op, yg, niter=25, eps=0.5, tol=0, alpha=alpha)
    np.testing.assert_allclose(cost, fused[2], rtol=1e-9)
    # the estimate (10 power iterations from NumPy's random start, as PyLops on CuPy) is
    # found before the ranks start: the same answer as the fused path from the same start
    np.random.seed(3)
    estimated = sparsity.fista(Op, yg, niter=25, eps=0.5, tol=0)
    assert caplog.text.count("FISTA ran collectively") == 2
    np.random.seed(3)
    with dask.config.set({"pylops_distributed.collective": False}):
        fused = sparsity.fista(Op, yg, niter=25, eps=0.5, tol=0)
    np.testing.assert_allclose(_host(estimated[0]), _host(fused[0]), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(estimated[2], fused[2], rtol=1e-9)
