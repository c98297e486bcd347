"""Symmetrize: prepends the reversed model along an axis."""

import functools

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, one_chunk_along, whole_axis_region
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
    The mirror couples both ends of ``axis``, which the kernel reads whole: an input
    chunked along ``axis`` is first rechunked to one chunk there (one visible step), then
    forward and adjoint are one task per chunk of the other axes. The output is one chunk
    along ``axis`` (``2N - 1`` samples forward, ``N`` adjoint); the other axes keep their
    chunks.

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

    def _kernel(self, adjoint):
        ax, n = self.axis, self.nsym
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        return ChunkKernel(
            _fold_kernel if adjoint else _mirror_kernel, dims_in, dims_out, dtype=self.dtype,
            name="symmetrize" + ("-adjoint" if adjoint else ""),
            token=f"{self._token}-{int(adjoint)}", params=dict(axis=ax, n=n), whole={ax},
            region=functools.partial(whole_axis_region, ax, dims_in[ax]),
            chunks=functools.partial(one_chunk_along, ax, dims_out[ax]))


def _along(axis, sl):
    return (slice(None),) * axis + (sl,)


def _mirror_kernel(x, *, where, dtype, axis, n):
    """``[x[N-1], ..., x[1], x[0], ..., x[N-1]]`` along ``axis`` (``x``: the whole axis), on the
    output box."""
    o0, o1 = where.start[axis], where.stop[axis]
    xp = get_array_module(x)
    y = xp.concatenate([x[_along(axis, slice(n - 1, 0, -1))], x], axis=axis)   # a new array
    return xp.ascontiguousarray(y[_along(axis, slice(o0, o1))]).astype(dtype, copy=False)


def _fold_kernel(y, *, where, dtype, axis, n):
    """``x[0] = y[N-1]``, ``x[i] = y[N-1-i] + y[N-1+i]`` (``y``: the whole axis), on the output box."""
    o0, o1 = where.start[axis], where.stop[axis]
    out = y[_along(axis, slice(n - 1 + o0, n - 1 + o1))].astype(dtype, copy=True)
    lo = max(o0, 1)                        # x[0] gets y[N-1] once
    if lo < o1:                            # y[N-1-lo], ..., y[N-o1]
        stop = n - 1 - o1
        left = y[_along(axis, slice(n - 1 - lo, stop if stop >= 0 else None, -1))]
        out[_along(axis, slice(lo - o0, o1 - o0))] += left
    return out
