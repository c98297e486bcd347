"""Benchmarks of the stencil operators (issue 3) against PyLops on the same problem.

    python benchmarks/bench_derivatives.py cpu            # (a) CPU, 2-process LocalCluster
    python benchmarks/bench_derivatives.py gpu-kernels    # (b) per-chunk kernels on one GPU
    python benchmarks/bench_derivatives.py gpu-cgls       # (c) CGLS on LocalCUDACluster (1 GPU)

(a) Laplacian (2 axes) forward + adjoint on 4000 x 4000 float64 in 4 chunks along axis 0:
    ours on a 2-process LocalCluster (input persisted; result persisted and waited for)
    against PyLops/NumPy in this process. Goal: ratio <= 0.5.
(b) Per-chunk kernel time (CUDA events, median) of FirstDerivative (axis 0 and -1) and the
    3-D Laplacian on a 400^3 float32 CuPy array, against the bandwidth floor (bytes read and
    written / measured device-to-device copy rate) and against PyLops+CuPy. Goal: <= 2x floor.
    Needs CuPy only (no dask on the GPU box is fine: the kernels are called directly).
(c) CGLS, 20 iterations, on the 3-D Laplacian 400^3 float32: ours on a LocalCUDACluster with
    one GPU (model in one chunk) against PyLops+CuPy's cgls on the same GPU. Goal: <= 0.5.
    Needs dask, distributed and dask-cuda.

Every part prints a table of times and ratios; speed goals live here, never in tests.
"""

import argparse
import gc
import os
import platform
import statistics
import sys
import time


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(f"{{:>{w}}}" for w in widths)
    print(line.format(*header))
    for r in rows:
        print(line.format(*r))


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        gc.collect()  # a full collection inside the clock costs tens of ms (as timeit avoids)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


