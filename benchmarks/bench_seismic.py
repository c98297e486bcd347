"""Seismic inversion benchmark: ours against PyLops and PyLops-MPI on the same problem, in one run.

Part ``poststack`` (PyLops-MPI's tutorial "Post Stack Inversion - 3D", its "regularized
inversion with regularized equations"): a synthetic 3-D log-impedance model ``m`` (``--dims``
ny x nx x nt, default 40x267x550: dipping, gently undulating layers, a lateral trend and a
lens), a 41-sample 15 Hz Ricker wavelet (dt 4 ms), the data
``d = PoststackLinearModelling(wav, nt0=nt, spatdims=(ny, nx)) m`` (non-explicit, the model of
shape (nt, ny, nx), time first as PyLops expects), then CGLS, ``--niter`` (100) iterations,
``tol=0``, from the smooth background model ``x0`` (as the tutorial) on

    [PPop; sqrt(epsR) * Laplacian(axes=(0, 1, 2))] m = [d; 0],   epsR = 1e2 (``--epsR``).

Contestants, each timed from the data (and ``x0``) already in place to the estimate in memory:

* PyLops on NumPy: ``pylops.optimization.basic.cgls`` on ``pylops.VStack``;
* ours on the threaded scheduler and ours on a 2-process LocalCluster (2 workers x 1 thread,
  :func:`~pylops_distributed.cluster.local.worker_malloc`, the data scattered to the workers
  before the clock): ``pylops_distributed.avo.poststack.PoststackLinearModelling`` (non-explicit)
  stacked with ``pylops_distributed.Laplacian`` in ``pylops_distributed.VStack``, the model in
  2 chunks along its first spatial axis (y), ``pylops_distributed.optimization.cgls``;
* PyLops-MPI under ``mpiexec -n 2`` (case ``poststack3d`` of :mod:`_mpi_peer`, the tutorial's
  operators: ``MPIStackedVStack([MPIBlockDiag([Top.H @ PPop @ Top]), sqrt(epsR) *
  MPILaplacian])`` with the model (ny, nx, nt), one y slab a rank).

The table gives the times, the ratios and the relative difference of each estimate to
PyLops'. Goals: ours (cluster) <= 0.5x PyLops-MPI and <= 0.5x PyLops. Measured 2026-11-30 on
the 2-core VM, default size: PyLops 135.0 s, ours threads 42.2 s, ours cluster 51.3 s,
PyLops-MPI 131.2 s: cluster 0.38x PyLops and 0.39x PyLops-MPI (estimates within 4e-15).

Part ``mdd`` (small; not run by default): CGLS, ``--mdd-niter`` (50) iterations, ``tol=0``,
from zero, on ``pylops_distributed.waveeqprocessing.MDC`` (two-sided, ``G`` in 2 source
blocks, the data in 2 chunks along sources) against PyLops' ``MDC`` on NumPy and PyLops-MPI's
``MPIMDC`` (2 ranks, ``G`` split along frequency, ``_mpi_peer.py mdd``); ``--mdd-dims``
nt x ns x nr x nv, default 401x100x100x20 (the issue's size: ``--mdd-dims 1599x201x121x1
--mdd-nfmax 400``): ours threaded and on the 2-process cluster (data and ``G`` scattered to
the workers before the clock), and on the collective path (``pylops_distributed.collective=True``:
one task per worker, the model whole on each, the adjoint's partial models summed by a Gloo
all-reduce). Goal: cluster <= 0.7x PyLops-MPI. Part ``mdd-gpu``: the same CGLS on one GPU, ours
(CuPy chunks, ``G`` in ``--mdd-gpu-blocks`` source blocks) against PyLops+CuPy.

Part ``lsm`` (PyLops-MPI's tutorial "Least-squares Migration"): an 81 x 60 reflectivity (4 m
sampling, two flat reflectors), 1000 m/s, 11 receivers, 10 sources per worker (20 in all),
651 samples at 4 ms, a 20 Hz Ricker wavelet; Kirchhoff demigration with analytic traveltimes
(numba), CGLS ``--lsm-niter`` (100) iterations from zero: PyLops' ``LSM`` operator on NumPy,
ours (``pylops_distributed.waveeqprocessing.Kirchhoff``, 10 shots per chunk) threaded and on
the 2-process cluster, PyLops-MPI 2 ranks (``MPIVStack`` of one ``LSM.Demop`` per rank, as the
tutorial), and ours on the cluster on the collective path (``pylops_distributed.collective=True``:
one task per worker, the model whole on each, the image summed by a Gloo all-reduce). Goal:
ours (cluster) <= 0.7x PyLops-MPI.

    python benchmarks/bench_seismic.py [--parts poststack,mdd,mdd-gpu,lsm] [--repeat 1] [--niter 100]
                                       [--dims 40x267x550] [--epsR 100] [--no-mpi]
                                       [--mdd-dims 401x100x100x20] [--mdd-niter 50]
    python benchmarks/bench_seismic.py --dims 8x40x100 --niter 10     # smoke test
"""

