"""Proximal solvers (``optimization.proximal``) against PyProximal's own on NumPy, round trips
only at checks, and clear errors for what is not supported."""

import math
import warnings

import dask
import dask.array as da
import numpy as np
import pylops
import pytest

pyproximal = pytest.importorskip("pyproximal")  # the "proximal" extra (installed in CI)

from pyproximal.optimization import cls_primal  # noqa: E402
from pyproximal.optimization import primal as pp  # noqa: E402
from pyproximal.optimization import primaldual as ppd  # noqa: E402

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.optimization import _space  # noqa: E402
from pylops_distributed.optimization import proximal as ours  # noqa: E402
from pylops_distributed.optimization._proxes import Term  # noqa: E402

DIMS = (24, 20)


@pytest.fixture(autouse=True)
def threads():
    with dask.config.set(scheduler="threads"):
        yield


def _close(a, b, rtol=1e-8):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


def _dense(dtype="float64", seed=0):
    """A 30 x 50 matrix (chunked rows), its PyLops twin, data of a 3-sparse model."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((30, 50))
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rng.standard_normal((30, 50))
    A = A.astype(dtype)
    xt = np.zeros(50, dtype=dtype)
    xt[[3, 17, 40]] = [1.0, -2.0, 1.5]
    return pld.MatrixMult(da.from_array(A, chunks=(10, 50)), dtype=dtype), A, A @ xt


def _image(seed=1):
    rng = np.random.default_rng(seed)
    img = np.zeros(DIMS)
    img[5:15, 4:12] = 1.0
    return (img + 0.1 * rng.standard_normal(DIMS)).ravel()


def _x0(n=50, chunks=10, dtype="float64"):
    return da.zeros(n, chunks=chunks, dtype=dtype)


def _x0_image():
    return da.zeros(DIMS, chunks=(8, 20)).ravel()


STENCILS = [pytest.param(lambda: (pld.Gradient(DIMS, kind="forward"),
                                  pylops.Gradient(DIMS, kind="forward")), id="gradient"),
            pytest.param(lambda: (pld.Laplacian(DIMS), pylops.Laplacian(DIMS)), id="laplacian")]


# --- ProximalGradient ----------------------------------------------------------------------------

@pytest.mark.parametrize("acceleration", [None, "vandenberghe", "fista"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_proximal_gradient_l2_l1(acceleration, dtype):
    Op, A, b = _dense(dtype)
    kw = dict(tau=0.005, niter=25, acceleration=acceleration)
    x = ours.ProximalGradient(pyproximal.L2(Op=Op, b=b), pyproximal.L1(sigma=0.1),
                              _x0(dtype=dtype), check_every=10, **kw)
    xr = pp.ProximalGradient(pyproximal.L2(Op=pylops.MatrixMult(A, dtype=dtype), b=b),
                             pyproximal.L1(sigma=0.1), np.zeros(50, dtype=dtype), **kw)
    assert x.dtype == np.dtype(dtype)  # (PyProximal's fista promotes float32 to float64)
    _close(x.compute(), xr, 1e-4 if dtype == "float32" else 1e-8)


def test_proximal_gradient_backtracking_eta_epsg_and_trips():
    """tau=None: backtracking, one round trip per trial; eta < 1 and a per-iteration epsg."""
    Op, A, b = _dense()
    epsg = np.linspace(0.3, 0.1, 12)
    for kw in (dict(niter=12), dict(niter=12, eta=0.7, epsg=epsg, tau=2.0, backtracking=True)):
        before = _space.ROUND_TRIPS[0]
        x = ours.ProximalGradient(pyproximal.L2(Op=Op, b=b), pyproximal.L1(sigma=0.5), _x0(),
                                  check_every=5, **kw)
        assert _space.ROUND_TRIPS[0] - before >= 12  # (a trial per iteration at least)
        xr = pp.ProximalGradient(pyproximal.L2(Op=pylops.MatrixMult(A), b=b),
                                 pyproximal.L1(sigma=0.5), np.zeros(50), **kw)
        _close(x.compute(), xr)


@pytest.mark.parametrize("proxg", [pytest.param(lambda b: pyproximal.Box(-0.5, 0.8), id="box"),
                                   pytest.param(lambda b: pyproximal.Huber(0.3), id="huber"),
                                   pytest.param(lambda b: pyproximal.EuclideanBall(0.1, 1.5),
                                                id="ball"),
                                   pytest.param(lambda b: pyproximal.Euclidean(0.5), id="eucl"),
                                   pytest.param(lambda b: pyproximal.L2(b=0.2 * b, sigma=2.0),
                                                id="l2")])
def test_accelerated_proximal_gradient_on_a_stencil(proxg):
    """The L2 data term of a chunked 2-D Laplacian, separable and global-norm proxes."""
    Lop, Pop = pld.Laplacian(DIMS), pylops.Laplacian(DIMS)
    b = _image()
    kw = dict(tau=0.05, niter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        x = ours.AcceleratedProximalGradient(pyproximal.L2(Op=Lop, b=b), proxg(b), _x0_image(),
                                             check_every=7, **kw)
        xr = pp.AcceleratedProximalGradient(pyproximal.L2(Op=Pop, b=b), proxg(b),
                                            np.zeros(b.size), **kw)
    _close(x.compute(), xr)


# --- ADMM ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("gfirst", [False, True])
@pytest.mark.parametrize("pylops_op", [False, True])
def test_admm_l2_operator_prox_is_pylops_cg(gfirst, pylops_op):
    """proxf = L2(Op, b): its prox runs niter CG steps, warm started, as PyProximal's
    solver='cg' (with its tol: the early stop is lazy too). A PyLops operator runs too."""
    Op, A, b = _dense()
    POp = pylops.MatrixMult(A)
    POp.explicit = False  # PyProximal solves dense operators directly
    for solver_kw in (dict(tol=0.0), {}):
        kw = dict(niter=5, solver="cg", kwargs_solver=solver_kw)
        x, z = ours.ADMM(pyproximal.L2(Op=POp if pylops_op else Op, b=b, **kw),
                         pyproximal.L1(sigma=0.5), _x0(),
                         tau=0.05, niter=15, gfirst=gfirst)
        xr, zr = pp.ADMM(pyproximal.L2(Op=POp, b=b, **kw), pyproximal.L1(sigma=0.5),
                         np.zeros(50), tau=0.05, niter=15, gfirst=gfirst)
        _close(x.compute(), xr)
        _close(z.compute(), zr)


def test_admm_explicit_operator_converged_inner_solve():
    """PyProximal solves an explicit operator's normal equations directly: the same once our
    inner CG has converged."""
    Op, A, b = _dense()
    x, z = ours.ADMM(pyproximal.L2(Op=Op, b=b, niter=60, kwargs_solver=dict(tol=0.0)),
                     pyproximal.L1(sigma=0.5), _x0(), tau=0.05, niter=10)
    xr, zr = pp.ADMM(pyproximal.L2(Op=pylops.MatrixMult(A), b=b), pyproximal.L1(sigma=0.5),
                     np.zeros(50), tau=0.05, niter=10)
    _close(x.compute(), xr)


@pytest.mark.parametrize("proxs", [
    pytest.param(lambda b: (pyproximal.L2(b=b), pyproximal.Box(-1.0, 0.7)), id="l2-box"),
    pytest.param(lambda b: (pyproximal.Huber(0.5), pyproximal.EuclideanBall(b, 3.0)),
                 id="huber-ball"),
    pytest.param(lambda b: (pyproximal.L1(sigma=0.3, g=0.5 * b),
                            pyproximal.Box(-np.ones(b.size), np.linspace(0, 1, b.size))),
                 id="l1g-boxarrays")])
def test_admm_elementwise_and_z0(proxs):
    b = _image()
    f, g = proxs(b)
    x, z = ours.ADMM(f, g, _x0_image(), tau=0.7, niter=12, z0=0.1 * b, check_every=5)
    f, g = proxs(b)
    xr, zr = pp.ADMM(f, g, np.zeros(b.size), tau=0.7, niter=12, z0=0.1 * b)
    _close(x.compute(), xr)
    _close(z.compute(), zr)


# --- LinearizedADMM and PrimalDual (TV-like: an L1 of a derivative) -----------------------------

@pytest.mark.parametrize("ops", STENCILS)
def test_linearized_admm_tv(ops):
    Op, POp = ops()
    b = _image()
    kw = dict(tau=1.0, mu=0.1, niter=30)
    x, z = ours.LinearizedADMM(pyproximal.L2(b=b), pyproximal.L1(sigma=0.3), Op, _x0_image(),
                               **kw)
    xr, zr = pp.LinearizedADMM(pyproximal.L2(b=b), pyproximal.L1(sigma=0.3), POp,
                               np.zeros(b.size), **kw)
    assert x.shape == xr.shape and z.shape == zr.shape
    _close(x.compute(), xr)
    _close(z.compute(), zr)


@pytest.mark.parametrize("gfirst", [True, False])
@pytest.mark.parametrize("ops", STENCILS)
def test_primal_dual_tv(ops, gfirst):
    Op, POp = ops()
    b = _image()
    kw = dict(tau=0.25, mu=np.linspace(0.3, 0.2, 30), niter=30, gfirst=gfirst)
    x, y = ours.PrimalDual(pyproximal.L2(b=b), pyproximal.L1(sigma=0.3), Op, _x0_image(),
                           returny=True, **kw)
    xr, yr = ppd.PrimalDual(pyproximal.L2(b=b), pyproximal.L1(sigma=0.3), POp,
                            np.zeros(b.size), returny=True, **kw)
    _close(x.compute(), xr)
    _close(y.compute(), yr)


def test_primal_dual_with_a_operator_l2_y0_and_z():
    """f = L2(A, b) on A itself (an inner CG with A), a dual start and the linear term z."""
    Op, A, b = _dense()
    rng = np.random.default_rng(3)
    z, y0 = 0.01 * rng.standard_normal(50), 0.1 * rng.standard_normal(30)
    POp = pylops.MatrixMult(A)
    POp.explicit = False
    kw = dict(tau=0.01, mu=0.01, niter=15, z=z, y0=y0)
    l2 = dict(niter=4, solver="cg", kwargs_solver=dict(tol=0.0))
    x = ours.PrimalDual(pyproximal.L2(Op=Op, b=b, **l2), pyproximal.Huber(0.5), Op, _x0(), **kw)
    xr = ppd.PrimalDual(pyproximal.L2(Op=POp, b=b, **l2), pyproximal.Huber(0.5), POp,
                        np.zeros(50), **kw)
    _close(x.compute(), xr)


# --- tolerances, checks, callbacks, show ----------------------------------------------------------

@pytest.mark.parametrize("stop", [dict(tol=1e-3), dict(rtol=0.015)])
def test_tol_and_rtol_stop_where_pyproximal_stops(stop):
    """The stop is tested lazily every iteration; the iterate freezes there and the next check
    reports it: PyProximal's iterate and iteration count, one round trip per check."""
    Op, A, b = _dense()
    kw = dict(tau=0.005, niter=200)
    rtol = stop.get("rtol")
    tol = stop.get("tol", 0.0)  # (PyProximal's wrapper: tol 0 with rtol)
    terms = [Term(pyproximal.L2(Op=Op, b=b), "f", "model", "PG"),
             Term(pyproximal.L1(sigma=0.1), "g", "model", "PG")]
    solver = ours._ProximalGradient(Op)
    before = _space.ROUND_TRIPS[0]
    x = solver.solve(terms, _x0(), b, tol=tol, rtol=rtol, check_every=10, **kw)
    trips = _space.ROUND_TRIPS[0] - before
    callbacks = ([pylops.optimization.callback.CostToInitialCallback(stop["rtol"])]
                 if "rtol" in stop else None)
    ref = cls_primal.ProximalGradient(callbacks=callbacks)
    xr = ref.solve(pyproximal.L2(Op=pylops.MatrixMult(A), b=b), pyproximal.L1(sigma=0.1),
                   np.zeros(50), tol=tol, **kw)[0]
    assert 1 < ref.iiter < 200 and solver.iiter == ref.iiter
    assert trips <= math.ceil(ref.iiter / 10) + 2
    _close(x.compute(), xr)
    _close(solver.cost[0], ref.cost[0], 1e-6)
    _close(solver.cost[-1], ref.cost[-1])


