"""CausalIntegration: running (causal) integral of an N-D model along an axis."""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, one_chunk_along, whole_axis_region
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
    The running sum needs the whole ``axis``: forward and adjoint are one task per chunk
    (cumulative sum and the ``kind`` correction in the same task) on an input whose
    ``axis`` is a single chunk. An input chunked along ``axis`` is first rechunked to one
    chunk there (one visible step); the other axes keep their chunks, and the output is
    one chunk along ``axis``. The adjoint is the reversed (anti-causal) running sum.

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

    def _kernel(self, adjoint):
        ax = self.axis
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        params = dict(axis=ax, sampling=self.sampling, kind=self.kind, removefirst=self.removefirst)
        return ChunkKernel(
            _integrate_adjoint_kernel if adjoint else _integrate_kernel, dims_in, dims_out,
            name="causalintegration" + ("-adjoint" if adjoint else ""),
            token=f"{self._token}-{int(adjoint)}", params=params, whole={ax},
            out_dtype=functools.partial(_out_dtype, self.dtype, self.sampling),
            region=functools.partial(whole_axis_region, ax, dims_in[ax]),
            chunks=functools.partial(one_chunk_along, ax, dims_out[ax]))


def _out_dtype(op_dtype, sampling, dtype):
    """As NumPy's arithmetic: a Python float ``sampling`` keeps float32, a NumPy float64 not."""
    return np.result_type(np.dtype(op_dtype), np.dtype(dtype), sampling)


def _cut(y, axis, start, stop):
    """``y`` (the whole axis) on ``[start, stop)`` along ``axis``; a copy unless it is all of it."""
    if start == 0 and stop == y.shape[axis]:
        return y
    return y[(slice(None),) * axis + (slice(start, stop),)].copy()


def _integrate_kernel(x, *, where, dtype, axis, sampling, kind, removefirst):
    """The causal integral of ``x`` (``axis`` whole) on the output box."""
    y = _integrate_chunk(x, axis, sampling, kind, removefirst, dtype)
    return _cut(y, axis, where.start[axis], where.stop[axis])


def _integrate_adjoint_kernel(x, *, where, dtype, axis, sampling, kind, removefirst):
    """The anti-causal running sum of ``x`` (``axis`` whole) on the output box; with
    ``removefirst`` the data is first given back its dropped first sample, as a zero."""
    if removefirst:
        xp = get_array_module(x)
        pad = [(0, 0)] * x.ndim
        pad[axis] = (1, 0)
        x = xp.pad(x, pad)
    y = _integrate_adjoint_chunk(x, axis, sampling, kind, dtype)
    return _cut(y, axis, where.start[axis], where.stop[axis])


def _take0(a, axis):
    return a[(slice(None),) * axis + (slice(0, 1),)]


def _integrate_chunk(chunk, axis, sampling, kind, removefirst, dtype):
    """Whole-axis causal integral of one block (``axis`` whole)."""
    xp = get_array_module(chunk)
    chunk = chunk.astype(dtype, copy=False)
    y = xp.cumsum(chunk, axis=axis)
    y = _correct_forward(y, chunk, _take0(chunk, axis) if kind == "trapezoidal" else None,
                         axis=axis, sampling=sampling, kind=kind)
    if removefirst:
        y = y[(slice(None),) * axis + (slice(1, None),)]
    return y


def _correct_forward(csum, x, first=None, *, axis, sampling, kind):
    """``sampling * (cumsum - x/2 [- x[0]/2 for samples after the first])`` (whole axis)."""
    y = sampling * csum
    if kind in ("half", "trapezoidal"):
        y = y - (sampling / 2.0) * x
    if kind == "trapezoidal":
        y = y - (sampling / 2.0) * first
        idx = (slice(None),) * axis + (slice(0, 1),)   # y[0] keeps its x[0]/2 (PyLops
        y[idx] = y[idx] + (sampling / 2.0) * first    # subtracts x[0]/2 from y[1:] only)
    return y.astype(csum.dtype, copy=False)


def _integrate_adjoint_chunk(chunk, axis, sampling, kind, dtype):
    """Whole-axis anti-causal running sum of one block (the adjoint, ``axis`` whole)."""
    xp = get_array_module(chunk)
    chunk = chunk.astype(dtype, copy=False)
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    rsum = xp.cumsum(chunk[flip], axis=axis)[flip]
    return _correct_adjoint(rsum, chunk, _take0(rsum, axis) if kind == "trapezoidal" else None,
                            axis=axis, sampling=sampling, kind=kind)


def _correct_adjoint(rsum, x, total=None, *, axis, sampling, kind):
    """``sampling * (rsum - x/2)``, the first sample ``sampling * total / 2`` for trapezoidal
    (whole axis)."""
    y = sampling * rsum
    if kind in ("half", "trapezoidal"):
        y = y - (sampling / 2.0) * x
    if kind == "trapezoidal":
        y[(slice(None),) * axis + (slice(0, 1),)] = (sampling / 2.0) * total
    return y.astype(rsum.dtype, copy=False)
