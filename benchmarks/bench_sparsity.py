"""ISTA/FISTA benchmark: 100 iterations on a 2-D deblurring problem, PyLops against ours, in one run.

The operator is ``Smoothing2D((5, 5))`` on 1000 x 1000 float64 (a stencil operator: FFT2D does
not exist here yet), the model 2 % non-zero, ``eps=0.1``, the step ``alpha=0.9`` given to both
(no eigenvalue estimate in the timing), ``tol=0``. PyLops runs on NumPy; ours on the threaded
scheduler with the data persisted in 4 chunks along axis 0, ``check_every=10``, the clock
stopped when ``x`` is on the client. Best of ``--repeat``, alternated; both answers compared.

Goal (issue 13): FISTA threaded <= 0.8x PyLops.

    python benchmarks/bench_sparsity.py [--repeat 3] [--niter 100] [--n 1000]
"""

import argparse
import gc
import time

import dask
import dask.array as da
import numpy as np
import pylops
from pylops.optimization import sparsity as psp

import pylops_distributed as pld
from pylops_distributed.optimization import sparsity


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--niter", type=int, default=100)
    p.add_argument("--n", type=int, default=1000)
    args = p.parse_args(argv)
    dims = (args.n, args.n)
    rng = np.random.default_rng(0)
    xt = np.where(rng.random(dims) > 0.98, rng.standard_normal(dims), 0.0)
    POp, Op = pylops.Smoothing2D((5, 5), dims), pld.Smoothing2D((5, 5), dims)
    y = (POp @ xt.ravel()).reshape(dims)
    kw = dict(niter=args.niter, eps=0.1, alpha=0.9, tol=0)
    with dask.config.set(scheduler="threads"):
        yd = da.from_array(y, chunks=(args.n // 4, args.n)).persist()
        for name in ("ista", "fista"):
            best = [np.inf, np.inf]
            for _ in range(args.repeat):
                gc.collect()
                t0 = time.perf_counter()
                xr = getattr(psp, name)(POp, y.ravel(), **kw)[0]
                best[0] = min(best[0], time.perf_counter() - t0)
                gc.collect()
                t0 = time.perf_counter()
                x = getattr(sparsity, name)(Op, yd, **kw)[0].compute()
                best[1] = min(best[1], time.perf_counter() - t0)
            diff = np.linalg.norm(x.ravel() - xr) / np.linalg.norm(xr)
            print(f"{name.upper()} {args.niter} it, Smoothing2D((5, 5)) {args.n}x{args.n}, best of "
                  f"{args.repeat}: PyLops {best[0]:.3f} s, ours (threads) {best[1]:.3f} s, ours / "
                  f"PyLops {best[1] / best[0]:.2f}x (relative difference of x {diff:.1e})")


if __name__ == "__main__":
    main()
