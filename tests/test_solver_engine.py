"""The fused engine seen from outside: tasks per chunk per iteration, placement, keys, logs.

Everything here runs on the session's real 2-process cluster and counts what the scheduler
ran (the task stream), not what the engine says it did.
"""

import collections
import logging
import time

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from distributed import get_task_stream, wait
from pylops.optimization.basic import cgls as pcgls, lsqr as plsqr

import pylops_distributed as pld
from pylops_distributed.optimization import CG, CGLS, LSQR, cgls, lsqr

from _helpers import rand

N0, N1, CH = 64, 40, 16  # 4 chunks along axis 0


def _operators(client):
    d = client.persist(da.from_array(rand((N0, N1), "float64", seed=1) + 2, chunks=(CH, N1)))
    A = client.persist(da.from_array(rand((4 * CH, 20), "float64", seed=2), chunks=(CH, 20)))
    iava = np.arange(0, N1, 3)
    dims = (N0, N1)
    return {
        "laplacian": pld.Laplacian(dims),
        "gradient": pld.Gradient(dims),
        "restriction@smoothing1d": pld.Restriction(dims, iava, axis=1) @ pld.Smoothing1D(5, dims, axis=0),
        "diagonal-dask": pld.Diagonal(d),
        "firstderivative.T": pld.FirstDerivative(dims, axis=0).T,
        "smoothing2d+diagonal": pld.Smoothing2D((3, 3), dims) + pld.Diagonal(d),
        "pad": pld.Pad(dims, ((2, 2), (1, 1))),
        "vstack": pld.VStack([pld.Laplacian(dims), 0.1 * pld.Identity(dims)]),
        "matrixmult-rows": pld.MatrixMult(A),
    }


def _idle(client):
    """Wait until no worker runs or holds a task to run (a window of the task stream then
    counts one solve's tasks, not the tail of the one before)."""
    for _ in range(500):
        if not any(client.processing().values()):
            return
        time.sleep(0.01)


def _count(client, solve):
    _idle(client)
    with get_task_stream(client) as ts:
        out = solve()
        client.compute(out, sync=True)  # every result (LSQR's var too), not left to run later
        _idle(client)
    return len(ts.data), collections.Counter(_kind(t["key"]) for t in ts.data)


def _kind(key):
    name = key[0] if isinstance(key, tuple) else str(key)
    return "-".join(p for p in name.split("-") if not all(c in "0123456789abcdef" for c in p))


@pytest.mark.parametrize("name", ["laplacian", "gradient", "restriction@smoothing1d",
                                  "diagonal-dask", "firstderivative.T", "smoothing2d+diagonal",
                                  "pad", "vstack", "matrixmult-rows"])
def test_at_most_4_tasks_per_chunk_per_iteration(process_client, name):
    """niter 30 minus niter 10, checks every 10 included: <= 4 tasks per chunk and iteration
    for CG, CGLS and LSQR."""
    Op = _operators(process_client)[name]
    x = da.from_array(rand(Op.dims, "float64", seed=3), chunks=(CH,) + tuple(Op.dims[1:]))
    with process_client.as_current():
        y = Op @ x
        y = pld.StackedArray([process_client.persist(b) for b in y.blocks]) \
            if isinstance(y, pld.StackedArray) else process_client.persist(y)
        N = Op.H @ Op
        yn = process_client.persist(N @ x)
        wait([y, yn] if not isinstance(y, pld.StackedArray) else list(y.blocks) + [yn])
        solves = {
            "cgls": lambda n: cgls(Op, y, niter=n, tol=0)[0],
            "lsqr": lambda n: [v for v in lsqr(Op, y, niter=n, atol=0, btol=0, conlim=0)[::9]],
            "cg": lambda n: CG(N).solve(yn, niter=n, tol=0)[0],
        }
        for which, solve in solves.items():
            if which == "cg" and isinstance(yn, pld.StackedArray):
                continue
            (n30, k30), (n10, k10) = (_count(process_client, lambda: solve(30)),
                                      _count(process_client, lambda: solve(10)))
            per = (n30 - n10) / 20 / 4
            assert per <= 4.0, (name, which, per, k30 - k10, k10 - k30)


