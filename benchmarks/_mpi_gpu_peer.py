"""PyLops-MPI over NCCL, the GPU peer of :mod:`bench_multigpu`; run as
``mpiexec -n NGPUS python benchmarks/_mpi_gpu_peer.py --shape 800 400 400 [--solver fista]``.

One MPI rank per GPU (PyLops-MPI's ``initialize_nccl_comm`` picks it), CuPy arrays, the
Laplacian's halos and the dot products through NCCL. Each rank makes its slab of the data
(the rows along axis 0 that ``DistributedArray`` gives it) with ``bench_multigpu``'s field,
on its GPU, before the clock starts; CGLS (or FISTA with the same ``eps`` and ``alpha``) runs
once to warm up, then ``--repeat`` times. Rank 0 prints one JSON line: the best time, and
``sum(x)``, ``sum(x^2)`` of the answer (to compare with ours). ``--engine numpy`` runs the
same on CPUs (to check the script where there is no GPU).
"""

import argparse
import json
import time

import numpy as np
from mpi4py import MPI

SOLVERS = {"cgls": dict(), "fista": dict(eps=0.1, alpha=1 / 144)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", type=int, nargs=3, default=[800, 400, 400])
    p.add_argument("--niter", type=int, default=50)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--solver", choices=sorted(SOLVERS), default="cgls")
    p.add_argument("--engine", choices=["cupy", "numpy"], default="cupy")
    a = p.parse_args()
    import pylops_mpi
    from pylops_mpi.optimization.basic import cgls
    from pylops_mpi.optimization.sparsity import fista

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    shape = tuple(a.shape)
    if a.engine == "cupy":
        import cupy as xp
        from pylops_mpi.utils._nccl import initialize_nccl_comm

        nccl = initialize_nccl_comm()

        def sync():
            xp.cuda.Device().synchronize()
    else:
        xp, nccl = np, None

        def sync():
            pass

    rows = np.array_split(np.arange(shape[0]), size)[rank]
    local = [(len(r) * shape[1] * shape[2],) for r in np.array_split(np.arange(shape[0]), size)]

    def vector():
        return pylops_mpi.DistributedArray(global_shape=int(np.prod(shape)), base_comm=comm,
                                           base_comm_nccl=nccl, local_shapes=local,
                                           engine=a.engine, dtype=np.float32)

    i = xp.arange(rows[0], rows[-1] + 1, dtype=xp.float32)
    j, k = (xp.arange(n, dtype=xp.float32) for n in shape[1:])
    slab = (xp.sin(0.013 * i)[:, None, None] * xp.cos(0.021 * j)[None, :, None]
            + 0.1 * xp.sin(0.007 * k)[None, None, :] + 0.01 * (i[:, None, None] % 7))
    y = vector()
    y[:] = slab.astype(np.float32).ravel()
    Op = pylops_mpi.MPILaplacian(dims=shape, axes=(0, 1, 2), weights=(1, 1, 1),
                                 sampling=(1, 1, 1), base_comm=comm, dtype=np.float32)

    def solve(niter):
        x0 = vector()
        x0[:] = 0.0
        if a.solver == "cgls":
            return cgls(Op, y, x0=x0, niter=niter, tol=0)[0]
        return fista(Op, y, x0=x0, niter=niter, tol=0, **SOLVERS["fista"])[0]

    solve(5)
    times = []
    for _ in range(a.repeat):
        comm.Barrier()
        sync()
        t0 = time.perf_counter()
        x = solve(a.niter)
        sync()
        comm.Barrier()
        times.append(time.perf_counter() - t0)
    loc = x.local_array
    sums = comm.allreduce(np.array([float(loc.sum()), float((loc * loc).sum())]))
    if rank == 0:
        print(json.dumps({"solver": a.solver, "ranks": size, "shape": shape, "time": min(times),
                          "sums": [float(s) for s in sums]}), flush=True)


if __name__ == "__main__":
    main()
