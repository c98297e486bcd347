"""ISTA and FISTA (``optimization.sparsity``) against PyLops' on the same problems, checks only
every ``check_every`` iterations, and clear errors for what is not supported."""

import math

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from distributed import Client
from pylops.optimization import sparsity as psp

import pylops_distributed as pld
from pylops_distributed.optimization import _space
from pylops_distributed.optimization.sparsity import FISTA, ISTA, fista, ista, linearized_bregman

PAIRS = [pytest.param(ista, psp.ista, id="ista"), pytest.param(fista, psp.fista, id="fista")]


def _sparse_problem(dtype, seed=0):
    """A 30 x 50 Gaussian matrix and a 3-sparse model."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((30, 50))
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rng.standard_normal((30, 50))
    A = A.astype(dtype)
    xt = np.zeros(50, dtype=dtype)
    xt[[3, 17, 40]] = [1.0, -2.0, 1.5]
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, 50)), dtype=dtype)
    return Op, pylops.MatrixMult(A, dtype=dtype), A @ xt, xt


def _close(a, b, rtol):
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


@pytest.mark.parametrize("ours,theirs", PAIRS)
@pytest.mark.parametrize("kind", ["soft", "hard", "half"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_like_pylops(scheduler, ours, theirs, kind, dtype):
    """Same iterate and same cost (at our checks) as PyLops, step size from Op.eigs as PyLops."""
    Op, POp, y, _ = _sparse_problem(dtype)
    kw = dict(niter=25, eps=0.5, tol=0, threshkind=kind)
    x, it, cost = ours(Op, y, check_every=10, **kw)
    xr, itr, costr = theirs(POp, y, **kw)
    rtol = 1e-3 if dtype == "float32" else 1e-8
    assert it == itr == 25 and len(cost) == 3  # checks at 10, 20 and 25
    _close(x.compute(), xr, rtol)
    _close(cost, np.asarray(costr)[[9, 19, 24]], rtol)


@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_recovers_the_sparse_model(ours, theirs):
    Op, POp, y, _ = _sparse_problem("float64")
    with dask.config.set(scheduler="threads"):
        x = ours(Op, da.from_array(y, chunks=10), niter=400, eps=0.1, tol=0)[0].compute()
    assert np.flatnonzero(np.abs(x) > 0.5).tolist() == [3, 17, 40]
    _close(x, theirs(POp, y, niter=400, eps=0.1, tol=0)[0], 1e-8)


@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_stencil_operator_x0_decay_and_alpha(ours, theirs):
    """A chunked 2-D smoothing (halos across chunks), an initial guess, a decaying threshold
    and a given step: PyLops' iterate."""
    dims = (24, 20)
    rng = np.random.default_rng(1)
    xt = np.where(rng.random(dims) > 0.95, rng.standard_normal(dims), 0.0)
    POp = pylops.Smoothing2D((3, 3), dims)
    Op = pld.Smoothing2D((3, 3), dims)
    y = (POp @ xt.ravel()).reshape(dims)
    x0 = 0.01 * rng.standard_normal(dims)
    decay = np.linspace(1.0, 0.2, 30)
    kw = dict(niter=30, eps=0.05, tol=0, alpha=0.9, decay=decay)
    with dask.config.set(scheduler="threads"):
        x = ours(Op, da.from_array(y, chunks=(8, 20)), x0=da.from_array(x0, chunks=(8, 20)),
                 check_every=7, **kw)[0]
        assert x.shape == dims
        x = x.compute()
    xr = theirs(POp, y.ravel(), x0=x0.ravel(), **kw)[0]
    _close(x.ravel(), xr, 1e-9)


@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_tol_stops_where_pylops_stops_and_rtol_at_a_check(ours, theirs):
    Op, POp, y, _ = _sparse_problem("float64")
    for tol in (1e3, 1e-2, 1e-3):  # tol: PyLops' iteration and iterate (steps frozen after it)
        with dask.config.set(scheduler="threads"):
            x, it, cost = ours(Op, y, niter=300, eps=0.5, tol=tol, check_every=7)
        xr, itr, costr = theirs(POp, y, niter=300, eps=0.5, tol=tol)
        assert it == itr and cost[-1] == pytest.approx(costr[-1], rel=1e-9)
        _close(x.compute(), xr, 1e-9)
    # rtol: the cost below rtol times the first iteration's cost (iteration 1 is a check then)
    ref_cost = theirs(POp, y, niter=100, eps=0.5, tol=0)[2]
    rtol = 0.5 * (ref_cost[20] / ref_cost[0] + ref_cost[30] / ref_cost[0])  # met from 21 to 30
    with dask.config.set(scheduler="threads"):
        solver = (ISTA if ours is ista else FISTA)(Op)
        solver.solve(y, niter=100, eps=0.5, tol=0, rtol=rtol, check_every=10)
    assert solver.cost_iters[0] == 1 and solver.iiter == 30