def test_no_key_is_reused_for_other_work(process_client):
    """Two solves at once on the same data, operator applies repeated: the scheduler never
    sees one key with two different tasks ('Detected different run_spec', watched by
    conftest for every test on the process cluster)."""
    Op = pld.Laplacian((N0, N1)) + 0.5 * pld.Identity((N0, N1))
    x = da.from_array(rand((N0, N1), "float64", seed=4), chunks=(CH, N1))
    with process_client.as_current():
        y = process_client.persist(Op @ x)
        assert (Op @ y).name == (Op @ y).name  # equal inputs, equal keys
        a, b = CGLS(Op), CGLS(Op)
        xa, xb = a.setup(y, niter=6, tol=0), b.setup(y, niter=6, tol=0)
        for _ in range(6):
            xa, xb = a.step(xa), b.step(xb)
        lsqr(Op, y, niter=12, check_every=4)
        CG(Op).solve(y, niter=12, check_every=4)
        ra, rb = process_client.compute([xa, xb], sync=True)
    np.testing.assert_array_equal(ra, rb)
    # conftest's process_client_checked fails the test on any "different run_spec" log line


@pytest.mark.parametrize("Solver, ref", [(CGLS, pcgls), (LSQR, plsqr)])
def test_iterates_right_when_the_model_lives_on_one_worker(process_client, Solver, ref):
    """A tall matrix in row chunks, a small model held by one rank: every iterate a callback
    keeps equals PyLops' after as many iterations (results asked for mid-solve finish the
    last step on the model's rank only, the other ranks later)."""
    A = rand((4 * CH, 20), "float64", seed=6)
    Ad = process_client.persist(da.from_array(A, chunks=(CH, 20)))
    y = A @ rand(20, "float64", seed=7)
    with process_client.as_current():
        yd = process_client.persist(da.from_array(y, chunks=CH))
        iterates = []
        solver = Solver(pld.MatrixMult(Ad))
        solver.callback = iterates.append
        solver.solve(yd, niter=7, **({"tol": 0} if Solver is CGLS else {}), check_every=3)
        assert solver.fused
        got = process_client.compute(iterates, sync=True)
    for k, xk in enumerate(got, start=1):
        np.testing.assert_allclose(xk, ref(pylops.MatrixMult(A), y, niter=k, **(
            {"tol": 0} if Solver is CGLS else {}))[0], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("pattern", [(1, 1, 0, 0), (0, 0, 1, 1), (1, 0, 1, 0)])
def test_tasks_run_where_their_chunks_live(process_client, pattern):
    """One rank per worker, a run of neighbouring chunks each, on the worker that holds most
    of them, whatever the order of the workers' addresses; the same answer as PyLops."""
    workers = sorted(process_client.scheduler_info(n_workers=-1)["workers"])
    owner = [workers[i] for i in pattern]
    rows = [rand((CH, N1), "float64", seed=10 + i) for i in range(4)]
    futures = [process_client.scatter(r, workers=[w], hash=False) for r, w in zip(rows, owner)]
    y = da.concatenate([da.from_delayed(f, shape=(CH, N1), dtype=float) for f in futures])
    y = process_client.persist(y)
    with process_client.as_current(), get_task_stream(process_client) as ts:
        x = cgls(pld.Laplacian((N0, N1)), y, niter=12, tol=0)[0]
        xs = process_client.compute(x).result()
    np.testing.assert_allclose(
        xs.ravel(), np.ravel(pcgls(pylops.Laplacian((N0, N1)), np.concatenate(rows).ravel(),
                                   niter=12, tol=0)[0]), rtol=1e-9)
    stages = [t for t in ts.data if "-stage" in str(t["key"])]
    assert len(stages) >= 12 * 2 * 2
    where = {}
    for t in stages:
        key = t["key"] if isinstance(t["key"], tuple) else eval(t["key"])  # noqa: S307
        where.setdefault(key[-1], set()).add(t["worker"])
    assert sorted(where) == [0, 1] and all(len(w) == 1 for w in where.values())
    assert where[0] != where[1]
    if pattern[0] == pattern[1]:  # runs of the data: nothing moves
        assert where[0] == {owner[0]} and where[1] == {owner[2]}


def test_chunks_all_on_one_worker_are_spread(process_client):
    """All of y's chunks on one worker, the other idle: the iterations use both (half the
    chunks move once), with PyLops' answer."""
    workers = sorted(process_client.scheduler_info(n_workers=-1)["workers"])
    rows = [rand((CH, N1), "float64", seed=20 + i) for i in range(4)]
    futures = [process_client.scatter(r, workers=[workers[0]], hash=False) for r in rows]
    y = process_client.persist(da.concatenate([da.from_delayed(f, shape=(CH, N1), dtype=float)
                                               for f in futures]))
    with process_client.as_current(), get_task_stream(process_client) as ts:
        x = lsqr(pld.Laplacian((N0, N1)), y, niter=12, atol=0, btol=0, conlim=0)[0]
        xs = process_client.compute(x).result()
    ref = plsqr(pylops.Laplacian((N0, N1)), np.concatenate(rows).ravel(), niter=12, atol=0,
                btol=0, conlim=0)[0]
    np.testing.assert_allclose(xs.ravel(), np.ravel(ref), rtol=1e-9)
    stages = [t for t in ts.data if "-stage" in str(t["key"])]
    assert {t["worker"] for t in stages} == set(workers)


def test_one_chunk_runs_the_iterations_between_checks_as_one_task(process_client):
    """A model in one chunk (one GPU, say) exchanges nothing: the iterations between two
    checks are one task, with the same answer as PyLops."""
    Op, POp = pld.Laplacian((N0, N1)), pylops.Laplacian((N0, N1))
    yv = POp @ rand(N0 * N1, "float64", seed=5)
    with process_client.as_current():
        y = process_client.persist(da.from_array(yv.reshape(N0, N1), chunks=(N0, N1)))
        wait(y)
        tasks = [_count(process_client, lambda: cgls(Op, y, niter=n, tol=0, check_every=10)[0])[0]
                 for n in (10, 30)]
        x = cgls(Op, y, niter=23, tol=0, damp=0.2, check_every=10)[0]
        assert tasks[1] - tasks[0] <= 2 * 3  # per 10 iterations: the stages' task, the check's
        xs = process_client.compute(x).result()
    np.testing.assert_allclose(xs.ravel(), np.ravel(pcgls(POp, yv, niter=23, tol=0, damp=0.2)[0]),
                               rtol=1e-9)


def test_an_operator_without_kernel_is_named_in_the_log(caplog):
    """FunctionOperator has no chunk kernel: the solver says so and solves with dask.array."""
    A = rand((42, 20), "float64", seed=6)
    Op = pld.FunctionOperator(A.__matmul__, A.T.__matmul__, 42, 20, name="F")
    POp = pylops.MatrixMult(A)
    y = POp @ rand(20, "float64", seed=8)
    with dask.config.set(scheduler="threads"), caplog.at_level(logging.WARNING,
                                                               "pylops_distributed.optimization"):
        solver = LSQR(Op)
        x = solver.solve(y, niter=6, atol=0, btol=0)[0]
    assert not solver.fused
    assert any("LSQR runs on plain dask.array" in r.message and "FunctionOperator" in r.message
               for r in caplog.records)
    np.testing.assert_allclose(x.compute(), plsqr(POp, y, niter=6, atol=0, btol=0)[0], rtol=1e-9)


def test_the_plain_backend_when_asked(caplog):
    Op = pld.Laplacian((N0, N1))
    y = da.from_array(rand((N0, N1), "float64", seed=9), chunks=(CH, N1))
    with dask.config.set({"pylops_distributed.fused": False, "scheduler": "threads"}), \
            caplog.at_level(logging.INFO, "pylops_distributed.optimization"):
        solver = CGLS(Op)
        solver.solve(y, niter=3)
    assert not solver.fused
    assert any("pylops_distributed.fused is off" in r.message for r in caplog.records)


def test_a_client_set_as_dask_scheduler_runs_fused(process_client):
    """``dask.config.set(scheduler=client)`` (as dask's docs show) drives the fused engine on
    that cluster, with PyLops' answer."""
    Op = pld.Laplacian((40, 30))
    POp = pylops.Laplacian((40, 30))
    y = (POp @ rand((40, 30), "float64", 3).ravel()).reshape(40, 30)
    for sched in (process_client, process_client.get):
        with dask.config.set(scheduler=sched):
            solver = CGLS(Op)
            x = solver.solve(da.from_array(y, chunks=(20, 30)), niter=15, tol=0)[0]
            assert solver.fused
            x = x.compute()
        ref = pcgls(POp, y.ravel(), niter=15, tol=0)[0]
        np.testing.assert_allclose(x.ravel(), ref.ravel(), rtol=1e-9, atol=1e-9 * np.abs(ref).max())
