"""Symmetrize: prepends the reversed model along an axis."""

import dask.array as da

from dask.base import tokenize

from pylops_distributed._arrays import as_dims, meta_like, normalize_axis, result_dtype
from pylops_distributed._graph import new_token
from pylops_distributed.linearoperator import LinearOperator


class Symmetrize(LinearOperator):
    r"""Symmetrize along an axis by prepending the reversed model.

    .. math::
        y[i] = \begin{cases} x[i-N+1], & i \geq N-1 \\ x[N-1-i], & \text{otherwise}
        \end{cases} \qquad i = 0, \ldots, 2N-2

    and in adjoint mode :math:`x[0] = y[N-1]`,
    :math:`x[i] = y[N-1-i] + y[N-1+i]` for :math:`i = 1, \ldots, N-1`.

    Parameters
    ----------
    dims : int or tuple of int
        Model shape; the data has ``2 * dims[axis] - 1`` samples along ``axis``.
    axis : int, optional
        Axis along which the model is symmetrized.
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
    Forward: a reversed slice concatenated with the input (about one task per chunk;
    the data has the input's chunks plus their mirror image along ``axis``).
    Adjoint: the data's second half and its reversed first half are added in one task
    per chunk, after two slices (and a small rechunk where their chunk boundaries
    differ; they coincide for data chunked as the forward's output, except at the
    centre). No axis is gathered into one chunk.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Symmetrize(3)
    >>> y = Op @ da.arange(1.0, 4.0, chunks=2)
    >>> y.compute()
    array([3., 2., 1., 2., 3.])
    >>> (Op.H @ y).compute()
    array([1., 4., 6.])
    """

    def __init__(self, dims, axis=-1, dtype="float64", name="S", chunks=None):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "Symmetrize")
        self.nsym = dims[self.axis]
        if self.nsym < 1:
            raise ValueError(f"Symmetrize: dims[{self.axis}] = {self.nsym} must be at least 1 (dims={dims})")
        dimsd = list(dims)
        dimsd[self.axis] = 2 * self.nsym - 1
        self._token = new_token()
        super().__init__(dims, dimsd, dtype, name=name, chunks=chunks)

    def _index(self, sl):
        return (slice(None),) * self.axis + (sl,)

    def _matvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype)
        x = x.astype(dtype, copy=False)
        if self.nsym == 1:
            return x
        return da.concatenate([x[self._index(slice(None, 0, -1))], x], axis=self.axis)

    def _rmatvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype)
        n = self.nsym
        right = x[self._index(slice(n - 1, None))]              # y[N-1], ..., y[2N-2]
        if n == 1:
            return right.astype(dtype, copy=False)
        left = x[self._index(slice(n - 1, None, -1))]           # y[N-1], ..., y[0]
        if left.chunks != right.chunks:
            left = left.rechunk(right.chunks)
        name = f"symmetrize-adjoint-{tokenize(self._token, x.name)}"
        return da.map_blocks(_fold, right, left, axis=self.axis, out_dtype=dtype, dtype=dtype,
                             name=name, meta=meta_like(x, dtype))


def _fold(right, left, axis, out_dtype, block_info=None):
    """``right + left`` on one chunk, without ``left`` at the axis' first sample (y[N-1] once)."""
    out = right.astype(out_dtype, copy=True)
    if block_info[0]["array-location"][axis][0] == 0:
        index = (slice(None),) * axis + (slice(1, None),)
        out[index] += left[index]
    else:
        out += left
    return out
