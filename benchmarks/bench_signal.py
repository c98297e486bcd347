"""Signal-processing benchmark: FFT2D, Convolve2D and ChirpRadon3D, ours against PyLops on the
same problems, in one run (times, ratios and relative differences printed).

Part ``fft2d`` (CPU): ``FFT2D`` forward + adjoint on complex128 ``--n`` x ``--n`` (2048), in 4
chunks along axis 0 (our pencil scheme: rows, one all-to-all rechunk, columns).
``(Op.H @ (Op @ x)).compute()`` from an input persisted before the clock starts, on the
threaded scheduler and on a 2-process LocalCluster (2 workers x 1 thread, input scattered to
the workers; timed twice: result brought to the client, and result persisted and waited
for), against PyLops' ``FFT2D`` on NumPy (default engine, and ``engine="scipy"`` as a second
reference line). Goal: threaded <= 0.8x PyLops (default engine).

Part ``convolve2d`` (CPU): ``Convolve2D`` forward and adjoint (``y = Op @ x``,
``xa = Op.H @ y``, both results) on float64 ``--conv-n`` x ``--conv-n`` (4000) with a 15 x 15
Gaussian filter, ``offset=(7, 7)``, 4 chunks along axis 0: threaded (both results computed
into this process) and on the 2-process cluster (data scattered first; timed twice: both
results persisted on the workers and waited for, then the sum of each brought back; and both
results brought to the client), against PyLops' ``Convolve2D`` (its default method, "fft").
Goal: cluster (persisted) <= 0.5x PyLops.

Part ``tasks`` (CPU): tasks per chunk per iteration of CGLS (``check_every=10``) on the
2-process cluster, from the task stream: niter 30 minus niter 10, over 20 iterations and the
chunks of the data (as ``bench_solvers.py``), for
(a) ``Restriction(axis 1) @ FFT2D(axes=(1, 2)).H`` on (8, ``--tasks-n``, ``--tasks-n``)
    complex128 chunked along the batch axis 0 (no rechunk needed),
(b) the same on a 2-D ``--tasks-n`` x ``--tasks-n`` array chunked along axis 0 (the FFT's
    axes are chunked: in a product the operator rechunks them whole; Restriction along axis
    0). The rechunk tasks are in the count: the table's note lists those of each solve and
    says whether they recur every iteration (then in tasks/chunk/it) or once a solve (then
    only in the two totals; measured 2026-11-30: one rechunk-merge a solve, the solve then
    running on one chunk),
(c) ``Convolve2D`` (15 x 15) on ``--tasks-n`` x ``--tasks-n`` chunked along axis 0.
Engine budget: <= 4 tasks per chunk per iteration. The tasks an iteration adds are also
listed by task name.

Part ``gpu`` (CuPy; dask-cuda for the cluster lines), each measurement short (best of
``--gpu-repeat`` after one warm-up, times synchronised with ``cupy.cuda.Device().synchronize()``;
cluster lines: persist, wait, then a device synchronisation on every worker):
(a) ``FFT2D`` forward + adjoint on complex64 ``--gpu-n`` x ``--gpu-n`` (4096): PyLops+CuPy
    (a CuPy array, in this process) against ours with CuPy chunks, threaded scheduler first
    (``--gpu-chunks`` chunks along axis 0: 1 and 4), then a LocalCUDACluster of 1 worker;
(b) ``ChirpRadon3D`` forward + adjoint, model (ny, nx, nt) = ``--radon-dims`` (101x101x201:
    the seed talk's "201x101x101" read as nt = 201 and 101 x 101 traces; pass 201x101x101
    for the other reading), dt 4 ms, dy = dx = 10 m, pmax (1e-3, 1e-3), ``--radon-dtype``
    (float32); the seed talk's figure was 1.64 ms on a V100 with CuPy;
(c) ``FFT2D`` on complex64 ``--gpu-n2`` x ``--gpu-n2`` (8192) on 2 GPUs (LocalCUDACluster of
    2 workers, 2 chunks along axis 0) against 1 GPU (1 worker, 1 chunk, and PyLops+CuPy);
    skipped unless 2 GPUs are visible. The clusters use UCX when ``distributed_ucxx`` imports,
    else TCP (printed).
(a'), (b'): the same operators inside CGLS (20 iterations, a forward and an adjoint each;
FFT2D weighted by a random diagonal, as it is unitary and CGLS would stop after one step):
PyLops+CuPy against ours (threads, one CuPy chunk: the fused path runs the iterations between
checks in one task, so dask's cost per compute is paid once per check, not per apply).
Goals: within 1.2x of PyLops+CuPy; 2 GPUs faster than 1 for 8192^2. The threaded GPU lines
run on dask's default thread pool. The whole part took 55 s on the H200 pair (2026-11-30).

All timings: best of ``--repeat`` (the contestants alternated, so that they see the same
machine load) after one warm-up run each; graph building is inside the clock.

    python benchmarks/bench_signal.py [--parts fft2d,convolve2d,tasks] [--repeat 5]
        [--n 2048] [--conv-n 4000] [--tasks-n 512]
    python benchmarks/bench_signal.py --parts gpu [--gpu-repeat 3] [--gpu-n 4096]
        [--gpu-n2 8192] [--gpu-chunks 1,4] [--radon-dims 101x101x201] [--radon-dtype float32]
    python benchmarks/bench_signal.py --parts fft2d,convolve2d,tasks --n 256 --conv-n 400 \\
        --tasks-n 128 --repeat 1      # smoke run
"""

