"""Zero: the operator that maps every input to zeros."""

import dask.array as da

from pylops_distributed._arrays import as_dims, result_dtype
from pylops_distributed.linearoperator import LinearOperator


class Zero(LinearOperator):
    r"""Zero operator :math:`\mathbf{y} = \mathbf{0}`.

    Parameters
    ----------
    N : int or tuple of int
        Data shape.
    M : int or tuple of int, optional
        Model shape (default ``N``).
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The output is a lazy zero array with the input's array module; when the shapes
    are equal it keeps the input's chunks.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> (pld.Zero(2, 3) @ da.ones(3, chunks=2)).compute()
    array([0., 0.])
    """

    def __init__(self, N, M=None, forceflat=None, dtype="float64", name="Z", chunks=None):
        N = as_dims(N)
        M = N if M is None else as_dims(M)
        super().__init__(M, N, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def _zeros(self, x, shape):
        dtype = result_dtype(self.dtype, x.dtype)
        if x.shape == shape:
            return da.zeros_like(x, dtype=dtype)
        chunks = x.chunksize if len(shape) == x.ndim else "auto"
        return da.zeros_like(x, dtype=dtype, shape=shape, chunks=chunks)

    def _matvec(self, x):
        return self._zeros(x, self.dimsd)

    def _rmatvec(self, x):
        return self._zeros(x, self.dims)
