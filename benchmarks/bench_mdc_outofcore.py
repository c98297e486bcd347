"""MDC with its kernel in zarr, larger than the workers' memory: the applies stream ``G``.

A kernel ``G`` of shape (nfmax, ns, nr), complex64, is written to a zarr store in blocks of
sources and receivers, ``--times`` (3) times the total memory limit of a 2-worker
``LocalCluster`` (``--memory-limit`` per worker, one thread each). ``MDC`` forward and adjoint
are then computed on that cluster from the lazy ``da.from_zarr(G)``: one task per block of
``G``, each reading its block from disk, the receiver (source) blocks' contributions summed by
a tree. The script prints the wall times, the workers' peak resident memory against their
limit (sampled every 20 ms in the worker processes, after a warm-up that imports), the bytes
spilled, and the relative difference to PyLops' MDC applied on the client with ``G`` in
memory.

    python benchmarks/bench_mdc_outofcore.py [--memory-limit 700MB] [--times 3] [--nt 1051]
                                             [--ns 1000] [--nv 1] [--block 100]
"""

import argparse
import os
import platform
import shutil
import tempfile
import time

import dask
import dask.array as da
import numpy as np
import pylops
from dask.utils import format_bytes, parse_bytes
from distributed import Client, LocalCluster

import pylops_distributed as pld


def _start_sampling(dask_worker, every=0.02):
    """Sample this worker's resident memory in a thread; its peak is read by
    :func:`_stop_sampling`."""
    import threading

    import psutil

    proc, state = psutil.Process(), {"peak": 0, "run": True}

    def loop():
        while state["run"]:
            state["peak"] = max(state["peak"], proc.memory_info().rss)
            time.sleep(every)

    state["before"] = proc.memory_info().rss
    dask_worker._mdc_rss = state
    threading.Thread(target=loop, daemon=True).start()


def _stop_sampling(dask_worker):
    state = dask_worker._mdc_rss
    state["run"] = False
    return state["before"], state["peak"]


def _spilled(dask_worker):
    """Bytes this worker wrote to its spill directory."""
    total = getattr(dask_worker.data, "spilled_total", None)
    return int(getattr(total, "disk", total or 0))


def write_kernel(path, nfmax, ns, block):
    """``G`` (nfmax, ns, ns) complex64, random, in (nfmax, block, block) chunks, written by
    the local threads (not the limited cluster)."""
    rng = da.random.default_rng(0)
    shape, chunks = (nfmax, ns, ns), (nfmax, block, block)
    G = (rng.standard_normal(shape, chunks=chunks, dtype=np.float32)
         + 1j * rng.standard_normal(shape, chunks=chunks, dtype=np.float32)).astype(np.complex64)
    with dask.config.set(scheduler="threads"):
        da.to_zarr(G, path, overwrite=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--memory-limit", default="700MB", help="per worker")
    p.add_argument("--times", type=float, default=3.0, help="G's size over the total limit")
    p.add_argument("--nt", type=int, default=1051, help="time samples (odd, two-sided)")
    p.add_argument("--ns", type=int, default=1000, help="sources = receivers")
    p.add_argument("--nv", type=int, default=1, help="virtual sources")
    p.add_argument("--block", type=int, default=100, help="sources (receivers) per block")
    args = p.parse_args(argv)
    limit = parse_bytes(args.memory_limit)
    ns, nt, nv = args.ns, args.nt, args.nv
    nfmax = int(np.ceil(args.times * 2 * limit / (8 * ns * ns)))
    if nfmax > (nt + 1) // 2:
        p.error(f"G needs {nfmax} frequencies for {args.times}x the memory: raise --nt or --ns")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: "
          f"{os.cpu_count()} cores, NumPy {np.__version__}, dask {dask.__version__}, "
          f"PyLops {pylops.__version__}", flush=True)
    tmp = tempfile.mkdtemp(prefix="mdc-zarr-")
    try:
        path = os.path.join(tmp, "G.zarr")
        t0 = time.perf_counter()
        write_kernel(path, nfmax, ns, args.block)
        nbytes = nfmax * ns * ns * 8
        print(f"G: {nfmax} x {ns} x {ns} complex64 = {format_bytes(nbytes)} in zarr, blocks of "
              f"{args.block} x {args.block} ({format_bytes(nfmax * args.block ** 2 * 8)} each), "
              f"written in {time.perf_counter() - t0:.1f} s", flush=True)
        rng = np.random.default_rng(1)
        x = rng.standard_normal((nt, ns, nv)).astype(np.float32)
        y = rng.standard_normal((nt, ns, nv)).astype(np.float32)
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=limit,
                               host="127.0.0.1", dashboard_address=":0")
        try:
            with Client(cluster, set_as_default=False) as client, client.as_current():
                small = pld.waveeqprocessing.MDC(np.ones((4, 8, 8), np.complex64), 9, 1)
                (small @ da.ones((9, 8, 1), chunks=(9, 8, 1))).compute()  # imports, warm-up
                client.run(_start_sampling)
                Op = pld.waveeqprocessing.MDC(da.from_zarr(path), nt=nt, nv=nv, dt=0.004)
                t0 = time.perf_counter()
                fwd = (Op @ da.from_array(x, chunks=(nt, ns, nv))).compute()
                t_fwd = time.perf_counter() - t0
                t0 = time.perf_counter()
                adj = (Op.H @ da.from_array(y, chunks=(nt, args.block, nv))).compute()
                t_adj = time.perf_counter() - t0
                rss = client.run(_stop_sampling)
                spilled = sum(client.run(_spilled).values())
        finally:
            cluster.close()
        G = da.from_zarr(path).compute()
        POp = pylops.waveeqprocessing.MDC(G, nt=nt, nv=nv, dt=0.004, usematmul=True)
        ref_f = (POp @ x.ravel()).reshape(fwd.shape)
        ref_a = (POp.H @ y.ravel()).reshape(adj.shape)
        del G
        ef = np.linalg.norm(fwd - ref_f) / np.linalg.norm(ref_f)
        ea = np.linalg.norm(adj - ref_a) / np.linalg.norm(ref_a)
        print(f"2 workers x {format_bytes(limit)} (total {format_bytes(2 * limit)}), G "
              f"{nbytes / (2 * limit):.1f}x that:")
        print("| apply | time | vs PyLops (G in memory) |")
        print("|---|---|---|")
        print(f"| forward | {t_fwd:.2f} s | {ef:.0e} |")
        print(f"| adjoint | {t_adj:.2f} s | {ea:.0e} |")
        for w in sorted(rss):
            print(f"worker {w}: peak resident memory {format_bytes(rss[w][1])} (before the "
                  f"applies {format_bytes(rss[w][0])}; limit {format_bytes(limit)})")
        print(f"spilled to disk: {format_bytes(spilled)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
