"""Recycled chunk buffers for the fused solver engine.

A fresh chunk-sized NumPy array is expensive inside a ``distributed`` worker: the nanny sets
``MALLOC_TRIM_THRESHOLD_``, so glibc returns freed blocks to the OS and every new array is
faulted in again page by page. Measured on the 2-core VM (2026-11): a new 2 MB array costs
about 1 ms there against 0.05 ms to fill it, which was more than half of a CGLS iteration's
task on a 250 x 1000 chunk.

The engine's states are immutable task results, so buffers cannot be updated in place.
Instead a :class:`ChunkState` hands its arrays to a per-solve :class:`Pool` when it is
garbage collected (the worker released it), and only the arrays that nothing else holds
(no view, no other reference: the user's data in a first state, for example, is held by the
worker too). Later tasks of the same solve take their outputs from that pool. The pool is
kept alive by the solve's states only, so its memory goes when the solve's last state does.
CuPy chunks are left to CuPy's own memory pool.
"""

import sys
import threading
import weakref
from contextlib import contextmanager

import numpy as np
from dask.sizeof import sizeof

#: Most spare arrays kept per (shape, dtype) in one pool.
KEEP = 8

_POOLS = weakref.WeakValueDictionary()  # solve token -> Pool, in this process
_LOCK = threading.Lock()
_current = threading.local()


class Pool:
    """Spare NumPy arrays of one solve, by (shape, dtype)."""

    __slots__ = ("free", "wanted", "__weakref__")

    def __init__(self):
        self.free = {}
        self.wanted = set()  # (shape, dtype) asked for: other arrays are never kept

    def take(self, shape, dtype):
        self.wanted.add((shape, dtype))
        try:
            return self.free[(shape, dtype)].pop()
        except (KeyError, IndexError):
            return None

    def give(self, a):
        if (a.shape, a.dtype) not in self.wanted or not _reusable(a):
            return
        spare = self.free.setdefault((a.shape, a.dtype), [])
        if len(spare) < KEEP:
            spare.append(a)


def _reusable(a):
    f = a.flags
    return f.owndata and f.writeable and f.c_contiguous


def pool_for(token):
    """This process's pool of the solve ``token`` (created on first use)."""
    with _LOCK:
        pool = _POOLS.get(token)
        if pool is None:
            pool = _POOLS[token] = Pool()
        return pool


@contextmanager
def using(token):
    """Within the block, :func:`empty` takes arrays from the pool of solve ``token``."""
    pool = pool_for(token)
    previous = getattr(_current, "pool", None)
    _current.pool = pool
    try:
        yield pool
    finally:
        _current.pool = previous


def empty(shape, dtype):
    """An uninitialised NumPy array, from the current solve's pool when it has a spare one."""
    shape, dtype = tuple(shape), np.dtype(dtype)
    pool = getattr(_current, "pool", None)
    a = pool.take(shape, dtype) if pool is not None else None
    return np.empty(shape, dtype=dtype) if a is None else a


class ChunkState:
    """A chunk's solver state; its arrays go back to the solve's pool when it is collected."""

    def __init__(self, token, **kw):
        self.__dict__.update(kw)
        self._token = token
        self._pool = pool_for(token)

    def __reduce__(self):  # sent to another worker: without the pool, re-attached there
        kw = {k: v for k, v in self.__dict__.items() if k not in ("_pool", "_token")}
        return _restore, (self._token, kw)

    def __del__(self):
        try:
            pool = self.__dict__.pop("_pool", None)
            if pool is None or not ENABLED:
                return
            held = []
            for value in self.__dict__.values():
                if isinstance(value, dict):
                    held.extend(value.values())
                else:
                    held.extend(value if isinstance(value, list) else [value])
            del value
            self.__dict__.clear()
            while held:  # each array is now referenced by `held` only, unless held elsewhere
                _give_if_free(pool, held.pop())
        except Exception:  # pragma: no cover - e.g. at interpreter shutdown
            pass


def _give_if_free(pool, a):
    """Give ``a`` (or the array it views) to ``pool`` if nothing but this call holds it."""
    if type(a) is not np.ndarray:
        return
    # references: the argument and getrefcount's own; a base also has the view's .base
    if a.base is None:
        if sys.getrefcount(a) == 2:
            pool.give(a)
    elif type(a.base) is np.ndarray and a.base.base is None and sys.getrefcount(a) == 2:
        base = a.base
        if sys.getrefcount(base) == 3:
            del a
            pool.give(base)


def _counts_as_expected():
    """Whether this interpreter counts references as :func:`_give_if_free` assumes.

    CPython 3.11-3.13 with the GIL does; 3.14 borrows references to local variables (counts
    one lower) and free-threaded builds let other threads take references meanwhile, so
    there recycling is off rather than risking a buffer that someone still reads.
    """
    if getattr(sys, "_is_gil_enabled", lambda: True)() is False:
        return False
    pool = Pool()
    four, six = ((4,), np.dtype(np.float64)), ((6,), np.dtype(np.float64))
    pool.wanted.update((four, six))
    held = np.zeros(4)
    _give_if_free(pool, held)  # still referenced here: must not be given
    ext = np.zeros(6)
    free = [np.zeros(4), ext[1:5]]  # an unreferenced array, and the only view of `ext`
    del ext
    while free:
        _give_if_free(pool, free.pop())
    got4, got6 = pool.free.get(four, []), pool.free.get(six, [])
    return len(got4) == 1 and got4[0] is not held and len(got6) == 1


@sizeof.register(ChunkState)
def _sizeof_state(st):
    # the scheduler keeps a chunk's tasks where its (large) state lives: tell it the size
    return sum(sizeof(v) for k, v in st.__dict__.items() if k not in ("_pool", "_token"))


def _restore(token, kw):
    return ChunkState(token, **kw)


#: Recycling is on where reference counts behave as checked at import (see
#: :func:`_counts_as_expected`).
ENABLED = _counts_as_expected()
