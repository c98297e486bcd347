"""Flip: reverses an N-D model along an axis."""

from pylops_distributed._arrays import as_dims, normalize_axis, result_dtype
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
    One slicing task per chunk (``x[..., ::-1]``); the chunk sizes along ``axis``
    come out in reverse order, nothing is rechunked. The operator is self-adjoint.

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
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _matvec(self, x):
        index = (slice(None),) * self.axis + (slice(None, None, -1),)
        return x[index].astype(result_dtype(self.dtype, x.dtype), copy=False)

    _rmatvec = _matvec
