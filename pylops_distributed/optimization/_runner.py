"""The active scheduler, as the fused engine uses it: submit dicts of tasks, get chunks.

With a distributed client, :meth:`Runner.submit` is ``client.get(dsk, keys, sync=False)``:
it returns futures at once, so the client builds the next stage while the workers run this
one, and each task is placed by the scheduler where its largest inputs (the rank's state)
already are. Without one, dask's threaded (or synchronous) scheduler runs the tasks and the
values themselves stand in for futures.
"""

import os

import dask
import dask.threaded
import numpy as np

from pylops_distributed._held import configured_client, current_client


class Unsupported(Exception):
    """The active scheduler is not one the fused engine drives."""


def local_threads():
    """Threads of dask's local (threaded) scheduler."""
    return dask.config.get("num_workers", None) or os.cpu_count() or 1


def threads_available():
    """Threads that run tasks: the current client's workers', else the local scheduler's."""
    client = current_client()
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return local_threads()


class Runner:
    """Submits graphs to the active scheduler (distributed client, threads or synchronous)."""

    def __init__(self):
        self.client = None
        sched = dask.config.get("scheduler", None)
        if sched in ("threads", "threading"):
            self.get = dask.threaded.get
        elif sched in ("sync", "synchronous", "single-threaded"):
            self.get = dask.get
        else:  # the default client, or dask.config.set(scheduler=client or client.get)
            self.client = configured_client()
            if self.client is None and sched not in (None, "distributed", "dask.distributed"):
                raise Unsupported(f"scheduler {sched!r}")
            self.get = None if self.client is not None else dask.threaded.get

    @staticmethod
    def local():
        """Whether the active scheduler is one of dask's local ones (no distributed client)."""
        try:
            return not Runner().distributed
        except Unsupported:
            return False

    @property
    def distributed(self):
        return self.client is not None

    def submit(self, dsk, keys):
        """Futures (distributed, at once) or values (local) of ``keys``."""
        if self.client is not None:
            return self.client.get(dsk, keys, sync=False)
        return self.get(dsk, keys)

    def submit_at(self, dsk, keys, homes):
        """``submit``, each key preferring its worker in ``homes`` (key -> address or None):
        one graph per worker, in the order of ``keys`` groups (a group may use the futures of
        the groups before it, not later ones)."""
        if self.client is None or not any(homes.get(k) for k in keys):
            return self.submit(dsk, keys)
        out = {}
        for home in dict.fromkeys(homes.get(k) for k in keys):
            mine = [k for k in keys if homes.get(k) == home]
            sub = _closure(dsk, mine, out)
            futures = self.client.get(sub, mine, sync=False, workers=[home] if home else None,
                                      allow_other_workers=True if home else None)
            out.update(zip(mine, futures))
        return [out[k] for k in keys]

    def owners(self, handles):
        """The workers holding each chunk handle, sorted (distributed; waits for them once)."""
        from distributed import wait

        futures = list(handles)
        with self.client.as_current():  # the client may be dask's scheduler, not the default
            wait(futures)
        who = self.client.who_has(futures)
        return {f: sorted(who.get(f.key) or []) for f in futures}

    def threads(self):
        """Threads of each worker of the cluster (distributed)."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {addr: int(w.get("nthreads", 1)) for addr, w in info.items()}

    def result(self, dsk, key):
        """One value, waited for: a blocking round trip."""
        if self.client is not None:
            return self.client.gather(self.client.get(dsk, key, sync=False))
        return self.get(dsk, key)

    def persist_together(self, arrays):
        """``{name: persisted array}`` of dask ``arrays``, persisted in one graph with a
        client (nothing on local schedulers): a key two of them share is one task, not one
        per graph fused differently (the scheduler's "different run_spec")."""
        todo = {a.name: a for a in arrays}
        if self.client is None or not todo:
            return {}
        return {a.name: a for a in self.client.persist(list(todo.values()))}

    def chunks(self, arr):
        """Per block index, a handle on the chunk of the dask array ``arr``: a future of the
        persisted chunk (distributed) or the chunk itself (local; ``arr`` is computed)."""
        bids = list(np.ndindex(*arr.numblocks))
        if self.client is not None:
            from distributed import futures_of

            arr = self.client.persist(arr)
            by_key = {f.key: f for f in futures_of(arr)}
            return {bid: by_key[(arr.name,) + bid] for bid in bids}
        held = persisted_chunks(arr)
        if held is not None:
            return held
        values = dask.compute(*arr.to_delayed().ravel(), scheduler=self.get)
        return dict(zip(bids, values))


def persisted_chunks(arr):
    """Per block index, the chunks of a dask array persisted on a local scheduler, read from
    its graph (a compute costs a few milliseconds); ``None`` if one is a task."""
    graph = arr.__dask_graph__()
    out = {}
    for bid in np.ndindex(*arr.numblocks):
        value = graph.get((arr.name,) + bid)
        if value is None or not hasattr(value, "shape") or getattr(value, "ndim", -1) != len(bid):
            return None
        out[bid] = value
    return out


def _closure(dsk, keys, done):
    """The tasks of ``dsk`` that ``keys`` need, keys already submitted replaced by futures."""
    out, stack = {}, list(keys)
    while stack:
        k = stack.pop()
        if k in out:
            continue
        task = dsk[k]
        out[k] = _substitute(task, dsk, done, stack)
    return out


def is_key(arg, table):
    """Whether ``arg`` is a task key of ``table`` (keys are tuples here)."""
    try:
        return isinstance(arg, tuple) and arg in table
    except TypeError:  # e.g. a tuple of slices or of arrays
        return False


def run_kept(get, dsk, held, key=None):
    """Run the tasks ``dsk`` kept for a local scheduler with ``get`` (and ``key``, whose
    value is returned); in each list of ``held``, their keys are replaced by their values."""
    want = list(dict.fromkeys(v for lst in held for v in lst if is_key(v, dsk)))
    values = get(dsk, want + ([key] if key is not None else []))
    got = dict(zip(want, values))
    for lst in held:
        lst[:] = [got[v] if is_key(v, got) else v for v in lst]
    return values[-1] if key is not None else None


def _substitute(arg, dsk, done, stack):
    if isinstance(arg, tuple) and arg and callable(arg[0]):
        return (arg[0],) + tuple(_substitute(a, dsk, done, stack) for a in arg[1:])
    if is_key(arg, done):
        return done[arg]
    if is_key(arg, dsk):
        stack.append(arg)
        return arg
    if isinstance(arg, list):
        return [_substitute(a, dsk, done, stack) for a in arg]
    return arg
