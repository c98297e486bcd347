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
