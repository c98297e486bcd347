"""PyLops-MPI peer of the solver benchmark; run as ``mpiexec -n 2 python _mpi_peer.py CASE``.

Every rank builds the same global problem from the same seed and keeps its own rows (the
data is already distributed when the clock starts, as in our cluster runs). Rank 0 prints one
JSON line: ``{"case": ..., "time": seconds of the solver, "r": final residual norm}``. Cases
a, b, c: CGLS (:mod:`bench_solvers`); ``fista3d``: FISTA on the 3-D reflectivity problem
(:mod:`_reflectivity`), the model split along its first axis (MPIBlockDiag of Convolve1D);
``poststack3d``: CGLS on the regularised 3-D post-stack problem of :mod:`bench_seismic`, as
PyLops-MPI's tutorial "Post Stack Inversion - 3D" builds it; ``lsm``: its "Least-squares
Migration" tutorial; ``mdd``: CGLS on ``MPIMDC`` (its "Multi-Dimensional Deconvolution"
tutorial's operator: ``G`` split over the ranks along frequency, model and data broadcast).
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


def fista3d(comm, niter, dims, out):
    """FISTA on the reflectivity problem of shape ``dims``: each rank convolves its slab of
    traces; rank 0 saves the model to ``out`` (``.npy``)."""
    import _reflectivity as refl
    from pylops_mpi.optimization.sparsity import fista

    rank, size = comm.Get_rank(), comm.Get_size()
    rows = np.array_split(np.arange(dims[0]), size)
    local = [len(r) * dims[1] * dims[2] for r in rows]
    h, offset = refl.wavelet()
    Op = pylops_mpi.MPIBlockDiag([pylops.signalprocessing.Convolve1D(
        (len(rows[rank]),) + dims[1:], h, offset=offset, axis=-1)], base_comm=comm)
    y = pylops_mpi.DistributedArray(global_shape=int(np.prod(dims)), base_comm=comm,
                                    local_shapes=local)
    y[:] = refl.data(dims)[rows[rank]].ravel()
    x0 = pylops_mpi.DistributedArray(global_shape=int(np.prod(dims)), base_comm=comm,
                                     local_shapes=local)
    x0[:] = 0.0
    comm.Barrier()
    t0 = time.perf_counter()
    x, it, cost = fista(Op, y, x0=x0, niter=niter, eps=refl.EPS, alpha=refl.step_size(), tol=0)
    comm.Barrier()
    elapsed = time.perf_counter() - t0
    xfull = x.asarray()
    if rank == 0:
        np.save(out, xfull)
        print(json.dumps({"case": "fista3d", "time": elapsed, "iit": int(it),
                          "r": float(cost[-1])}))


def poststack3d(comm, niter, dims, epsR, out):
    """PyLops-MPI's tutorial "Post Stack Inversion - 3D" (regularised equations, CGLS from the
    smooth model): the model ``(ny, nx, nt)`` split along y, ``MPIStackedVStack([MPIBlockDiag(
    [Top.H @ PPop @ Top]), sqrt(epsR) * MPILaplacian(axes=(0, 1, 2))])``; rank 0 saves the
    flat estimate to ``out`` (``.npy``)."""
    from pylops.avo.poststack import PoststackLinearModelling
    from pylops.basicoperators import Transpose

    from bench_seismic import poststack_problem

    rank, size = comm.Get_rank(), comm.Get_size()
    ny, nx, nt = dims
    rows = np.array_split(np.arange(ny), size)
    local = [len(r) * nx * nt for r in rows]
    wav, m, mb = poststack_problem(dims)
    ny_i = len(rows[rank])
    PPop = PoststackLinearModelling(wav, nt0=nt, spatdims=(ny_i, nx))
    Top = Transpose((ny_i, nx, nt), (2, 0, 1))
    BDiag = pylops_mpi.basicoperators.MPIBlockDiag(ops=[Top.H @ PPop @ Top], base_comm=comm)
    LapOp = pylops_mpi.MPILaplacian(dims=(ny, nx, nt), axes=(0, 1, 2), weights=(1, 1, 1),
                                    sampling=(1, 1, 1), dtype=BDiag.dtype, base_comm=comm)
    StackOp = pylops_mpi.MPIStackedVStack([BDiag, np.sqrt(epsR) * LapOp])

    def dist(a):
        x = pylops_mpi.DistributedArray(global_shape=ny * nx * nt, base_comm=comm,
                                        local_shapes=local)
        x[:] = a
        return x

    d = BDiag @ dist(m[rows[rank]].ravel())
    y = pylops_mpi.StackedDistributedArray([d, dist(0.0)])
    x0 = dist(mb[rows[rank]].ravel())
    comm.Barrier()
    t0 = time.perf_counter()
    x, istop, iit, r1, r2, cost = cgls(StackOp, y, x0=x0, niter=niter, tol=0)
    comm.Barrier()
    elapsed = time.perf_counter() - t0
    xfull = x.asarray()
    if rank == 0:
        np.save(out, xfull)
        print(json.dumps({"case": "poststack3d", "time": elapsed, "iit": int(iit),
                          "r": float(cost[-1])}))


def lsm(comm, niter, per_rank, out):
    """PyLops-MPI's tutorial "Least-squares Migration": ``per_rank`` sources a rank, one
    ``LSM.Demop`` (Kirchhoff, analytic, numba) a rank in ``MPIVStack``, CGLS from zero on the
    broadcast reflectivity; rank 0 saves the estimate to ``out`` (``.npy``)."""
    import warnings

    from pylops.waveeqprocessing.lsm import LSM

    from bench_seismic import lsm_problem

    warnings.filterwarnings("ignore", category=FutureWarning)
    rank, size = comm.Get_rank(), comm.Get_size()
    kw, refl = lsm_problem(per_rank * size, slice(rank * per_rank, (rank + 1) * per_rank))
    Demop = LSM(kw["z"], kw["x"], kw["t"], kw["srcs"], kw["recs"], kw["vel"], kw["wav"],
                kw["wavcenter"], mode="analytic", engine="numba").Demop
    VStack = pylops_mpi.MPIVStack(ops=[Demop], base_comm=comm)
    m = pylops_mpi.DistributedArray(global_shape=refl.size, base_comm=comm,
                                    partition=pylops_mpi.Partition.BROADCAST)
    m[:] = refl.ravel()
    d = VStack @ m
    x0 = pylops_mpi.DistributedArray(global_shape=refl.size, base_comm=comm,
                                     partition=pylops_mpi.Partition.BROADCAST)
    x0[:] = 0.0
    cgls(VStack, d, x0=x0, niter=2, tol=0)  # the loops compiled, as ours before the clock
    x0[:] = 0.0
    comm.Barrier()
    t0 = time.perf_counter()
    x, istop, iit, r1, r2, cost = cgls(VStack, d, x0=x0, niter=niter, tol=0)
    comm.Barrier()
    elapsed = time.perf_counter() - t0
    xfull = x.asarray()
    if rank == 0:
        np.save(out, xfull)
        print(json.dumps({"case": "lsm", "time": elapsed, "iit": int(iit),
                          "r": float(cost[-1])}))


def mdd(comm, niter, dims, nfmax, out):
    """CGLS on PyLops-MPI's ``MPIMDC`` for the problem of ``bench_seismic.mdd_problem``
    (``dims`` = nt x ns x nr x nv): each rank its share of the frequencies of ``G``; rank 0
    saves the estimate to ``out`` (``.npy``)."""
    from bench_seismic import mdd_problem

    rank, size = comm.Get_rank(), comm.Get_size()
    nt, ns, nr, nv = dims
    G, x, dt = mdd_problem(nt, ns, nr, nv, nfmax)
    POp = pylops.waveeqprocessing.MDC(G, nt=nt, nv=nv, dt=dt, dr=1.0, twosided=True)
    y = POp @ x.ravel()
    mine = np.array_split(np.arange(G.shape[0]), size)[rank]
    Op = pylops_mpi.waveeqprocessing.MPIMDC(G[mine], nt=nt, nv=nv, nfreq=G.shape[0], dt=dt,
                                            dr=1.0, twosided=True, base_comm=comm)

    def broadcast(a):
        v = pylops_mpi.DistributedArray(global_shape=a.size, base_comm=comm,
                                        partition=pylops_mpi.Partition.BROADCAST,
                                        dtype=a.dtype)
        v[:] = a
        return v

    d, x0 = broadcast(y), broadcast(np.zeros(nt * nr * nv))
    comm.Barrier()
    t0 = time.perf_counter()
    xinv, istop, iit, r1, r2, cost = cgls(Op, d, x0=x0, niter=niter, tol=0)
    comm.Barrier()
    elapsed = time.perf_counter() - t0
    if rank == 0:
        np.save(out, xinv.asarray())
        print(json.dumps({"case": "mdd", "time": elapsed, "iit": int(iit),
                          "r": float(cost[-1])}))


def main():
    case = sys.argv[1]
    comm = MPI.COMM_WORLD
    if case == "lsm":
        return lsm(comm, int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    if case == "mdd":
        return mdd(comm, int(sys.argv[2]), tuple(int(n) for n in sys.argv[3].split("x")),
                   int(sys.argv[4]), sys.argv[5])
    if case == "fista3d":
        return fista3d(comm, int(sys.argv[2]), tuple(int(n) for n in sys.argv[3].split("x")),
                       sys.argv[4])
    if case == "poststack3d":
        return poststack3d(comm, int(sys.argv[2]), tuple(int(n) for n in sys.argv[3].split("x")),
                           float(sys.argv[4]), sys.argv[5])
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
