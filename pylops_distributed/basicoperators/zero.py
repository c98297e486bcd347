"""Zero: the operator that maps every input to zeros."""

import functools

from dask.array.core import normalize_chunks

from pylops_distributed._arrays import as_dims, get_array_module
from pylops_distributed._graph import new_token
from pylops_distributed.basicoperators.identity import resize_kernel
from pylops_distributed.kernels import ChunkKernel
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
    One task per output chunk, which allocates zeros with the input chunk's array module
    (NumPy or CuPy); the chunks are those of :class:`~pylops_distributed.Identity` (the
    input's, with the last chunk grown or the chunks cut where an axis grows or shrinks).
    Nothing is rechunked. When ``N`` and ``M`` have different numbers of axes, the output is
    in dask's ``"auto"`` chunks and every task reads only the input's first sample (for its
    array module).

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
        self._token = new_token()
        super().__init__(M, N, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        if len(dims_in) != len(dims_out):
            return ChunkKernel(_zero_kernel, dims_in, dims_out, dtype=self.dtype,
                               name="zero" + ("-adjoint" if adjoint else ""),
                               token=f"{self._token}-{int(adjoint)}",
                               region=functools.partial(_first_sample, dims_in),
                               chunks=functools.partial(_auto_chunks, dims_out, self.dtype))
        return resize_kernel(_zero_kernel, dims_in, dims_out, self.dtype,
                             name="zero" + ("-adjoint" if adjoint else ""),
                             token=f"{self._token}-{int(adjoint)}")


def _first_sample(dims_in, start, stop):
    """Input box of one sample (none for an empty input), whatever the output box."""
    return (0,) * len(dims_in), tuple(min(1, n) for n in dims_in)


def _auto_chunks(dims_out, dtype, chunks):
    return normalize_chunks("auto", dims_out, dtype=dtype)


def _zero_kernel(x, *, where, dtype):
    """Zeros on the output box, in ``x``'s array module."""
    shape = tuple(b - a for a, b in zip(where.start, where.stop))
    return get_array_module(x).zeros(shape, dtype=dtype)
