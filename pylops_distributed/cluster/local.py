"""Local CPU clusters: threads in this process (``local``) or worker processes (``local-processes``)."""

from __future__ import annotations

import inspect

__all__ = ["loopback_only", "start_local_cluster", "validate_local_options", "worker_malloc"]

#: glibc's mmap threshold for worker processes: chunk-sized temporaries (up to 32 MiB) come
#: from the heap instead of fresh, zero-faulted mappings.
MMAP_THRESHOLD = 32 * 2**20
_PRE_SPAWN = "distributed.nanny.pre-spawn-environ"


def _accepted(*classes) -> set[str]:
    names = set()
    for cls in classes:
        for klass in inspect.getmro(cls):
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            for p in inspect.signature(init).parameters.values():
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                    names.add(p.name)
    return names


def loopback_only(opts: dict) -> dict:
    """Bind the dashboard to the cluster's ``host`` (``127.0.0.1`` unless the options name
    one; the scheduler and workers bind there already): a dashboard address without a host
    (``":8787"``) would listen on every interface of the machine."""
    host = opts.get("host") or "127.0.0.1"
    dash = opts.get("dashboard_address", ":8787")
    if dash is not None and str(dash).startswith(":"):
        opts["dashboard_address"] = f"{host.split('://')[-1]}{dash}"
    if not opts.get("processes", True):  # the in-process worker's own HTTP server
        opts.setdefault("worker_dashboard_address", f"{host.split('://')[-1]}:0")
    return opts


def local_cluster_options(spec) -> dict:
    """Keyword arguments for :class:`distributed.LocalCluster` from a resolved spec."""
    opts = {k: v for k, v in spec.options.items()}
    n = spec.n_workers if spec.n_workers is not None else spec.jobs
    if n is not None:
        opts["n_workers"] = n
    if spec.security is not None:
        opts["security"] = spec.security
        if not opts.get("protocol"):
            opts["protocol"] = "tls://"
    return loopback_only(opts)


def validate_local_options(spec, extra_classes=()) -> None:
    """Raise ``TypeError`` for options no local-cluster, worker or nanny argument takes."""
    from distributed import LocalCluster, Nanny, Worker

    accepted = _accepted(LocalCluster, Worker, Nanny, *extra_classes)
    unknown = sorted(set(spec.options) - accepted)
    if unknown:
        cls = extra_classes[0].__name__ if extra_classes else "LocalCluster"
        raise TypeError(
            f"cluster config {spec.name!r}: {unknown} are not arguments of {cls} or of its "
            f'workers; for example get_client("{spec.name}", n_workers=2, threads_per_worker=1, '
            f'memory_limit="4GiB")'
        )
    proto = spec.options.get("protocol")
    if spec.security is not None and proto and not str(proto).startswith("tls"):
        raise ValueError(f"security= needs protocol 'tls://', got protocol={proto!r}")


def worker_malloc():
    """Dask config for worker processes started under it: ``MALLOC_MMAP_THRESHOLD_`` (unless
    the user's config sets one).

    The nanny sets ``MALLOC_TRIM_THRESHOLD_`` (dask's default, to give memory back), which
    also freezes glibc's mmap threshold at 128 KiB: every chunk-sized temporary of a kernel
    (an FFT's, a threshold's) is then a new mapping faulted in page by page. Measured
    2026-11-30 on the 2-core VM (FISTA, Convolve1D, 40x267x550 in 2 chunks, 2 workers): 0.35 s
    an iteration without, 0.18 s with (threads: 0.17 s). Freed memory still goes back to the
    OS (the trim threshold is kept).

    Examples
    --------
    >>> import dask
    >>> with worker_malloc():
    ...     dask.config.get("distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_")
    33554432
    """
    import dask

    env = dict(dask.config.get(_PRE_SPAWN, default={}) or {})
    env.setdefault("MALLOC_MMAP_THRESHOLD_", MMAP_THRESHOLD)
    return dask.config.set({_PRE_SPAWN: env})


def start_local_cluster(spec):
    """Start a :class:`distributed.LocalCluster` for a ``local`` spec.

    Examples
    --------
    >>> from pylops_distributed.cluster.configs import resolve_config
    >>> cluster = start_local_cluster(resolve_config("local", dashboard_address=":0"))  # doctest: +SKIP
    """
    from distributed import LocalCluster

    with worker_malloc():
        return LocalCluster(**local_cluster_options(spec))
