"""OMP and MP (``optimization.omp``) against PyLops' ``omp`` on the same problems: same model,
iterations and cost, PyLops' random draw among tied maxima, one round trip per outer
iteration (plus one at setup), on threads and on a 2-process cluster; clear errors."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from distributed import Client
from pylops.optimization.cls_sparsity import OMP as PyLopsOMP
from pylops.optimization.sparsity import omp as pylops_omp

import pylops_distributed as pld
from pylops_distributed.optimization import _space
from pylops_distributed.optimization.omp import OMP, omp


def _problem(dtype="float64", seed=0, n=30, m=60):
    """An ``n x m`` Gaussian matrix (chunks of 10 rows, 2 column chunks), a 4-sparse model."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, m))
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rng.standard_normal((n, m))
    A = (A * rng.uniform(0.5, 2.0, m)).astype(dtype)  # columns of different norms
    xt = np.zeros(m, dtype=dtype)
    xt[[3, 17, 40, 52]] = [1.0, -2.0, 1.5, 0.7]
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, m // 2)), dtype=dtype)
    return Op, pylops.MatrixMult(A, dtype=dtype), A, (A @ xt).astype(dtype)


def _same(ours, ref, dtype, seed=0):
    """Run both (same random seed): same x, niter_outer and cost, same random state after."""
    np.random.seed(seed)
    x, nouter, cost = ours()
    after = np.random.random()
    np.random.seed(seed)
    xr, nref, costr = ref()
    rtol = 1e-5 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-8
    assert isinstance(x, da.Array) and x.shape == xr.shape and x.dtype == xr.dtype
    np.testing.assert_allclose(x.compute(), xr, rtol=rtol, atol=rtol * np.abs(xr).max())
    assert nouter == nref and len(cost) == len(costr)
    np.testing.assert_allclose(cost, costr, rtol=rtol, atol=rtol * costr[0])
    assert after == np.random.random()
    return x, nouter, cost


CASES = [
    pytest.param("float64", dict(), id="omp"),
    pytest.param("float64", dict(niter_inner=0, niter_outer=8), id="mp"),
    pytest.param("float64", dict(niter_inner=0, niter_outer=8, optimal_coeff=True), id="mp-opt"),
    pytest.param("float64", dict(normalizecols=True, sigma=1e-6), id="omp-norm"),
    pytest.param("float64", dict(niter_inner=0, niter_outer=8, normalizecols=True), id="mp-norm"),
    pytest.param("float64", dict(engine="pylops", niter_inner=20, tol=1e-8), id="omp-cgls"),
    pytest.param("float64", dict(niter_inner=2, niter_outer=5, atol=1e-9), id="omp-2inner"),
    pytest.param("complex128", dict(), id="omp-complex"),
    pytest.param("complex128", dict(niter_inner=0, niter_outer=6, optimal_coeff=True),
                 id="mp-opt-complex"),
    pytest.param("float32", dict(), id="omp-float32"),
    pytest.param("float32", dict(niter_inner=0, niter_outer=6), id="mp-float32"),
]


@pytest.mark.parametrize("dtype,kw", CASES)
def test_like_pylops(dtype, kw):
    Op, POp, _, y = _problem(dtype)
    yd = da.from_array(y, chunks=7)  # five chunks, not aligned with the operator's
    kw = dict(kw)
    inner = {k: kw.pop(k) for k in ("tol", "atol") if k in kw}  # PyLops' omp takes none
    with dask.config.set(scheduler="threads"):
        x, nouter, _ = _same(lambda: omp(Op, yd, **kw, **inner),
                             lambda: _pylops_with(POp, y, kw, inner), dtype)
    assert x.chunks == Op.rmatvec(yd).chunks
    if kw.get("normalizecols") and kw.get("niter_inner", 40) > 0:  # OMP finds the model
        assert np.flatnonzero(x.compute()).tolist() == [3, 17, 40, 52] and nouter == 4


def _pylops_with(POp, y, kw, inner):
    """PyLops' OMP, its inner solver given ``inner`` (through ``step``, as PyLops allows)."""
    solver = PyLopsOMP(POp)
    kw = dict(kw)
    engine = kw.pop("engine", "scipy")
    solver.setup(y, **kw)
    x, cols = [], []
    while solver.iiter < solver.niter_outer and solver.cost[solver.iiter] > solver.sigma:
        x, cols = solver.step(x, cols, engine, **inner)
    return solver.finalize(x, cols), solver.nouter, solver.cost