import os

os.environ["NCCL_NVLS_ENABLE"] = "0"  # before any CUDA library loads

import argparse
import collections
import gc
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the repository (when not installed)
sys.path.insert(0, HERE)

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
import pylops  # noqa: E402
from distributed import Client, LocalCluster, get_task_stream, wait  # noqa: E402

import pylops_distributed as pld  # noqa: E402
from bench_solvers import _idle, put_on  # noqa: E402
from pylops_distributed.cluster.local import worker_malloc  # noqa: E402

NCHUNKS = 4


# --- helpers -----------------------------------------------------------------------------------

def timed(fn):
    gc.collect()  # a full collection inside the clock costs tens of ms
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


class Contestant:
    """One line of a race: ``run(*prepare())`` is timed (``prepare``, untimed, gives what a
    run must not reuse, such as a fresh operator: its task keys are new); ``fetch(out)``
    (untimed, warm-up run only) gives the result as NumPy for the check."""

    def __init__(self, label, run, fetch=None, prepare=None):
        self.label, self.run = label, run
        self.fetch = fetch or (lambda out: out)
        self.prepare = prepare or (lambda: ())


def race(contestants, repeat):
    """{label: (best, median)} and {label: result} (from each one's warm-up run), the
    contestants alternated ``repeat`` times. Outputs are dropped after each run (persisted
    ones are released on the cluster when their futures go)."""
    results, times = {}, collections.defaultdict(list)
    for c in contestants:  # warm-up: imports, FFT plans, compiled kernels, worker caches
        out = c.run(*c.prepare())
        results[c.label] = np.ravel(c.fetch(out))
        del out
    for _ in range(repeat):
        for c in contestants:
            args = c.prepare()
            t, out = timed(lambda: c.run(*args))
            del out, args
            times[c.label].append(t)
    return {k: (min(v), statistics.median(v)) for k, v in times.items()}, results


def rel(x, ref):
    return float(np.linalg.norm(np.ravel(x) - np.ravel(ref)) / np.linalg.norm(ref))


def print_race(title, times, results, ref_label):
    ref_t = times[ref_label][0]
    ref = results[ref_label]
    print(title)
    print("| run | best ms | median ms | best / " + ref_label.split(",")[0] + " | rel. diff to "
          + ref_label.split(",")[0] + " |")
    print("|---|---|---|---|---|")
    for label, (best, med) in times.items():
        print(f"| {label} | {best * 1e3:.1f} | {med * 1e3:.1f} | {best / ref_t:.2f}x "
              f"| {rel(results[label], ref):.1e} |")


def goal(text, ratio, limit):
    print(f"goal: {text} <= {limit}x -> {ratio:.2f}x, {'met' if ratio <= limit else 'NOT met'}")


def cpu_cluster():
    with worker_malloc():  # as get_client("local-processes") starts its workers
        return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=":0")


def settle(client, x):
    """Wait for the persisted ``x`` (a collection or a list of them) on ``client``."""
    with client.as_current():
        wait(x)


# --- part fft2d --------------------------------------------------------------------------------

