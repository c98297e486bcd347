"""Identity: returns the input, zero-padded or truncated when the shapes differ."""

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dims, result_dtype
from pylops_distributed.linearoperator import LinearOperator


class Identity(LinearOperator):
    r"""Identity :math:`\mathbf{y} = \mathbf{x}`, padding with zeros (N > M) or truncating (N < M).

    Parameters
    ----------
    N : int or tuple of int
        Data shape.
    M : int or tuple of int, optional
        Model shape (default ``N``). Per axis, all of ``N`` must be >= ``M`` or all <=.
    inplace : bool, optional
        Accepted for PyLops compatibility (dask arrays are never modified in place).
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
    With ``N == M`` the input array is returned as is: no task is added.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> (pld.Identity(5, 3) @ da.ones(3, chunks=2)).compute()
    array([1., 1., 1., 0., 0.])
    """

    def __init__(self, N, M=None, inplace=True, forceflat=None, dtype="float64", name="I", chunks=None):
        N = as_dims(N)
        M = N if M is None else as_dims(M)
        if len(N) != len(M):
            raise ValueError(f"Identity: N={N} and M={M} must have the same number of axes")
        if not (all(n >= m for n, m in zip(N, M)) or all(n <= m for n, m in zip(N, M))):
            raise ValueError(f"Identity: N={N} and M={M} are not identical, and some values "
                             "are larger in N and some in M")
        self.inplace = inplace
        super().__init__(M, N, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def _resize(self, x, shape):
        x = x.astype(result_dtype(self.dtype, x.dtype), copy=False)
        if x.shape == shape:
            return x
        x = x[tuple(slice(0, n) for n in shape)]
        pad = [(0, n - s) for n, s in zip(shape, x.shape)]
        return da.pad(x, pad) if any(p[1] for p in pad) else x

    def _matvec(self, x):
        return self._resize(x, self.dimsd)

    def _rmatvec(self, x):
        return self._resize(x, self.dims)