def test_round_trips_callback_and_show(capsys):
    """niter / check_every round trips (+1 at the end), a callback every iteration with the
    lazy iterate, a PyProximal-like table at the checks."""
    b = _image()
    seen = []
    before = _space.ROUND_TRIPS[0]
    x = ours.PrimalDual(pyproximal.L2(b=b), pyproximal.L1(sigma=0.3),
                        pld.Gradient(DIMS, kind="forward"), _x0_image(), tau=0.25, mu=0.25,
                        niter=40, check_every=10, show=True,
                        callback=lambda x, y: seen.append((x, y)), callbacky=True)
    trips = _space.ROUND_TRIPS[0] - before
    assert trips <= 40 // 10 + 2 and len(seen) == 40
    assert isinstance(seen[0][0], da.Array) and seen[-1][1].shape == (2 * b.size,)
    _close(seen[-1][0].compute(), x.compute())
    out = capsys.readouterr().out
    assert "PrimalDual" in out and "J=f+g+z^x" in out and "Iterations = 40" in out
    rows = [ln.split()[0] for ln in out.splitlines() if ln.strip()[:2] in ("10", "20", "30", "40")]
    assert rows == ["10", "20", "30", "40"]


@pytest.mark.parametrize("fused", [True, False])
def test_process_cluster(process_client, fused):
    """LinearizedADMM with a stencil operator on a 2-process cluster, on the fused backend
    and on plain dask.array expressions: PyProximal's result."""
    b, niter = _image(), (20 if fused else 6)
    with process_client.as_current(), dask.config.set({"pylops_distributed.fused": fused}):
        x0 = process_client.persist(_x0_image())
        x, z = ours.LinearizedADMM(pyproximal.L2(b=b), pyproximal.L1(sigma=0.3),
                                   pld.Gradient(DIMS, kind="forward"), x0, tau=1.0, mu=0.1,
                                   niter=niter, check_every=5, tol=1e-9)
        x, z = x.compute(), z.compute()
    xr, zr = pp.LinearizedADMM(pyproximal.L2(b=b), pyproximal.L1(sigma=0.3),
                               pylops.Gradient(DIMS, kind="forward"), np.zeros(b.size),
                               tau=1.0, mu=0.1, niter=niter, tol=1e-9)
    _close(x, xr)
    _close(z, zr)