def test_opbasis_pylops_operator_and_nd_data():
    """Norms from ``Opbasis`` (ours or PyLops'); a PyLops ``Op``; y of shape ``dimsd``."""
    Op, POp, A, y = _problem()
    B = pylops.MatrixMult(A * 3.0)
    kw = dict(niter_outer=6, niter_inner=0, normalizecols=True)
    with dask.config.set(scheduler="threads"):
        _same(lambda: omp(Op, y, Opbasis=pld.MatrixMult(da.from_array(A * 3.0, chunks=10)), **kw),
              lambda: pylops_omp(POp, y, Opbasis=B, **kw), "float64")
        _same(lambda: omp(POp, y, Opbasis=B, **kw), lambda: pylops_omp(POp, y, Opbasis=B, **kw),
              "float64")
        Op2 = pld.MatrixMult(da.from_array(A, chunks=(10, 30)), otherdims=(1,))
        _same(lambda: omp(Op2, da.from_array(y[:, None], chunks=(10, 1)), niter_outer=5),
              lambda: pylops_omp(POp, y, niter_outer=5), "float64")


@pytest.mark.parametrize("kw", [dict(niter_inner=0, niter_outer=6), dict(niter_outer=6)],
                         ids=["mp", "omp"])
def test_ties_drawn_as_pylops(kw):
    """``[I, I, -I]`` and data with repeated magnitudes: many tied maxima at every step; the
    same column as PyLops for every seed, and the global random state left the same."""
    n = 8
    A = np.hstack([np.eye(n), np.eye(n), -np.eye(n)])
    y = np.array([3.0, -3, 2, 3, 1, -2, 3, 0])
    Op = pld.MatrixMult(da.from_array(A, chunks=(4, 8)))
    supports = set()
    with dask.config.set(scheduler="threads"):
        for seed in range(3):
            x, _, _ = _same(lambda: omp(Op, da.from_array(y, chunks=3), **kw),
                            lambda: pylops_omp(pylops.MatrixMult(A), y, **kw), "float64", seed)
            supports.add(tuple(np.flatnonzero(x.compute())))
    assert len(supports) > 1  # the draw matters


def _count_computes(monkeypatch):
    calls = [0]
    orig = dask.compute

    def counted(*args, **kwargs):
        calls[0] += 1
        return orig(*args, **kwargs)

    monkeypatch.setattr(dask, "compute", counted)
    monkeypatch.setattr(dask.base, "compute", counted)  # .compute() of collections
    return calls


@pytest.mark.parametrize("niter_inner", [0, 40], ids=["mp", "omp"])
def test_one_round_trip_per_outer_iteration(monkeypatch, niter_inner):
    Op, _, _, y = _problem()
    calls = _count_computes(monkeypatch)
    before = _space.ROUND_TRIPS[0]
    with dask.config.set(scheduler="threads"):
        x, nouter, cost = omp(Op, da.from_array(y, chunks=7), niter_outer=4,
                              niter_inner=niter_inner, sigma=0)
    assert nouter == 4 and calls[0] == _space.ROUND_TRIPS[0] - before == nouter + 1
    x.compute()  # the model itself is lazy


def test_callback_drawing_random_numbers(monkeypatch):
    """A callback that moves the global random state between steps: still PyLops' draws (the
    tied index is fetched again: one more round trip at such steps)."""
    A = np.hstack([np.eye(6), np.eye(6)])
    y = np.array([2.0, -2, 2, 1, -1, 2])
    Op = pld.MatrixMult(da.from_array(A, chunks=(3, 12)))
    seen = []

    def callback(x, cols):
        seen.append(list(cols))
        np.random.random()

    kw = dict(niter_inner=0, niter_outer=5, callback=callback)
    calls = _count_computes(monkeypatch)
    with dask.config.set(scheduler="threads"):
        _same(lambda: omp(Op, y, **kw), lambda: pylops_omp(pylops.MatrixMult(A), y, **kw),
              "float64", seed=5)
    assert seen[:5] == seen[5:] and 6 < calls[0] <= 6 + 4  # some draws fetched again


