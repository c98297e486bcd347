r"""
A solver on a SLURM cluster
===========================

The README's deblurring at cluster size: an ``N x N`` image blurred by a 9 x 9 moving average
(:class:`pylops_distributed.signalprocessing.Smoothing2D`), recovered by CGLS with a Laplacian
regularization,

.. math::
        J = \|\mathbf{y} - \mathbf{B}\mathbf{x}\|_2^2 + \epsilon^2 \|\nabla^2 \mathbf{x}\|_2^2

on dask workers started as SLURM jobs by
:func:`pylops_distributed.cluster.get_client`. The image is chunked by rows, one chunk per
worker thread; the model, data and every solver vector stay on the workers, and only a few
scalars come back to this process every ``check_every`` iterations.

This page is shown, not run, when the site is built: it needs a SLURM cluster and the extra
``jobqueue`` (``pip install "pylops_distributed[jobqueue]"``, on a file system the compute nodes
see). On a login node::

    python examples/slurm_cgls.py --jobs 4 --cores 8 --memory 32GiB --queue compute \
        --account myproject --size 16384

``--config local-processes`` runs the same script on this machine (worker processes instead of
jobs), ``--config pbs`` on PBS. See :doc:`/deploy-slurm` for the options and for the other way
(one batch job that starts the scheduler and the workers: ``pylops-distributed template
sbatch-cpu``).
"""

import argparse
import time

import dask.array as da
from distributed import wait

import pylops_distributed as pld
from pylops_distributed.cluster import cluster_info, format_cluster_info, get_client, job_script
from pylops_distributed.optimization import cgls


def parse_args():
    p = argparse.ArgumentParser(description="CGLS deblurring on SLURM jobs", allow_abbrev=False)
    p.add_argument("--config", default="slurm",
                   help="slurm, pbs, local-processes, ... (default slurm)")
    p.add_argument("--jobs", type=int, default=2, help="jobs (local: worker processes)")
    p.add_argument("--cores", type=int, default=8, help="CPUs per job")
    p.add_argument("--memory", default="32GiB", help="memory per job")
    p.add_argument("--queue", help="partition (#SBATCH -p)")
    p.add_argument("--account", help="account (#SBATCH -A)")
    p.add_argument("--walltime", default="01:00:00")
    p.add_argument("--size", type=int, default=8192, help="image side (default 8192)")
    p.add_argument("--niter", type=int, default=100)
    p.add_argument("--report", help="write Dask's performance report of the solve to this HTML")
    return p.parse_known_args()[0]


# %%
# The cluster
# -----------
# For a batch system the options are those of ``dask_jobqueue.SLURMCluster`` (``cores``,
# ``memory``, ``queue``, ``account``, ``walltime``, ``job_extra_directives``...), plus ``jobs``:
# how many jobs to submit now. ``job_script`` shows what is submitted, without submitting it;
# ``get_client`` submits the jobs and returns once their workers have joined (or raises
# ``TimeoutError`` after ``wait_timeout`` seconds and cancels them). Leaving the ``with`` block
# closes the client and cancels the jobs, also on an error or Ctrl-C.
def cluster_options(args):
    if args.config.split("-")[0] not in ("slurm", "pbs"):  # one machine: worker processes
        return dict(n_workers=args.jobs, threads_per_worker=max(1, args.cores // args.jobs))
    opts = dict(jobs=args.jobs, cores=args.cores, memory=args.memory, walltime=args.walltime)
    opts.update({k: v for k, v in (("queue", args.queue), ("account", args.account)) if v})
    print(job_script(args.config, **{k: v for k, v in opts.items() if k != "jobs"}))
    return opts


# %%
# The problem
# -----------
# The true image is made on the workers (``da.random``), chunked by rows: one chunk per worker
# thread. The blur and the Laplacian exchange halos of a few rows between neighbouring chunks;
# the data is persisted on the workers before the solve.
def problem(client, args):
    n = args.size
    nthreads = sum(w["nthreads"] for w in client.scheduler_info(n_workers=-1)["workers"].values())
    chunks = (-(-n // nthreads), n)
    x = client.persist(da.random.default_rng(0).random((n, n), chunks=chunks, dtype="float32"))
    B = pld.signalprocessing.Smoothing2D((9, 9), dims=(n, n), dtype="float32")
    y = client.persist(B @ x)
    Op = pld.VStack([B, 0.05 * pld.Laplacian((n, n), dtype="float32")])
    data = pld.StackedArray([y, da.zeros_like(y)])
    return x, y, Op, data


# %%
# The solve
# ---------
# CGLS persists its state on the workers every iteration and brings the residual norm back
# every ``check_every`` iterations (the rows of the table); ``performance_report`` writes Dask's
# task stream and worker profiles of the solve to an HTML file. The errors are reduced on the
# workers: only two numbers come back.
def solve(client, args):
    x, y, Op, data = problem(client, args)
    t0 = time.perf_counter()
    xinv, istop, iit, r1norm, r2norm, cost = cgls(Op, data, niter=args.niter, tol=0, show=True,
                                                  check_every=10,
                                                  performance_report=args.report)
    xinv = client.persist(xinv)
    wait(xinv)
    elapsed = time.perf_counter() - t0
    err_data = float(abs(y - x).mean())
    err = float(abs(xinv - x).mean())
    print(f"{args.size} x {args.size} image in {len(y.chunks[0])} chunks, {iit} CGLS iterations "
          f"in {elapsed:.1f} s")
    print(f"mean |data - model| {err_data:.4f}, mean |estimate - model| {err:.4f}")


# %%
# Putting it together
# -------------------
# The ``__main__`` guard keeps worker processes (``--config local-processes``) from starting
# clusters of their own when they import this file.
if __name__ == "__main__":
    args = parse_args()
    with get_client(args.config, **cluster_options(args)) as client:
        print(format_cluster_info(cluster_info(client)))
        solve(client, args)
