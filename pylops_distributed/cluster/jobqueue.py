"""SLURM and PBS clusters through dask-jobqueue, CPU jobs and GPU jobs of ``dask cuda worker``.

GPU jobs fix dask-jobqueue 0.9's pitfall with a dask-cuda ``worker_command``: it writes the job's
whole ``--nthreads`` and ``--memory-limit`` on the worker command line and ``dask cuda worker``
gives them to *every* GPU worker it starts, so a 4-GPU job with 32 cores and 256 GiB would run
4 workers of 32 threads and 256 GiB each. Here a GPU job sets ``processes = gpus``: dask-jobqueue
then writes ``--nthreads cores/gpus --memory-limit memory/gpus`` and expects the worker names
``NAME-0 .. NAME-(gpus-1)``, which is exactly how ``dask cuda worker --name NAME`` names its
per-GPU workers. The job asks the batch system for the GPUs (``#SBATCH --gres=gpu:N``,
``#PBS -l select=1:ncpus=C:ngpus=N:mem=M``) and an RMM pool is routed to CuPy
(``--set-rmm-allocator-for-libs cupy``) whenever one is asked for.

dask-jobqueue is imported only when a slurm/pbs config is used.
"""

from __future__ import annotations

import math
import os

__all__ = [
    "jobqueue_cluster_options",
    "job_script",
    "start_jobqueue_cluster",
    "validate_jobqueue_options",
]

#: dask-cuda worker module started by GPU jobs (``python -m dask_cuda.cli`` runs ``dask cuda worker``)
CUDA_WORKER_COMMAND = "dask_cuda.cli"
#: options that only GPU job configs take
GPU_OPTIONS = ("gpus", "rmm_pool_size", "rmm_allocator_external_lib_list", "device_memory_limit")
#: JobQueueCluster arguments that do not reach the job (and its script)
CLUSTER_ONLY = (
    "n_workers", "job_cls", "loop", "security", "shared_temp_directory", "silence_logs", "name",
    "asynchronous", "dashboard_address", "host", "scheduler_options", "scheduler_cls",
)
#: scheduler address written into scripts printed without a running scheduler
PLACEHOLDER_SCHEDULER = "tcp://SCHEDULER-ADDRESS:8786"

JOBQUEUE_HINT = "pip install 'pylops_distributed[jobqueue]'  (dask-jobqueue)"


def _classes(kind: str):
    try:
        import dask_jobqueue
    except ImportError as err:
        raise ImportError(
            f"{kind} clusters need dask-jobqueue, which is not installed: {JOBQUEUE_HINT}"
        ) from err
    if kind == "slurm":
        return dask_jobqueue.SLURMCluster, dask_jobqueue.slurm.SLURMJob
    return dask_jobqueue.PBSCluster, dask_jobqueue.pbs.PBSJob


def _example(spec) -> str:
    if spec.gpu:
        return f'get_client("{spec.name}", cores=32, memory="256GiB", gpus=4, jobs=2)'
    return f'get_client("{spec.name}", cores=8, memory="32GiB", jobs=2)'


