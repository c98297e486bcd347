"""Array helpers shared by every operator: backend detection, wrapping and input checks.

This is the only module that looks at whether chunks are NumPy or CuPy; CuPy is
never imported here (a CUDA context in the client costs memory), only recognised
through the array's own module name.
"""

import numbers

import dask.array as da
import numpy as np

#: Chunks used to wrap NumPy/CuPy inputs when an operator was built without ``chunks=``:
#: dask's ``"auto"`` (about ``array.chunk-size``, 128 MiB, per chunk).
DEFAULT_CHUNKS = "auto"


def is_cupy(x):
    """True when ``x`` is a CuPy array (or a dask array of CuPy chunks)."""
    if isinstance(x, da.Array):
        x = x._meta
    return type(x).__module__.split(".")[0] == "cupy"


def get_array_module(x):
    """Array module (``numpy`` or ``cupy``) of ``x``'s data, for dask arrays from ``x._meta``."""
    if is_cupy(x):
        import cupy

        return cupy
    return np


def flatten(x):
    """``x`` flat, for dask arrays without cutting it into pieces smaller than a row: an N-D
    array chunked along trailing axes is first re-cut along its first axis only (in as many
    pieces as it had, when that axis is long enough), where dask's reshape would make one
    chunk per leading index."""
    if isinstance(x, da.Array) and x.ndim > 1 and any(len(c) > 1 for c in x.chunks[1:]) \
            and x.shape[0] >= x.npartitions:
        n = x.shape[0]
        size = -(-n // x.npartitions)
        first = (size,) * (n // size) + ((n % size,) if n % size else ())
        x = x.rechunk((first,) + (-1,) * (x.ndim - 1))
    return x.reshape(-1)


def is_array(x):
    """True for dask, NumPy and CuPy arrays."""
    return isinstance(x, (da.Array, np.ndarray)) or is_cupy(x)


def as_dask(x, chunks=None, opname="operator"):
    """Return ``x`` as a dask array, wrapping NumPy/CuPy arrays with ``chunks``.

    Raises
    ------
    TypeError
        If ``x`` is not an array, or its dtype is not numeric.
    ValueError
        If ``chunks`` cannot cut a NumPy/CuPy ``x`` (sizes that do not add up to its shape,
        non-positive sizes, or not a chunk specification).
    """
    if isinstance(x, da.Array):
        out = x
    elif isinstance(x, np.ndarray) or is_cupy(x):
        check_numeric(x.dtype, opname)  # before dask's chunking, which cannot size objects
        chunks = DEFAULT_CHUNKS if chunks is None else _fitting_chunks(chunks, x, opname)
        # a new name per call (name=False), not one hashed from the values: a solve that
        # re-sends the keys of a NumPy input that the solve before it has just released
        # can leave a worker waiting for a chunk it never fetches (seen on dask 2026.8)
        out = da.from_array(x, chunks=chunks, asarray=False, name=False)
    else:
        raise TypeError(
            f"{opname}: expected a dask, NumPy or CuPy array, got {type(x).__name__}; "
            f"wrap data first, e.g. da.from_array(np.asarray(x), chunks='auto')"
        )
    check_numeric(out.dtype, opname)
    return out


def _fitting_chunks(chunks, x, opname):
    """``chunks`` (an operator's or function's ``chunks=``) normalised for ``x``, or a
    ValueError that says what was given, for which shape, and what would fit."""
    try:
        norm = da.core.normalize_chunks(chunks, x.shape, dtype=x.dtype)
        why = None
        if any(c <= 0 for n, cs in zip(x.shape, norm) if n for c in cs):
            why = "chunk sizes must be positive"
    except (ValueError, TypeError, ZeroDivisionError) as err:
        why = str(err)
    if why is None:
        return norm
    example = tuple(max(1, -(-n // 2)) for n in x.shape)
    raise ValueError(
        f"{opname}: chunks={chunks!r} (the operator's or function's chunks= argument) cannot "
        f"cut an input of shape {x.shape} ({why}); give one chunk size (or tuple of sizes adding up to the axis) per axis, "
        f"e.g. chunks={example}, or chunks='auto'"
    )


def check_numeric(dtype, opname):
    """Raise TypeError unless ``dtype`` is an integer, float or complex dtype."""
    if not np.issubdtype(np.dtype(dtype), np.number):
        raise TypeError(
            f"{opname}: input dtype {np.dtype(dtype)} is not numeric; "
            "expected a float or complex array (e.g. x.astype('float64'))"
        )


def as_dims(dims):
    """Normalise an int or sequence of ints to a tuple of Python ints."""
    if isinstance(dims, numbers.Integral):
        return (int(dims),)
    return tuple(int(d) for d in dims)


def normalize_axis(axis, ndim, opname="operator"):
    """Positive axis index, with an error that names the operator."""
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{opname}: axis={axis} is out of range for dims with {ndim} axes")
    return axis % ndim


def result_dtype(*dtypes):
    """dtype of an operator's output from the operator's and the input's dtypes."""
    return np.result_type(*[np.dtype(d) for d in dtypes])


def meta_like(x, dtype, ndim=None):
    """An empty array of ``x``'s module (NumPy/CuPy) with ``dtype``, for ``meta=``."""
    xp = get_array_module(x)
    return xp.empty((0,) * (x.ndim if ndim is None else ndim), dtype=dtype)
