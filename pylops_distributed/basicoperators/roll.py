"""Roll: circular shift of an N-D model along an axis."""

import functools
import numbers

from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator


class Roll(LinearOperator):
    r"""Circular shift along an axis: :math:`y[(i + \text{shift}) \bmod N] = x[i]`.

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    axis : int, optional
        Axis along which the model is rolled.
    shift : int, optional
        Number of samples by which elements are shifted (as ``numpy.roll``).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    TypeError
        If ``shift`` is not an integer.
    ValueError
        If ``axis`` is out of range for ``dims``.

    Notes
    -----
    One task per chunk: the output keeps the input's chunks, and each output chunk copies
    the input box shifted back by ``shift`` (a periodic kernel: the box wraps around the
    end of ``axis``). That box straddles neighbouring chunks (two for equal chunks) unless
    the shift lines it up with one; their parts come through small slicing tasks. Nothing
    is rechunked. The adjoint rolls by ``-shift``.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> (pld.Roll(5, shift=2) @ da.arange(5.0, chunks=2)).compute()
    array([3., 4., 0., 1., 2.])
    """

    def __init__(self, dims, axis=-1, shift=1, dtype="float64", name="R", chunks=None):
        dims = as_dims(dims)
        if not isinstance(shift, numbers.Integral):
            raise TypeError(f"Roll: shift must be an integer, got {shift!r}")
        self.axis = normalize_axis(axis, len(dims), "Roll")
        self.shift = int(shift)
        self._token = new_token()
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        n = self.dims[self.axis]
        s = ((-self.shift if adjoint else self.shift) % n) if n else 0
        return ChunkKernel(_copy_kernel, self.dims, self.dims, dtype=self.dtype,
                           name="roll" + ("-adjoint" if adjoint else ""),
                           token=f"{self._token}-{int(adjoint)}", periodic={self.axis},
                           region=functools.partial(_shifted_region, self.axis, s))


def _shifted_region(axis, shift, start, stop):
    """Input box of an output box: ``[start - shift, stop - shift)`` along ``axis``, not
    wrapped (the executor wraps it around the axis)."""
    istart, istop = list(start), list(stop)
    istart[axis] -= shift
    istop[axis] -= shift
    return tuple(istart), tuple(istop)


def _copy_kernel(x, *, where, dtype):
    """A copy of ``x`` (its box already rolled into place) as ``dtype``."""
    return x.astype(dtype, copy=True)