def jobqueue_cluster_options(spec) -> dict:
    """Keyword arguments for ``SLURMCluster`` / ``PBSCluster`` from a resolved spec.

    Applies the GPU-job layout described in the module docstring and expands ``~`` and
    environment variables in ``log_directory`` and ``shared_temp_directory`` (the batch system
    does not). ``local_directory`` is left to the shell of the job (``${TMPDIR:-/tmp}``).

    Examples
    --------
    >>> from pylops_distributed.cluster.configs import resolve_config
    >>> opts = jobqueue_cluster_options(resolve_config("slurm-gpu", cores=8, memory="64GiB", gpus=4))
    >>> opts["processes"], opts["worker_command"], opts["job_extra_directives"]
    (4, 'dask_cuda.cli', ['--gres=gpu:4'])
    """
    from dask.utils import parse_bytes

    opts = {k: v for k, v in spec.options.items()}
    gpu_opts = {k: opts.pop(k, None) for k in GPU_OPTIONS}
    for key in ("log_directory", "shared_temp_directory"):
        if opts.get(key):
            opts[key] = os.path.abspath(os.path.expanduser(os.path.expandvars(str(opts[key]))))
    for key in ("log_directory", "shared_temp_directory"):
        if opts.get(key):
            opts[key] = _writable_directory(opts[key], key)
    for key in ("job_extra_directives", "job_script_prologue", "worker_extra_args",
                "job_directives_skip"):
        if opts.get(key) is not None:
            opts[key] = list(opts[key])

    cores, memory = opts.get("cores"), opts.get("memory")
    if not (isinstance(cores, int) and not isinstance(cores, bool) and cores > 0):
        raise ValueError(f"cores must be a positive integer (CPUs per job), got {cores!r}; "
                         f"for example {_example(spec)}")
    try:
        mem_bytes = parse_bytes(memory) if isinstance(memory, str) else int(memory)
        assert mem_bytes > 0
    except Exception:
        raise ValueError(f"memory must be a size per job like '32GiB', got {memory!r}; "
                         f"for example {_example(spec)}") from None

    if not spec.gpu:
        given = [k for k, v in gpu_opts.items() if v is not None]
        if given:
            raise ValueError(
                f"{given} only apply to GPU jobs; use the GPU config, e.g. "
                f'get_client("{spec.kind}-gpu", cores=8, memory="64GiB", gpus=2, jobs=1)'
            )
        return opts

    gpus = gpu_opts["gpus"] or 1
    if not (isinstance(gpus, int) and not isinstance(gpus, bool) and gpus > 0):
        raise ValueError(f"gpus must be a positive integer (GPUs per job), got {gpus!r}; "
                         f"for example {_example(spec)}")
    if cores % gpus:
        raise ValueError(
            f"cores={cores} is not a multiple of gpus={gpus}: every GPU worker gets cores/gpus "
            f"threads; use e.g. cores={-(-cores // gpus) * gpus}, gpus={gpus}"
        )
    if opts.get("processes") not in (None, gpus):
        raise ValueError(
            f"processes={opts['processes']} but GPU jobs start one worker per GPU (processes = "
            f"gpus = {gpus}); leave processes unset: {_example(spec)}"
        )
    if opts.get("worker_command") not in (None, CUDA_WORKER_COMMAND):
        raise ValueError(f"GPU jobs run worker_command={CUDA_WORKER_COMMAND!r}, "
                         f"got {opts['worker_command']!r}")
    opts["processes"] = gpus  # -> --nthreads cores/gpus --memory-limit memory/gpus per GPU worker
    opts["worker_command"] = CUDA_WORKER_COMMAND
    extra = list(opts.get("worker_extra_args") or [])
    if gpu_opts["device_memory_limit"] is not None:
        extra += ["--device-memory-limit", str(gpu_opts["device_memory_limit"])]
    libs = gpu_opts["rmm_allocator_external_lib_list"]
    if gpu_opts["rmm_pool_size"] is not None:
        extra += ["--rmm-pool-size", str(gpu_opts["rmm_pool_size"])]
        if libs is None:
            libs = ["cupy"]  # otherwise CuPy ignores the pool and keeps its own
    if libs:
        libs = [v.strip() for v in libs.split(",")] if isinstance(libs, str) else list(libs)
        if set(libs) - {"cupy", "torch"}:
            raise ValueError(f"rmm_allocator_external_lib_list takes 'cupy' and/or 'torch', "
                             f"got {libs!r}")
        extra += ["--set-rmm-allocator-for-libs", ",".join(libs)]
    opts["worker_extra_args"] = extra

    if spec.kind == "slurm":
        directives = list(opts.get("job_extra_directives") or [])
        if not any(d.lstrip("-").startswith(("gres", "gpus", "G ")) for d in directives):
            directives.append(f"--gres=gpu:{gpus}")
        opts["job_extra_directives"] = directives
    elif opts.get("resource_spec") is None:
        from dask_jobqueue.pbs import pbs_format_bytes_ceil

        opts["resource_spec"] = (
            f"select=1:ncpus={cores}:ngpus={gpus}:mem={pbs_format_bytes_ceil(mem_bytes)}"
        )
    return opts


