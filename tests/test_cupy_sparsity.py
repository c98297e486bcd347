"""ISTA and FISTA on CuPy chunks (run on the lent GPU): PyLops/NumPy's iterates, CuPy results,
the step size from our power iteration on CuPy chunks."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization import sparsity as psp

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.optimization import sparsity  # noqa: E402


@pytest.mark.parametrize("name", ["ista", "fista"])
@pytest.mark.parametrize("kind", ["soft", "hard", "half"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_on_cupy_like_pylops(name, kind, dtype):
    dims = (24, 20)
    rng = np.random.default_rng(1)
    xt = np.where(rng.random(dims) > 0.9, rng.standard_normal(dims), 0.0).astype(dtype)
    POp, Op = pylops.Smoothing2D((3, 3), dims, dtype=dtype), pld.Smoothing2D((3, 3), dims, dtype=dtype)
    y = (POp @ xt.ravel()).reshape(dims)
    yg = da.from_array(cp.asarray(y), chunks=(8, 20), asarray=False)
    kw = dict(niter=20, eps=0.05, tol=0, alpha=0.9, threshkind=kind)
    with dask.config.set(scheduler="threads"):
        x = getattr(sparsity, name)(Op, yg, check_every=5, **kw)[0]
        assert isinstance(x._meta, cp.ndarray)
        got = x.compute()
    assert isinstance(got, cp.ndarray)
    ref = getattr(psp, name)(POp, y.ravel(), **kw)[0]
    rtol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(cp.asnumpy(got).ravel(), ref, rtol=rtol,
                               atol=rtol * np.abs(ref).max())


def test_step_size_by_power_iteration_on_cupy():
    dims = (24, 20)
    Op = pld.Smoothing2D((3, 3), dims)
    y = da.from_array(cp.asarray(np.random.default_rng(0).standard_normal(dims)), chunks=(8, 20),
                      asarray=False)
    with dask.config.set(scheduler="threads"):
        solver = sparsity.FISTA(Op)
        solver.setup(y, niter=5, eigsdict=dict(niter=200, tol=1e-8))
    maxeig = np.abs(pylops.Smoothing2D((3, 3), dims).eigs(neigs=1, symmetric=True)[0]) ** 2
    assert abs(1 / solver.alpha - maxeig) < 1e-3 * maxeig


@pytest.mark.parametrize("name", ["ista", "fista"])
def test_percentile_and_transform_on_cupy(name):
    """The percentile kinds (chunks' largest values reduced on the GPU's workers) and SOp."""
    dims = (24, 20)
    rng = np.random.default_rng(3)
    xt = np.where(rng.random(dims) > 0.9, rng.standard_normal(dims), 0.0)
    POp, Op = pylops.Smoothing2D((3, 3), dims), pld.Smoothing2D((3, 3), dims)
    y = (POp @ xt.ravel()).reshape(dims)
    yg = da.from_array(cp.asarray(y), chunks=(8, 20), asarray=False)
    kw = dict(niter=12, eps=0.05, tol=0, alpha=0.9, threshkind="soft-percentile", perc=15)
    with dask.config.set(scheduler="threads"):
        x = getattr(sparsity, name)(Op, yg, SOp=pld.FirstDerivative(dims, axis=0),
                                    check_every=4, **kw)[0].compute()
    assert isinstance(x, cp.ndarray)
    ref = getattr(psp, name)(POp, y.ravel(), SOp=pylops.FirstDerivative(dims, axis=0), **kw)[0]
    np.testing.assert_allclose(cp.asnumpy(x).ravel(), ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("niter_inner", [0, 20])
def test_omp_on_cupy(niter_inner):
    """OMP (PyLops' cgls inside, as PyLops on CuPy) and MP on CuPy chunks, against NumPy."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 60))
    xt = np.zeros(60)
    xt[[3, 17, 40]] = [1.0, -2.0, 1.5]
    y = A @ xt
    Op = pld.MatrixMult(da.from_array(cp.asarray(A), chunks=(10, 30), asarray=False))
    yg = da.from_array(cp.asarray(y), chunks=10, asarray=False)
    kw = dict(niter_outer=6, niter_inner=niter_inner, sigma=1e-8)
    with dask.config.set(scheduler="threads"):
        np.random.seed(0)
        x, nout, cost = sparsity.omp(Op, yg, **kw)
        got = x.compute()
    assert isinstance(got, cp.ndarray)
    np.random.seed(0)
    xr, noutr, costr = psp.omp(pylops.MatrixMult(A), y, engine="pylops", **kw)
    assert nout == noutr
    np.testing.assert_allclose(cp.asnumpy(got), xr, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("proxg", ["l1", "ball", "huber"])
def test_proximal_gradient_on_cupy(proxg):
    """PyProximal's solver on CuPy chunks: the separable proxes and the global norm on the GPU."""
    pyproximal = pytest.importorskip("pyproximal")
    from pyproximal.optimization import primal as pp

    from pylops_distributed.optimization import proximal

    dims = (24, 20)
    b = np.random.default_rng(4).standard_normal(dims)
    g = {"l1": lambda: pyproximal.L1(sigma=0.1), "ball": lambda: pyproximal.EuclideanBall(0.1, 1.5),
         "huber": lambda: pyproximal.Huber(0.3)}[proxg]
    Op = pld.Laplacian(dims)
    bg = da.from_array(cp.asarray(b), chunks=(8, 20), asarray=False)
    x0 = da.zeros(dims, chunks=(8, 20), meta=cp.empty(()))
    with dask.config.set(scheduler="threads"):
        x = proximal.AcceleratedProximalGradient(pyproximal.L2(Op=Op, b=bg), g(), x0, tau=0.05,
                                                 niter=15, check_every=5).compute()
    assert isinstance(x, cp.ndarray)
    xr = pp.AcceleratedProximalGradient(pyproximal.L2(Op=pylops.Laplacian(dims), b=b.ravel()), g(),
                                        np.zeros(b.size), tau=0.05, niter=15)
    np.testing.assert_allclose(cp.asnumpy(x).ravel(), xr, rtol=1e-9, atol=1e-9 * np.abs(xr).max())
