"""Graph construction helpers: the one place that decides how tasks are named and built.

Operators build their graphs only through these functions (which use dask's public
``map_blocks``/``blockwise``), so a change of dask internals touches this module alone.
"""

import uuid

import dask.array as da
from dask.base import tokenize

from pylops_distributed._arrays import meta_like


def new_token():
    """A fresh identity for an operator instance, used to name its tasks deterministically."""
    return uuid.uuid4().hex


def map_chunks(kernel, x, *args, prefix, token, dtype, chunks=None, drop_axis=None,
               new_axis=None, **kwargs):
    """One task per chunk of ``x``: ``kernel(chunk, *args, **kwargs)``.

    Tasks are named ``prefix-<hash>`` (readable on the dashboard, identical for the
    same operator applied to the same input, so nothing is computed twice), ``meta``
    keeps the chunk type (NumPy or CuPy) and ``dtype`` is passed explicitly.
    """
    ndim = x.ndim if chunks is None else len(chunks)
    name = f"{prefix}-{tokenize(token, x.name, args, kwargs)}"
    return da.map_blocks(kernel, x, *args, name=name, dtype=dtype, chunks=chunks,
                         meta=meta_like(x, dtype, ndim), drop_axis=drop_axis,
                         new_axis=new_axis, **kwargs)