def _writable_directory(path: str, what: str) -> str:
    """``path`` if it can be created and written, else a per-user directory under the temp dir."""
    try:
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK | os.X_OK):
            return path
    except OSError:
        pass
    import getpass
    import tempfile
    import warnings

    fallback = os.path.join(tempfile.gettempdir(),
                            f"pylops-distributed-{what.split('_')[0]}-{getpass.getuser()}")
    os.makedirs(fallback, exist_ok=True)
    warnings.warn(f"{what} {path!r} is not writable; using {fallback!r} instead "
                  f"(set {what}= to choose)", stacklevel=3)
    return fallback


def _job_kwargs(opts: dict) -> dict:
    return {k: v for k, v in opts.items() if k not in CLUSTER_ONLY}


def _make_job(spec, scheduler: str | None = None, name: str = "pylops-worker"):
    _, job_cls = _classes(spec.kind)
    opts = jobqueue_cluster_options(spec)
    kwargs = _job_kwargs(opts)
    if spec.security is not None:
        # file-based TLS goes on the worker command line; an in-memory (temporary) certificate is
        # written to files by the running cluster, so a script printed before cannot show it
        worker_tls = spec.security.get_tls_config_for_role("worker").values()
        if not any(str(v).startswith("-----BEGIN") for v in worker_tls if v):
            kwargs["security"] = spec.security
        kwargs.setdefault("protocol", "tls://")
    try:
        return job_cls(scheduler=scheduler or PLACEHOLDER_SCHEDULER, name=name, **kwargs)
    except TypeError as err:
        raise TypeError(f"cluster config {spec.name!r}: {err}; options are the arguments of "
                        f"dask_jobqueue.{spec.kind.upper()}Cluster, e.g. {_example(spec)}") from None


def validate_jobqueue_options(spec) -> None:
    """Build the job (not submitted, no scheduler) so every bad option fails before any start."""
    memory = spec.options.get("memory")
    if memory is not None and str(memory).strip().replace(".", "", 1).isdigit():
        # dask-jobqueue would read a bare number as bytes and fail in its string formatting
        raise ValueError(f"memory={memory!r} has no unit: give the memory per job with one, e.g. "
                         f"memory=\"{memory}GiB\" (CLI: --memory {memory}GiB)")
    _make_job(spec)


def job_script(config="slurm", scheduler: str | None = None, **overrides) -> str:
    """The batch script a slurm/pbs config submits for each job, without starting anything.

    Parameters
    ----------
    config : str
        ``"slurm"``, ``"slurm-gpu"``, ``"pbs"``, ``"pbs-gpu"`` or a YAML path with ``cluster: slurm``
        or ``cluster: pbs``.
    scheduler : str, optional
        Scheduler address written on the worker command line; by default a placeholder
        (``tcp://SCHEDULER-ADDRESS:8786``) filled in by the running cluster.
    **overrides
        As for :func:`~pylops_distributed.cluster.get_client` (``cores``, ``memory``, ``gpus``, ...).

    Returns
    -------
    str

    Examples
    --------
    >>> print(job_script("slurm-gpu", cores=16, memory="128GiB", gpus=4))  # doctest: +SKIP
    #!/usr/bin/env bash
    <BLANKLINE>
    #SBATCH -J pylops-gpu-worker
    ...
    #SBATCH --cpus-per-task=16
    #SBATCH --mem=128G
    #SBATCH -t 01:00:00
    #SBATCH --gres=gpu:4
    ... -m dask_cuda.cli tcp://SCHEDULER-ADDRESS:8786 --name pylops-worker --nthreads 4 --memory-limit 32.00GiB ...
    """
    from .configs import resolve_config

    spec = resolve_config(config, **overrides)
    if spec.kind not in ("slurm", "pbs"):
        raise ValueError(
            f"config {config!r} starts a {spec.kind} cluster, which has no job script; use one of "
            '"slurm", "slurm-gpu", "pbs", "pbs-gpu", e.g. job_script("slurm", cores=8, memory="32GiB")'
        )
    return _make_job(spec, scheduler=scheduler).job_script()