def part_fft2d(client, args):
    n = args.n
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype("complex128")
    chunks = (n // NCHUNKS, n)
    POp = pylops.signalprocessing.FFT2D((n, n))
    PSp = pylops.signalprocessing.FFT2D((n, n), engine="scipy")
    with dask.config.set(scheduler="threads"):
        xd = da.from_array(x, chunks=chunks).persist()
    xc = put_on(client)(x, chunks)
    xf = x.ravel()

    def fresh():  # a new operator each run: nothing reused from the previous one's keys
        return (pld.signalprocessing.FFT2D((n, n)),)

    def threads(Op):
        with dask.config.set(scheduler="threads"):
            return (Op.H @ (Op @ xd)).compute()

    def cl_compute(Op):
        return client.compute(Op.H @ (Op @ xc), sync=True)

    def cl_persist(Op):
        out = client.persist(Op.H @ (Op @ xc))
        settle(client, out)
        return out

    contestants = [
        Contestant("PyLops, NumPy engine", lambda: POp.H @ (POp @ xf)),
        Contestant("PyLops, engine='scipy'", lambda: PSp.H @ (PSp @ xf)),
        Contestant("ours, threads", threads, prepare=fresh),
        Contestant("ours, 2-process cluster, result to client", cl_compute, prepare=fresh),
        Contestant("ours, 2-process cluster, result persisted + wait", cl_persist,
                   fetch=lambda out: client.compute(out, sync=True), prepare=fresh),
    ]
    times, results = race(contestants, args.repeat)
    print_race(f"FFT2D forward+adjoint, {n}x{n} complex128, {NCHUNKS} chunks along axis 0 "
               f"(pencil: rows, one rechunk, columns), best of {args.repeat}:", times, results,
               "PyLops, NumPy engine")
    ref = times["PyLops, NumPy engine"][0]
    goal("threads / PyLops (NumPy engine)", times["ours, threads"][0] / ref, 0.8)
    scipy_t = times["PyLops, engine='scipy'"][0]
    print(f"      threads / PyLops (engine='scipy'): {times['ours, threads'][0] / scipy_t:.2f}x")
    print()


# --- part convolve2d ---------------------------------------------------------------------------

def gaussian_filter(size=15, sigma=3.0):
    t = np.arange(size) - size // 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    h = np.outer(g, g)
    return h / h.sum()


def part_convolve2d(client, args):
    try:
        from pylops_distributed.signalprocessing.convolve2d import Convolve2D
    except ImportError as e:
        print(f"convolve2d: skipped (pylops_distributed.signalprocessing.convolve2d: {e})\n")
        return
    n = args.conv_n
    h, offset = gaussian_filter(), (7, 7)
    x = np.random.default_rng(0).standard_normal((n, n))
    chunks = (n // NCHUNKS, n)
    POp = pylops.signalprocessing.Convolve2D((n, n), h, offset=offset)
    with dask.config.set(scheduler="threads"):
        xd = da.from_array(x, chunks=chunks).persist()
    xc = put_on(client)(x, chunks)
    xf = x.ravel()

    def peer():
        y = POp @ xf
        return y, POp.H @ y

    def fresh():  # a new operator each run: new task keys, nothing reused
        return (Convolve2D((n, n), h, offset=offset),)

    def graphs(Op, xin):
        y = Op @ xin
        return y, Op.H @ y

    def threads(Op):
        with dask.config.set(scheduler="threads"):
            return dask.compute(*graphs(Op, xd))

    def cl_persist(Op):
        out = client.persist(list(graphs(Op, xc)))
        settle(client, out)
        client.compute([o.sum() for o in out], sync=True)  # a cheap reduction back
        return out

    def cl_compute(Op):
        return client.compute(list(graphs(Op, xc)), sync=True)

    both = lambda out: np.concatenate([np.ravel(o) for o in out])  # noqa: E731
    contestants = [
        Contestant("PyLops", peer, fetch=both),
        Contestant("ours, threads", threads, fetch=both, prepare=fresh),
        Contestant("ours, 2-process cluster, persisted + wait + sums back", cl_persist,
                   fetch=lambda out: both(client.compute(out, sync=True)), prepare=fresh),
        Contestant("ours, 2-process cluster, both results to client", cl_compute, fetch=both,
                   prepare=fresh),
    ]
    times, results = race(contestants, args.repeat)
    print_race(f"Convolve2D forward and adjoint (y = Op x and Op^H y, both kept), {n}x{n} "
               f"float64, 15x15 Gaussian, offset {offset}, method 'fft' (PyLops' default), "
               f"{NCHUNKS} chunks along axis 0, best of {args.repeat}:", times, results,
               "PyLops")
    ref = times["PyLops"][0]
    goal("cluster (persisted + wait + sums back) / PyLops",
         times["ours, 2-process cluster, persisted + wait + sums back"][0] / ref, 0.5)
    print(f"      cluster (both results to client) / PyLops: "
          f"{times['ours, 2-process cluster, both results to client'][0] / ref:.2f}x; "
          f"threads / PyLops: {times['ours, threads'][0] / ref:.2f}x")
    print()


# --- part tasks --------------------------------------------------------------------------------

def key_name(key):
    from dask.utils import key_split
    return key_split(key)


def tasks_per_chunk(client, Op, y, lo=10, hi=30):
    """CGLS (``check_every=10``) on the cluster, task stream of niter ``lo`` and ``hi``:
    {"per": tasks per chunk per iteration (difference over ``hi - lo`` and the data's chunks),
    "per_it": tasks per iteration, "counts": the two totals, "by_name": per chunk per
    iteration by task name, "solve": task names and counts of the ``lo`` solve,
    "xchunks": chunks of the solution}."""
    from pylops_distributed.optimization import cgls

    counts, names = [], []
    with client.as_current():
        for niter in (lo, hi):
            _idle(client)
            with get_task_stream(client) as ts:
                out = cgls(Op, y, niter=niter, tol=0, check_every=10)
                xchunks = out[0].npartitions
                client.compute(out[0], sync=True)
                _idle(client)
                del out
            counts.append(len(ts.data))
            names.append(collections.Counter(key_name(t["key"]) for t in ts.data))
    scale = (hi - lo) * y.npartitions
    by_name = {k: (names[1][k] - names[0][k]) / scale for k in names[1] | names[0]}
    by_name = {k: v for k, v in sorted(by_name.items(), key=lambda kv: -kv[1]) if v}
    return dict(per=(counts[1] - counts[0]) / scale, per_it=(counts[1] - counts[0]) / (hi - lo),
                counts=counts, by_name=by_name, solve=dict(names[0].most_common()),
                xchunks=xchunks)


def part_tasks(client, args):
    n = args.tasks_n
    put = put_on(client)
    rng = np.random.default_rng(0)
    cases = []

    # (a) interpolation: FFT2D over (1, 2) of (nbatch, nx, nt), chunked along the batch axis
    dims = (8, n, n)
    F = pld.signalprocessing.FFT2D(dims, axes=(1, 2))
    R = pld.Restriction(dims, np.arange(0, n, 2), axis=1, dtype="complex128")
    xt = rng.standard_normal(F.dimsd) + 1j * rng.standard_normal(F.dimsd)
    cases.append((f"(a) Restriction(axis 1) @ FFT2D(axes=(1, 2)).H, {dims} complex128, "
                  f"{NCHUNKS} chunks along batch axis 0", R @ F.H, xt,
                  (dims[0] // NCHUNKS,) + dims[1:], "no rechunk"))

    # (b) the same in 2-D, the FFT's axes chunked
    dims2 = (n, n)
    F2 = pld.signalprocessing.FFT2D(dims2)
    R2 = pld.Restriction(dims2, np.arange(0, n, 2), axis=0, dtype="complex128")
    xt2 = rng.standard_normal(F2.dimsd) + 1j * rng.standard_normal(F2.dimsd)
    cases.append((f"(b) Restriction(axis 0) @ FFT2D.H, {dims2} complex128, {NCHUNKS} chunks "
                  f"along axis 0", R2 @ F2.H, xt2, (n // NCHUNKS, n),
                  "the FFT's axes are rechunked whole (operator in a product)"))

    # (c) Convolve2D
    try:
        from pylops_distributed.signalprocessing.convolve2d import Convolve2D
    except ImportError as e:
        Convolve2D = None
        print(f"tasks (c): skipped (pylops_distributed.signalprocessing.convolve2d: {e})")
    if Convolve2D is not None:
        C = Convolve2D(dims2, gaussian_filter(), offset=(7, 7))
        cases.append((f"(c) Convolve2D 15x15, {dims2} float64, {NCHUNKS} chunks along axis 0",
                      C, rng.standard_normal(dims2), (n // NCHUNKS, n), ""))

    print("CGLS tasks per chunk per iteration, 2-process cluster (task stream, niter 30 minus "
          "niter 10, over 20 iterations and the data's chunks); engine budget <= 4:")
    print("| case | data chunks | solution chunks | tasks niter 10 / 30 | tasks/it "
          "| tasks/chunk/it | budget | note |")
    print("|---|---|---|---|---|---|---|---|")
    details = []
    for label, Op, xt, chunks, note in cases:
        # the data chunked along axis 0 in NCHUNKS (a product with FFT2D over chunked axes
        # gives one chunk: the data is brought back to the chunking of the problem)
        y = Op @ put(xt, chunks)
        y = client.persist(y.rechunk({0: -(-y.shape[0] // NCHUNKS)}))
        settle(client, y)
        r = tasks_per_chunk(client, Op, y)
        rechunks = {k: v for k, v in r["solve"].items() if "rechunk" in k}
        if rechunks:
            note += ("; rechunk tasks in each solve: "
                     + ", ".join(f"{k} {v}" for k, v in rechunks.items())
                     + (" (in the niter columns, once a solve: not in the difference)"
                        if not any("rechunk" in k for k in r["by_name"]) else ""))
        print(f"| {label} | {y.npartitions} | {r['xchunks']} | {r['counts'][0]} / "
              f"{r['counts'][1]} | {r['per_it']:.2f} | {r['per']:.2f} "
              f"| {'met' if r['per'] <= 4 else 'NOT met'} | {note} |", flush=True)
        details.append((label[:3], r))
        del y
    for tag, r in details:
        print(f"{tag} per chunk per iteration by task name: "
              + ", ".join(f"{k} {v:.2f}" for k, v in r["by_name"].items())
              + "; niter 10 solve by task name: "
              + ", ".join(f"{k} {v}" for k, v in r["solve"].items()))
    print()


# --- part gpu ----------------------------------------------------------------------------------

def gpu_protocol():
    try:
        import distributed_ucxx  # noqa: F401
        return "ucx"
    except ImportError:
        return "tcp"


def gpu_threads():
    """The threaded scheduler for CuPy chunks (dask's default pool: the kernels make the
    chunk's device current, which cuFFT needs on a fresh thread)."""
    return dask.config.set(scheduler="threads")


def gpu_race(contestants, repeat):
    """As :func:`race`, each run followed by a device synchronisation inside the clock."""
    import cupy

    def synced(c):
        def run(*args):
            out = c.run(*args)
            cupy.cuda.Device().synchronize()
            return out
        return Contestant(c.label, run, c.fetch, c.prepare)

    cupy.cuda.Device().synchronize()
    return race([synced(c) for c in contestants], repeat)


def cuda_cluster(n_workers, protocol):
    from dask_cuda import LocalCUDACluster

    return LocalCUDACluster(n_workers=n_workers, protocol=protocol, dashboard_address=":0")


def _device_sync():
    import cupy

    cupy.cuda.Device().synchronize()


def on_gpu(client, a, chunks):
    """A NumPy array as a dask array of CuPy chunks persisted on the workers' GPUs."""
    import cupy

    xd = put_on(client)(a, chunks)
    xg = client.persist(xd.map_blocks(cupy.asarray, dtype=a.dtype,
                                      meta=cupy.empty((0,) * a.ndim, a.dtype)))
    settle(client, xg)
    return xg


def persisted_synced(client, make):
    """``run(*args)`` of a cluster line: persist ``make(*args)``, wait, synchronise every
    worker's GPU."""
    def run(*args):
        out = client.persist(make(*args))
        settle(client, out)
        client.run(_device_sync)
        return out
    return run


def to_host(client):
    import cupy

    def fetch(out):
        return client.compute(out.map_blocks(cupy.asnumpy, dtype=out.dtype,
                                             meta=np.empty((0,) * out.ndim, out.dtype)),
                              sync=True)
    return fetch


def gpu_fft2d(args, client, protocol):
    import cupy

    n = args.gpu_n
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype("complex64")
    xg = cupy.asarray(x)
    xf = xg.ravel()
    POp = pylops.signalprocessing.FFT2D((n, n), dtype="complex64")

    def fresh():
        return (pld.signalprocessing.FFT2D((n, n), dtype="complex64"),)

    contestants = [Contestant("PyLops+CuPy", lambda: POp.H @ (POp @ xf), fetch=cupy.asnumpy)]
    for k in args.gpu_chunks:
        with gpu_threads():
            xd = da.from_array(xg, chunks=(-(-n // k), n), asarray=False).persist()

        def threads(Op, xd=xd):
            with gpu_threads():
                return (Op.H @ (Op @ xd)).compute()
        contestants.append(Contestant(f"ours, threads, CuPy chunks, {k} chunk(s) on axis 0",
                                      threads, fetch=cupy.asnumpy, prepare=fresh))
    for k in args.gpu_chunks:
        xc = on_gpu(client, x, (-(-n // k), n))
        contestants.append(Contestant(
            f"ours, LocalCUDACluster 1 worker ({protocol}), {k} chunk(s) on axis 0, "
            f"persisted + wait + worker sync",
            persisted_synced(client, lambda Op, xc=xc: Op.H @ (Op @ xc)), fetch=to_host(client),
            prepare=fresh))
    times, results = gpu_race(contestants, args.gpu_repeat)
    print_race(f"(a) FFT2D forward+adjoint, {n}x{n} complex64, one GPU, best of "
               f"{args.gpu_repeat}:", times, results, "PyLops+CuPy")
    ref = times["PyLops+CuPy"][0]
    best = min(t[0] for k, t in times.items() if k.startswith("ours"))
    goal("best of ours / PyLops+CuPy", best / ref, 1.2)
    print()
    # FFT2D is unitary (CGLS would stop after one step): weighted by a random diagonal
    w = cupy.asarray(rng.uniform(0.5, 1.5, (n, n)).astype("float32"))
    gpu_in_cgls(f"(a') Diagonal(w) @ FFT2D {n}x{n} complex64",
                pylops.Diagonal(w, dtype="complex64") @ POp,
                lambda: pld.Diagonal(w, dtype="complex64") @ fresh()[0], x, args.gpu_repeat)


def gpu_chirpradon3d(args, client, protocol):
    import cupy

    try:
        from pylops_distributed.signalprocessing.chirpradon3d import ChirpRadon3D
    except ImportError as e:
        print(f"(b) ChirpRadon3D: skipped (pylops_distributed.signalprocessing.chirpradon3d: "
              f"{e})\n")
        return
    ny, nx, nt = (int(v) for v in args.radon_dims.split("x"))
    dtype = args.radon_dtype
    t, hy, hx = np.arange(nt) * 0.004, np.arange(ny) * 10.0, np.arange(nx) * 10.0
    pmax = (1e-3, 1e-3)
    POp = pylops.signalprocessing.ChirpRadon3D(t, hy, hx, pmax, dtype=dtype)

    def fresh():
        return (ChirpRadon3D(t, hy, hx, pmax, dtype=dtype),)

    x = np.random.default_rng(0).standard_normal(POp.dims).astype(dtype)
    xg = cupy.asarray(x)
    xf = xg.ravel()
    with gpu_threads():
        xd = da.from_array(xg, chunks=-1, asarray=False).persist()

    def threads(Op):
        with gpu_threads():
            return (Op.H @ (Op @ xd)).compute()

    xc = on_gpu(client, x, POp.dims)
    contestants = [
        Contestant("PyLops+CuPy", lambda: POp.H @ (POp @ xf), fetch=cupy.asnumpy),
        Contestant("ours, threads, one CuPy chunk", threads, fetch=cupy.asnumpy,
                   prepare=fresh),
        Contestant(f"ours, LocalCUDACluster 1 worker ({protocol}), persisted + wait + "
                   f"worker sync", persisted_synced(client, lambda Op: Op.H @ (Op @ xc)),
                   fetch=to_host(client), prepare=fresh),
    ]
    times, results = gpu_race(contestants, args.gpu_repeat)
    print_race(f"(b) ChirpRadon3D forward+adjoint, model (ny, nx, nt) = {(ny, nx, nt)} {dtype}, "
               f"pmax {pmax}, best of {args.gpu_repeat} (seed talk: 1.64 ms on a V100 with "
               f"CuPy):", times, results, "PyLops+CuPy")
    ref = times["PyLops+CuPy"][0]
    best = min(t[0] for k, t in times.items() if k.startswith("ours"))
    goal("best of ours / PyLops+CuPy", best / ref, 1.2)
    print()
    gpu_in_cgls(f"(b') ChirpRadon3D {(ny, nx, nt)} {dtype}", POp, lambda: fresh()[0], x,
                args.gpu_repeat)


def gpu_in_cgls(title, POp, make_op, x, repeat, niter=20):
    """The same operator inside CGLS (``niter`` iterations, ``tol=0``: one forward and one
    adjoint per iteration) on one GPU: PyLops+CuPy against ours (threads, one CuPy chunk,
    the fused path running the iterations between checks in one task)."""
    import cupy

    from pylops_distributed.optimization import cgls

    yg = POp @ cupy.asarray(x).ravel()
    with gpu_threads():
        yd = da.from_array(yg.reshape(POp.dimsd), chunks=-1, asarray=False).persist()

    def ours(Op):
        with gpu_threads():
            return cgls(Op, yd, niter=niter, tol=0)[0].compute()

    def pylops_cupy():
        x0 = cupy.zeros(POp.shape[1], dtype=POp.dtype)
        return pylops.optimization.basic.cgls(POp, yg, x0=x0, niter=niter, tol=0)[0]

    contestants = [Contestant("PyLops+CuPy", pylops_cupy, fetch=cupy.asnumpy),
                   Contestant("ours, threads, one CuPy chunk", ours, fetch=cupy.asnumpy,
                              prepare=lambda: (make_op(),))]
    times, results = gpu_race(contestants, repeat)
    print_race(f"{title} inside CGLS, {niter} iterations (a forward and an adjoint each), "
               f"best of {repeat}:", times, results, "PyLops+CuPy")
    ours_t, ref_t = times["ours, threads, one CuPy chunk"][0], times["PyLops+CuPy"][0]
    print(f"per iteration: PyLops+CuPy {ref_t / niter * 1e3:.2f} ms, ours "
          f"{ours_t / niter * 1e3:.2f} ms")
    goal("ours / PyLops+CuPy in CGLS", ours_t / ref_t, 1.2)
    print()


def random_on_gpu(client, n, nblocks, dtype="complex64"):
    """An n x n complex array generated on the workers' GPUs, ``nblocks`` chunks on axis 0."""
    import cupy

    def fill(block, block_id=None):
        g = cupy.random.default_rng(block_id[0])
        re = g.standard_normal(block.shape, dtype="float32")
        im = g.standard_normal(block.shape, dtype="float32")
        return (re + 1j * im).astype(dtype)

    x = da.empty((n, n), chunks=(-(-n // nblocks), n), dtype=dtype)
    x = client.persist(x.map_blocks(fill, dtype=dtype, meta=cupy.empty((0, 0), dtype)))
    settle(client, x)
    return x


def gpu_fft2d_big(args, client1, protocol, ngpu):
    """(c) n2 x n2 on 1 GPU (PyLops+CuPy; ours, 1 worker, 1 chunk), then ours on 2 GPUs."""
    import cupy

    n = args.gpu_n2
    if ngpu < 2:
        print(f"(c) FFT2D {n}x{n} on 2 GPUs: skipped ({ngpu} GPU visible)\n")
        return
    POp = pylops.signalprocessing.FFT2D((n, n), dtype="complex64")

    def fresh():
        return (pld.signalprocessing.FFT2D((n, n), dtype="complex64"),)

    g = cupy.random.default_rng(0)
    xf = (g.standard_normal(n * n, dtype="float32")
          + 1j * g.standard_normal(n * n, dtype="float32")).astype("complex64")

    def identity_error(out):  # forward+adjoint of the orthonormal FFT is the identity
        return np.array([float(cupy.linalg.norm(out - xf) / cupy.linalg.norm(xf))])

    times, results = gpu_race([Contestant("PyLops+CuPy, 1 GPU", lambda: POp.H @ (POp @ xf),
                                          fetch=identity_error)], args.gpu_repeat)
    rows = {k: (times[k][0], results[k][0]) for k in times}
    del xf
    cupy.get_default_memory_pool().free_all_blocks()
    for label, nworkers in (
            (f"ours, LocalCUDACluster 1 worker ({protocol}), 1 chunk", 1),
            (f"ours, LocalCUDACluster 2 workers ({protocol}), 2 chunks on axis 0", 2)):
        cluster = client = None
        try:
            if nworkers == 1:
                client = client1
            else:
                cluster = cuda_cluster(2, protocol)
                client = Client(cluster, set_as_default=False)
            xc = random_on_gpu(client, n, nworkers)

            def error(out, client=client, xc=xc):
                d = da.linalg.norm((out - xc).ravel()) / da.linalg.norm(xc.ravel())
                return np.array([float(client.compute(d, sync=True))])

            c = Contestant(label, persisted_synced(client, lambda Op: Op.H @ (Op @ xc)),
                           fetch=error, prepare=fresh)
            times, results = gpu_race([c], args.gpu_repeat)
            rows[label] = (times[label][0], results[label][0])
            del xc, c
        finally:
            if cluster is not None:
                if client is not None:
                    client.close()
                cluster.close()
    print(f"(c) FFT2D forward+adjoint, {n}x{n} complex64, best of {args.gpu_repeat} "
          f"(cluster lines: persisted + wait + worker sync):")
    print("| run | best ms | x PyLops+CuPy | rel. diff to x (F^H F = I) |")
    print("|---|---|---|---|")
    ref = rows["PyLops+CuPy, 1 GPU"][0]
    for label, (t, e) in rows.items():
        print(f"| {label} | {t * 1e3:.1f} | {t / ref:.2f}x | {e:.1e} |")
    one, two = list(rows.values())[1][0], list(rows.values())[2][0]
    print(f"goal: 2 GPUs faster than 1 (ours) -> 2 GPUs / 1 GPU {two / one:.2f}x, "
          f"{'met' if two < one else 'NOT met'}")
    print()


def part_gpu(args):
    import cupy

    ngpu = cupy.cuda.runtime.getDeviceCount()
    protocol = gpu_protocol()
    dev = cupy.cuda.runtime.getDeviceProperties(0)["name"]
    dev = dev.decode() if isinstance(dev, bytes) else dev
    print(f"GPU part: {ngpu} x {dev}, CuPy {cupy.__version__}, cluster protocol {protocol} "
          f"({'distributed_ucxx imports' if protocol == 'ucx' else 'distributed_ucxx missing'})")
    cluster = cuda_cluster(1, protocol)
    try:
        with Client(cluster, set_as_default=False) as client:
            gpu_fft2d(args, client, protocol)
            gpu_chirpradon3d(args, client, protocol)
            cupy.get_default_memory_pool().free_all_blocks()
            gpu_fft2d_big(args, client, protocol, ngpu)
    finally:
        cluster.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="fft2d,convolve2d,tasks",
                   help="comma-separated: fft2d, convolve2d, tasks, gpu")
    p.add_argument("--repeat", type=int, default=5, help="best of N, alternated (CPU parts)")
    p.add_argument("--n", type=int, default=2048, help="fft2d: n x n")
    p.add_argument("--conv-n", type=int, default=4000, help="convolve2d: n x n")
    p.add_argument("--tasks-n", type=int, default=512, help="tasks: sizes of the problems")
    p.add_argument("--gpu-repeat", type=int, default=3)
    p.add_argument("--gpu-n", type=int, default=4096, help="gpu (a): n x n")
    p.add_argument("--gpu-n2", type=int, default=8192, help="gpu (c): n x n")
    p.add_argument("--gpu-chunks", default="1,4", help="gpu (a): chunk counts along axis 0")
    p.add_argument("--radon-dims", default="101x101x201", help="gpu (b): ny x nx x nt")
    p.add_argument("--radon-dtype", default="float32")
    args = p.parse_args(argv)
    args.gpu_chunks = [int(k) for k in args.gpu_chunks.split(",") if k]
    parts = [s for s in args.parts.split(",") if s]
    unknown = set(parts) - {"fft2d", "convolve2d", "tasks", "gpu"}
    if unknown:
        p.error(f"unknown parts {sorted(unknown)}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python "
          f"{platform.python_version()}, NumPy {np.__version__}, dask {dask.__version__}, "
          f"PyLops {pylops.__version__}")
    cpu = [s for s in parts if s != "gpu"]
    if cpu:
        cluster = cpu_cluster()
        try:
            with Client(cluster, set_as_default=False) as client:
                for part in cpu:
                    {"fft2d": part_fft2d, "convolve2d": part_convolve2d,
                     "tasks": part_tasks}[part](client, args)
        finally:
            cluster.close()
    if "gpu" in parts:
        part_gpu(args)


if __name__ == "__main__":
    main()
