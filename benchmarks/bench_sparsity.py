"""ISTA/FISTA benchmark: ours against PyLops (and PyLops-MPI) on the same problems, in one run.

Part ``deblur``: 100 iterations on a 2-D deblurring problem, ``Smoothing2D((5, 5))`` on
1000 x 1000 float64 (a stencil operator: FFT2D does not exist here yet), the model 2 %
non-zero, ``eps=0.1``, the step ``alpha=0.9`` given to both, ``tol=0``. PyLops runs on NumPy;
ours on the threaded scheduler with the data persisted in 4 chunks along axis 0,
``check_every=10``, the clock stopped when ``x`` is on the client. Best of ``--repeat``,
alternated. Goal (issue 13): FISTA threaded <= 0.8x PyLops.

Part ``reflectivity``: FISTA, 100 iterations, on the 3-D reflectivity problem of
:mod:`_reflectivity` (``--dims``, default 40x267x550: a sparse reflectivity convolved along
time with an 81-sample Ricker wavelet, ``Convolve1D``), the model in 2 chunks along its first
axis: PyLops (NumPy), ours threaded, ours on a 2-process LocalCluster (2 workers x 1 thread,
data scattered to the workers before the clock starts) and PyLops-MPI's ``fista`` under
``mpiexec -n 2`` (MPIBlockDiag of Convolve1D, one slab a rank). Goals (issue 13): cluster
<= 0.5x PyLops-MPI and <= 0.6x PyLops.

    python benchmarks/bench_sparsity.py [--parts deblur,reflectivity] [--repeat 3]
                                        [--niter 100] [--n 1000] [--dims 40x267x550]
"""

import argparse
import gc
import os
import tempfile
import time

import dask
import dask.array as da
import numpy as np
import pylops
from distributed import Client, LocalCluster
from pylops.optimization import sparsity as psp

import _reflectivity as refl
import pylops_distributed as pld
from bench_solvers import put_on, time_mpi
from pylops_distributed.cluster.local import worker_malloc
from pylops_distributed.optimization import sparsity


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def part_deblur(args):
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
                t, xr = timed(lambda: getattr(psp, name)(POp, y.ravel(), **kw)[0])
                best[0] = min(best[0], t)
                t, x = timed(lambda: getattr(sparsity, name)(Op, yd, **kw)[0].compute())
                best[1] = min(best[1], t)
            diff = np.linalg.norm(x.ravel() - xr) / np.linalg.norm(xr)
            print(f"{name.upper()} {args.niter} it, Smoothing2D((5, 5)) {args.n}x{args.n}, best of "
                  f"{args.repeat}: PyLops {best[0]:.3f} s, ours (threads) {best[1]:.3f} s, ours / "
                  f"PyLops {best[1] / best[0]:.2f}x (relative difference of x {diff:.1e})")


def part_reflectivity(args):
    dims = tuple(int(n) for n in args.dims.split("x"))
    h, offset = refl.wavelet()
    y = refl.data(dims)
    kw = dict(niter=args.niter, eps=refl.EPS, alpha=refl.step_size(), tol=0)
    chunks = (dims[0] // 2,) + dims[1:]
    POp = pylops.signalprocessing.Convolve1D(dims, h, offset=offset, axis=-1)
    Op = pld.Convolve1D(dims, h, offset=offset, axis=-1)
    t_np, xr = timed(lambda: psp.fista(POp, y.ravel(), **kw)[0])
    with dask.config.set(scheduler="threads"):
        yd = da.from_array(y, chunks=chunks).persist()
        t_th, x_th = timed(lambda: sparsity.fista(Op, yd, **kw)[0].compute())
    with worker_malloc():  # as get_client("local-processes") starts its workers
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=":0")
    try:
        with Client(cluster) as client:
            yc = put_on(client)(y, chunks)
            sparsity.fista(Op, yc, **dict(kw, niter=2))  # compile the kernels on the workers
            t_cl, x_cl = timed(lambda: sparsity.fista(Op, yc, **kw)[0].compute())
    finally:
        cluster.close()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.npy")
        t_mpi, why = time_mpi("fista3d", extra=(args.niter, args.dims, out))
        x_mpi = np.load(out) if t_mpi else None

    def rel(x):
        return np.linalg.norm(np.ravel(x) - xr.ravel()) / np.linalg.norm(xr)

    mpi = f"{t_mpi:.2f} s (x vs PyLops {rel(x_mpi):.0e})" if t_mpi else f"n/a ({why})"
    print(f"FISTA {args.niter} it, Convolve1D along time, {args.dims}:")
    print("| PyLops | ours, threads | ours, 2-process cluster | PyLops-MPI, 2 ranks "
          "| cluster / PyLops | cluster / MPI |")
    print("|---|---|---|---|---|---|")
    print(f"| {t_np:.2f} s | {t_th:.2f} s ({t_th / t_np:.2f}x; x {rel(x_th):.0e}) "
          f"| {t_cl:.2f} s (x {rel(x_cl):.0e}) | {mpi} | {t_cl / t_np:.2f}x "
          f"| {f'{t_cl / t_mpi:.2f}x' if t_mpi else 'n/a'} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="deblur,reflectivity")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--niter", type=int, default=100)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--dims", default="x".join(map(str, refl.DIMS)))
    args = p.parse_args(argv)
    parts = args.parts.split(",")
    if "deblur" in parts:
        part_deblur(args)
    if "reflectivity" in parts:
        part_reflectivity(args)


if __name__ == "__main__":
    main()