class _KeepsSubmitError:
    """Mixin for a dask-jobqueue job class: a refused submission (``sbatch``/``qsub`` exits
    non-zero) is kept on the job, so that :func:`start_jobqueue_cluster` can report it."""

    submit_error = None

    async def start(self):
        try:
            await super().start()
        except Exception as err:
            self.submit_error = err
            raise

    async def close(self):
        await super().close()
        if self.submit_error is not None:  # never queued: the cluster may close without it
            from distributed.core import Status

            self.status = Status.failed


def _raise_if_refused(cluster, spec) -> None:
    """Wait until every job asked for was submitted, and raise ``RuntimeError`` with the batch
    system's message if one was refused (dask-jobqueue only logs it, and the workers would be
    waited for until ``wait_timeout``)."""
    import time

    deadline = None if spec.wait_timeout is None else time.monotonic() + spec.wait_timeout
    # SpecCluster adds the jobs to ``workers`` once all their submissions have returned
    while len(cluster.workers) < len(cluster.worker_spec):
        if deadline is not None and time.monotonic() > deadline:
            return  # still submitting: get_client's wait reports it
        time.sleep(0.05)
    errors = [j.submit_error for j in list(cluster.workers.values())
              if getattr(j, "submit_error", None) is not None]
    if errors:
        command = "sbatch" if spec.kind == "slurm" else "qsub"
        said = str(errors[0]).split("stderr:", 1)[-1].strip() or str(errors[0])
        raise RuntimeError(
            f"{spec.name}: {command} refused {len(errors)} of {len(cluster.worker_spec)} jobs: "
            f"{said}\nCheck the job's options (queue=, account=, walltime=, cores=, memory=) "
            f"against what the batch system allows, and the script itself: "
            f"pylops-distributed job-script {spec.name} --cores ... --memory ..."
        ) from errors[0]


def drop_tls_files(cluster) -> None:
    """Delete the files of a temporary certificate that dask-jobqueue wrote for the jobs
    (``shared_temp_directory/.dask-jobqueue.worker.{ca_file,cert,key}.*``, mode 0600) once the
    cluster is closed; dask-jobqueue (0.9) keeps them until the cluster object is
    garbage-collected, which a client still referenced delays to the end of the process."""
    for key in ("ca_file", "cert", "key"):
        handle = getattr(cluster, f"_job_{key}", None)
        if handle is not None and hasattr(handle, "close"):
            handle.close()  # a NamedTemporaryFile: closing deletes it


def start_jobqueue_cluster(spec):
    """Start a ``SLURMCluster``/``PBSCluster`` (the scheduler, here) and submit ``spec.jobs`` jobs.

    Returns the cluster and the number of workers to wait for.

    Raises
    ------
    RuntimeError
        The batch system refused a job (its submission command failed); the cluster is closed.
    """
    cluster_cls, job_cls = _classes(spec.kind)
    opts = jobqueue_cluster_options(spec)
    opts["job_cls"] = type(job_cls.__name__, (_KeepsSubmitError, job_cls), {})
    if spec.security is not None:
        opts["security"] = spec.security
        opts.setdefault("protocol", "tls://")
    per_job = _make_job(spec).worker_processes
    cluster = cluster_cls(**opts)
    try:
        if spec.jobs:
            cluster.scale(jobs=spec.jobs)
            expected = spec.jobs * per_job
        elif spec.n_workers:
            cluster.scale(n=spec.n_workers)
            expected = int(math.ceil(spec.n_workers / per_job)) * per_job
        else:
            expected = 0
        if expected:
            _raise_if_refused(cluster, spec)
    except BaseException:
        cluster.close()
        raise
    return cluster, expected
