"""Solver benchmark: CGLS, 30 iterations, ours against PyLops/NumPy and PyLops-MPI, in one run.

Cases (issue 4):

    a   dense MatrixMult 4000 x 2000, row-chunked in 4
    b   2-D Laplacian 1000 x 1000, chunked in 4 along axis 0
    c   2-D Laplacian 4000 x 4000, chunked in 4 along axis 0

Runs: PyLops on NumPy (one process, BLAS on every core); ours on dask's threaded scheduler;
ours on a 2-process LocalCluster (2 workers x 1 thread, data persisted on the workers before
the clock starts); PyLops-MPI under ``mpiexec -n 2`` when mpi4py is installed (``pip install
-e .[bench]``; one BLAS thread a rank). Our times include bringing the result to the client.
PyLops and our two runs are timed alternately (best of ``--repeat``), so that they see the
same machine load; PyLops-MPI runs after them.

Besides wall time it reports, for our runs, the tasks per chunk per iteration and the client
time spent building and submitting each iteration's graph.

    python benchmarks/bench_solvers.py [--cases a,b,c] [--repeat 2] [--no-mpi]
"""

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time

import dask
import dask.array as da
import numpy as np
import pylops
from distributed import Client, LocalCluster
from pylops.optimization.basic import cgls as pylops_cgls

import pylops_distributed as pld
from pylops_distributed.optimization import CGLS

NITER = 30
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {
    "a": "CGLS 30 it, MatrixMult 4000x2000, 4 row chunks",
    "b": "CGLS 30 it, Laplacian 1000x1000, 4 chunks on axis 0",
    "c": "CGLS 30 it, Laplacian 4000x4000, 4 chunks on axis 0",
}


def problem(case):
    """(PyLops operator, NumPy data, builder of our operator and dask data from an `asarray`)."""
    rng = np.random.default_rng(0)
    if case == "a":
        A = rng.standard_normal((4000, 2000))
        y = A @ rng.standard_normal(2000)

        def ours(put):
            return pld.MatrixMult(put(A, (1000, 2000))), put(y, 1000)

        return pylops.MatrixMult(A), y, ours
    n = 1000 if case == "b" else 4000
    xt = rng.standard_normal((n, n))
    POp = pylops.Laplacian((n, n))
    y = (POp @ xt.ravel()).reshape(n, n)

    def ours(put):
        return pld.Laplacian((n, n)), put(y, (n // 4, n))

    return POp, y, ours


def put_local(a, chunks):
    """A NumPy array as a persisted dask array (threaded scheduler)."""
    return da.from_array(a, chunks=chunks).persist()


def put_on(client):
    """A NumPy array as a dask array persisted on the workers, block by block (scattered, so
    that the data does not travel inside a graph)."""
    def put(a, chunks):
        chunks = da.empty(a.shape, chunks=chunks).chunks
        bounds = [np.cumsum((0,) + c) for c in chunks]
        grid = np.empty(tuple(len(c) for c in chunks), dtype=object)
        for idx in np.ndindex(*grid.shape):
            sl = tuple(slice(b[i], b[i + 1]) for b, i in zip(bounds, idx))
            block = client.scatter(a[sl])
            grid[idx] = da.from_delayed(block, a[sl].shape, dtype=a.dtype)
        return client.persist(da.block(grid.tolist()))
    return put


def time_pylops(POp, y, repeat):
    best = np.inf
    for _ in range(repeat):
        gc.collect()  # each run starts without garbage: a full collection costs ~65 ms here
        t0 = time.perf_counter()
        x = pylops_cgls(POp, y.ravel(), niter=NITER, tol=0)[0]
        best = min(best, time.perf_counter() - t0)
    return best, x


def time_ours(Op, y, repeat, client=None):
    best, info = np.inf, {}
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        solver = CGLS(Op)
        x = solver.solve(y, niter=NITER, tol=0, check_every=10)[0]
        x = client.compute(x, sync=True) if client is not None else x.compute()
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best = elapsed
            info = dict(tasks=float("nan"), build=float("nan"), engine="fused" if solver.fused else "dask.array")
    return best, x, info


def time_mpi(case, nproc=2):
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None, "mpi4py not installed"
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if mpiexec is None:
        return None, "mpiexec not found"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [mpiexec, "-n", str(nproc), sys.executable, os.path.join(HERE, "_mpi_peer.py"), case]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)["time"], ""
    return None, (out.stderr.strip().splitlines() or ["failed"])[-1][:80]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="a,b,c")
    p.add_argument("--repeat", type=int, default=3, help="best of N (alternated) for cases a and b")
    p.add_argument("--no-mpi", action="store_true")
    args = p.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    rows = []
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")
    try:
        client = Client(cluster, set_as_default=False)
        try:
            for case in cases:
                rep = 1 if case == "c" else args.repeat
                POp, y, ours = problem(case)
                with dask.config.set(scheduler="threads"):
                    Op_th, yd_th = ours(put_local)
                with client.as_current():
                    Op_cl, yd_cl = ours(put_on(client))
                t_np = t_th = t_cl = np.inf
                for _ in range(rep):  # alternate the runs, so that each sees the same load
                    t, x_ref = time_pylops(POp, y, 1)
                    t_np = min(t_np, t)
                    with dask.config.set(scheduler="threads"):
                        t, x_th, info = time_ours(Op_th, yd_th, 1)
                    if t < t_th:
                        t_th, i_th = t, info
                    with client.as_current():
                        t, x_cl, info = time_ours(Op_cl, yd_cl, 1, client)
                    if t < t_cl:
                        t_cl, i_cl = t, info
                del Op_th, yd_th, Op_cl, yd_cl
                for x in (x_th, x_cl):
                    err = np.linalg.norm(np.ravel(x) - np.ravel(x_ref)) / np.linalg.norm(x_ref)
                    assert err < 1e-6, f"case {case}: ours differs from PyLops by {err:.2e}"
                t_mpi, why = (None, "--no-mpi") if args.no_mpi else time_mpi(case)
                rows.append((case, t_np, t_th, i_th, t_cl, i_cl, t_mpi, why))
                _print_row(rows[-1])
        finally:
            client.close()
    finally:
        cluster.close()
    print()
    print(table(rows))
    return rows


def _print_row(r):
    case, t_np, t_th, i_th, t_cl, i_cl, t_mpi, why = r
    mpi = f"{t_mpi:.2f}s" if t_mpi else why
    print(f"[{case}] pylops {t_np:.2f}s  threads {t_th:.2f}s  cluster {t_cl:.2f}s  mpi {mpi}",
          flush=True)


def table(rows):
    head = ("| case | PyLops/NumPy | ours, threads (x PyLops) | ours, 2-proc cluster (x PyLops) "
            "| PyLops-MPI 2 ranks | cluster / MPI | tasks/chunk/it (cluster) | client build ms/it "
            "(threads, cluster) |")
    lines = [head, "|---" * 8 + "|"]
    for case, t_np, t_th, i_th, t_cl, i_cl, t_mpi, why in rows:
        mpi = f"{t_mpi:.2f} s" if t_mpi else f"n/a ({why})"
        vs = f"{t_cl / t_mpi:.2f}x" if t_mpi else "n/a"
        lines.append(f"| ({case}) {CASES[case]} | {t_np:.2f} s | {t_th:.2f} s ({t_th / t_np:.2f}x) "
                     f"| {t_cl:.2f} s ({t_cl / t_np:.2f}x) | {mpi} | {vs} | {i_cl['tasks']:.2f} "
                     f"| {i_th['build']:.1f}, {i_cl['build']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
