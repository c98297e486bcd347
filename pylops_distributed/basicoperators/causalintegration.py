"""CausalIntegration: running (causal) integral of an N-D model along an axis."""

import dask.array as da

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis, result_dtype
from pylops_distributed._graph import map_chunks, new_token
from pylops_distributed.linearoperator import LinearOperator

_KINDS = ("full", "half", "trapezoidal")


class CausalIntegration(LinearOperator):
    r"""Causal integration along an axis, :math:`y(t) = \int_{-\infty}^t x(\tau)\,d\tau`.

    Discretised as (``kind``)

    .. math::
        \text{full:}\; y[i] = \Delta t \sum_{j=0}^{i} x[j], \quad
        \text{half:}\; y[i] = \Delta t \Big(\sum_{j=0}^{i-1} x[j] + \tfrac{1}{2}x[i]\Big), \quad
        \text{trapezoidal:}\; y[i] = \Delta t \Big(\sum_{j=1}^{i-1} x[j] + \tfrac{1}{2}x[0]
        + \tfrac{1}{2}x[i]\Big)

    (trapezoidal gives :math:`y[0] = \Delta t\,x[0]/2`, as in PyLops).

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    axis : int, optional
        Axis along which the model is integrated.
    sampling : float, optional
        Sampling step :math:`\Delta t`.
    kind : {"full", "half", "trapezoidal"}, optional
        Integration rule.
    removefirst : bool, optional
        Drop the first output sample (the data has ``dims[axis] - 1`` samples along
        ``axis``).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If ``kind`` is unknown or ``axis`` is out of range.

    Notes
    -----
    When ``axis`` is a single chunk, forward and adjoint are one task per chunk
    (cumulative sum and the ``kind`` correction in the same task). When the input is
    chunked along ``axis`` the integral is ``dask.array.cumsum`` (a sequential carry
    across the chunks of ``axis``, a few tasks per chunk) followed by one fused
    correction task per chunk; nothing is rechunked in either case. The adjoint is
    the reversed (anti-causal) running sum.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.CausalIntegration(4, kind="half")
    >>> (Op @ da.ones(4, chunks=2)).compute()
    array([0.5, 1.5, 2.5, 3.5])
    >>> (Op.H @ da.ones(4, chunks=2)).compute()
    array([3.5, 2.5, 1.5, 0.5])
    """

    def __init__(self, dims, axis=-1, sampling=1.0, kind="full", removefirst=False,
                 dtype="float64", name="C", chunks=None):
        dims = as_dims(dims)
        if kind not in _KINDS:
            raise ValueError(f"CausalIntegration: kind={kind!r} is not one of {_KINDS}")
        self.axis = normalize_axis(axis, len(dims), "CausalIntegration")
        self.sampling, self.kind, self.removefirst = sampling, kind, bool(removefirst)
        if self.removefirst and dims[self.axis] < 1:
            raise ValueError(f"CausalIntegration: removefirst needs dims[{self.axis}] >= 1, got dims={dims}")
        dimsd = list(dims)
        dimsd[self.axis] -= int(self.removefirst)
        self._token = new_token()
        super().__init__(dims, dimsd, dtype, name=name, chunks=chunks)

    def _matvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype, type(self.sampling))
        ax, n = self.axis, self.dims[self.axis]
        if len(x.chunks[ax]) == 1:
            chunks = list(x.chunks)
            chunks[ax] = (self.dimsd[ax],)
            return map_chunks(_integrate_chunk, x, ax, self.sampling, self.kind, self.removefirst, dtype,
                              prefix="causalintegration", token=self._token, dtype=dtype,
                              chunks=tuple(chunks))
        csum = da.cumsum(x.astype(dtype, copy=False), axis=ax)
        args = [csum, x]
        if self.kind == "trapezoidal":
            first = x[(slice(None),) * ax + (slice(0, 1),)]
            args.append(first)
        y = da.map_blocks(_correct_forward, *args, axis=ax, sampling=self.sampling, kind=self.kind,
                          dtype=dtype, meta=csum._meta,
                          name=f"causalintegration-{self._token}-{csum.name}")
        if self.removefirst:
            y = y[(slice(None),) * ax + (slice(1, n),)]
        return y

    def _rmatvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype, type(self.sampling))
        ax = self.axis
        if self.removefirst:
            pad = [(0, 0)] * x.ndim
            pad[ax] = (1, 0)
            x = da.pad(x, pad)
            if len(x.chunks[ax]) == 2 and x.chunks[ax][0] == 1:   # merge the one-sample pad chunk
                x = x.rechunk({ax: -1})
        if len(x.chunks[ax]) == 1:
            return map_chunks(_integrate_adjoint_chunk, x, ax, self.sampling, self.kind, dtype,
                              prefix="causalintegration-adjoint", token=self._token, dtype=dtype)
        flip = (slice(None),) * ax + (slice(None, None, -1),)
        rsum = da.cumsum(x.astype(dtype, copy=False)[flip], axis=ax)[flip]   # sum_{j>=i} x[j]
        args = [rsum, x]
        if self.kind == "trapezoidal":
            args.append(rsum[(slice(None),) * ax + (slice(0, 1),)])
        return da.map_blocks(_correct_adjoint, *args, axis=ax, sampling=self.sampling, kind=self.kind,
                             dtype=dtype, meta=rsum._meta,
                             name=f"causalintegration-adjoint-{self._token}-{rsum.name}")