@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_monitorres_raises_like_pylops(ours, theirs):
    """A step too long: the residual grows; both raise, naming the same iteration."""
    Op, POp, y, _ = _sparse_problem("float64")
    kw = dict(niter=20, eps=0.5, tol=0, alpha=1.0, monitorres=True)
    with pytest.raises(ValueError, match="residual increasing") as theirs_err:
        theirs(POp, y, **kw)
    with dask.config.set(scheduler="threads"), \
            pytest.raises(ValueError, match="residual increasing") as ours_err:
        ours(Op, y, check_every=10, **kw)
    assert str(ours_err.value).split(" due")[0].split()[-1] == \
        str(theirs_err.value).split(" due")[0].split()[-1]


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("ours,theirs", PAIRS)
def test_a_step_too_long_stops_with_an_infinite_cost(ours, theirs, dtype):
    """alpha far too large: the cost overflows; the solver stops (no error) with Inf as its last
    cost, as PyLops' CostNanInfCallback makes it."""
    Op, POp, y, _ = _sparse_problem(dtype)
    kw = dict(niter=100, eps=0.1, alpha=1e5, tol=0)
    with dask.config.set(scheduler="threads"):
        _, it, cost = ours(Op, y, **kw)
    _, itr, costr = theirs(POp, y, **kw)
    assert np.isinf(cost[-1]) and np.isinf(costr[-1])
    assert itr <= it < 100 and it - itr < 10  # stopped at the check after PyLops' iteration
    with dask.config.set(scheduler="threads"):  # checked every step: PyLops' iteration
        _, it, cost = ours(Op, y, check_every=1, **kw)
    assert it == itr and np.isinf(cost[-1]) and np.isfinite(cost[-2])
    np.testing.assert_allclose(cost[:-1], costr[:-1], rtol=1e-6)


def test_fista_round_trips_on_process_cluster(process_client, monkeypatch):
    """At most niter / check_every + 3 blocking round trips (the step size is given)."""
    niter, every = 50, 10
    Op, _, y, _ = _sparse_problem("float64")
    gathers = [0]
    orig = Client.gather

    def gather(client, *args, **kwargs):
        gathers[0] += 1
        return orig(client, *args, **kwargs)

    monkeypatch.setattr(Client, "gather", gather)
    # the checks' trips only: the copy of the state that recovery keeps adds one each
    with process_client.as_current(), dask.config.set({"pylops_distributed.recovery": False}):
        yd = process_client.persist(da.from_array(y, chunks=10))
        before = _space.ROUND_TRIPS[0]
        x, it, cost = fista(Op, yd, niter=niter, eps=0.1, alpha=0.01, tol=0, check_every=every)
        trips = _space.ROUND_TRIPS[0] - before
    assert it == niter and isinstance(x, da.Array)
    assert gathers[0] <= math.ceil(niter / every) + 3 and trips <= math.ceil(niter / every) + 1


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(threshkind="soft-percentile", perc=120), ValueError, "percentage"),
    (dict(threshkind="medium"), ValueError, "`threshkind` must be"),
    (dict(threshkind="half-percentile"), ValueError, "Provide a percentile"),
    (dict(SOp=pld.Identity(40)), ValueError, "SOp has shape"),
    (dict(eps=-1.0), ValueError, "eps must be >= 0"),
    (dict(niter=30, decay=np.ones(5)), ValueError, "decay has 5 values"),
])
def test_unsupported_and_bad_arguments(kwargs, exc, match):
    Op, _, y, _ = _sparse_problem("float64")
    with dask.config.set(scheduler="sync"), pytest.raises(exc, match=match):
        ista(Op, y, **kwargs)


# --- linearized Bregman --------------------------------------------------------------------------

def _bregman_reference(A, y, niter, thresh, alpha=None):
    """Linearized Bregman with the dynamic step, written out in NumPy."""
    def soft(z):
        a = np.abs(z)
        return np.where(a > 0, np.maximum(a - thresh, 0) / np.where(a > 0, a, 1) * z, 0)

    z = np.zeros(A.shape[1], dtype=np.result_type(A, y))
    x = soft(z)
    for _ in range(niter):
        r = A @ x - y
        g = A.conj().T @ r
        t = np.vdot(r, r).real / np.vdot(g, g).real if alpha is None else alpha
        z = z - t * g
        x = soft(z)
    return x


@pytest.mark.parametrize("alpha", [None, 0.002])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_linearized_bregman_like_numpy(scheduler, dtype, alpha):
    Op, _, y, xt = _sparse_problem(dtype)
    A = Op.A.compute() if hasattr(Op.A, "compute") else Op.A
    x, it, cost = linearized_bregman(Op, da.from_array(y, chunks=10), niter=60, thresh=0.5,
                                     alpha=alpha, tol=0, check_every=20)
    assert it == 60 and len(cost) == 3
    _close(x.compute(), _bregman_reference(A, y, 60, 0.5, alpha), 1e-8)
    if alpha is None:  # the dynamic step recovers the support
        x = linearized_bregman(Op, y, niter=300, thresh=0.5, tol=0)[0].compute()
        assert np.flatnonzero(np.abs(x) > 0.5).tolist() == [3, 17, 40]


