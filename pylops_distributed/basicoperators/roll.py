"""Roll: circular shift of an N-D model along an axis."""

import numbers

import dask.array as da

from pylops_distributed._arrays import as_dims, normalize_axis, result_dtype
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
    ``dask.array.roll``: two slices concatenated, about one task per chunk plus one
    for the chunk cut by the shift, so the output chunks along ``axis`` are the
    input's, rotated (one chunk may be split in two). The adjoint rolls by ``-shift``.

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
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _roll(self, x, shift):
        dtype = result_dtype(self.dtype, x.dtype)
        if x.shape[self.axis] == 0 or shift % x.shape[self.axis] == 0:
            return x.astype(dtype, copy=False)
        return da.roll(x, shift, axis=self.axis).astype(dtype, copy=False)

    def _matvec(self, x):
        return self._roll(x, self.shift)

    def _rmatvec(self, x):
        return self._roll(x, -self.shift)
