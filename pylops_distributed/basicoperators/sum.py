"""Sum: sums an N-D model along an axis (the axis is dropped)."""

import warnings

import dask.array as da
from dask.array.core import normalize_chunks

from pylops_distributed._arrays import as_dims, normalize_axis, result_dtype
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
    Forward: ``x.sum(axis)``, one task per chunk plus dask's tree reduction when the
    input is chunked along ``axis``; the other axes keep their chunks. Adjoint: the
    data is broadcast along the new axis (one task per output chunk, no copy of the
    data in the graph); the new axis is split into dask's ``"auto"`` chunks given the
    data's chunks on the other axes.

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
        super().__init__(dims, dimsd, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def _matvec(self, x):
        return x.sum(axis=self.axis, dtype=result_dtype(self.dtype, x.dtype))

    def _rmatvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype)
        x = da.expand_dims(x.astype(dtype, copy=False), self.axis)
        chunks = list(x.chunks)
        chunks[self.axis] = "auto"
        chunks = normalize_chunks(tuple(chunks), self.dims, dtype=dtype)
        return da.broadcast_to(x, self.dims, chunks=chunks)
