"""Time per iteration of CG, CGLS and LSQR on one operator, threaded scheduler.

niter 60 minus niter 20 (best of 7 each), on the problems of ``bench_solvers.py``'s part
``ops`` (1000 x 1000 float64 in 4 chunks; MatrixMult 4000 x 2000): what the solvers cost an
iteration without their setup and result, and LSQR's and CG's time over CGLS's.

    python benchmarks/bench_per_iteration.py laplacian firstderivative.T
"""

import gc
import os
import sys
import time

import dask

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_solvers as bs  # noqa: E402


def per_iteration(name, repeat=7, lo=20, hi=60):
    POp, shape, build = bs.operator_problem(name)
    problem = bs.Problem(POp, shape, build, bs.put_local)
    best = {}
    with dask.config.set(scheduler="threads"):
        for _ in range(repeat):
            for which in bs.SOLVERS:
                for n in (lo, hi):
                    gc.collect()
                    t0 = time.perf_counter()
                    problem.solve(which, n)
                    best[which, n] = min(best.get((which, n), float("inf")), time.perf_counter() - t0)
    return {w: (best[w, hi] - best[w, lo]) / (hi - lo) for w in bs.SOLVERS}


if __name__ == "__main__":
    for name in sys.argv[1:] or bs.OPERATORS:
        per = per_iteration(name)
        print(f"{name}: " + "  ".join(f"{w} {per[w] * 1e3:.2f} ms/it" for w in per)
              + f"  lsqr/cgls {per['lsqr'] / per['cgls']:.2f}  cg/cgls {per['cg'] / per['cgls']:.2f}",
              flush=True)
