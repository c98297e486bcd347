"""Flip: reverses an N-D model along an axis."""

import functools

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator


class Flip(LinearOperator):
    r"""Flip along an axis: :math:`y[i] = x[N-1-i]`.

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    axis : int, optional
        Axis along which the model is flipped.
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
    One task per chunk: the output keeps the input's chunks, and each output chunk is the
    reversed mirror box of the input. That box is one input chunk when the chunks are
    symmetric about the centre along ``axis``; otherwise it straddles neighbouring chunks,
    whose parts come through small slicing tasks. Nothing is rechunked. The operator is
    self-adjoint.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> (pld.Flip(5) @ da.arange(5.0, chunks=2)).compute()
    array([4., 3., 2., 1., 0.])
    """

    def __init__(self, dims, axis=-1, dtype="float64", name="F", chunks=None):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "Flip")
        self._token = new_token()
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        return ChunkKernel(_flip_kernel, self.dims, self.dims, dtype=self.dtype, name="flip",
                           token=f"{self._token}-{int(adjoint)}", params=dict(axis=self.axis),
                           region=functools.partial(_mirror_region, self.axis, self.dims[self.axis]))


def _mirror_region(axis, n, start, stop):
    """Input box of an output box: ``[n - stop, n - start)`` along ``axis``."""
    istart, istop = list(start), list(stop)
    istart[axis], istop[axis] = n - stop[axis], n - start[axis]
    return tuple(istart), tuple(istop)


def _flip_kernel(x, *, where, dtype, axis):
    """``x`` reversed along ``axis``, as a new array of ``dtype``."""
    return get_array_module(x).array(get_array_module(x).flip(x, axis), dtype=dtype, order="C",
                                     copy=True)