def _take0(a, axis):
    return a[(slice(None),) * axis + (slice(0, 1),)]


def _integrate_chunk(chunk, axis, sampling, kind, removefirst, dtype):
    """Whole-axis causal integral of one chunk (the axis is not chunked)."""
    xp = get_array_module(chunk)
    chunk = chunk.astype(dtype, copy=False)
    y = xp.cumsum(chunk, axis=axis)
    y = _correct_forward(y, chunk, _take0(chunk, axis) if kind == "trapezoidal" else None,
                         axis=axis, sampling=sampling, kind=kind)
    if removefirst:
        y = y[(slice(None),) * axis + (slice(1, None),)]
    return y


def _correct_forward(csum, x, first=None, *, axis, sampling, kind, block_info=None):
    """``sampling * (cumsum - x/2 [- x[0]/2 for samples after the first])``."""
    y = sampling * csum
    if kind in ("half", "trapezoidal"):
        y = y - (sampling / 2.0) * x
    if kind == "trapezoidal":
        y = y - (sampling / 2.0) * first
        start = 0 if block_info is None else block_info[0]["array-location"][axis][0]
        if start == 0:   # y[0] keeps its x[0]/2 (PyLops subtracts x[0]/2 from y[1:] only)
            idx = (slice(None),) * axis + (slice(0, 1),)
            y[idx] = y[idx] + (sampling / 2.0) * first
    return y.astype(csum.dtype, copy=False)


def _integrate_adjoint_chunk(chunk, axis, sampling, kind, dtype):
    """Whole-axis anti-causal running sum of one chunk (the adjoint)."""
    xp = get_array_module(chunk)
    chunk = chunk.astype(dtype, copy=False)
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    rsum = xp.cumsum(chunk[flip], axis=axis)[flip]
    return _correct_adjoint(rsum, chunk, _take0(rsum, axis) if kind == "trapezoidal" else None,
                            axis=axis, sampling=sampling, kind=kind)


def _correct_adjoint(rsum, x, total=None, *, axis, sampling, kind, block_info=None):
    """``sampling * (rsum - x/2)``, the first sample ``sampling * total / 2`` for trapezoidal."""
    y = sampling * rsum
    if kind in ("half", "trapezoidal"):
        y = y - (sampling / 2.0) * x
    if kind == "trapezoidal":
        start = 0 if block_info is None else block_info[0]["array-location"][axis][0]
        if start == 0:
            idx = (slice(None),) * axis + (slice(0, 1),)
            y[idx] = (sampling / 2.0) * total
    return y.astype(rsum.dtype, copy=False)
