"""CG, CGLS and LSQR: same answers as PyLops, compute only at checks, a graph that does not grow."""

import math

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from distributed import Client
from pylops.optimization.basic import cg as pcg, cgls as pcgls, lsqr as plsqr
from pylops.optimization.callback import Callbacks

import pylops_distributed as pld
from pylops_distributed.optimization import CG, CGLS, LSQR, cg, cgls, lsqr
from pylops_distributed.optimization import _space

from _helpers import rand

SHAPES = {"square": (40, 40), "over": (60, 30), "under": (30, 50)}


def _matrix(kind, dtype, seed=0):
    n, m = SHAPES[kind]
    A = rand((n, m), dtype, seed=seed) + 3 * np.eye(n, m)
    return A.astype(dtype)


def _close(a, b, rtol):
    a, b = np.asarray(a).ravel(), np.asarray(b).ravel()
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


def _at_checks(cost, niter, every):
    """PyLops' per-iteration cost at our check iterations (0, every, 2*every, ..., niter)."""
    its = [0] + list(range(every, niter + 1, every))
    if its[-1] != niter:
        its.append(niter)
    return np.asarray(cost)[its]


CGLS_CASES = [(k, d, True) for k in SHAPES for d in ("float64", "complex128")] + [
    ("over", "float64", False), ("under", "complex128", False)]


@pytest.mark.parametrize("kind,dtype,fused", CGLS_CASES)
def test_cgls_like_pylops(scheduler, kind, dtype, fused):
    A = _matrix(kind, dtype)
    y = A @ rand(A.shape[1], dtype, seed=3)
    Op = pld.MatrixMult(da.from_array(A, chunks=(A.shape[0] // 3 + 1, A.shape[1])), dtype=dtype)
    with dask.config.set({"pylops_distributed.fused": fused}):
        solver = CGLS(Op)
        x, istop, iit, r1, r2, cost = solver.solve(da.from_array(y, chunks=10), niter=12, tol=0,
                                                   damp=0.1, check_every=5)
    assert solver.fused == fused
    px, pistop, piit, pr1, pr2, pcost = pcgls(pylops.MatrixMult(A, dtype=dtype), y, niter=12,
                                              tol=0, damp=0.1)
    assert isinstance(x, da.Array) and x.shape == (A.shape[1],)
    _close(x.compute(), px, 1e-9)
    assert (istop, iit) == (pistop, piit) == (2, 12)
    assert isinstance(r1, float) and isinstance(r2, float)
    np.testing.assert_allclose([r1, r2], [pr1, pr2], rtol=1e-7)
    np.testing.assert_allclose(cost, _at_checks(pcost, 12, 5), rtol=1e-9)
    assert solver.cost_iters == [0, 5, 10, 12]


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_cg_like_pylops(scheduler, dtype):
    A = _matrix("square", dtype)
    S = A.conj().T @ A
    y = S @ rand(S.shape[1], dtype, seed=4)
    Op = pld.MatrixMult(da.from_array(S, chunks=(20, 40)), dtype=dtype)
    x, iit, cost = cg(Op, y, niter=11, tol=0, check_every=4)
    px, piit, pcost = pcg(pylops.MatrixMult(S, dtype=dtype), y, niter=11, tol=0)
    _close(x.compute(), px, 1e-9)
    assert iit == piit == 11
    np.testing.assert_allclose(cost, _at_checks(pcost, 11, 4), rtol=1e-8)


@pytest.mark.parametrize("kind,dtype", [(k, "float64") for k in SHAPES] + [("over", "complex128")])
def test_lsqr_like_pylops(scheduler, kind, dtype):
    A = _matrix(kind, dtype, seed=1)
    y = A @ rand(A.shape[1], dtype, seed=5)
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, A.shape[1])), dtype=dtype)
    out = lsqr(Op, y, niter=9, damp=0.05, atol=0, btol=0, check_every=4)
    ref = plsqr(pylops.MatrixMult(A, dtype=dtype), y, niter=9, damp=0.05, atol=0, btol=0)
    _close(out[0].compute(), ref[0], 1e-9)
    assert out[1:3] == (ref[1], ref[2])
    np.testing.assert_allclose(out[3:9], [float(v) for v in ref[3:9]], rtol=1e-8)
    if dtype == "float64":  # PyLops' var is complex for complex problems; ours is |dk|^2
        _close(out[9].compute(), ref[9], 1e-8)
    np.testing.assert_allclose(out[10], _at_checks(ref[10], 9, 4), rtol=1e-8)


