"""PyLops-MPI peer of the solver benchmark; run as ``mpiexec -n 2 python _mpi_peer.py CASE``.

Every rank builds the same global problem from the same seed and keeps its own rows (the
data is already distributed when the clock starts, as in our cluster runs). Rank 0 prints one
JSON line: ``{"case": ..., "time": seconds of cgls, "r": final residual norm}``.
"""

import json
import sys
import time

import numpy as np
import pylops
import pylops_mpi
from mpi4py import MPI
from pylops_mpi.optimization.basic import cgls

NITER = 30


def matrix_case(comm, n=4000, m=2000):
    rank, size = comm.Get_rank(), comm.Get_size()
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, m))
    y = A @ rng.standard_normal(m)
    rows = np.array_split(np.arange(n), size)[rank]
    Op = pylops_mpi.MPIVStack([pylops.MatrixMult(A[rows])], base_comm=comm)
    yd = pylops_mpi.DistributedArray(global_shape=n, base_comm=comm,
                                     local_shapes=comm.allgather(len(rows)))
    yd[:] = y[rows]
    x0 = pylops_mpi.DistributedArray(global_shape=m, base_comm=comm,
                                     partition=pylops_mpi.Partition.BROADCAST)
    x0[:] = 0.0
    return Op, yd, x0


def laplacian_case(comm, n):
    rank, size = comm.Get_rank(), comm.Get_size()
    rng = np.random.default_rng(0)
    xt = rng.standard_normal((n, n))
    y = pylops.Laplacian((n, n)) @ xt.ravel()
    rows = np.array_split(np.arange(n), size)
    local = [len(r) * n for r in rows]
    Op = pylops_mpi.MPILaplacian(dims=(n, n), base_comm=comm)
    yd = pylops_mpi.DistributedArray(global_shape=n * n, base_comm=comm, local_shapes=local)
    yd[:] = y.reshape(n, n)[rows[rank]].ravel()
    x0 = pylops_mpi.DistributedArray(global_shape=n * n, base_comm=comm, local_shapes=local)
    x0[:] = 0.0
    return Op, yd, x0


def main():
    case = sys.argv[1]
    comm = MPI.COMM_WORLD
    if case == "a":
        Op, y, x0 = matrix_case(comm)
    else:
        Op, y, x0 = laplacian_case(comm, 1000 if case == "b" else 4000)
    comm.Barrier()
    t0 = time.perf_counter()
    x, istop, iit, r1, r2, cost = cgls(Op, y, x0=x0, niter=NITER, tol=0)
    comm.Barrier()
    elapsed = time.perf_counter() - t0
    if comm.Get_rank() == 0:
        print(json.dumps({"case": case, "time": elapsed, "iit": int(iit), "r": float(cost[-1])}))


if __name__ == "__main__":
    main()
