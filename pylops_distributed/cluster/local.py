"""Local CPU clusters: threads in this process (``local``) or worker processes (``local-processes``)."""

from __future__ import annotations

import inspect

__all__ = ["start_local_cluster", "validate_local_options"]


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
    return opts


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


def start_local_cluster(spec):
    """Start a :class:`distributed.LocalCluster` for a ``local`` spec.

    Examples
    --------
    >>> from pylops_distributed.cluster.configs import resolve_config
    >>> cluster = start_local_cluster(resolve_config("local", dashboard_address=":0"))  # doctest: +SKIP
    """
    from distributed import LocalCluster

    return LocalCluster(**local_cluster_options(spec))