def _local_cases():
    n0, n1 = 24, 18
    d = rand((n0, n1), "float64", seed=7) + 3
    conv = pylops.signalprocessing.Convolve1D
    return {
        "laplacian": (pld.Laplacian((n0, n1), weights=(1, 2)),
                      pylops.Laplacian((n0, n1), weights=(1, 2))),
        "diag+laplacian": (pld.Diagonal(d) + 0.5 * pld.Laplacian((n0, n1)),
                           pylops.Diagonal(d.ravel()) + 0.5 * pylops.Laplacian((n0, n1))),
        "diag@laplacian": (pld.Diagonal(d) @ pld.Laplacian((n0, n1), edge=True),
                           pylops.Diagonal(d.ravel()) @ pylops.Laplacian((n0, n1), edge=True)),
        "frompylops": (pld.FromPyLops(conv(n1, h=np.ones(3) / 3, offset=1), dims=(n0, n1), axes=1),
                       conv((n0, n1), h=np.ones(3) / 3, offset=1, axis=1)),
    }


@pytest.mark.parametrize("case", list(_local_cases()))
def test_cgls_local_operators_like_pylops(scheduler, case):
    Op, POp = _local_cases()[case]
    xt = rand(Op.dims, "float64", seed=8)
    y = (POp @ xt.ravel()).reshape(Op.dimsd)
    solver = CGLS(Op)
    x, istop, iit, r1, r2, cost = solver.solve(da.from_array(y, chunks=(6, Op.dimsd[1])),
                                               niter=10, tol=0, damp=0.1, check_every=3)
    assert solver.fused
    px, _, _, _, _, pcost = pcgls(POp, y.ravel(), niter=10, tol=0, damp=0.1)
    assert x.shape == Op.dims and x.chunks[0] == (6, 6, 6, 6)
    _close(x.compute(), px, 1e-7)
    np.testing.assert_allclose(cost, _at_checks(pcost, 10, 3), rtol=1e-7)


def test_flat_y_gives_flat_x(scheduler):
    Op, POp = _local_cases()["laplacian"]
    y = POp @ rand(POp.shape[1], "float64")
    x = cgls(Op, y, niter=5, tol=0)[0]
    assert x.shape == (POp.shape[1],)
    _close(x.compute(), pcgls(POp, y, niter=5, tol=0)[0], 1e-9)


def test_stacked_problem_like_pylops(scheduler):
    """VStack problems: StackedArray data, fused like any other."""
    A = _matrix("over", "float64")
    D2 = pylops.SecondDerivative(A.shape[1])
    Op = pld.VStack([pld.MatrixMult(da.from_array(A, chunks=(20, 30))), 0.5 * pld.FromPyLops(D2)])
    POp = pylops.VStack([pylops.MatrixMult(A), 0.5 * D2])
    y = POp @ rand(A.shape[1], "float64")
    y_st = pld.StackedArray([da.from_array(y[:60], chunks=20), da.from_array(y[60:], chunks=30)])
    for S, pfn, kw in ((CGLS, pcgls, dict(tol=0)), (LSQR, plsqr, dict(atol=0, btol=0))):
        solver = S(Op)
        x = solver.solve(y_st, niter=8, **kw)[0]
        assert solver.fused
        _close(np.asarray(x.compute()), pfn(POp, y, niter=8, **kw)[0], 1e-9)


def test_x0(scheduler):
    A = _matrix("over", "float64")
    y = A @ rand(A.shape[1], "float64", seed=2)
    x0 = rand(A.shape[1], "float64", seed=9)
    Op = pld.MatrixMult(da.from_array(A, chunks=(20, 30)))
    for fn, pfn, kw in ((cgls, pcgls, dict(tol=0)), (lsqr, plsqr, dict(atol=0, btol=0))):
        x = fn(Op, y, x0=x0, niter=6, **kw)[0]
        _close(x.compute(), pfn(pylops.MatrixMult(A), y, x0=x0, niter=6, **kw)[0], 1e-9)
    Op, POp = _local_cases()["laplacian"]
    y = POp @ rand(POp.shape[1], "float64")
    x0 = rand(Op.dims, "float64", seed=3)
    x = cgls(Op, y.reshape(Op.dims), x0=x0, niter=6, tol=0)[0]
    _close(x.compute(), pcgls(POp, y, x0=x0.ravel(), niter=6, tol=0)[0], 1e-9)


