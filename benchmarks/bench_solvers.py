"""Solver benchmark: CG, CGLS and LSQR on one engine, against PyLops and PyLops-MPI, in one run.

Part ``ops`` (issue 10): CG (normal equations), CGLS and LSQR, 30 iterations with a check
every 10, on each operator below, data 1000 x 1000 float64 in 4 chunks along axis 0
(MatrixMult: 4000 x 2000 in 4 row chunks). For each: tasks per chunk per iteration on a
2-process LocalCluster (task stream, niter 30 minus niter 10, divided by 20 iterations and
by the data's chunks: 4, but 1 for CG on MatrixMult, whose model is one chunk), and
wall time of PyLops/NumPy, ours threaded and ours on the cluster (same solver, same
problem); the last columns give each solver's time against CGLS's on the same backend.

    laplacian              Laplacian((1000, 1000))
    gradient               Gradient((1000, 1000))            (stacked data)
    restriction@smoothing  Restriction(axis 1, every 3rd) @ Smoothing1D(5, axis 0)
    diagonal-dask          Diagonal of a chunked dask array
    firstderivative.T      FirstDerivative(axis 0).T
    matrixmult             MatrixMult of a dense 4000 x 2000 dask array, row chunks

Part ``cases`` (issue 4's landed figures): CGLS, 30 iterations,

    a   dense MatrixMult 4000 x 2000, row-chunked in 4
    b   2-D Laplacian 1000 x 1000, chunked in 4 along axis 0
    c   2-D Laplacian 4000 x 4000, chunked in 4 along axis 0

against PyLops and PyLops-MPI under ``mpiexec -n 2`` when mpi4py is installed (``pip install
-e .[bench]``; one BLAS thread a rank).

Ours on the cluster: 2 workers x 1 thread, data persisted on the workers before the clock
starts, result brought to the client. PyLops and our two runs are timed alternately (best of
``--repeat``), so that they see the same machine load; PyLops-MPI runs after them. Every
result is compared with PyLops'.

    python benchmarks/bench_solvers.py [--parts ops,cases] [--cases a,b,c] [--repeat 3] [--no-mpi]
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
from distributed import Client, LocalCluster, get_task_stream, wait
from pylops.optimization.basic import cg as pylops_cg, cgls as pylops_cgls, lsqr as pylops_lsqr

import pylops_distributed as pld
from pylops_distributed.optimization import CG, CGLS, LSQR

NITER = 30
NCHUNKS = 4
HERE = os.path.dirname(os.path.abspath(__file__))
SOLVERS = ("cgls", "lsqr", "cg")
CASES = {
    "a": "CGLS 30 it, MatrixMult 4000x2000, 4 row chunks",
    "b": "CGLS 30 it, Laplacian 1000x1000, 4 chunks on axis 0",
    "c": "CGLS 30 it, Laplacian 4000x4000, 4 chunks on axis 0",
}


# --- problems ----------------------------------------------------------------------------------

def operator_problem(name, n=1000):
    """(PyLops operator, model shape, builder of our operator from a `put`)."""
    dims = (n, n)
    rng = np.random.default_rng(1)
    if name == "laplacian":
        return pylops.Laplacian(dims), dims, lambda put: pld.Laplacian(dims)
    if name == "gradient":
        return pylops.Gradient(dims), dims, lambda put: pld.Gradient(dims)
    if name == "restriction@smoothing":
        iava = np.arange(0, n, 3)
        return (pylops.Restriction(dims, iava, axis=1) @ pylops.Smoothing1D(5, dims, axis=0), dims,
                lambda put: pld.Restriction(dims, iava, axis=1) @ pld.Smoothing1D(5, dims, axis=0))
    if name == "diagonal-dask":
        d = rng.standard_normal(dims) + 3
        return (pylops.Diagonal(d.ravel()), dims,
                lambda put: pld.Diagonal(put(d, (n // NCHUNKS, n))))
    if name == "firstderivative.T":
        return (pylops.FirstDerivative(dims, axis=0).T, dims,
                lambda put: pld.FirstDerivative(dims, axis=0).T)
    if name == "matrixmult":
        A = rng.standard_normal((4000, 2000))
        return (pylops.MatrixMult(A), (2000,),
                lambda put: pld.MatrixMult(put(A, (4000 // NCHUNKS, 2000))))
    raise ValueError(name)


OPERATORS = ("laplacian", "gradient", "restriction@smoothing", "diagonal-dask",
             "firstderivative.T", "matrixmult")


def case_problem(case):
    """(PyLops operator, model shape, builder of our operator) of the landed cases a, b, c."""
    if case == "a":
        return operator_problem("matrixmult")
    n = 1000 if case == "b" else 4000
    return pylops.Laplacian((n, n)), (n, n), lambda put: pld.Laplacian((n, n))


def model_chunks(shape):
    return (shape[0] // NCHUNKS,) + tuple(shape[1:])


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


def persist(a, client):
    """Persist (and wait for) a dask array or StackedArray on the active scheduler."""
    if isinstance(a, pld.StackedArray):
        return pld.StackedArray([persist(b, client) for b in a.blocks])
    if client is None:
        return a.persist()
    a = client.persist(a)
    wait(a)
    return a


class Problem:
    """One solver's problem on one backend: operator, data (and normal-equation data)."""

    def __init__(self, POp, shape, build, put, client=None):
        self.client = client
        xt = np.random.default_rng(0).standard_normal(shape)
        self.Op = build(put)
        self.y = persist(self.Op @ put(xt, model_chunks(shape)), client)
        yn = self.Op.H @ self.y
        self.N = self.Op.H @ self.Op
        self.yn = None if isinstance(yn, pld.StackedArray) else persist(yn, client)
        self.py = np.ravel(POp @ xt.ravel())
        self.pyn = POp.H @ self.py

    def run(self, which, niter=NITER):
        """Our solve's outputs (lazy x first; LSQR's var is being computed)."""
        if which == "cgls":
            return CGLS(self.Op).solve(self.y, niter=niter, tol=0, check_every=10)
        if which == "lsqr":
            return LSQR(self.Op).solve(self.y, niter=niter, atol=0, btol=0, conlim=0,
                                       check_every=10)
        return CG(self.N).solve(self.yn, niter=niter, tol=0, check_every=10)

    def solve(self, which, niter=NITER):
        """Our solve, x brought to the client (NumPy)."""
        x = self.run(which, niter)[0]
        return self.client.compute(x, sync=True) if self.client is not None else x.compute()