# --- errors --------------------------------------------------------------------------------------

def _pg(proxg, **kw):
    Op, _, b = _dense()
    return ours.ProximalGradient(pyproximal.L2(Op=Op, b=b), proxg, kw.pop("x0", _x0()), **kw)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: _pg(pyproximal.L21(ndim=2)), NotImplementedError, "L21 is not supported.*"
                                                                "stacked.*supported: Box"),
    (lambda: _pg(pyproximal.L0()), NotImplementedError, "L0 is not supported"),
    (lambda: _pg(pyproximal.L1(sigma=lambda k: 0.1)), NotImplementedError, "sigma must be a"),
    (lambda: _pg(pyproximal.L1(), niter=-1), ValueError, "niter must be >= 0"),
    (lambda: _pg(pyproximal.L1(), x0=np.zeros(49)), ValueError, "x0: expected shape"),
    (lambda: _pg(pyproximal.L1(), acceleration="nesterov"), NotImplementedError, "Acceleration"),
    (lambda: _pg(pyproximal.L1(), tau=-1.0), ValueError, "tau must be positive"),
    (lambda: ours.ADMM(pyproximal.L1(), pyproximal.L1(), None, tau=1.0), ValueError,
     "Both x0 or z0"),
    (lambda: _pg(pyproximal.L2(Op=pld.Identity(50), b=np.ones(50))), NotImplementedError,
     "different operators"),
    (lambda: ours.PrimalDual(pyproximal.L2(Op=pylops.Identity(30), b=np.ones(30)),
                             pyproximal.L1(), pld.FirstDerivative(30), _x0(30), tau=0.1, mu=0.1),
     NotImplementedError, "operator other than A"),
    (lambda: ours.ADMM(pyproximal.L2(Op=pylops.Identity(30), b=np.ones(30), niter=lambda k: 2),
                       pyproximal.L1(), _x0(30), tau=1.0), NotImplementedError, "callable niter"),
])
def test_clear_errors_before_any_compute(call, exc, match):
    before = _space.ROUND_TRIPS[0]
    with pytest.raises(exc, match=match):
        call()
    assert _space.ROUND_TRIPS[0] == before