# --- compute only at checks ---------------------------------------------------------------

class _CountGathers:
    """Counts the client's blocking gathers (Client.gather, which Client.get/compute use)."""

    def __init__(self, monkeypatch):
        self.n = 0
        orig = Client.gather

        def gather(client, *args, **kwargs):
            self.n += 1
            return orig(client, *args, **kwargs)

        monkeypatch.setattr(Client, "gather", gather)


@pytest.mark.parametrize("which", ["cgls-matrix", "cgls-laplacian", "cgls-generic", "cg", "lsqr"])
def test_round_trips_on_process_cluster(process_client, monkeypatch, which):
    niter, every = 50, 10
    A = _matrix("over", "float64")
    Op = pld.MatrixMult(process_client.persist(da.from_array(A, chunks=(20, 30))))
    y = da.from_array(A @ rand(30, "float64"), chunks=20)
    if which == "cgls-laplacian":
        Op, POp = _local_cases()["laplacian"]
        y = da.from_array((POp @ rand(POp.shape[1], "float64")).reshape(Op.dims), chunks=(6, 18))
    # the checks' trips only: the copy of the state that recovery keeps adds one each
    with process_client.as_current(), dask.config.set({"pylops_distributed.recovery": False}):
        y = process_client.persist(y)
        counter = _CountGathers(monkeypatch)
        before = _space.ROUND_TRIPS[0]
        if which.startswith("cgls"):
            with dask.config.set({"pylops_distributed.fused": which != "cgls-generic"}):
                out = cgls(Op, y, niter=niter, tol=0, check_every=every)
        elif which == "cg":
            S = A.T @ A
            out = cg(pld.MatrixMult(da.from_array(S, chunks=(15, 30))), S @ np.ones(30),
                     niter=niter, tol=0, check_every=every)
        else:
            out = lsqr(Op, y, niter=niter, atol=0, btol=0, conlim=0, check_every=every)
        gathers = counter.n
        trips = _space.ROUND_TRIPS[0] - before
    assert gathers <= math.ceil(niter / every) + 1, gathers
    assert trips <= math.ceil(niter / every) + 1
    assert isinstance(out[0], da.Array)
    assert len(out[-1]) == niter // every + 1 or (which == "lsqr" and out[1] != 0)


@pytest.mark.parametrize("fused", [True, False])
def test_model_graph_does_not_grow(scheduler, fused):
    """The model a callback sees is a few tasks per chunk, whatever the iteration."""
    Op, POp = _local_cases()["diag+laplacian"]
    y = da.from_array(rand(Op.dimsd, "float64"), chunks=(6, 18))
    sizes = []

    class Record(Callbacks):
        def on_step_end(self, solver, x):
            sizes.append(len(dict(x.__dask_graph__())))

    with dask.config.set({"pylops_distributed.fused": fused}):
        CGLS(Op, callbacks=[Record()]).solve(y, niter=12, tol=0, check_every=4)
    assert len(sizes) == 12 and len(set(sizes[1:])) == 1 and sizes[-1] <= 4 * 4


# --- tolerance, errors, table, callbacks ---------------------------------------------------