def solve_pylops(POp, which, y, yn):
    if which == "cgls":
        return pylops_cgls(POp, y, niter=NITER, tol=0)[0]
    if which == "lsqr":
        return pylops_lsqr(POp, y, niter=NITER, atol=0, btol=0, conlim=0)[0]
    return pylops_cg(POp.H @ POp, yn, niter=NITER, tol=0)[0]


def timed(fn):
    gc.collect()  # each run starts without garbage: a full collection costs ~65 ms here
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def tasks_per_chunk(client, problem, which):
    """Tasks per chunk per iteration on the cluster: niter 30 minus niter 10 (task stream),
    over the chunks of the solve's data (``Op^H y`` for CG)."""
    data = problem.yn if which == "cg" else problem.y
    nchunks = max(b.npartitions for b in (data.blocks if isinstance(data, pld.StackedArray)
                                          else [data]))
    counts = []
    for niter in (10, 30):
        _idle(client)
        with get_task_stream(client) as ts:
            out = problem.run(which, niter)  # every output kept until all has run
            client.compute(out[0], sync=True)
            _idle(client)
            del out
        counts.append(len(ts.data))
    return (counts[1] - counts[0]) / 20 / nchunks


def _idle(client):
    for _ in range(500):
        if not any(client.processing().values()):
            return
        time.sleep(0.01)


def check(x, x_ref, what):
    err = np.linalg.norm(np.ravel(x) - np.ravel(x_ref)) / np.linalg.norm(x_ref)
    assert err < 1e-6, f"{what}: ours differs from PyLops by {err:.2e}"


def compare(client, POp, shape, build, solvers, repeat):
    """{solver: (tasks/chunk/it, t_pylops, t_threads, t_cluster)} on one problem."""
    with dask.config.set(scheduler="threads"):
        th = Problem(POp, shape, build, put_local)
    with client.as_current():
        cl = Problem(POp, shape, build, put_on(client), client)
    out = {}
    for which in solvers:
        if which == "cg" and th.yn is None:
            continue
        with client.as_current():
            tasks = tasks_per_chunk(client, cl, which)
        t = [np.inf] * 3
        for _ in range(repeat):  # alternated, so that each sees the same load
            dt, x_ref = timed(lambda: solve_pylops(POp, which, th.py, th.pyn))
            t[0] = min(t[0], dt)
            with dask.config.set(scheduler="threads"):
                dt, x = timed(lambda: th.solve(which))
            t[1] = min(t[1], dt)
            check(x, x_ref, f"{which} threads")
            with client.as_current():
                dt, x = timed(lambda: cl.solve(which))
            t[2] = min(t[2], dt)
            check(x, x_ref, f"{which} cluster")
        out[which] = (tasks, *t)
    return out