def test_linearized_bregman_stencil_operator_and_tol():
    """A chunked 2-D smoothing: the NumPy reference's iterate; a large tol stops at the first
    check."""
    dims = (24, 20)
    rng = np.random.default_rng(2)
    xt = np.where(rng.random(dims) > 0.95, rng.standard_normal(dims), 0.0)
    POp = pylops.Smoothing2D((3, 3), dims)
    y = POp @ xt.ravel()
    with dask.config.set(scheduler="threads"):
        x, it, _ = linearized_bregman(pld.Smoothing2D((3, 3), dims),
                                      da.from_array(y.reshape(dims), chunks=(8, 20)), niter=25,
                                      thresh=0.05, tol=0, check_every=10)
        assert x.shape == dims
        _close(x.compute().ravel(), _bregman_reference(POp.todense(), y, 25, 0.05), 1e-8)
        _, it, cost = linearized_bregman(pld.Smoothing2D((3, 3), dims), y, niter=100,
                                         thresh=0.05, tol=1e6, check_every=10)
    assert it == 10 and len(cost) == 1



def test_thresholds_like_pylops_on_special_values():
    """Zeros, NaN, Inf and ordinary values, real and complex: PyLops' thresholds."""
    from pylops.optimization import cls_sparsity as ref

    from pylops_distributed.optimization import _thresholds

    real = np.array([0.0, np.nan, np.inf, -np.inf, 0.3, -2.0, 5.0, 1e-300])
    for x in (real, real + 1j * real[::-1]):
        for ours, theirs in ((_thresholds.soft, ref._softthreshold),
                             (_thresholds.hard, ref._hardthreshold),
                             (_thresholds.half, ref._halfthreshold)):
            with np.errstate(all="ignore"):
                expected = theirs(x.copy(), 0.5)
                got = ours(x, 0.5)
            np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


def test_array_step_and_pylops_callbacks():
    """alpha as a one-element array (1 / Op.eigs(...) gives one) and PyLops' cost callbacks,
    which read the cost after every step: PyLops' iterate and stop."""
    from pylops.optimization.callback import CostToInitialCallback

    Op, POp, y, _ = _sparse_problem("float64")
    alpha = 1.0 / np.abs((POp.H @ POp).eigs(neigs=1, symmetric=True))
    with dask.config.set(scheduler="threads"):
        x = ista(Op, y, niter=12, eps=0.5, alpha=alpha, tol=0)[0].compute()
        np.testing.assert_allclose(x, psp.ista(POp, y, niter=12, eps=0.5, alpha=float(alpha[0]),
                                               tol=0)[0], rtol=1e-9, atol=1e-12)
        ours = FISTA(Op, callbacks=[CostToInitialCallback(0.2)])
        ours.solve(y, niter=100, eps=0.5, tol=0)
    theirs = psp.FISTA(POp, callbacks=[CostToInitialCallback(0.2)])
    theirs.solve(y, niter=100, eps=0.5, tol=0)
    assert ours.iiter == theirs.iiter < 100
    np.testing.assert_allclose(ours.cost, theirs.cost, rtol=1e-9)


def test_manual_steps_with_pylops_signatures():
    """PyLops' loops: ``x, xupdate = ISTA.step(x)`` and ``x, z, xupdate = FISTA.step(x, z)``,
    the update norm a lazy scalar equal to PyLops' once computed."""
    Op, POp, y, _ = _sparse_problem("float64")
    kw = dict(niter=6, eps=0.5, tol=0, alpha=0.01)
    with dask.config.set(scheduler="threads"):
        for ours, theirs in [(ISTA(Op), psp.ISTA(POp)), (FISTA(Op), psp.FISTA(POp))]:
            x, xr = ours.setup(y, **kw), theirs.setup(y, **kw)
            z, zr = x, xr
            for _ in range(6):
                if isinstance(ours, FISTA):
                    x, z, upd = ours.step(x, z)
                    xr, zr, updr = theirs.step(xr, zr)
                    _close(z.compute(), zr, 1e-10)
                else:
                    x, upd = ours.step(x)
                    xr, updr = theirs.step(xr)
                assert isinstance(upd, da.Array) and upd.shape == ()
            assert abs(float(upd) - updr) <= 1e-10 * updr
            ours.finalize()
            _close(x.compute(), xr, 1e-10)


def test_spgl1_is_a_documented_absence():
    Op, _, y, _ = _sparse_problem("float64")
    with pytest.raises(NotImplementedError, match="fista or omp"):
        from pylops_distributed.optimization.sparsity import spgl1

        spgl1(Op, y, tau=1.0)