def test_tol_stops_where_pylops_stops(scheduler):
    """CG and CGLS stop at PyLops' iteration (tested in the step, read at the next check),
    with PyLops' iterate; also when the initial guess already meets ``tol`` (no step)."""
    A = _matrix("over", "float64")
    Op = pld.MatrixMult(da.from_array(A, chunks=(20, 30)))
    y = A @ np.ones(30)
    x, istop, iit, r1, r2, cost = cgls(Op, y, niter=100, tol=1e-8, check_every=7)
    xr, pistop, piit, pr1 = pcgls(pylops.MatrixMult(A), y, niter=100, tol=1e-8)[:4]
    assert istop == pistop == 1 and iit == piit < 100 and iit % 7 != 0 and r1 <= 1e-8
    np.testing.assert_allclose(x.compute(), xr, rtol=1e-7)
    assert cgls(Op, y, x0=np.ones(30) + 1e-9, niter=10, tol=1e-8, check_every=5)[2] == 0
    N = A.T @ A
    x, iit, cost = cg(pld.MatrixMult(N), A.T @ y, niter=100, tol=1e-10, check_every=4)
    xr, piit = pcg(pylops.MatrixMult(N), A.T @ y, niter=100, tol=1e-10)[:2]
    assert iit == piit < 100 and cost[-1] ** 2 <= 1e-10
    np.testing.assert_allclose(x.compute(), xr, rtol=1e-7)
    assert cg(pld.MatrixMult(N), np.zeros(30), niter=10, check_every=4)[1] == 0
    out = lsqr(Op, y, niter=100, check_every=5)
    assert out[1] in (1, 2) and out[2] % 5 == 0 and out[2] < 100


@pytest.mark.parametrize("fn", [cg, cgls, lsqr])
def test_nan_in_data_raises_at_first_check(scheduler, fn):
    A = _matrix("square", "float64")
    y = A @ np.ones(40)
    y[3] = np.nan
    with pytest.raises(FloatingPointError, match="data y contains NaN or Inf"):
        fn(pld.MatrixMult(da.from_array(A, chunks=(20, 40))), y, niter=20, check_every=5)


@pytest.mark.parametrize("fused", [True, False])
def test_nan_appearing_in_iterate_raises(scheduler, fused):
    d = np.ones((24, 18))
    d[5, 5] = np.inf
    Op = pld.Diagonal(d) + pld.Laplacian((24, 18))
    y = da.from_array(rand((24, 18), "float64"), chunks=(6, 18))
    with dask.config.set({"pylops_distributed.fused": fused}):
        with pytest.raises(FloatingPointError, match=r"became (nan|inf) between iterations 0 and 5"):
            cgls(Op, y, niter=20, check_every=5)


@pytest.mark.parametrize("fn,kwargs", [
    (cg, dict(niter=-3)), (cg, dict(tol=-1.0)), (cgls, dict(niter=-3)), (cgls, dict(damp=-1.0)),
    (cgls, dict(tol=-1e-3)), (lsqr, dict(niter=-1)), (lsqr, dict(damp=-0.5)),
    (lsqr, dict(atol=-1.0)), (lsqr, dict(niter=float("nan"))),
])
def test_negative_parameters_raise_before_any_compute(fn, kwargs):
    A = _matrix("square", "float64")
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, 40)))
    name = next(iter(kwargs))
    with dask.config.set(scheduler="sync"), pytest.raises(ValueError, match=f"{name} must be >= 0"):
        fn(Op, np.ones(40), **kwargs)


def test_object_dtype_data_is_a_clear_error():
    Op = pld.MatrixMult(np.eye(3))
    with pytest.raises(TypeError, match="dtype object is not numeric"):
        cgls(Op, np.array([1, "a", 2], dtype=object))


def test_bad_check_every():
    with pytest.raises(ValueError, match="check_every must be an integer >= 1"):
        cgls(pld.MatrixMult(np.eye(3)), np.ones(3), check_every=0)


