"""Identity: returns the input, zero-padded or truncated when the shapes differ."""

import functools

from pylops_distributed._arrays import as_dims
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, place
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
    One copying task per output chunk (a pointwise kernel when ``N == M``: the output is a
    new array, never the input itself). When the shapes differ, the output keeps the input's
    chunks, except that along a padded axis the last chunk grows by the zeros and along a
    truncated axis the chunks are cut at the new length (chunks left empty are dropped);
    each task reads the part of its input chunk that survives. Nothing is rechunked.

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
        self._token = new_token()
        super().__init__(M, N, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        return resize_kernel(_identity_kernel, dims_in, dims_out, self.dtype,
                             name="identity" + ("-adjoint" if adjoint else ""),
                             token=f"{self._token}-{int(adjoint)}")


def resize_kernel(fn, dims_in, dims_out, dtype, *, name, token):
    """Kernel of an operator from ``dims_in`` to ``dims_out`` (same rank) that maps index ``i``
    to index ``i`` (Identity, Zero): pointwise for equal shapes, else reading the part of the
    output box that lies in the input array."""
    if dims_in == dims_out:
        return ChunkKernel(fn, dims_in, dims_out, name=name, token=token, dtype=dtype,
                           pointwise=True)
    return ChunkKernel(fn, dims_in, dims_out, name=name, token=token, dtype=dtype,
                       region=functools.partial(_overlap_region, dims_in),
                       chunks=functools.partial(_resized_chunks, dims_out))


def _overlap_region(dims_in, start, stop):
    """The output box intersected with the input array (maybe empty)."""
    return (tuple(min(s, n) for s, n in zip(start, dims_in)),
            tuple(min(e, n) for e, n in zip(stop, dims_in)))


def _resized_chunks(dims_out, chunks):
    """Input chunks grown (last chunk) or cut (at the new length) to ``dims_out``."""
    out = []
    for c, n in zip(chunks, dims_out):
        c, total = list(c), sum(c)
        if n >= total:
            c[-1] += n - total
        else:
            cut, pos = [], 0
            for size in c:
                if pos >= n:
                    break
                cut.append(min(size, n - pos))
                pos += size
            c = [s for s in cut if s] or [0]
        out.append(tuple(c))
    return tuple(out)


def _identity_kernel(x, *, where, dtype):
    """A copy of ``x`` on the output box, zeros where the box lies beyond the input array."""
    y = place(x, where.origin, where.start, where.stop, dtype)
    return y.copy() if y is x else y
