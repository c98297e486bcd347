"""``get_client``: one call from a config name to a connected :class:`distributed.Client`."""

from __future__ import annotations

import logging
import os

import dask

from distributed import Client

from .configs import ClusterSpec, resolve_config

__all__ = ["ClusterClient", "get_client", "start_cluster"]

log = logging.getLogger("pylops_distributed.cluster")
if not log.handlers:  # as distributed does for its own loggers: shown unless configured away
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(name)s - %(levelname)s - %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


class ClusterClient(Client):
    """A :class:`distributed.Client` that owns the cluster it was started with.

    ``close()`` (or leaving a ``with`` block) closes the client and then the cluster: local
    workers stop, batch jobs are cancelled. Otherwise it is a plain ``Client``.

    Parameters
    ----------
    cluster : distributed.deploy.Cluster
        The cluster to connect to and own.
    **kwargs
        Passed to :class:`distributed.Client`.
    """

    def __init__(self, cluster, **kwargs):
        self._owned_cluster = cluster
        super().__init__(cluster, **kwargs)

    @property
    def dashboard_link(self):
        """Link to the dashboard, at the host it listens on (a threads cluster's link would
        otherwise name the machine's address while the dashboard listens on 127.0.0.1)."""
        link = super().dashboard_link
        spec = getattr(self._owned_cluster or self.cluster, "scheduler_spec", None) or {}
        bound = str(spec.get("options", {}).get("dashboard_address") or "")
        host = bound.rsplit(":", 1)[0] if ":" in bound else ""
        if link and host in ("127.0.0.1", "localhost"):
            scheme, rest = link.split("://", 1)
            link = f"{scheme}://{host}:{rest.split(':', 1)[1]}"
        return link

    def close(self, *args, **kwargs):
        """Close the client, then the cluster it started (and the files of a temporary
        certificate written for its batch jobs)."""
        try:
            return super().close(*args, **kwargs)
        finally:
            cluster, self._owned_cluster = getattr(self, "_owned_cluster", None), None
            if cluster is not None:
                try:
                    cluster.close()
                finally:
                    if hasattr(cluster, "job_script"):  # a dask-jobqueue cluster
                        from .jobqueue import drop_tls_files

                        drop_tls_files(cluster)


def start_cluster(spec: ClusterSpec):
    """Start the cluster a resolved spec describes.

    Returns
    -------
    cluster : distributed.deploy.Cluster
    expected_workers : int
        Workers to wait for (0: do not wait).
    """
    if spec.kind == "local":
        from .local import start_local_cluster

        cluster = start_local_cluster(spec)
        return cluster, len(cluster.workers)
    if spec.kind == "local-cuda":
        from .cuda import start_local_cuda_cluster

        cluster = start_local_cuda_cluster(spec)
        return cluster, len(cluster.workers)
    from .jobqueue import start_jobqueue_cluster

    return start_jobqueue_cluster(spec)


def _wait(client: Client, n: int, spec: ClusterSpec) -> None:
    try:
        if n:
            client.wait_for_workers(n, timeout=spec.wait_timeout)
        info = client.scheduler_info()  # refresh the client's view: repr shows the workers
        log.info("%s: %d workers, dashboard at %s", spec.name, len(info["workers"]),
                 client.dashboard_link)
    except TimeoutError as err:
        have = len(client.scheduler_info(n_workers=-1)["workers"])
        hint = ""
        if spec.kind == "slurm":
            hint = (" Are the jobs still queued (squeue -u $USER)? Did they fail (see their logs "
                    f"in {spec.options.get('log_directory')})?")
        elif spec.kind == "pbs":
            hint = (" Are the jobs still queued (qstat -u $USER)? Did they fail (see their logs "
                    f"in {spec.options.get('log_directory')})?")
        raise TimeoutError(
            f"{spec.name}: {have} of {n} workers joined within wait_timeout={spec.wait_timeout} s."
            f"{hint} Wait longer with get_client({spec.name!r}, ..., wait_timeout=1800), or "
            f"forever with wait_timeout=None."
        ) from err


def _probe_scheduler(spec: ClusterSpec) -> None:
    """Connect to the scheduler once and wait at most ``distributed.comm.timeouts.connect``
    for its handshake.

    ``distributed.Client`` bounds the TCP connection by that timeout but then waits for the
    scheduler's handshake without any: a socket that accepts and never answers (a hung
    scheduler, another service, a port forward to nothing) would block it forever.

    Raises
    ------
    TimeoutError
        Connected, but no Dask scheduler answered within twice that timeout plus a second.
    OSError
        No connection within the timeout (refused, unreachable), or closed by the other end
        (a TLS scheduler reached with ``tcp://``, say).
    """
    import asyncio
    import json
    from concurrent.futures import ThreadPoolExecutor

    from dask.utils import parse_timedelta
    from distributed import Security
    from distributed.comm import connect

    address = spec.address
    if address is None:
        with open(spec.scheduler_file) as f:
            address = json.load(f)["address"]
    timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
    args = (spec.security or Security()).get_connection_args("client")

    # connect() gives up connecting after `timeout` (OSError); past that it hangs in the handshake
    bound = 2 * timeout + 1

    async def handshake():
        comm = await asyncio.wait_for(connect(address, timeout=timeout, **args), bound)
        await comm.close()

    # a thread of its own: the caller may run an event loop (Jupyter) in this one
    with ThreadPoolExecutor(1, thread_name_prefix="pylops-probe") as pool:
        try:
            pool.submit(asyncio.run, handshake()).result()
        except asyncio.TimeoutError as err:  # connected, but the handshake never came
            raise _SilentScheduler(
                f"{spec.name}: connected to {address}, but no Dask scheduler answered within "
                f"{bound:g} s; is it a Dask scheduler (not a worker, a dashboard or another "
                "service), alive, and speaking the protocol of the address (tcp:// or tls://)? "
                "The wait follows dask.config.set({'distributed.comm.timeouts.connect': '5s'})"
            ) from err


