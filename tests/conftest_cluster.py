"""Helpers for the cluster tests (imported by tests/test_cluster*.py; not a pytest conftest).

- ``_solve_small_problem(client)``: a 60x40 least-squares problem solved by CGLS on the client's
  workers, checked against ``numpy.linalg.lstsq``, returning the workers that ran its tasks.
- ``require_slurm()``: skip (or fail under ``PYLOPS_DISTRIBUTED_REQUIRE_SLURM=1``) without SLURM.
- ``ProcessGroup``: subprocesses started in their own session, stopped by process group at exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import dask.array as da
import numpy as np
import pytest
from distributed import get_task_stream

from pylops_distributed import MatrixMult
from pylops_distributed.optimization import cgls

VENV_BIN = os.path.dirname(sys.executable)



def _block(seed, i, rows, ncols):
    """Rows ``i*rows:(i+1)*rows`` of the test matrix (scattered to the worker that owns them).

    The matrix is ``[I; 0] + 0.02 G`` with Gaussian ``G``: dense, random and well conditioned
    (cond ~ 2), so CGLS converges in about 20 iterations.
    """
    block = 0.02 * np.random.default_rng([seed, i]).standard_normal((rows, ncols))
    for r in range(rows):
        if i * rows + r < ncols:
            block[r, i * rows + r] += 1.0
    return block


def _solve_small_problem(client, seed=0, nrows=60, ncols=40, nblocks=None, niter=30):
    """Solve ``min ||A x - y||`` (A 60x40, dense) with our CGLS on ``client``'s workers.

    The row blocks of ``A`` are scattered to the workers in turn (one block per worker), so every
    worker holds data and runs tasks. Workers started outside pytest (dask CLI, SLURM jobs) run
    the project's venv, so they import pylops_distributed but not this module. Asserts the
    solution equals ``numpy.linalg.lstsq``'s.

    Returns
    -------
    dict
        ``x`` (numpy), ``workers`` (addresses of the workers that ran tasks), ``iterations``.
    """
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    assert workers, "the cluster has no workers"
    nblocks = nblocks or len(workers)
    rows = -(-nrows // nblocks)
    with get_task_stream(client) as ts:
        futures = [client.scatter(_block(seed, i, rows, ncols), workers=[workers[i % len(workers)]],
                                  hash=False)
                   for i in range(nblocks)]
        Ad = da.concatenate([da.from_delayed(f, shape=(rows, ncols), dtype=float)
                             for f in futures])
        if rows * nblocks != nrows:
            Ad = Ad[:nrows]
        Ad = client.persist(Ad)
        xtrue = np.arange(1.0, ncols + 1)
        noise = np.random.default_rng(seed).standard_normal(nrows)
        yd = client.persist(Ad @ xtrue + da.from_array(noise, chunks=Ad.chunks[0]))
        # our CGLS: one blocking scalar fetch every 10 iterations
        with client.as_current():
            x, istop, it, r1norm, r2norm, cost = cgls(MatrixMult(Ad), yd, niter=niter, tol=0,
                                                      check_every=10)
        xs = client.compute(x).result()
    A = np.concatenate(client.gather(futures))[:nrows]
    xref = np.linalg.lstsq(A, A @ xtrue + noise, rcond=None)[0]
    np.testing.assert_allclose(xs, xref, rtol=1e-7, atol=1e-9)
    ran_on = {t["worker"] for t in ts.data}
    assert ran_on <= set(workers), (ran_on, workers)
    del futures
    return {"x": xs, "workers": ran_on, "iterations": it}


# -------------------------------------------------------------------------------------------------
def slurm_available() -> tuple[bool, str]:
    """Whether a SLURM controller answers here and has a usable node."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return False, "sinfo/sbatch not found"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"sinfo failed: {err}"
    states = out.stdout.split()
    if out.returncode != 0:
        return False, f"sinfo failed: {out.stderr.strip()}"
    if not any(s.rstrip("*~#") in ("idle", "mix", "alloc", "comp") for s in states):
        return False, f"no usable SLURM node (sinfo states: {states})"
    return True, ""


def require_slurm() -> None:
    """Skip without SLURM; fail instead when PYLOPS_DISTRIBUTED_REQUIRE_SLURM=1 (CI)."""
    ok, why = slurm_available()
    if ok:
        return
    msg = (f"SLURM is not available: {why}. Start a one-node SLURM with `.ci/setup-slurm.sh` "
           "(as root; `.ci/stop-slurm.sh` stops it)")
    if os.environ.get("PYLOPS_DISTRIBUTED_REQUIRE_SLURM") == "1":
        pytest.fail(msg + " [PYLOPS_DISTRIBUTED_REQUIRE_SLURM=1]", pytrace=False)
    pytest.skip(msg)


def squeue_ids(name_prefix: str = "") -> list[str]:
    """Job ids (of this user) in the SLURM queue, optionally only names starting with a prefix."""
    out = subprocess.run(["squeue", "-h", "-u", str(os.getuid()) if os.getuid() else "root",
                          "-o", "%i %j"], capture_output=True, text=True, timeout=20).stdout
    return [line.split()[0] for line in out.splitlines()
            if line.strip() and line.split()[1].startswith(name_prefix)]


# -------------------------------------------------------------------------------------------------
class ProcessGroup:
    """Start commands in new sessions; ``stop()`` ends each whole process group (by pid)."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, args, log_path, env=None, **kwargs):
        log = open(log_path, "w")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **(env or {})}, **kwargs)
        proc._log = log  # closed in stop()
        self.procs.append(proc)
        return proc

    def stop(self, sig=signal.SIGTERM, timeout=15):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for proc in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # anything left in the group (nanny children) is killed
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            proc._log.close()


def wait_for_file(path, timeout=30, procs=()):
    """Wait until ``path`` exists and is non-empty; fail early if one of ``procs`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{p.args} exited with {p.returncode} before writing {path}")
        time.sleep(0.1)
    raise TimeoutError(f"{path} did not appear within {timeout} s")
