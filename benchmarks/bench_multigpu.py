"""GPU scaling of CGLS (or FISTA) on a float32 Laplacian: 1 GPU (1 and 2 chunks), 2 GPUs,
PyLops+CuPy.

Run on the lent ``nvidia-h200-x2`` (``NCCL_NVLS_ENABLE=0``)::

    python benchmarks/bench_multigpu.py                      # 800x400x400, 50 iterations
    python benchmarks/bench_multigpu.py --shape 1600 800 800 --skip-fused
    python benchmarks/bench_multigpu.py --shape 1600 800 800 --gpus 1 2 4 --skip-fused   # strong
    python benchmarks/bench_multigpu.py --shape 800 400 400 --gpus 1 2 4 --weak --skip-peer
    python benchmarks/bench_multigpu.py --solver fista --skip-fused   # FISTA, eps=0.1

Each configuration starts its own ``LocalCUDACluster`` (TCP between workers; the collective
path moves halos and dots through NCCL), makes the data on the workers (a smooth field,
the same whatever the chunks), runs one warm-up solve (the communicator is opened there and
kept) and times ``--repeat`` solves of ``--niter`` iterations (``tol=0``, ``check_every=10``),
the result persisted on the GPUs. PyLops+CuPy runs on one GPU in this process, last.
``--gpus`` lists the GPU counts to run the collective path on (one chunk per GPU; default 1
and 2, or as many as there are); ``--weak`` makes ``--shape`` the size per GPU (axis 0 grows
with the GPUs; efficiency is then the time on one GPU over the time on N).

PyLops-MPI over NCCL is run apart, one MPI rank per GPU: ``benchmarks/_mpi_gpu_peer.py``.

Printed per line: time per solve and per iteration, speed-up and efficiency against ours on
one GPU with one chunk, the ratio to PyLops+CuPy, bytes moved between GPUs per iteration
(halo planes of the two applications, from the operator's kernels), and the answer's
relative difference from PyLops+CuPy's.
"""

import argparse
import json
import os
import time

import numpy as np

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")


def make_block(block_info=None, dtype="float32"):
    """Chunk of a smooth 3-D field, the same values whatever the chunking (on the worker)."""
    import cupy

    loc = block_info[None]["array-location"]
    i, j, k = (cupy.arange(a, b, dtype=cupy.float32) for a, b in loc)
    return (cupy.sin(0.013 * i)[:, None, None] * cupy.cos(0.021 * j)[None, :, None]
            + 0.1 * cupy.sin(0.007 * k)[None, None, :] + 0.01 * (i[:, None, None] % 7)).astype(dtype)


def halo_bytes(shape, nchunks, itemsize=4):
    """Bytes sent between ranks per CGLS iteration: the Laplacian reads one plane each side,
    two applications per iteration."""
    plane = int(np.prod(shape[1:])) * itemsize
    return 2 * 2 * (nchunks - 1) * plane


#: The solvers run: ours and PyLops', with the same arguments (FISTA's step size given, the
#: largest eigenvalue of the Laplacian's normal operator being at most 12^2 in 3-D).
SOLVERS = {"cgls": ("cgls", dict()), "fista": ("fista", dict(eps=0.1, alpha=1 / 144))}


