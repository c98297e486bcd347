"""Pad: zero-pads an N-D model at the start and end of every axis."""

import functools
import numbers

from pylops_distributed._arrays import as_dims
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, place
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
    the pads (the chunks in between are kept), and each task writes its chunk into zeros.
    Adjoint: one copying task per chunk of the model, whose chunks are the data's chunk
    boundaries shifted by the ``before`` pads and clipped to the model (chunks falling in
    the pads are dropped), so each task reads (part of) one data chunk and the forward
    output comes back to the input's chunks. Nothing is rechunked.

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

    def _kernel(self, adjoint):
        before = tuple(b for b, _ in self.pad)
        after = tuple(a for _, a in self.pad)
        common = dict(dtype=self.dtype, token=f"{self._token}-{int(adjoint)}")
        if adjoint:
            return ChunkKernel(_unpad_kernel, self.dimsd, self.dims, name="pad-adjoint",
                               region=functools.partial(_unpad_region, before),
                               chunks=functools.partial(_unpad_chunks, before, self.dims), **common)
        return ChunkKernel(_pad_kernel, self.dims, self.dimsd, name="pad", params=dict(before=before),
                           region=functools.partial(_pad_region, before, self.dims),
                           chunks=functools.partial(_pad_chunks, before, after), **common)


def _pad_region(before, dims, start, stop):
    """Input box of a padded output box: shifted back by the pads, clipped to the model."""
    istart = tuple(min(max(s - b, 0), n) for s, b, n in zip(start, before, dims))
    istop = tuple(max(min(e - b, n), s) for e, b, n, s in zip(stop, before, dims, istart))
    return istart, istop


def _pad_chunks(before, after, chunks):
    """The first chunk of every axis grows by ``before``, the last by ``after``."""
    out = []
    for c, b, a in zip(chunks, before, after):
        c = list(c)
        c[0] += b
        c[-1] += a
        out.append(tuple(c))
    return tuple(out)


def _pad_kernel(x, *, where, dtype, before):
    """Zeros on the output box with ``x`` written where it lands (``before`` further on)."""
    y = place(x, tuple(o + b for o, b in zip(where.origin, before)), where.start, where.stop, dtype)
    return y.copy() if y is x else y


def _unpad_region(before, start, stop):
    """Input box of a model box: the data box shifted by the pads."""
    return (tuple(s + b for s, b in zip(start, before)),
            tuple(e + b for e, b in zip(stop, before)))


def _unpad_chunks(before, dims, chunks):
    """The data's chunk boundaries shifted by ``-before`` and clipped to the model."""
    out = []
    for c, b, n in zip(chunks, before, dims):
        edges, pos = [0], 0
        for size in c:
            pos += size
            edge = min(max(pos - b, 0), n)
            if edge > edges[-1]:   # the last edge is n: the data covers the model
                edges.append(edge)
        out.append(tuple(e1 - e0 for e0, e1 in zip(edges[:-1], edges[1:])) or (0,))
    return tuple(out)


def _unpad_kernel(x, *, where, dtype):
    """A copy of ``x`` (already the model box) as ``dtype``."""
    return x.astype(dtype, copy=True)
