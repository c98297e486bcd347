"""Time per iteration of CG, CGLS and LSQR on one operator, threaded scheduler or a
2-process cluster.

niter 60 minus niter 20 (best of ``--repeat`` each), on the problems of ``bench_solvers.py``'s
part ``ops`` (1000 x 1000 float64 in 4 chunks; MatrixMult: 4000 x 2000): what the solvers
cost an iteration without their setup and result, and LSQR's and CG's time over CGLS's.

    python benchmarks/bench_per_iteration.py laplacian firstderivative.T
    python benchmarks/bench_per_iteration.py --cluster --repeat 3 firstderivative.T
"""

import argparse
import contextlib
import gc
import os
import sys
import time

import dask
from distributed import Client, LocalCluster

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_solvers as bs  # noqa: E402


def per_iteration(name, repeat=7, lo=20, hi=60, client=None):
    POp, shape, build = bs.operator_problem(name)
    put = bs.put_on(client) if client is not None else bs.put_local
    problem = bs.Problem(POp, shape, build, put, client)
    best = {}
    scheduler = contextlib.nullcontext() if client is not None else dask.config.set(scheduler="threads")
    with scheduler:
        for _ in range(repeat):
            for which in bs.SOLVERS:
                for n in (lo, hi):
                    gc.collect()
                    t0 = time.perf_counter()
                    problem.solve(which, n)
                    best[which, n] = min(best.get((which, n), float("inf")), time.perf_counter() - t0)
    return {w: (best[w, hi] - best[w, lo]) / (hi - lo) for w in bs.SOLVERS}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("operators", nargs="*", default=list(bs.OPERATORS))
    p.add_argument("--cluster", action="store_true", help="2-process LocalCluster (2 x 1 thread)")
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        client = None
        if args.cluster:
            cluster = stack.enter_context(LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=":0"))
            client = stack.enter_context(Client(cluster))
        for name in args.operators:
            per = per_iteration(name, args.repeat, client=client)
            print(f"{name}{' (cluster)' if client else ''}: "
                  + "  ".join(f"{w} {per[w] * 1e3:.2f} ms/it" for w in per)
                  + f"  lsqr/cgls {per['lsqr'] / per['cgls']:.2f}  cg/cgls {per['cg'] / per['cgls']:.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
