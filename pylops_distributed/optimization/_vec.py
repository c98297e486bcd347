"""Vector helpers for the solvers: lazy dots/norms on dask arrays and StackedArrays, and the
one function that brings scalars back to the client (every blocking round trip goes through
:func:`fetch`, so it is the place to count them).
"""

import uuid

import dask
import dask.threaded
import dask.array as da
import numpy as np
from dask.base import get_scheduler, is_dask_collection

from pylops_distributed._arrays import as_dask
from pylops_distributed.stacked import StackedArray, as_stacked


def is_complex(dtype):
    return np.iscomplexobj(np.empty(0, dtype))


def conform(v, like):
    """``v`` with the structure of ``like``: a StackedArray split like it, or reshaped to its shape."""
    if isinstance(like, StackedArray):
        if isinstance(v, StackedArray):
            return v
        return as_stacked(v.reshape(-1) if v.ndim != 1 else v, like)
    if isinstance(v, StackedArray):
        v = v.ravel()
    if v.shape != like.shape:
        v = v.reshape(like.shape)
    return v


def as_vector(v, dims, chunks, what):
    """A user vector (NumPy, CuPy, dask or StackedArray) as a dask collection, N-D when possible.

    Returns the vector and whether it was given flat while ``dims`` has several axes.
    """
    if isinstance(v, StackedArray):
        return v, False
    v = as_dask(v, chunks, what)
    flat = v.ndim == 1 and len(dims) > 1 and v.size == int(np.prod(dims))
    if v.shape != tuple(dims) and not flat:
        raise ValueError(f"{what}: expected shape {tuple(dims)} (or flat ({int(np.prod(dims))},)), "
                         f"got {v.shape}")
    return (v.reshape(dims) if flat else v), flat


def zeros_like(v):
    if isinstance(v, StackedArray):
        return StackedArray(da.zeros_like(b) for b in v.blocks)
    return da.zeros_like(v)


def dot(a, b):
    """Lazy 0-d ``sum(conj(a) * b)`` without flattening N-D chunked arrays."""
    if isinstance(a, StackedArray):
        b = conform(b, a)
        return sum(dot(ai, bi) for ai, bi in zip(a.blocks, b.blocks))
    b = conform(b, a)
    return ((a.conj() if is_complex(a.dtype) else a) * b).sum()


def sqnorm(a):
    """Lazy real 0-d ``||a||^2``."""
    if isinstance(a, StackedArray):
        return sum(sqnorm(ai) for ai in a.blocks)
    if is_complex(a.dtype):
        return (a.real ** 2 + a.imag ** 2).sum()
    return (a * a).sum()


def first(a):
    """Lazy 0-d first element of a vector (``x[0]`` in PyLops' tables)."""
    if isinstance(a, StackedArray):
        a = a.blocks[0]
    return a[(0,) * a.ndim]


def persist(*vs):
    """Persist the state: with a distributed client this returns at once (the client runs ahead)."""
    return dask.persist(*vs)


#: Number of blocking round trips made by :func:`fetch` in this process (for tests and benchmarks).
ROUND_TRIPS = [0]


def _to_host(values):
    """Worker side: NumPy/CuPy values to Python scalars (no CuPy reaches the client)."""
    out = []
    for v in values:
        if isinstance(v, list):  # the chunks of a (small) 1-D array
            v = [p.get() if _is_cupy(p) else p for p in v]
            v = np.concatenate([np.ravel(p) for p in v])
        elif _is_cupy(v):
            v = v.get()
        v = np.asarray(v)
        if v.ndim:
            out.append([float(e) for e in v.ravel()])
            continue
        v = v[()]
        out.append(complex(v) if np.iscomplexobj(v) else float(v))
    return out


def _is_cupy(v):
    return type(v).__module__.split(".")[0] == "cupy"


def fetch(*scalars):
    """Bring lazy scalars (0-d or small 1-d dask arrays, or numbers) to the client as Python
    floats: one graph, run by the active scheduler, one blocking round trip."""
    ROUND_TRIPS[0] += 1
    dsk, args = {}, []
    for s in scalars:
        if is_dask_collection(s):
            dsk.update(dict(s.__dask_graph__()))
            keys = list(_flat(s.__dask_keys__()))
            args.append(keys[0] if getattr(s, "ndim", 1) == 0 else keys)
        else:
            args.append(s)
    key = ("fetch-" + uuid.uuid4().hex,)
    dsk[key] = (_to_host, args)
    scheduler = get_scheduler() or dask.threaded.get  # dask arrays default to threads
    return scheduler(dsk, key)


def _flat(keys):
    if isinstance(keys, list):
        for k in keys:
            yield from _flat(k)
    else:
        yield keys
