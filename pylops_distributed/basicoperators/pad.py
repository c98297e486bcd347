"""Pad: zero-pads an N-D model at the start and end of every axis."""

import numbers

from pylops_distributed._arrays import as_dims, get_array_module, result_dtype
from pylops_distributed._graph import map_chunks, new_token
from pylops_distributed.linearoperator import LinearOperator


class Pad(LinearOperator):
    r"""Zero-padding: :math:`y_i = x_{i - \text{pad}_\text{in}}` inside, 0 in the pads.

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    pad : tuple
        ``(before, after)`` for a 1-D ``dims``, else one ``(before, after)`` pair per
        axis of ``dims``, e.g. ``((1, 2), (0, 3))``.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If a pad is negative or ``pad`` does not have one pair per axis.

    Notes
    -----
    Forward: one task per chunk; the first and last chunks along every axis grow by
    the pads (the chunks in between are kept). Adjoint: a slice of the data, one task
    per chunk, nothing rechunked (the forward output comes back to the input's chunks).

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Pad(3, (1, 2))
    >>> (Op @ da.ones(3, chunks=2)).compute()
    array([0., 1., 1., 1., 0., 0.])
    >>> (Op.H @ da.arange(6.0, chunks=4)).compute()
    array([1., 2., 3.])
    """

    def __init__(self, dims, pad, dtype="float64", name="P", chunks=None):
        dims = as_dims(dims)
        try:
            pairs = [pad] if len(dims) == 1 and len(pad) == 2 and \
                isinstance(pad[0], numbers.Integral) else list(pad)
            pairs = [tuple(int(p) for p in pair) for pair in pairs]
        except TypeError:
            raise TypeError(f"Pad: pad must be (before, after) pairs of ints, got {pad!r}") from None
        if len(pairs) != len(dims) or any(len(p) != 2 for p in pairs):
            raise ValueError(f"Pad: pad={pad!r} must hold one (before, after) pair per axis of "
                             f"dims={dims}, e.g. pad={tuple((1, 1) for _ in dims)}")
        if any(p < 0 for pair in pairs for p in pair):
            raise ValueError(f"Pad: padding must be positive or zero, got pad={pad!r}")
        self.pad = pairs
        self._token = new_token()
        dimsd = [d + b + a for d, (b, a) in zip(dims, pairs)]
        super().__init__(dims, dimsd, dtype, name=name, chunks=chunks)

    def _matvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype)
        if not any(b or a for b, a in self.pad):
            return x.astype(dtype, copy=False)
        chunks = []
        for c, (b, a) in zip(x.chunks, self.pad):
            c = list(c)
            c[0] += b
            c[-1] += a
            chunks.append(tuple(c))
        return map_chunks(_pad_chunk, x, self.pad, x.numblocks, dtype, prefix="pad", token=self._token,
                          dtype=dtype, chunks=tuple(chunks))

    def _rmatvec(self, x):
        x = x.astype(result_dtype(self.dtype, x.dtype), copy=False)
        if not any(b or a for b, a in self.pad):
            return x
        return x[tuple(slice(b, b + d) for (b, _), d in zip(self.pad, self.dims))]


def _pad_chunk(chunk, pad, numblocks, dtype, block_id=None):
    """Zero-pad one chunk on the sides where it touches the array's edges."""
    width = [(b if i == 0 else 0, a if i == n - 1 else 0)
             for (b, a), i, n in zip(pad, block_id, numblocks)]
    return get_array_module(chunk).pad(chunk.astype(dtype, copy=False), width, mode="constant")
