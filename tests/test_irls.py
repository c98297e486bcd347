"""IRLS (``optimization.sparsity.irls``) on PyLops' own parametrizations: the true model and
PyLops' answer, for data, datamodel and model IRLS, on chunked operators."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization.callback import CostToInitialCallback
from pylops.optimization.sparsity import irls as pylops_irls

import pylops_distributed as pld
from pylops_distributed.optimization.sparsity import IRLS, irls

OUTLIER_PARS = [dict(ny=31, nx=11, imag=imag, x0=x0) for imag in (0, 1j) for x0 in (False, True)]
SPARSE_PARS = [dict(ny=ny, nx=nx, imag=imag) for ny, nx in ((11, 11), (31, 11), (21, 41))
               for imag in (0, 1j)]


def _dtype(par):
    return "complex128" if par["imag"] else "float64"


@pytest.mark.parametrize("kind", ["data", "datamodel"])
@pytest.mark.parametrize("par", OUTLIER_PARS, ids=lambda p: f"{p['imag']!r}-x0{p['x0']}")
def test_data_irls_ignores_an_outlier(scheduler, par, kind):
    rng = np.random.default_rng(10)
    ny, nx, imag = par["ny"], par["nx"], par["imag"]
    A = rng.normal(0, 10, (ny, nx)) + imag * rng.normal(0, 10, (ny, nx))
    x = np.ones(nx) + imag * np.ones(nx)
    x0 = (rng.normal(0, 1, nx) + imag * rng.normal(0, 1, nx)) if par["x0"] else None
    y = A @ x
    y[ny - 2] *= 5
    kw = dict(x0=x0, nouter=10, threshR=False, epsR=1e-2, epsI=0, tolIRLS=1e-3, kind=kind)
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, nx)), dtype=_dtype(par))
    xinv, nouter = irls(Op, y, **kw)
    ref, nref = pylops_irls(pylops.MatrixMult(A, dtype=_dtype(par)), y, **kw)
    np.testing.assert_array_almost_equal(xinv.compute(), x, decimal=2)
    np.testing.assert_allclose(xinv.compute(), ref, rtol=1e-8, atol=1e-8)
    assert nouter == nref


@pytest.mark.parametrize("par", SPARSE_PARS, ids=lambda p: f"{p['ny']}x{p['nx']}-{p['imag']!r}")
def test_model_irls_finds_the_sparse_model(par):
    rng = np.random.default_rng(42)
    ny, nx, imag = par["ny"], par["nx"], par["imag"]
    A = rng.standard_normal((ny, nx)) + imag * rng.standard_normal((ny, nx))
    x = np.zeros(nx) + imag * np.zeros(nx)
    x[nx // 2] = x[3] = 1 + imag
    x[nx - 4] = -1 - imag
    y = A @ x
    Op = pld.MatrixMult(da.from_array(A, chunks=(7, nx)), dtype=_dtype(par))
    with dask.config.set(scheduler="threads"):
        xinv = irls(Op, y, nouter=100, tolIRLS=1e-3, kind="model")[0].compute()
    ref = pylops_irls(pylops.MatrixMult(A, dtype=_dtype(par)), y, nouter=100, tolIRLS=1e-3,
                      kind="model")[0]
    np.testing.assert_array_almost_equal(xinv, x, decimal=1)
    np.testing.assert_allclose(xinv, ref, atol=1e-3)


def test_class_with_a_stopping_callback_and_pylops_engine():
    """PyLops' IRLS_model_stopping: the class, a CostToInitialCallback and iter_lim; and the
    pylops engine (CGLS inside) against PyLops' own engine."""
    rng = np.random.default_rng(42)
    A = rng.standard_normal((21, 41))
    x = np.zeros(41)
    x[[3, 20, 37]] = [1.0, 1.0, -1.0]
    y = A @ x
    with dask.config.set(scheduler="threads"):
        solver = IRLS(pld.MatrixMult(A), callbacks=[CostToInitialCallback(0.6)])
        solver.setup(y=y, epsI=0.1, tolIRLS=0, kind="model")
        solver.run(np.zeros(41), nouter=100, iter_lim=5)
        assert solver.cost[-2] / solver.cost[0] >= 0.6 > solver.cost[-1] / solver.cost[0]
        B = rng.standard_normal((40, 20))
        yb = B @ np.ones(20)
        yb[7] += 30.0
        kw = dict(nouter=4, kind="data", epsR=1e-2, engine="pylops", niter=8, tol=0)
        ours = irls(pld.MatrixMult(da.from_array(B, chunks=(10, 20))), yb, **kw)[0].compute()
    ref = pylops_irls(pylops.MatrixMult(B), yb, **kw)[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-8, atol=1e-10)


def test_unknown_kind():
    with pytest.raises(NotImplementedError, match="`kind` must be model"):
        irls(pld.Identity(5), np.ones(5), 10, kind="foo")


def test_model_irls_of_an_hstack_like_pylops(scheduler):
    """A stacked model (HStack): the weights are a BlockDiag of Diagonals (abs() of a
    StackedArray failed)."""
    n = 8
    rng = np.random.default_rng(0)

    def make(M):
        return M.HStack([M.FirstDerivative(n), M.Flip(n)])

    y = rng.standard_normal(n)
    kw = dict(nouter=3, kind="model", engine="pylops", niter=10, tol=0)
    ref = pylops_irls(make(pylops), y, **kw)[0]
    x = irls(make(pld), da.from_array(y, chunks=4), **kw)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref, rtol=1e-9)