def ours(shape, ngpus, nchunks, niter, repeat, collective=True, solver="cgls"):
    import dask
    import dask.array as da
    import cupy
    from dask_cuda import LocalCUDACluster
    from distributed import Client, wait

    import pylops_distributed as pld
    from pylops_distributed.optimization import cgls, sparsity

    name, kw = SOLVERS[solver]
    run = cgls if name == "cgls" else getattr(sparsity, name)

    devices = ",".join(str(i) for i in range(ngpus))
    chunks = (-(-shape[0] // nchunks),) + tuple(shape[1:])
    with LocalCUDACluster(CUDA_VISIBLE_DEVICES=devices, n_workers=ngpus, protocol="tcp",
                          host="127.0.0.1", dashboard_address=":0") as cluster, \
            Client(cluster) as client, \
            dask.config.set({"pylops_distributed.collective": collective}):
        y = da.map_blocks(make_block, chunks=da.core.normalize_chunks(chunks, shape),
                          dtype=np.float32, meta=cupy.empty((0, 0, 0), np.float32))
        y = client.persist(y)
        wait(y)
        Op = pld.Laplacian(shape, dtype="float32")
        run(Op, y, niter=5, tol=0, **kw)  # warm-up: kernels compiled, communicator opened
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            x = run(Op, y, niter=niter, tol=0, **kw)[0]
            wait(x)
            times.append(time.perf_counter() - t0)
        s1 = float(x.sum().compute())
        s2 = float((x * x).sum().compute())
    return min(times), (s1, s2)


def peer(shape, niter, repeat, solver="cgls"):
    import cupy
    import pylops

    name, kw = SOLVERS[solver]
    run = getattr(pylops.optimization.basic if name == "cgls" else pylops.optimization.sparsity,
                  name)

    y = make_block({None: {"array-location": [(0, n) for n in shape]}})
    Op = pylops.Laplacian(shape, dtype="float32")
    run(Op, y.ravel(), niter=5, tol=0, **kw)
    times = []
    for _ in range(repeat):
        cupy.cuda.Device().synchronize()
        t0 = time.perf_counter()
        out = run(Op, y.ravel(), niter=niter, tol=0, **kw)[0]
        cupy.cuda.Device().synchronize()
        times.append(time.perf_counter() - t0)
    return min(times), (float(out.sum()), float((out * out).sum()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", type=int, nargs=3, default=[800, 400, 400])
    p.add_argument("--niter", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-fused", action="store_true", help="leave out the fused-path lines")
    p.add_argument("--gpus", type=int, nargs="+", help="GPU counts for the collective path")
    p.add_argument("--weak", action="store_true", help="--shape is per GPU (weak scaling)")
    p.add_argument("--skip-peer", action="store_true", help="leave out PyLops+CuPy")
    p.add_argument("--solver", choices=sorted(SOLVERS), default="cgls")
    p.add_argument("--json", help="also write the figures to this file")
    a = p.parse_args()
    from distributed.diagnostics import nvml

    shape, niter = tuple(a.shape), a.niter
    ngpus = nvml.device_get_count()
    counts = [g for g in (a.gpus or [1, 2]) if g <= ngpus]

    def sized(g):
        return (shape[0] * g,) + shape[1:] if a.weak else shape

    configs = [(f"ours collective, {g} GPU{'s' if g > 1 else ''}, {g} chunk{'s' if g > 1 else ''}",
                sized(g), g, g, True) for g in counts]
    if a.gpus is None:  # (the default lines: one GPU with two chunks too)
        configs.insert(1, ("ours collective, 1 GPU, 2 chunks", shape, 1, 2, True))
    if not a.skip_fused:
        configs.append(("ours fused (no collective), 1 GPU, 1 chunk", shape, 1, 1, False))
        if ngpus >= 2:
            configs.append(("ours fused (no collective), 2 GPUs, 2 chunks", shape, 2, 2, False))
    rows = []
    for label, size, g, c, coll in configs:
        t, sums = ours(size, g, c, niter, a.repeat, coll, a.solver)
        rows.append(dict(label=label, shape=size, gpus=g, chunks=c, seconds=t, sums=sums,
                         bytes=halo_bytes(size, c) if g > 1 else 0))
        print(f"  {label} {size}: {t * 1e3:.1f} ms", flush=True)
    peer_rows = []
    if not a.skip_peer:
        tp, psums = peer(shape, niter, a.repeat, a.solver)
        peer_rows = [dict(label="PyLops+CuPy, 1 GPU", shape=shape, gpus=1, chunks=1, seconds=tp,
                          sums=psums, bytes=0)]
    base = rows[0]["seconds"]
    print(f"\n{a.solver.upper()} {niter} iterations, float32 Laplacian {shape}{' per GPU' if a.weak else ''}, "
          f"{time.strftime('%Y-%m-%d')}, {ngpus} GPU(s)")
    print(f"{'configuration':48s} {'solve':>9s} {'per it':>8s} {'speed-up':>8s} {'eff':>5s} "
          f"{'/PyLops':>8s} {'MB/it':>7s} {'rel.diff':>9s}")
    for r in rows + peer_rows:
        speed = base / r["seconds"]
        eff = speed if a.weak else speed / r["gpus"]
        ratio = f"{r['seconds'] / peer_rows[0]['seconds']:8.3f}" if peer_rows else f"{'-':>8s}"
        rel = (f"{abs(r['sums'][1] - psums[1]) / abs(psums[1]):9.1e}"
               if peer_rows and r["shape"] == shape else f"{'-':>9s}")
        print(f"{r['label']:48s} {r['seconds'] * 1e3:7.1f}ms {r['seconds'] / niter * 1e3:6.2f}ms "
              f"{speed:8.2f} {eff:5.2f} {ratio} {r['bytes'] / 1e6:7.2f} {rel}")
    rows += peer_rows
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(shape=shape, niter=niter, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