class _SilentScheduler(TimeoutError):
    """A server accepted the connection but sent no Dask handshake."""


def get_client(config: str | os.PathLike = "local", **overrides) -> Client:
    """Start (or find) a Dask cluster from a config and return a connected client.

    Parameters
    ----------
    config : str or path-like, default ``"local"``
        One of

        - a bundled config name: ``"local"`` (threads in this process), ``"local-processes"``,
          ``"local-cuda"`` (one worker per GPU), ``"slurm"``, ``"slurm-gpu"``, ``"pbs"``,
          ``"pbs-gpu"`` (see ``pylops-distributed configs``);
        - the path of a YAML config file (same format, see ``cluster_configs/README.md``);
        - ``"scheduler-file:PATH"``: a running scheduler that wrote ``PATH``
          (``dask scheduler --scheduler-file PATH``);
        - a scheduler address, ``"tcp://HOST:PORT"`` or ``"tls://HOST:PORT"``.
    **overrides
        Keyword arguments of the cluster class, overriding the config's ``options``
        (``distributed.LocalCluster``, ``dask_cuda.LocalCUDACluster``,
        ``dask_jobqueue.SLURMCluster`` / ``PBSCluster``: ``cores``, ``memory``, ``queue``,
        ``walltime``, ``account``, ``job_extra_directives``, ``threads_per_worker``, ...), GPU job
        options (``gpus``, ``rmm_pool_size``, ``device_memory_limit``), and:

        jobs : int
            slurm/pbs: jobs to submit now and wait for (local: workers to start).
        n_workers : int
            Workers to start (local) or to wait for (slurm/pbs: jobs enough for them; existing
            scheduler: wait until that many are connected).
        wait_timeout : float or None
            Seconds to wait for the workers (``None``: forever).
        security : None, "temporary", dict or distributed.Security
            TLS, in every config: ``{"ca-file": ..., "cert": ..., "key": ...}`` or a self-signed
            ``"temporary"`` certificate.

    Returns
    -------
    distributed.Client
        Connected, with the workers asked for already joined. If this call started the cluster,
        closing the client (or leaving its ``with`` block) also closes the cluster and cancels
        its jobs; a client to an existing scheduler leaves that scheduler running. The number
        of workers and the dashboard link are logged (logger ``pylops_distributed.cluster``,
        to stderr; ``logging.getLogger("pylops_distributed.cluster").setLevel("WARNING")``
        silences it).

    Raises
    ------
    ValueError, TypeError
        Bad config or options; raised before anything is started, with a working call shown.
    ImportError
        dask-jobqueue / dask-cuda missing for a config that needs them (names the extra).
    TimeoutError
        The workers did not join within ``wait_timeout``; the cluster is closed again. For an
        address or scheduler file: no scheduler answered (``distributed.comm.timeouts.connect``
        bounds the connection, twice it plus a second the handshake).
    OSError
        An address or scheduler file whose scheduler cannot be reached (refused, unreachable).
    RuntimeError
        slurm/pbs: the batch system refused a job (``sbatch``/``qsub`` failed); its message
        is shown and the cluster is closed again.

    Examples
    --------
    >>> from pylops_distributed.cluster import get_client
    >>> with get_client("local", dashboard_address=":0") as client:
    ...     print(len(client.scheduler_info()["workers"]))
    1

    On a SLURM login node, two jobs of one core each:

    >>> client = get_client("slurm", cores=1, memory="2GiB", jobs=2)   # doctest: +SKIP

    Inside a batch job that started ``dask scheduler --scheduler-file $SCHED``:

    >>> client = get_client("scheduler-file:" + os.environ["SCHED"])   # doctest: +SKIP
    """
    spec = resolve_config(config, **overrides)
    if spec.kind in ("address", "scheduler-file"):
        if spec.kind == "scheduler-file" and not os.path.exists(spec.scheduler_file):
            raise FileNotFoundError(
                f"scheduler file {spec.scheduler_file!r} does not exist (yet): start the scheduler "
                f"with `dask scheduler --scheduler-file {spec.scheduler_file}` first, or wait for "
                "it to appear before calling get_client"
            )
        kwargs = {"security": spec.security} if spec.security is not None else {}
        where = spec.address or f"the scheduler in {spec.scheduler_file}"
        try:
            _probe_scheduler(spec)
            if spec.kind == "address":
                client = Client(spec.address, **kwargs)
            else:
                client = Client(scheduler_file=spec.scheduler_file, **kwargs)
        except _SilentScheduler:
            raise
        except (OSError, TimeoutError) as err:
            timeout = dask.config.get("distributed.comm.timeouts.connect")
            raise (TimeoutError if isinstance(err, TimeoutError) else OSError)(
                f"could not connect to {where} within {timeout} ({err}); is a scheduler running "
                "there (`pylops-distributed start`, `dask scheduler`) and is the address right "
                "(a TLS scheduler takes tls://HOST:PORT and security=)? To wait less or longer: "
                "dask.config.set({'distributed.comm.timeouts.connect': '5s'})") from err
        try:
            _wait(client, spec.n_workers or 0, spec)
        except BaseException:
            client.close()
            raise
        return client

    cluster, expected = start_cluster(spec)
    try:
        client = ClusterClient(cluster)
    except BaseException:
        cluster.close()
        raise
    try:
        _wait(client, expected, spec)
    except BaseException:
        client.close()
        raise
    return client
