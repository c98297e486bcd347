"""A worker process killed mid-solve: every solver gives the answer of an undisturbed run
(it goes back to the copy of its state kept at a check, on two workers); never a hang, never
another answer."""

import os
import signal
import threading
import time
from concurrent.futures import CancelledError

import dask
import dask.array as da
import numpy as np
import pyproximal
import pytest
from distributed import Client, LocalCluster

import pylops_distributed as pld
from pylops_distributed.optimization import cg, cgls, lsqr
from pylops_distributed.optimization.cgls import CGLS
from pylops_distributed.optimization.proximal import ProximalGradient
from pylops_distributed.optimization.sparsity import fista, ista, linearized_bregman

DIMS = (400, 200)


def _three_workers():
    """Three worker processes (their nannies restart a killed one), closed even on failure."""
    cluster = LocalCluster(n_workers=3, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0")
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


fault_client = pytest.fixture(scope="module")(_three_workers)
fresh_client = pytest.fixture(scope="function")(_three_workers)


def _deblur():
    rng = np.random.default_rng(0)
    x = da.from_array(rng.random(DIMS), chunks=(100, 200))
    B = pld.Smoothing2D((9, 9), dims=DIMS)
    y = B @ x
    return pld.VStack([B, 0.02 * pld.Laplacian(DIMS)]), pld.StackedArray([y, da.zeros_like(y)])


def _spd():
    B = pld.Smoothing2D((9, 9), dims=DIMS)
    return B.H @ B + 0.01 * pld.Identity(DIMS), da.ones(DIMS, chunks=(100, 200))


def _sparse():
    B = pld.Smoothing2D((5, 5), dims=DIMS)
    x = np.zeros(DIMS)
    x[::17, ::13] = 1.0
    return B, B @ da.from_array(x, chunks=(100, 200))


SOLVERS = {
    "cgls": lambda cb=None: cgls(*_deblur(), niter=60, tol=0, callback=cb)[0],
    "lsqr": lambda cb=None: lsqr(*_deblur(), niter=60, callback=cb)[0],
    "cg": lambda cb=None: cg(*_spd(), niter=60, tol=0, callback=cb)[0],
    "ista": lambda cb=None: ista(*_sparse(), niter=60, eps=1e-3, alpha=0.9, tol=0,
                                 callback=cb)[0],
    "fista": lambda cb=None: fista(*_sparse(), niter=60, eps=1e-3, alpha=0.9, tol=0,
                                   callback=cb)[0],
    "linearized_bregman": lambda cb=None: linearized_bregman(
        *_sparse(), niter=60, thresh=0.05, alpha=0.9, tol=0, callback=cb)[0],
    "ProximalGradient": lambda cb=None: ProximalGradient(
        pyproximal.L2(Op=_sparse()[0], b=_sparse()[1]), pyproximal.L1(sigma=1e-3),
        x0=da.zeros(DIMS, chunks=(100, 200)), tau=0.9, niter=60, acceleration="fista",
        callback=cb),
}


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_worker_killed_mid_solve(name, fault_client):
    solve = SOLVERS[name]
    with dask.config.set(scheduler="threads"):
        ref = np.asarray(solve().compute())
    client = fault_client
    client.wait_for_workers(2, timeout=60)  # (the nanny may still be restarting one)
    with client.as_current():
        solve().compute()  # warm-up: the workers import and compile
        t0 = time.perf_counter()
        undisturbed = np.asarray(solve().compute())
        t_undisturbed = time.perf_counter() - t0
        pids = list(client.run(os.getpid).values())
        killed, calls = [], [0]

        def kill_at_35(*args):  # the solver's callback: a worker dies after iteration 35
            calls[0] += 1
            if calls[0] == 35:
                os.kill(pids[1], signal.SIGKILL)
                killed.append(time.perf_counter())

        result, error = [], []

        def run():
            try:
                with client.as_current():
                    result.append(np.asarray(solve(kill_at_35).compute()))
            except BaseException as err:  # checked below
                error.append(err)

        worker = threading.Thread(target=run, daemon=True)
        t0 = time.perf_counter()
        worker.start()
        worker.join(timeout=max(120.0, 10 * t_undisturbed))
        elapsed = time.perf_counter() - t0
    assert not worker.is_alive(), f"{name}: no answer {elapsed:.0f} s after a worker was killed"
    assert killed, "the worker was not killed"
    scale = np.abs(ref).max()
    np.testing.assert_allclose(undisturbed, ref, rtol=1e-10, atol=1e-10 * scale)
    assert not error, f"{name}: not recovered: {error[0]!r}"
    np.testing.assert_allclose(result[0], ref, rtol=1e-10, atol=1e-10 * scale)
    print(f"{name}: undisturbed {t_undisturbed:.2f} s, worker killed {elapsed:.2f} s")


def test_worker_killed_twice(fresh_client):
    """Two workers killed one after the other, each time the one holding most of the copy of
    the state, and only once the scheduler's memory manager (every 2 s) has had time to drop
    extra replicas: the copy survives the first kill, and the solver, back at that copy, keeps
    one again (on two workers) that survives the second.

    The loss is reported to the solver as soon as the scheduler has removed the worker (the
    scheduler can sometimes compute the lost chunks again from the start of the solve, and
    the solver would never need its copy): both recoveries happen, every time. On a cluster of
    its own: three workers at the start, whatever the restarts of the tests before."""
    Op, y = _deblur()
    with dask.config.set(scheduler="threads"):
        ref = np.asarray(cgls(Op, y, niter=80, tol=0)[0].compute())
    client = fresh_client
    client.wait_for_workers(3, timeout=60)
    solver = CGLS(Op)
    calls, kills, result, error, due = [0], [], [], [], [25]

    def kill_the_keeper(*args):  # from call 25 on, then 25 calls later, once a copy is kept
        calls[0] += 1           # (the first copy waits for a check 0.5 s into the solve)
        snap = solver._snapshot
        if len(kills) == 2 or calls[0] < due[0] or snap is None:
            return
        due[0] = calls[0] + 25
        time.sleep(4.5)  # two rounds of the active memory manager
        futures = [f for pair in snap.pairs() for f in pair]
        held = {}
        for workers in client.who_has(futures).values():
            for w in workers:
                held[w] = held.get(w, 0) + 1
        victim = max(held, key=held.get)
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        kills.append((calls[0], snap.attrs["iiter"], victim))
        deadline = time.perf_counter() + 60
        while victim in client.scheduler_info(n_workers=-1)["workers"]:
            assert time.perf_counter() < deadline, "the scheduler did not notice the kill"
            time.sleep(0.05)
        raise CancelledError(f"{victim} was killed")  # what the next check would raise

    solver.callback = kill_the_keeper

    def run():
        try:
            with client.as_current():
                result.append(np.asarray(solver.solve(y, niter=80, tol=0)[0].compute()))
        except BaseException as err:  # checked below
            error.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=300)
    assert not worker.is_alive(), "no answer 300 s after two workers were killed"
    assert not error, f"not recovered: {error[0]!r}"
    assert len(kills) == 2 and solver._recoveries == 2, (kills, solver._recoveries)
    np.testing.assert_allclose(result[0], ref, rtol=1e-10, atol=1e-10 * np.abs(ref).max())
    print(f"killed (call, copy's iteration, worker): {kills}; {solver._recoveries} recoveries")
