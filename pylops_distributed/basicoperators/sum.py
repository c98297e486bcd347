"""Sum: sums an N-D model along an axis (the axis is dropped)."""

import functools
import warnings

from dask.array.core import normalize_chunks

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, place
from pylops_distributed.linearoperator import LinearOperator


class Sum(LinearOperator):
    r"""Sum along an axis: :math:`y_j = \sum_i x_{i,j}`; adjoint :math:`x_{i,j} = y_j`.

    Parameters
    ----------
    dims : int or tuple of int
        Model shape. As in PyLops a 1-D ``dims=(N,)`` is treated as ``(N, 1)``.
    axis : int, optional
        Axis summed over; the data has shape ``dims`` without that axis.
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`. As in PyLops, it is reset to
        ``None`` (with a warning) when ``len(dims) > 2``.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If ``axis`` is out of range for ``dims``.

    Notes
    -----
    Forward: one task per output chunk; the other axes keep their chunks. When the input
    is chunked along ``axis``, each of its chunks gives one partial-sum task (an additive
    kernel, the axis is never gathered) and the output chunk's task adds them up.
    Adjoint: one task per output chunk, which broadcasts its data chunk along the new
    axis; the new axis is split into dask's ``"auto"`` chunks (for the operator's dtype)
    given the data's chunks on the other axes. Nothing is rechunked.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Sum((3, 4), axis=0)
    >>> (Op @ da.ones((3, 4), chunks=2)).compute()
    array([3., 3., 3., 3.])
    >>> (Op.H @ da.arange(4.0, chunks=2)).compute()
    array([[0., 1., 2., 3.],
           [0., 1., 2., 3.],
           [0., 1., 2., 3.]])
    """

    def __init__(self, dims, axis=-1, forceflat=None, dtype="float64", name="S", chunks=None):
        dims = as_dims(dims)
        dims = (dims[0], 1) if len(dims) == 1 else dims
        self.axis = normalize_axis(axis, len(dims), "Sum")
        dimsd = list(dims)
        dimsd.pop(self.axis)
        if len(dims) > 2 and forceflat is not None:
            warnings.warn(f"Sum: setting forceflat=None since len(dims)={len(dims)}>2; the output "
                          "is flat for flat inputs and N-D for N-D inputs", stacklevel=2)
            forceflat = None
        self._token = new_token()
        super().__init__(dims, dimsd, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        ax, n = self.axis, self.dims[self.axis]
        common = dict(dtype=self.dtype, token=f"{self._token}-{int(adjoint)}", params=dict(axis=ax))
        if adjoint:
            return ChunkKernel(_broadcast_kernel, self.dimsd, self.dims, name="sum-adjoint",
                               axes=tuple(None if k == ax else k - (k > ax) for k in range(len(self.dims))),
                               region=functools.partial(_drop_region, ax),
                               chunks=functools.partial(_broadcast_chunks, ax, self.dims, self.dtype),
                               **common)
        return ChunkKernel(_sum_kernel, self.dims, self.dimsd, name="sum", additive=True,
                           axes=tuple(k + (k >= ax) for k in range(len(self.dimsd))),
                           region=functools.partial(_insert_region, ax, n),
                           chunks=functools.partial(_drop_chunks, ax), **common)


def _insert_region(axis, n, start, stop):
    """Input box of a sum's output box: the summed axis inserted whole."""
    return (tuple(start[:axis]) + (0,) + tuple(start[axis:]),
            tuple(stop[:axis]) + (n,) + tuple(stop[axis:]))


def _drop_chunks(axis, chunks):
    return tuple(chunks[:axis]) + tuple(chunks[axis + 1:])


def _sum_kernel(x, *, where, dtype, axis):
    """The sum of ``x`` (a piece of the input box, maybe of the summed axis) over ``axis``,
    placed on the whole output box (zeros beyond the piece)."""
    part = x.sum(axis=axis, dtype=dtype)
    origin = tuple(where.origin[:axis]) + tuple(where.origin[axis + 1:])
    return place(part, origin, where.start, where.stop, dtype)


def _drop_region(axis, start, stop):
    """Input box of a broadcast's output box: the new axis dropped."""
    return (tuple(start[:axis]) + tuple(start[axis + 1:]),
            tuple(stop[:axis]) + tuple(stop[axis + 1:]))


def _broadcast_chunks(axis, dims, dtype, chunks):
    """The data's chunks, with the new axis in dask's ``"auto"`` chunks."""
    chunks = tuple(chunks[:axis]) + ("auto",) + tuple(chunks[axis:])
    return normalize_chunks(chunks, dims, dtype=dtype)


def _broadcast_kernel(x, *, where, dtype, axis):
    """``x`` repeated along the new ``axis`` over the output box."""
    out = get_array_module(x).empty(tuple(b - a for a, b in zip(where.start, where.stop)), dtype=dtype)
    out[...] = get_array_module(x).expand_dims(x, axis)
    return out
