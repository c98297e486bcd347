"""Split Bregman (``optimization.sparsity.splitbregman``) against PyLops' on TV problems."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization.sparsity import splitbregman as pylops_splitbregman

import pylops_distributed as pld
from pylops_distributed.optimization.sparsity import SplitBregman, splitbregman


def test_tv_deblurring_2d_with_l2_term_like_pylops(scheduler):
    """Smoothing2D with anisotropic TV (two derivatives) and a Laplacian L2 term, chunked data:
    PyLops' model and cost (inner LSQR iterations that run to iter_lim, atol=btol=0)."""
    dims = (20, 16)
    rng = np.random.default_rng(1)
    xt = np.zeros(dims)
    xt[5:12, 4:10] = 1.0
    POp = pylops.Smoothing2D((3, 3), dims)
    y = (POp @ xt.ravel()).reshape(dims) + 0.01 * rng.standard_normal(dims)
    kw = dict(niter_outer=4, niter_inner=2, mu=1.0, epsRL1s=[0.1, 0.1], epsRL2s=[0.01],
              tol=1e-6, iter_lim=10, atol=0, btol=0, damp=0)
    x, it, cost = splitbregman(
        pld.Smoothing2D((3, 3), dims), da.from_array(y, chunks=(10, 16)),
        [pld.FirstDerivative(dims, axis=0, edge=False), pld.FirstDerivative(dims, axis=1, edge=False)],
        RegsL2=[pld.Laplacian(dims)], **kw)
    xr, itr, costr = pylops_splitbregman(
        POp, y.ravel(),
        [pylops.FirstDerivative(dims, axis=0, edge=False), pylops.FirstDerivative(dims, axis=1, edge=False)],
        RegsL2=[pylops.Laplacian(dims)], **kw)
    assert it == itr == 4 and x.shape == dims
    np.testing.assert_allclose(x.compute().ravel(), xr, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(cost, costr, rtol=1e-8)


def test_tv_denoising_1d_flat_data_and_defaults():
    """1-D TV denoising with flat NumPy data (flat estimate) and SciPy-style inner arguments:
    close to PyLops (our inner LSQR tests its tolerances every check_every iterations) and
    better than the data."""
    xt = np.repeat([0.0, 2.0, 1.0], 20)
    y = xt + np.random.default_rng(0).normal(0, 0.1, 60)
    D = pld.FirstDerivative(60, edge=True, kind="backward")
    kw = dict(niter_outer=10, niter_inner=3, mu=1.0, epsRL1s=[0.3], tol=1e-4, iter_lim=30)
    with dask.config.set(scheduler="threads"):
        x, it, cost = splitbregman(pld.Identity(60), y, [D], **kw)
        x = x.compute()
    xr = pylops_splitbregman(pylops.Identity(60), y,
                             [pylops.FirstDerivative(60, edge=True, kind="backward")], **kw)[0]
    assert x.shape == (60,) and len(cost) == it
    np.testing.assert_allclose(x, xr, atol=1e-3)
    assert np.abs(x - xt).mean() < 0.6 * np.abs(y - xt).mean()


def test_restart_and_class_interface():
    """restart=True starts every inner solve from x0 (PyLops' semantics); the class runs as
    setup + run + finalize."""
    xt = np.repeat([1.0, -1.0], 15)
    y = xt + np.random.default_rng(3).normal(0, 0.05, 30)
    kw = dict(niter_outer=3, niter_inner=2, mu=0.1, epsRL1s=[0.2], tol=1e-10, iter_lim=8, atol=0,
              btol=0, restart=True)
    with dask.config.set(scheduler="threads"):
        solver = SplitBregman(pld.Identity(30))
        x = solver.setup(y, [pld.FirstDerivative(30, edge=True)], x0=np.zeros(30),
                         **{k: v for k, v in kw.items() if k not in ("iter_lim", "atol", "btol")})
        x = solver.run(x, iter_lim=8, atol=0, btol=0)
        solver.finalize()
        x = x.compute()
    xr = pylops_splitbregman(pylops.Identity(30), y, [pylops.FirstDerivative(30, edge=True)],
                             x0=np.zeros(30), **kw)[0]
    np.testing.assert_allclose(x, xr, rtol=1e-8, atol=1e-10)
    assert isinstance(solver.cost, np.ndarray) and len(solver.cost) == 3


def test_tol_zero_makes_no_iteration_as_pylops():
    y = np.arange(10.0)
    x, it, cost = splitbregman(pld.Identity(10), y, [pld.FirstDerivative(10)], epsRL1s=[0.1], tol=0)
    xr, itr, _ = pylops_splitbregman(pylops.Identity(10), y, [pylops.FirstDerivative(10)],
                                     epsRL1s=[0.1], tol=0)
    assert it == itr == 0 and len(cost) == 0
    np.testing.assert_array_equal(x.compute(), xr)


@pytest.mark.parametrize("kwargs,match", [
    (dict(epsRL1s=None), "epsRL1s"), (dict(epsRL1s=[0.1, 0.2]), "epsRL1s"),
    (dict(epsRL1s=[0.1], RegsL2=[pld.Identity(10)]), "epsRL2s"),
    (dict(epsRL1s=[0.1], mu=0), "mu must be > 0"), (dict(epsRL1s=[0.1], engine="scipy"), "scipy"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=match):
        splitbregman(pld.Identity(10), np.ones(10), [pld.FirstDerivative(10)], **kwargs)


def test_stacked_data_like_pylops(scheduler):
    """The data of a VStack is a StackedArray (its squared norms failed on abs())."""
    n = 8
    rng = np.random.default_rng(0)

    def make(M):
        return M.VStack([M.Flip(n), M.Diagonal(np.arange(1.0, n + 1))])

    Op, POp = make(pld), make(pylops)
    xt = rng.standard_normal(n)
    kw = dict(niter_outer=3, niter_inner=2, mu=1.0, epsRL1s=[0.1], tol=1e-10, engine="pylops",
              niter=5)
    ref, _, refcost = pylops_splitbregman(POp, POp @ xt, [pylops.FirstDerivative(n)], **kw)
    x, _, cost = splitbregman(Op, Op @ da.from_array(xt, chunks=4), [pld.FirstDerivative(n)], **kw)
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref, rtol=1e-9)
    np.testing.assert_allclose(cost, refcost, rtol=1e-9)
