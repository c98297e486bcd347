"""Inputs and operator operands persisted once on the active distributed client.

A solve computes its inputs in many graphs, and dask fuses (and renames) their tasks
differently from one graph to the next: a key then comes back to the scheduler as another
task, which distributed (2026.8) warns about ("different `run_spec`") and which can leave a
worker waiting forever on the old task's dependencies. Persisted once, an array is the same
futures in every graph, and it is computed once.

- :func:`held`: a solver's vectors (data, starting guess), persisted at the solver's setup;
- :func:`held_operand`: a lazy dask operand of an operator (``Diagonal(d * 2.0)``),
  persisted the first time a graph reads it and kept for as long as the array lives, unless
  it is larger than a quarter of the workers' memory (a kernel read lazily from zarr, larger
  than memory, is then streamed from storage by each apply instead).

On dask's local schedulers and inside a task, both give their argument back as it is.
"""

import dask


def current_client():
    """The default distributed client, or None."""
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    try:
        return default_client()
    except ValueError:
        return None


def as_client(sched):
    """The distributed client that ``sched`` (a client, or its ``get``) stands for, or None."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    for candidate in (sched, getattr(sched, "__self__", None)):
        if isinstance(candidate, Client):
            return candidate
    return None


def in_task():
    """Whether this code runs inside a task on a distributed worker."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def configured_client():
    """The distributed client dask's ``scheduler`` setting stands for: the default client
    when it is unset (or "distributed"), a client (or its ``get``) set as the scheduler;
    else None."""
    sched = dask.config.get("scheduler", None)
    if sched is None or sched in ("distributed", "dask.distributed"):
        return current_client()
    return as_client(sched)


def active_client():
    """The distributed client that computes dask collections here, or None (dask's local
    schedulers, inside a task)."""
    client = configured_client()
    if client is None or in_task():
        return None
    return client


def held(v):
    """``v`` (a dask array or StackedArray, or None) persisted on the active distributed
    client; as it is on a local scheduler and inside a task."""
    if v is None:
        return v
    client = active_client()
    if client is None:
        return v
    from pylops_distributed.stacked import StackedArray

    if isinstance(v, StackedArray):
        return StackedArray(client.persist(list(v.blocks)))
    return client.persist(v)


def held_together(*arrays):
    """The dask arrays persisted on the active distributed client in one graph: the work they
    share runs once, and dask optimises (fuses) their graph once, where computing them one
    by one would give keys they share different tasks in each graph (dask warns then of a
    "different run_spec"). As they are on a local scheduler and inside a task."""
    client = active_client()
    return arrays if client is None else tuple(client.persist(list(arrays)))


#: Largest share of the workers' total memory limit a lazy operand is persisted for.
OPERAND_MEMORY_SHARE = 0.25


def held_operand(data):
    """The dask array ``data`` (an operator's operand) persisted on the active distributed
    client: the first call persists it, later ones (same client) give back the same futures,
    persisted again once a ``client.restart()`` has cancelled them. As it is without a
    client, inside a task, when already persisted, or when too large to keep
    (:data:`OPERAND_MEMORY_SHARE`)."""
    client = active_client()
    if client is None:
        return data
    got = getattr(data, "_pld_held", None)
    if got is None or got[0] != client.id or any(f.cancelled() for f in got[2]):
        from distributed import futures_of

        keep = len(futures_of(data)) < data.npartitions and data.nbytes <= _memory_budget(client)
        out = client.persist(data) if keep else None
        # kept on ``data``: the futures live as long as the operand does
        got = data._pld_held = (client.id, out, futures_of(out) if keep else [])
    return data if got[1] is None else got[1]


def _memory_budget(client):
    """:data:`OPERAND_MEMORY_SHARE` of the workers' total memory limit (no limit: inf)."""
    limits = [w.get("memory_limit") for w in client.scheduler_info(n_workers=-1)["workers"].values()]
    if not limits or not all(limits):
        return float("inf")
    return OPERAND_MEMORY_SHARE * sum(limits)