# --- part ops ----------------------------------------------------------------------------------

def part_ops(client, repeat):
    rows = []
    for name in OPERATORS:
        POp, shape, build = operator_problem(name)
        res = compare(client, POp, shape, build, SOLVERS, repeat)
        for which, (tasks, t_np, t_th, t_cl) in res.items():
            base = res["cgls"]
            rows.append((name, which, tasks, t_np, t_th, t_cl, t_th / base[2], t_cl / base[3]))
            print(f"[{name} {which}] tasks/chunk/it {tasks:.2f}  pylops {t_np:.3f}s  threads "
                  f"{t_th:.3f}s  cluster {t_cl:.3f}s", flush=True)
    head = ("| operator | solver | tasks/chunk/it (cluster) | PyLops/NumPy | ours, threads "
            "(x PyLops) | ours, 2-proc cluster (x PyLops) | threads / CGLS | cluster / CGLS |")
    lines = [head, "|---" * 8 + "|"]
    for name, which, tasks, t_np, t_th, t_cl, r_th, r_cl in rows:
        lines.append(f"| {name} | {which} | {tasks:.2f} | {t_np:.3f} s | {t_th:.3f} s "
                     f"({t_th / t_np:.2f}x) | {t_cl:.3f} s ({t_cl / t_np:.2f}x) | {r_th:.2f} "
                     f"| {r_cl:.2f} |")
    return "\n".join(lines)


# --- part cases --------------------------------------------------------------------------------

def time_mpi(case, nproc=2, extra=()):
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None, "mpi4py not installed"
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    if mpiexec is None:
        return None, "mpiexec not found"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [mpiexec, "-n", str(nproc), sys.executable, os.path.join(HERE, "_mpi_peer.py"), case,
           *map(str, extra)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)["time"], ""
    return None, (out.stderr.strip().splitlines() or ["failed"])[-1][:80]


def part_cases(client, cases, repeat, mpi):
    head = ("| case | PyLops/NumPy | ours, threads (x PyLops) | ours, 2-proc cluster (x PyLops) "
            "| PyLops-MPI 2 ranks | cluster / MPI | tasks/chunk/it (cluster) |")
    lines = [head, "|---" * 7 + "|"]
    for case in cases:
        res = compare(client, *case_problem(case), ("cgls",), 1 if case == "c" else repeat)
        tasks, t_np, t_th, t_cl = res["cgls"]
        t_mpi, why = time_mpi(case) if mpi else (None, "--no-mpi")
        m = f"{t_mpi:.2f} s" if t_mpi else f"n/a ({why})"
        print(f"[{case}] pylops {t_np:.2f}s  threads {t_th:.2f}s  cluster {t_cl:.2f}s  mpi {m}",
              flush=True)
        vs = f"{t_cl / t_mpi:.2f}x" if t_mpi else "n/a"
        lines.append(f"| ({case}) {CASES[case]} | {t_np:.2f} s | {t_th:.2f} s ({t_th / t_np:.2f}x) "
                     f"| {t_cl:.2f} s ({t_cl / t_np:.2f}x) | {m} | {vs} | {tasks:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="ops,cases")
    p.add_argument("--cases", default="a,b,c")
    p.add_argument("--repeat", type=int, default=3, help="best of N, alternated (case c: 1)")
    p.add_argument("--no-mpi", action="store_true")
    args = p.parse_args(argv)
    parts = args.parts.split(",")
    tables = []
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")
    try:
        with Client(cluster, set_as_default=False) as client:
            if "ops" in parts:
                tables.append(part_ops(client, args.repeat))
            if "cases" in parts:
                cases = [c for c in args.cases.split(",") if c]
                tables.append(part_cases(client, cases, args.repeat, not args.no_mpi))
    finally:
        cluster.close()
    for t in tables:
        print()
        print(t)
    return tables


if __name__ == "__main__":
    main()