def test_stops_as_pylops():
    """``sigma``, ``rtol`` and ``rtol1`` stop at PyLops' iteration; ``niter_outer=0`` gives
    zeros (PyLops fails to index with its empty list of columns)."""
    Op, POp, _, y = _problem()
    with dask.config.set(scheduler="threads"):
        for kw in (dict(sigma=5.0), dict(rtol=0.3, sigma=0), dict(rtol1=0.5, niter_inner=0)):
            _same(lambda: omp(Op, y, **kw), lambda: pylops_omp(POp, y, **kw), "float64")
        x, nouter, cost = omp(Op, y, niter_outer=0)
    assert nouter == 0 and not x.compute().any() and cost.tolist() == [np.linalg.norm(y)]


def test_show_prints_as_pylops(capsys):
    Op, POp, _, y = _problem()
    with dask.config.set(scheduler="threads"):
        omp(Op, y, niter_outer=3, show=True)
    ours = capsys.readouterr().out
    pylops_omp(POp, y, niter_outer=3, show=True)
    ref = capsys.readouterr().out
    assert [s for s in ours.splitlines() if "time" not in s] == \
        [s for s in ref.splitlines() if "time" not in s]


def test_on_process_cluster(process_client, monkeypatch):
    """OMP and MP on a 2-process cluster: PyLops' answer, one gather per outer iteration
    plus one at setup; ties and a callback that draws random numbers (fetched again)."""
    Op, POp, _, y = _problem()
    gathers = [0]
    orig = Client.gather

    def gather(client, *args, **kwargs):
        gathers[0] += 1
        return orig(client, *args, **kwargs)

    monkeypatch.setattr(Client, "gather", gather)
    with process_client.as_current():
        Op = pld.MatrixMult(process_client.persist(Op.A))
        yd = process_client.persist(da.from_array(y, chunks=7))
        for kw in (dict(niter_outer=6), dict(niter_inner=0, niter_outer=3, optimal_coeff=True)):
            gathers[0], before = 0, _space.ROUND_TRIPS[0]
            x, nouter, cost = omp(Op, yd, **kw)
            assert gathers[0] == _space.ROUND_TRIPS[0] - before == nouter + 1
            xr, nref, costr = pylops_omp(POp, y, **kw)
            np.testing.assert_allclose(x.compute(), xr, rtol=1e-8, atol=1e-8)
            np.testing.assert_allclose(cost, costr, rtol=1e-8, atol=1e-8 * costr[0])
            assert nouter == nref
        A = np.hstack([np.eye(6), np.eye(6)])
        y = np.array([2.0, -2, 2, 1, -1, 2])
        kw = dict(niter_inner=0, niter_outer=4, callback=lambda x, cols: np.random.random())
        gathers[0] = 0
        _same(lambda: omp(pld.MatrixMult(da.from_array(A, chunks=(3, 12))), y, **kw),
              lambda: pylops_omp(pylops.MatrixMult(A), y, **kw), "float64", seed=2)
        assert 5 < gathers[0] - 1 <= 5 + 3  # (one for x.compute() in _same)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(niter_outer=-1), ValueError, "niter_outer must be an integer >= 0"),
    (dict(niter_inner=-2), ValueError, "niter_inner must be an integer >= 0"),
    (dict(niter_outer=2.5), ValueError, "niter_outer must be an integer"),
    (dict(sigma=-1e-3), ValueError, "sigma must be >= 0"),
    (dict(sigma=float("nan")), ValueError, "sigma must be >= 0"),
    (dict(engine="numpy"), ValueError, "engine must be 'scipy' or 'pylops'"),
    (dict(maxiter=3), TypeError, "takes no argument 'maxiter'"),
    (dict(engine="pylops", iter_lim=3), TypeError, "takes no argument 'iter_lim'"),
    (dict(normalizecols=True, Opbasis=pld.Identity(5)), ValueError, "Opbasis has 5 columns"),
])
def test_bad_arguments_before_any_compute(monkeypatch, kwargs, exc, match):
    Op, _, _, y = _problem()
    calls = _count_computes(monkeypatch)
    with dask.config.set(scheduler="sync"), pytest.raises(exc, match=match):
        omp(Op, y, **kwargs)
    assert calls[0] == 0


def test_wrong_y_shape_and_nan():
    Op, _, _, y = _problem()
    with pytest.raises(ValueError, match="y: expected shape"):
        omp(Op, y[:-1])
    Opn = pld.MatrixMult(da.from_array(np.full((4, 6), np.nan), chunks=2))
    with dask.config.set(scheduler="threads"), pytest.raises(FloatingPointError, match="NaN"):
        OMP(Opn).solve(np.ones(4), niter_outer=2)