import argparse
import gc
import os
import platform
import tempfile
import time

import dask
import dask.array as da
import numpy as np
import pylops
from distributed import Client, LocalCluster
from scipy.signal import filtfilt

import pylops_distributed as pld
from bench_solvers import put_on, time_mpi
from pylops_distributed.avo.poststack import PoststackLinearModelling
from pylops_distributed.cluster.local import worker_malloc
from pylops_distributed.optimization.cgls import cgls

DIMS = (40, 267, 550)  # ny, nx, nt (PyLops-MPI's tutorial: 2 x 20 lines, 801 / 3 traces)
EPSR = 1e2


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def wavelet():
    """The tutorial's wavelet: 41-sample, 15 Hz Ricker, dt 4 ms."""
    t0 = np.arange(41 // 2 + 1) * 0.004
    return pylops.utils.wavelets.ricker(t0, 15)[0]


def impedance_model(dims):
    """Synthetic log-impedance of shape ``(ny, nx, nt)`` (time last, as the tutorial): layers
    whose boundaries dip and undulate laterally, a lateral trend and a lens."""
    ny, nx, nt = dims
    rng = np.random.default_rng(0)
    y = np.arange(ny)[:, None] / max(ny - 1, 1)
    x = np.arange(nx)[None, :] / max(nx - 1, 1)
    t = np.arange(nt)
    nlay = 12
    tops = np.sort(rng.uniform(0.05, 0.95, nlay)) * nt
    jumps = rng.uniform(-0.25, 0.35, nlay)
    m = np.full((ny, nx, nt), np.log(2500.0 * 2000.0))
    for k in range(nlay):
        z = (tops[k] + 0.04 * nt * (x - 0.5) * (1 + k % 3) + 0.015 * nt * np.sin(
            2 * np.pi * (1.5 * x + 0.7 * y + k / nlay)) + 0.01 * nt * np.cos(3 * np.pi * y))
        m += jumps[k] * (t[None, None, :] >= z[:, :, None])
    m += 0.1 * x[:, :, None] * (t / nt)[None, None, :]  # lateral trend growing with depth
    lens = ((x - 0.6) / 0.15) ** 2 + ((y - 0.5) / 0.4) ** 2
    zc = 0.55 * nt
    m += 0.2 * (((t[None, None, :] - zc) / (0.04 * nt)) ** 2 + lens[:, :, None] < 1)
    return m


def background(m):
    """The tutorial's smooth starting model: filtfilt boxcars of 5, 30, 20 samples (shortened
    on small axes) along y, x and t."""
    mb = m
    for axis, n in enumerate((5, 30, 20)):
        n = min(n, max(1, (m.shape[axis] - 1) // 3))
        if n > 1:
            mb = filtfilt(np.ones(n) / n, 1, mb, axis=axis)
    return mb


def poststack_problem(dims):
    """``(wav, m, mback)`` with ``m`` and ``mback`` of shape ``(ny, nx, nt)``."""
    m = impedance_model(dims)
    return wavelet(), m, background(m)


def part_poststack(args):
    ny, nx, nt = dims = tuple(int(n) for n in args.dims.split("x"))
    wav, m, mb = poststack_problem(dims)
    m, mb = np.ascontiguousarray(m.transpose(2, 0, 1)), np.ascontiguousarray(mb.transpose(2, 0, 1))
    mdims = (nt, ny, nx)
    sq = np.sqrt(args.epsR)
    PPop = pylops.avo.poststack.PoststackLinearModelling(wav, nt0=nt, spatdims=(ny, nx))
    d = (PPop @ m.ravel()).reshape(mdims)
    lap = dict(axes=(0, 1, 2), weights=(1, 1, 1), sampling=(1, 1, 1))
    POp = pylops.VStack([PPop, sq * pylops.Laplacian(mdims, **lap)])
    ytot = np.concatenate([d.ravel(), np.zeros(m.size)])
    kw = dict(niter=args.niter, tol=0)
    chunks = (nt, -(-ny // 2), nx)
    Op = pld.VStack([PoststackLinearModelling(wav, nt0=nt, spatdims=(ny, nx), chunks=chunks),
                     sq * pld.Laplacian(mdims, chunks=chunks, **lap)])

    def ours(yd, zd, xd):
        return cgls(Op, pld.StackedArray([yd, zd]), x0=xd, **kw)[0].compute()

    best = dict(np=np.inf, th=np.inf, cl=np.inf)
    out = {}
    with worker_malloc():  # as get_client("local-processes") starts its workers
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=":0")
    try:
        with Client(cluster, set_as_default=False) as client:
            with client.as_current():
                put = put_on(client)
                dc, zc, xc = put(d, chunks), put(np.zeros(mdims), chunks), put(mb, chunks)
                cgls(Op, pld.StackedArray([dc, zc]), x0=xc, niter=2, tol=0)[0].compute()
            for _ in range(args.repeat):
                t, out["np"] = timed(lambda: pylops.optimization.basic.cgls(
                    POp, ytot, x0=mb.ravel(), **kw)[0].reshape(mdims))
                best["np"] = min(best["np"], t)
                print(f"  PyLops {t:.2f} s", flush=True)
                with dask.config.set(scheduler="threads"):
                    yd = da.from_array(d, chunks=chunks).persist()
                    zd = da.zeros(mdims, chunks=chunks).persist()
                    xd = da.from_array(mb, chunks=chunks).persist()
                    t, out["th"] = timed(lambda: ours(yd, zd, xd))
                best["th"] = min(best["th"], t)
                print(f"  ours, threads {t:.2f} s", flush=True)
                with client.as_current():
                    t, out["cl"] = timed(lambda: ours(dc, zc, xc))
                best["cl"] = min(best["cl"], t)
                print(f"  ours, cluster {t:.2f} s", flush=True)
    finally:
        cluster.close()
    if args.no_mpi:
        t_mpi, why = None, "--no-mpi"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.npy")
            t_mpi, why = time_mpi("poststack3d", extra=(args.niter, args.dims, args.epsR, path))
            if t_mpi:  # the tutorial's layout, (ny, nx, nt)
                out["mpi"] = np.load(path).reshape(dims).transpose(2, 0, 1)
        print(f"  PyLops-MPI {f'{t_mpi:.2f} s' if t_mpi else why}", flush=True)
    xr = out["np"]

    def rel(key):
        return np.linalg.norm(out[key] - xr) / np.linalg.norm(xr)

    t_np, t_th, t_cl = best["np"], best["th"], best["cl"]
    mpi = f"{t_mpi:.2f} s (x {rel('mpi'):.0e})" if t_mpi else f"n/a ({why})"
    err = np.linalg.norm(xr - m) / np.linalg.norm(m - mb)
    print(f"Post-stack CGLS {args.niter} it, [PPop; sqrt({args.epsR:g}) Laplacian], model "
          f"{nt}x{ny}x{nx} (nt x ny x nx), best of {args.repeat} (x: relative difference to "
          f"PyLops' estimate; PyLops' |x - m| / |m - x0| = {err:.2f}):")
    print("| PyLops | ours, threads | ours, 2-process cluster | PyLops-MPI, 2 ranks "
          "| cluster / PyLops | cluster / MPI |")
    print("|---|---|---|---|---|---|")
    print(f"| {t_np:.2f} s | {t_th:.2f} s ({t_th / t_np:.2f}x; x {rel('th'):.0e}) "
          f"| {t_cl:.2f} s (x {rel('cl'):.0e}) | {mpi} | {t_cl / t_np:.2f}x "
          f"| {f'{t_cl / t_mpi:.2f}x' if t_mpi else 'n/a'} |")


def mdd_problem(nt, ns, nr, nv, nfmax=None):
    """``(G, x)``: a kernel of ``nfmax`` frequencies (default ``nt // 2 + 1``; a band-limited
    spectrum with hyperbolic travel times from every source to every receiver) and a model of
    shape ``(nt, nr, nv)`` (a few spikes per virtual source)."""
    dt = 0.004
    nfmax = nt // 2 + 1 if nfmax is None else nfmax
    f = np.fft.rfftfreq(nt, dt)[:nfmax]
    xs, xr = np.linspace(0, 1000, ns), np.linspace(0, 1000, nr)
    tau = np.sqrt(0.2 ** 2 + ((xs[:, None] - xr[None, :]) / 2000.0) ** 2)
    spec = (f / 20.0) ** 2 * np.exp(-(f / 20.0) ** 2)
    G = spec[:, None, None] * np.exp(-2j * np.pi * f[:, None, None] * tau[None])
    rng = np.random.default_rng(0)
    x = np.zeros((nt, nr, nv))
    for v in range(nv):
        idx = rng.integers(0, nt, 4), rng.integers(0, nr, 4)
        x[idx[0], idx[1], v] = rng.standard_normal(4)
    return G, x, dt


def part_mdd(args):
    nt, ns, nr, nv = (int(n) for n in args.mdd_dims.split("x"))
    G, x, dt = mdd_problem(nt, ns, nr, nv, args.mdd_nfmax)
    POp = pylops.waveeqprocessing.MDC(G, nt=nt, nv=nv, dt=dt, dr=1.0, twosided=True)
    y = (POp @ x.ravel()).reshape(nt, ns, nv)
    kw = dict(niter=args.mdd_niter, tol=0)
    nf = G.shape[0]
    Gd = da.from_array(G, chunks=(nf, -(-ns // 2), nr))  # 2 source blocks
    Op = pld.waveeqprocessing.MDC(Gd, nt=nt, nv=nv, dt=dt, dr=1.0, twosided=True)
    ych = (nt, -(-ns // 2), nv)
    best, out = dict(np=np.inf, th=np.inf, cl=np.inf, co=np.inf), {}
    with worker_malloc():
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=":0")
    try:
        with Client(cluster, set_as_default=False) as client:
            with client.as_current():
                yc = put_on(client)(y, ych)
                OpC = pld.waveeqprocessing.MDC(put_on(client)(G, Gd.chunksize), nt=nt, nv=nv,
                                               dt=dt, dr=1.0, twosided=True)
                cgls(OpC, yc, niter=2, tol=0)[0].compute()
                with dask.config.set({"pylops_distributed.collective": True}):
                    cgls(OpC, yc, niter=2, tol=0)[0].compute()  # opens the communicator
            for _ in range(args.repeat):
                t, out["np"] = timed(lambda: pylops.optimization.basic.cgls(
                    POp, y.ravel(), **kw)[0].reshape(nt, nr, nv))
                best["np"] = min(best["np"], t)
                with dask.config.set(scheduler="threads"):
                    yd = da.from_array(y, chunks=ych).persist()
                    t, out["th"] = timed(lambda: cgls(Op, yd, **kw)[0].compute())
                best["th"] = min(best["th"], t)
                with client.as_current():
                    t, out["cl"] = timed(lambda: cgls(OpC, yc, **kw)[0].compute())
                best["cl"] = min(best["cl"], t)
                # the collective path (one task per worker, Gloo all-reduces), opt-in on CPUs
                with client.as_current(), dask.config.set({"pylops_distributed.collective": True}):
                    t, out["co"] = timed(lambda: cgls(OpC, yc, **kw)[0].compute())
                best["co"] = min(best["co"], t)
    finally:
        cluster.close()
    if args.no_mpi:
        t_mpi, why = None, "--no-mpi"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.npy")
            t_mpi, why = time_mpi("mdd", extra=(args.mdd_niter, args.mdd_dims, nf, path))
            if t_mpi:
                out["mpi"] = np.load(path)
    xr = out["np"]

    def rel(key):
        return np.linalg.norm(np.reshape(out[key], xr.shape) - xr) / np.linalg.norm(xr)

    t_np, t_th, t_cl, t_co = best["np"], best["th"], best["cl"], best["co"]
    mpi = f"{t_mpi:.2f} s (x {rel('mpi'):.0e})" if t_mpi else f"n/a ({why})"

    def to_mpi(t):
        return f"{t / t_mpi:.2f}x" if t_mpi else "n/a"

    print(f"MDC CGLS {args.mdd_niter} it, nt x ns x nr x nv = {args.mdd_dims}, {nf} frequencies "
          f"(G in 2 source blocks), best of {args.repeat}:")
    print("| PyLops | ours, threads | ours, 2-process cluster | same, collective (Gloo) "
          "| PyLops-MPI, 2 ranks | cluster / MPI | collective / MPI |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {t_np:.2f} s | {t_th:.2f} s (x {rel('th'):.0e}) | {t_cl:.2f} s (x {rel('cl'):.0e}) "
          f"| {t_co:.2f} s (x {rel('co'):.0e}) | {mpi} | {to_mpi(t_cl)} | {to_mpi(t_co)} |")


def part_mdd_gpu(args):
    """MDD's CGLS on one GPU: ours (CuPy chunks, dask's threaded scheduler, ``G`` in
    ``--mdd-gpu-blocks`` source blocks) against PyLops+CuPy, same problem as part ``mdd``."""
    import cupy as cp

    nt, ns, nr, nv = (int(n) for n in args.mdd_dims.split("x"))
    G, x, dt = mdd_problem(nt, ns, nr, nv, args.mdd_nfmax)
    nf = G.shape[0]
    Gc = cp.asarray(G)
    POp = pylops.waveeqprocessing.MDC(Gc, nt=nt, nv=nv, dt=dt, dr=1.0, twosided=True)
    # PyLops' default loops over the frequencies; usematmul=True is its batched product
    POpM = pylops.waveeqprocessing.MDC(Gc, nt=nt, nv=nv, dt=dt, dr=1.0, twosided=True,
                                       usematmul=True)
    y = POp @ cp.asarray(x).ravel()
    kw = dict(niter=args.mdd_niter, tol=0)
    nb = args.mdd_gpu_blocks
    Gd = da.from_array(Gc, chunks=(nf, -(-ns // nb), nr), asarray=False).persist()
    Op = pld.waveeqprocessing.MDC(Gd, nt=nt, nv=nv, dt=dt, dr=1.0, twosided=True)
    yd = da.from_array(y.reshape(nt, ns, nv), chunks=(nt, -(-ns // nb), nv), asarray=False)

    def pylops_cupy(Pop=POp):
        out = pylops.optimization.basic.cgls(Pop, y, x0=cp.zeros(Pop.shape[1]), **kw)[0]
        cp.cuda.runtime.deviceSynchronize()
        return cp.asnumpy(out)

    def ours():
        with dask.config.set(scheduler="threads"):
            out = cgls(Op, yd, **kw)[0].compute()
        cp.cuda.runtime.deviceSynchronize()
        return cp.asnumpy(out)

    pylops_cupy(), pylops_cupy(POpM), ours()  # warm-up (cuFFT plans, kernels)
    best = dict(pc=np.inf, pm=np.inf, us=np.inf)
    for _ in range(args.repeat):
        t, ref = timed(pylops_cupy)
        best["pc"] = min(best["pc"], t)
        t, _ = timed(lambda: pylops_cupy(POpM))
        best["pm"] = min(best["pm"], t)
        t, got = timed(ours)
        best["us"] = min(best["us"], t)
    err = np.linalg.norm(got.ravel() - ref.ravel()) / np.linalg.norm(ref)
    print(f"MDC CGLS {args.mdd_niter} it on one GPU ({cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}), "
          f"nt x ns x nr x nv = {args.mdd_dims}, {nf} frequencies, G in {nb} source block(s), "
          f"best of {args.repeat}:")
    print("| PyLops+CuPy | PyLops+CuPy, usematmul=True | ours, CuPy chunks | ours / PyLops+CuPy "
          "(default, usematmul) |")
    print("|---|---|---|---|")
    print(f"| {best['pc'] * 1e3:.1f} ms | {best['pm'] * 1e3:.1f} ms | {best['us'] * 1e3:.1f} ms "
          f"(x {err:.0e}) | {best['us'] / best['pc']:.2f}x, {best['us'] / best['pm']:.2f}x |")


def lsm_problem(nstot, sources=None):
    """PyLops-MPI's LSM tutorial: the Kirchhoff arguments (all ``nstot`` sources, or those of
    ``sources``, a slice) and the reflectivity."""
    nx, nz, dx = 81, 60, 4
    x, z = np.arange(nx) * dx, np.arange(nz) * dx
    refl = np.zeros((nx, nz))
    refl[:, 30] = -1
    refl[:, 50] = 0.5
    recs = np.vstack((np.linspace(10 * dx, (nx - 10) * dx, 11), 20 * np.ones(11)))
    srcs = np.vstack((np.linspace(dx * 10, (nx - 10) * dx, nstot), 10 * np.ones(nstot)))
    if sources is not None:
        srcs = srcs[:, sources]
    t = np.arange(651) * 0.004
    wav, _, wavc = pylops.utils.wavelets.ricker(t[:41], f0=20)
    return dict(z=z, x=x, t=t, srcs=srcs, recs=recs, vel=1000.0, wav=wav, wavcenter=wavc,
                mode="analytic"), refl


def part_lsm(args, per_worker=10, nworkers=2):
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    nstot = per_worker * nworkers
    kw, refl = lsm_problem(nstot)
    POp = pylops.waveeqprocessing.Kirchhoff(**kw, engine="numba")
    d = (POp @ refl.ravel()).reshape(POp.dimsd)
    ckw = dict(niter=args.lsm_niter, tol=0)
    Op = pld.waveeqprocessing.Kirchhoff(**kw, shot_chunks=per_worker)
    ych = (per_worker,) + d.shape[1:]
    best, out = dict(np=np.inf, th=np.inf, cl=np.inf, co=np.inf), {}
    collective = {"pylops_distributed.collective": True}
    with worker_malloc():
        cluster = LocalCluster(n_workers=nworkers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=":0")
    try:
        with Client(cluster, set_as_default=False) as client:
            with client.as_current():
                yc = put_on(client)(d, ych)
                cgls(Op, yc, niter=2, tol=0)[0].compute()  # workers compile the loops
                with dask.config.set(collective):  # and open the communicator
                    cgls(Op, yc, niter=2, tol=0)[0].compute()
            with dask.config.set(scheduler="threads"):
                cgls(Op, da.from_array(d, chunks=ych), niter=2, tol=0)[0].compute()
            for _ in range(args.repeat):
                t, out["np"] = timed(lambda: pylops.optimization.basic.cgls(
                    POp, d.ravel(), **ckw)[0].reshape(refl.shape))
                best["np"] = min(best["np"], t)
                with dask.config.set(scheduler="threads"):
                    yd = da.from_array(d, chunks=ych).persist()
                    t, out["th"] = timed(lambda: cgls(Op, yd, **ckw)[0].compute())
                best["th"] = min(best["th"], t)
                with client.as_current():
                    t, out["cl"] = timed(lambda: cgls(Op, yc, **ckw)[0].compute())
                best["cl"] = min(best["cl"], t)
                with client.as_current(), dask.config.set(collective):
                    t, out["co"] = timed(lambda: cgls(Op, yc, **ckw)[0].compute())
                best["co"] = min(best["co"], t)
    finally:
        cluster.close()
    if args.no_mpi:
        t_mpi, why = None, "--no-mpi"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "lsm.npy")
            t_mpi, why = time_mpi("lsm", nproc=nworkers, extra=(args.lsm_niter, per_worker, path))
            if t_mpi:
                out["mpi"] = np.load(path).reshape(refl.shape)
    xr = out["np"]

    def rel(key):
        return np.linalg.norm(np.reshape(out[key], xr.shape) - xr) / np.linalg.norm(xr)

    t_np, t_th, t_cl, t_co = best["np"], best["th"], best["cl"], best["co"]
    mpi = f"{t_mpi:.2f} s (x {rel('mpi'):.0e})" if t_mpi else f"n/a ({why})"
    print(f"LSM CGLS {args.lsm_niter} it, 81 x 60 image, {nstot} shots ({per_worker} per "
          f"worker), 11 receivers, 651 samples, best of {args.repeat}:")
    print("| PyLops | ours, threads | ours, 2-process cluster | ours, cluster, collective "
          "(Gloo) | PyLops-MPI 2 ranks | collective / PyLops | collective / MPI |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {t_np:.2f} s | {t_th:.2f} s (x {rel('th'):.0e}) | {t_cl:.2f} s (x {rel('cl'):.0e}) "
          f"| {t_co:.2f} s (x {rel('co'):.0e}) | {mpi} | {t_co / t_np:.2f}x "
          f"| {f'{t_co / t_mpi:.2f}x' if t_mpi else 'n/a'} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="poststack")
    p.add_argument("--repeat", type=int, default=1, help="best of N, alternated")
    p.add_argument("--niter", type=int, default=100)
    p.add_argument("--dims", default="x".join(map(str, DIMS)), help="ny x nx x nt")
    p.add_argument("--epsR", type=float, default=EPSR)
    p.add_argument("--no-mpi", action="store_true")
    p.add_argument("--mdd-dims", default="401x100x100x20", help="mdd: nt x ns x nr x nv")
    p.add_argument("--mdd-niter", type=int, default=50)
    p.add_argument("--mdd-nfmax", type=int, help="mdd: frequencies kept (default nt // 2 + 1)")
    p.add_argument("--mdd-gpu-blocks", type=int, default=1, help="mdd-gpu: source blocks of G")
    p.add_argument("--lsm-niter", type=int, default=100)
    args = p.parse_args(argv)
    parts = [s for s in args.parts.split(",") if s]
    unknown = set(parts) - {"poststack", "mdd", "mdd-gpu", "lsm"}
    if unknown:
        p.error(f"unknown parts {sorted(unknown)}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python "
          f"{platform.python_version()}, NumPy {np.__version__}, dask {dask.__version__}, "
          f"PyLops {pylops.__version__}", flush=True)
    if "poststack" in parts:
        part_poststack(args)
    if "mdd" in parts:
        part_mdd(args)
    if "mdd-gpu" in parts:
        part_mdd_gpu(args)
    if "lsm" in parts:
        part_lsm(args)


if __name__ == "__main__":
    main()