def test_show_prints_table_at_checks(scheduler, capsys):
    A = _matrix("over", "float64")
    Op = pld.MatrixMult(da.from_array(A, chunks=(20, 30)))
    cgls(Op, A @ np.ones(30), niter=7, tol=0, show=True, check_every=3)
    out = capsys.readouterr().out
    assert "CGLS" in out and "r1norm" in out and "Iterations = 7" in out
    rows = [ln.split()[0] for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    assert rows[-3:] == ["3", "6", "7"]
    lsqr(Op, A @ np.ones(30), niter=4, show=True, check_every=2)
    assert "LSQR finished" in capsys.readouterr().out
    cg(pld.MatrixMult(A.T @ A), A.T @ A @ np.ones(30), niter=4, tol=0, show=True, check_every=2)
    assert "r2norm" in capsys.readouterr().out


def test_callbacks_every_step_and_stop(scheduler):
    A = _matrix("over", "float64")
    Op = pld.MatrixMult(da.from_array(A, chunks=(20, 30)))

    class Count(Callbacks):
        def __init__(self):
            self.steps, self.setup, self.stop = 0, 0, False

        def on_setup_end(self, solver, x):
            self.setup += 1

        def on_step_end(self, solver, x):
            assert isinstance(x, da.Array)
            self.steps += 1
            self.stop = self.steps == 6

    cb = Count()
    out = CGLS(Op, callbacks=[cb]).solve(A @ np.ones(30), niter=20, tol=0, check_every=4)
    assert cb.setup == 1 and cb.steps == 6 and out[2] == 6 and out[1] == 3
    seen = []
    cgls(Op, A @ np.ones(30), niter=3, tol=0, callback=lambda x: seen.append(x))
    assert len(seen) == 3


@pytest.mark.parametrize("S", [CG, CGLS, LSQR])
def test_step_by_step_every_solver(scheduler, S):
    """Manual steps (no run): the model after k steps is PyLops' after k iterations."""
    A = _matrix("square", "float64")
    A = A.T @ A
    y = A @ np.ones(40)
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, 40)))
    kw = dict(tol=0) if S is not LSQR else dict(atol=0, btol=0)
    s = S(Op)
    x = s.setup(y, niter=10, check_every=2, **kw)
    for _ in range(3):
        x = s.step(x)
    s.finalize()
    ref = {CG: pcg, CGLS: pcgls, LSQR: plsqr}[S](pylops.MatrixMult(A), y, niter=3, **kw)[0]
    _close(x.compute(), ref, 1e-9)


@pytest.mark.parametrize("S", [CGLS, LSQR])
def test_parameters_changed_between_steps_are_read(scheduler, S):
    """A parameter changed between manual steps applies to the next step, as in PyLops
    (compiled steps are reused only for the same parameters)."""
    A = _matrix("over", "float64")
    y = A @ np.ones(30)
    kw = dict(tol=0) if S is CGLS else dict(atol=0, btol=0)
    ours, ref = S(pld.MatrixMult(da.from_array(A, chunks=(20, 30)))), getattr(
        pylops.optimization.basic, S.__name__)(pylops.MatrixMult(A))
    x = ours.setup(y, niter=12, check_every=3, **kw)
    xr = ref.setup(y, niter=12, **kw)
    for k in range(12):
        if k == 4:
            ours.damp = ref.damp = 2.0
        if k == 8:
            ours.damp = ref.damp = 0.0
        x, xr = ours.step(x), ref.step(xr)
    _close(x.compute(), xr, 1e-9)


def test_step_by_step(scheduler):
    """PyLops' manual loop: setup, step, finalize (which checks the last step)."""
    A = _matrix("over", "float64")
    y = A @ np.ones(30)
    s = CGLS(pld.MatrixMult(da.from_array(A, chunks=(20, 30))))
    x = s.setup(y, niter=10, tol=0, check_every=2)
    for _ in range(3):
        x = s.step(x)
    s.finalize()
    assert s.cost_iters == [0, 2, 3] and isinstance(s.r1norm, float)
    _close(x.compute(), pcgls(pylops.MatrixMult(A), y, niter=3, tol=0)[0], 1e-10)


def test_div_uses_cgls(scheduler):
    A = _matrix("over", "float64")
    Op = pld.MatrixMult(da.from_array(A, chunks=(20, 30)))
    y = A @ np.ones(30)
    for x in (Op / y, Op.div(y)):  # tol=1e-4 met at a check, a few iterations after PyLops
        assert isinstance(x, da.Array)
        _close(x.compute(), np.ones(30), 1e-3)
    x = Op.div(y, niter=5, tol=0)
    _close(x.compute(), pcgls(pylops.MatrixMult(A), y, niter=5, tol=0)[0], 1e-9)


def test_float32_stays_float32(scheduler):
    Op, POp = _local_cases()["laplacian"]
    Op = pld.Laplacian(Op.dims, dtype="float32")
    y = da.from_array(rand(Op.dims, "float32"), chunks=(6, 18))
    x = cgls(Op, y, niter=5, tol=0)[0]
    assert x.dtype == np.float32 and x.compute().dtype == np.float32
    A = _matrix("over", "float32")
    x = cgls(pld.MatrixMult(A, dtype="float32"), (A @ np.ones(30, "float32")), niter=5)[0]
    assert x.dtype == np.float32 and x.compute().dtype == np.float32