# --- (a) CPU ----------------------------------------------------------------------------------
def bench_cpu(n=4000, nchunks=4, repeat=5, workers=2):
    import dask.array as da
    import numpy as np
    import pylops
    from distributed import Client, LocalCluster, wait

    import pylops_distributed as pld

    rows = []
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        xd = da.random.default_rng(0).standard_normal((n, n), chunks=(n // nchunks, n))
        xd = client.persist(xd)
        wait(xd)
        x = xd.compute()  # the same data, for PyLops in this process

        def ours():
            L = pld.Laplacian((n, n), dtype="float64")  # new operator: new task keys each time
            y = client.persist(L.H @ (L @ xd))
            wait(y)
            return y

        PL = pylops.Laplacian((n, n), dtype="float64")

        def peer():
            return PL.H @ (PL @ x.ravel())

        ours(), peer()  # warm-up (imports, compiled kernels)
        # alternate the two, so that both see the same machine load
        t_us, t_pl = [], []
        for _ in range(repeat):
            t_us.append(_best(ours, 1)[0])
            t_pl.append(_best(peer, 1)[0])
        (t_us, m_us), (t_pl, m_pl) = [(min(t), statistics.median(t)) for t in (t_us, t_pl)]
        # build time alone (client Python), and tasks per fwd+adj
        L = pld.Laplacian((n, n), dtype="float64")
        t0 = time.perf_counter()
        g = L.H @ (L @ xd)
        t_build = time.perf_counter() - t0
        ntasks = len(dict(g.__dask_graph__())) - len(dict(xd.__dask_graph__()))
        ok = np.allclose(ours().compute(), peer().reshape(n, n))

    rows.append(("PyLops/NumPy (1 process)", f"{t_pl * 1e3:.1f}", f"{m_pl * 1e3:.1f}", "1.00",
                 "1.00", ""))
    rows.append((f"ours, LocalCluster {workers}x1", f"{t_us * 1e3:.1f}", f"{m_us * 1e3:.1f}",
                 f"{t_us / t_pl:.3f}", f"{m_us / m_pl:.3f}",
                 f"{ntasks} tasks, build {t_build * 1e3:.1f} ms, equal={ok}"))
    print(f"(a) Laplacian axes=(0, 1) forward+adjoint, {n}x{n} float64, {nchunks} chunks on axis 0"
          f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    _table(rows, ("", "best ms", "median ms", "ratio best", "ratio median", "notes"))
    print(f"goal: ratio <= 0.5 -> {'met' if t_us / t_pl <= 0.5 else 'NOT met'} (best), "
          f"{'met' if m_us / m_pl <= 0.5 else 'NOT met'} (median)")


# --- (b) GPU kernels --------------------------------------------------------------------------
def _cuda_time(fn, repeat=20, calls=1):
    """Median device time per call (CUDA events) over ``repeat`` samples of ``calls`` calls in
    a row: with ``calls > 1`` the host's launch work overlaps the previous kernel (what a
    kernel costs inside a longer computation); with 1 it is on the clock."""
    import cupy

    fn()
    cupy.cuda.Device().synchronize()
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    times = []
    for _ in range(repeat):
        start.record()
        for _ in range(calls):
            fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) * 1e-3 / calls)
    return statistics.median(times)


def copy_rate(nbytes=4 << 30):
    """Device-to-device copy rate in bytes/s, counting bytes read plus bytes written."""
    import cupy

    a = cupy.empty(nbytes // 4, dtype=cupy.float32)
    b = cupy.empty_like(a)
    t = _cuda_time(lambda: b.__setitem__(Ellipsis, a), repeat=10, calls=5)
    del a, b
    cupy.get_default_memory_pool().free_all_blocks()
    return 2 * nbytes / t


def bench_gpu_kernels(n=400, repeat=20, copy_bytes=4 << 30):
    import cupy
    import numpy as np
    import pylops

    from pylops_distributed import _stencils
    from pylops_distributed.basicoperators.firstderivative import FirstDerivative
    from pylops_distributed.basicoperators.laplacian import Laplacian

    rate = copy_rate(copy_bytes)
    dims = (n, n, n)
    x = cupy.random.standard_normal(dims, dtype=cupy.float32)
    where = tuple((0, 0, s, s) for s in dims)  # one chunk holding the whole array
    cases = [
        ("FirstDerivative axis=0", FirstDerivative(dims, axis=0, dtype="float32"),
         pylops.FirstDerivative(dims, axis=0, dtype="float32")),
        ("FirstDerivative axis=-1", FirstDerivative(dims, axis=-1, dtype="float32"),
         pylops.FirstDerivative(dims, axis=-1, dtype="float32")),
        ("Laplacian 3-D", Laplacian(dims, axes=(0, 1, 2), weights=(1, 1, 1), sampling=(1, 1, 1),
                                    dtype="float32"),
         pylops.Laplacian(dims, axes=(0, 1, 2), weights=(1, 1, 1), sampling=(1, 1, 1),
                          dtype="float32")),
    ]
    floor = 2 * x.nbytes / rate
    rows = []
    for label, Op, POp in cases:
        for adj in (False, True):
            kw = Op._plans[adj]["kwargs"]

            def call():
                return _stencils.sum_kernel(x, where=where, otype=np.dtype("float32"), **kw)

            t = _cuda_time(call, repeat, calls=10)
            t1 = _cuda_time(call, repeat)
            xf = x.ravel()
            tp = _cuda_time(lambda: (POp.H if adj else POp) @ xf, repeat, calls=10)
            ours = _stencils.sum_kernel(x, where=where, otype=np.dtype("float32"), **kw)
            ref = ((POp.H if adj else POp) @ xf).reshape(dims)
            err = float(cupy.abs(ours - ref).max() / cupy.abs(ref).max())
            rows.append((label + (" adjoint" if adj else ""), f"{t * 1e3:.3f}", f"{t1 * 1e3:.3f}",
                         f"{floor * 1e3:.3f}", f"{t / floor:.2f}", f"{tp * 1e3:.3f}",
                         f"{t / tp:.3f}", f"{err:.1e}"))
    dev = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"(b) per-chunk kernels, {n}^3 float32 on {dev}; copy rate {rate / 1e9:.0f} GB/s "
          f"(read+write), floor = {2 * x.nbytes / 1e6:.0f} MB / rate")
    print("ours ms: per call, 10 calls in a row (host launch work overlaps the previous "
          "kernel); 1 call: a lone call, launch work on the clock")
    _table(rows, ("kernel", "ours ms", "1 call ms", "floor ms", "x floor", "PyLops+CuPy ms",
                  "ours/PyLops", "rel err"))
    worst = max(float(r[4]) for r in rows)
    print(f"goal: <= 2x floor -> {'met' if worst <= 2 else 'NOT met'} (worst {worst:.2f}x)")


# --- (c) CGLS on one GPU ----------------------------------------------------------------------
def bench_gpu_cgls(n=400, niter=20, repeat=3):
    import cupy
    import dask.array as da
    import numpy as np
    import pylops
    from dask_cuda import LocalCUDACluster
    from distributed import Client, wait

    import pylops_distributed as pld
    from pylops_distributed.optimization import cgls, lsqr

    dims = (n, n, n)
    kw = dict(axes=(0, 1, 2), weights=(1, 1, 1), sampling=(1, 1, 1), dtype="float32")

    # PyLops + CuPy, in this process (no dask involved)
    POp = pylops.Laplacian(dims, **kw)
    y_host = np.random.default_rng(0).standard_normal(dims).astype("float32")
    y = cupy.asarray(y_host.ravel())

    def peer():
        x = pylops.optimization.basic.cgls(POp, y, x0=cupy.zeros_like(y), niter=niter, tol=0)[0]
        cupy.cuda.Device().synchronize()
        return x

    def peer_lsqr():
        x = pylops.optimization.basic.lsqr(POp, y, x0=cupy.zeros_like(y), niter=niter, atol=0,
                                           btol=0, conlim=0, calc_var=False)[0]
        cupy.cuda.Device().synchronize()
        return x

    peer()
    t_peer, _ = _best(peer, repeat)
    x_peer = cupy.asnumpy(peer())
    peer_lsqr()
    t_peer_lsqr, _ = _best(peer_lsqr, repeat)
    del y
    cupy.get_default_memory_pool().free_all_blocks()

    rows = []
    with LocalCUDACluster(n_workers=1, dashboard_address=":0") as cluster, Client(cluster) as client:
        Op = pld.Laplacian(dims, **kw)
        # the same data on the worker's GPU, in one chunk (scattered once, not in the graph)
        yd = da.from_delayed(client.scatter(y_host), dims, dtype="float32")
        yd = client.persist(yd.map_blocks(cupy.asarray, dtype="float32",
                                          meta=cupy.empty((0, 0, 0), "float32")))
        wait(yd)
        for check_every in (niter, 10):
            def ours():
                x = cgls(Op, yd, niter=niter, tol=0, check_every=check_every)[0]
                wait(x)
                return x

            ours()
            t_us, _ = _best(ours, repeat)
            rows.append((f"ours, LocalCUDACluster 1 GPU, check_every={check_every}",
                         f"{t_us * 1e3:.1f}", f"{t_us / t_peer:.3f}"))
        x_us = ours().map_blocks(cupy.asnumpy, dtype="float32",
                                 meta=np.empty((0, 0, 0), "float32")).compute()

        def ours_lsqr():
            x = lsqr(Op, yd, niter=niter, atol=0, btol=0, conlim=0, calc_var=False,
                     check_every=10)[0]
            wait(x)
            return x

        ours_lsqr()
        t_lsqr, _ = _best(ours_lsqr, repeat)
        rows.append(("PyLops+CuPy lsqr", f"{t_peer_lsqr * 1e3:.1f}", "-"))
        rows.append(("ours lsqr, check_every=10 (ratio to PyLops+CuPy lsqr)",
                     f"{t_lsqr * 1e3:.1f}", f"{t_lsqr / t_peer_lsqr:.3f}"))

    diff = float(np.abs(x_us.ravel() - x_peer).max() / np.abs(x_peer).max())
    rows.insert(0, ("PyLops+CuPy cgls", f"{t_peer * 1e3:.1f}", "1.000"))
    print(f"(c) CGLS {niter} iterations, 3-D Laplacian {n}^3 float32 (rel. diff to PyLops {diff:.1e})")
    _table(rows, ("", "best ms", "ratio"))
    best = min(float(r[2]) for r in rows if r[0].startswith("ours, LocalCUDACluster"))
    print(f"goal (CGLS): ratio <= 0.5 -> {'met' if best <= 0.5 else 'NOT met'}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("part", choices=["cpu", "gpu-kernels", "gpu-cgls"])
    p.add_argument("--n", type=int, default=None, help="problem size (default 4000 / 400)")
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--copy-gib", type=float, default=4.0,
                   help="size of the device copy that measures the bandwidth (b)")
    a = p.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"Python {sys.version.split()[0]}")
    if a.part == "cpu":
        bench_cpu(n=a.n or 4000, repeat=a.repeat or 5)
    elif a.part == "gpu-kernels":
        bench_gpu_kernels(n=a.n or 400, repeat=a.repeat or 20, copy_bytes=int(a.copy_gib * 2 ** 30))
    else:
        bench_gpu_cgls(n=a.n or 400, repeat=a.repeat or 3)


if __name__ == "__main__":
    main()
