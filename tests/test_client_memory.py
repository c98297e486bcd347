"""The client's memory does not grow with the problem: the data stay on the workers.

A Laplacian least-squares problem is solved by CGLS on the 2-process cluster at two sizes,
1500^2 and 4500^2 (9x the data: 18 MB and 162 MB a vector), with the same number of chunks. The
data are made on the workers (``da.random`` persisted there) and the estimate stays there. A
background thread samples this process's resident memory every 2 ms during each solve: its peak
growth may differ by less than 50 MB between the two sizes (one vector of the large problem is
162 MB, so a single model or data vector brought back would show; a control checks that one
40 MB chunk brought back does).
"""

import gc
import threading
import time

import dask.array as da
import numpy as np
import psutil
import pytest

import pylops_distributed as pld
from pylops_distributed.optimization import cgls

SMALL, LARGE = 1500, 4500
NITER, CHECK_EVERY = 10, 5
ROW_CHUNKS = 4  # for both sizes: the same graphs, only the chunks' sizes differ


class PeakRSS:
    """Peak resident memory of this process over a block, sampled every ``every`` seconds."""

    def __init__(self, every=0.002):
        self.every = every
        self.proc = psutil.Process()
        self.samples = 0

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self.samples += 1
            self._stop.wait(self.every)

    def __enter__(self):
        gc.collect()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def growth(self):
        return self.peak - self.start


def _solve(client, n, seed):
    """CGLS on an n x n Laplacian with data made on the workers; returns the client's peak
    memory growth during the solve, the residual norms and the time taken."""
    Op = pld.Laplacian((n, n))
    y = client.persist(da.random.RandomState(seed).standard_normal(
        (n, n), chunks=(n // ROW_CHUNKS, n)))
    client.wait_for_workers(2)
    y2 = float(client.compute((y ** 2).sum()).result())  # a scalar comes back, not y
    start = time.perf_counter()
    with client.as_current(), PeakRSS() as mem:
        x, istop, iit, r1norm, r2norm, cost = cgls(Op, y, niter=NITER, tol=0.0,
                                                   check_every=CHECK_EVERY)
    took = time.perf_counter() - start
    assert mem.samples > 10, "the sampler ran during the solve"
    assert iit == NITER and x.shape == (n, n)
    assert "numpy" in type(x._meta).__module__
    # the estimate stays on the workers; its residual, computed there, is the solver's
    res = float(client.compute(da.linalg.norm((y - Op @ x).ravel())).result())
    # cost: the residual norm at the checks (r1norm is PyLops' ||Op^H r||^2)
    return dict(growth=mem.growth, y=np.sqrt(y2), cost0=cost[0], cost=cost[-1], res=res,
                took=took)


def test_client_memory_does_not_grow_with_the_problem(process_client):
    client = process_client
    if psutil.virtual_memory().total < 8 * 2**30:  # pragma: no cover - the VM has 24 GiB
        pytest.fail("needs 8 GiB of memory for the 4500^2 problem on the workers")
    _solve(client, 500, seed=0)  # warm-up: imports and caches of the client
    small = _solve(client, SMALL, seed=1)
    large = _solve(client, LARGE, seed=2)
    for run in (small, large):  # real solves: the residual fell, and is the solver's
        assert run["cost0"] == pytest.approx(run["y"], rel=1e-8)
        assert run["cost"] < 0.5 * run["cost0"], run
        assert run["res"] == pytest.approx(run["cost"], rel=1e-6), run
    mb = 2**20
    # the sampler sees data that do come back: one row chunk of the large problem (40 MB)
    z = client.persist(da.ones((LARGE, LARGE), chunks=(LARGE // ROW_CHUNKS, LARGE)))
    client.wait_for_workers(2)
    with PeakRSS() as control:
        chunk = client.compute(z.blocks[0]).result()
    assert chunk.nbytes == LARGE // ROW_CHUNKS * LARGE * 8 and control.growth > 30 * mb, (
        control.growth / mb)
    del chunk, z
    report = (f"client peak growth: {small['growth'] / mb:.1f} MB at {SMALL}^2 "
              f"({small['took']:.1f} s), {large['growth'] / mb:.1f} MB at {LARGE}^2 "
              f"({large['took']:.1f} s); one vector is {LARGE * LARGE * 8 / mb:.0f} MB")
    print(report)
    assert large["growth"] - small["growth"] < 50 * mb, report
