"""What the non-stationary convolutions and filter estimations share: PyLops' interpolation
of filters between their positions, and the per-box spread (forward) and gathers (adjoints).

A bank ``hs`` has shape ``grid + taps``: one filter of odd shape ``taps`` per node of a
regular grid of positions along each convolved axis. The filter at a global position ``p``
is ``sum_g W[p, g] hs[g]``, with ``W`` PyLops' weights (:func:`interpolation_weights`,
per axis, multiplied across axes), and the operator is

    y[j] = sum_t H_{j + r - t}[t] x[j + r - t]        (r = taps // 2, per axis)

with ``x`` and ``y`` zero outside the array: each output reads the input within ``r`` of it,
whatever the chunking, so every kernel is a halo kernel that knows its global positions.
"""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module, result_dtype
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, Operand, halo_region
from pylops_distributed.linearoperator import LinearOperator
from pylops_distributed.signalprocessing.convolvend import as_numpy, window

ENGINES = ("numpy", "numba", "cuda")


def filter_grid(ih, n, opname, what):
    """``(origin, step, count)`` of the filter positions ``ih`` on an axis of ``n`` samples,
    checked as PyLops does (regular, inside the axis), and with two positions or more."""
    ih = np.asarray(ih).ravel()
    if ih.size < 2:
        raise ValueError(f"{opname}: {what} needs two filter positions or more, got {ih.tolist()}")
    steps = np.unique(np.diff(ih))
    if len(steps) > 1 or steps[0] == 0:
        raise ValueError(f"{opname}: the positions {what}={ih.tolist()} of the filters must be "
                         "regularly sampled (a constant, non-zero step)")
    if ih.min() < 0 or ih.max() >= n:
        raise ValueError(f"{opname}: the positions {what}={ih.tolist()} of the filters must be "
                         f"in [0, {n - 1}]")
    return (float(ih[0]), float(ih[1] - ih[0]), int(ih.size))


def interpolation_weights(start, stop, grid):
    """``W[p - start, g]``: weight of filter ``g`` at the global positions ``p`` in
    ``[start, stop)``, as PyLops: linear between the two nearest filters, the nearest one
    beyond the first and the last."""
    origin, step, count = grid
    t = (np.arange(start, stop, dtype=np.float64) - origin) / step
    left = np.floor(t)
    frac = t - left
    left = left.astype(np.int64)
    rows = np.arange(stop - start)
    W = np.zeros((stop - start, count))
    inside = (left >= 0) & (left < count - 1)
    W[rows[inside], left[inside]] = 1.0 - frac[inside]
    W[rows[inside], left[inside] + 1] = frac[inside]
    W[rows[left < 0], 0] = 1.0
    W[rows[left >= count - 1], count - 1] = 1.0
    return W


def _field(xp, coefficients, weights):
    """One tap of the interpolated filters at every position: ``coefficients`` (on the grid)
    contracted with each axis' weights, shape ``(positions per axis...)``."""
    out = coefficients
    for W in weights:
        out = xp.tensordot(out, W, axes=([0], [1]))
    return out


def _contract(xp, values, weights):
    """The transpose of :func:`_field`: ``values`` at positions summed onto the grid."""
    out = values
    for W in weights:
        out = xp.tensordot(out, W, axes=([0], [0]))
    return out


def _real_or_complex(a, dtype):
    """``a`` in ``dtype``'s precision, complex only if it is (the filters, or the model)."""
    return a.astype(dtype if a.dtype.kind == "c" else np.finfo(dtype).dtype, copy=False)


def _along(field, axes, ndim):
    shape = [1] * ndim
    for a, n in zip(axes, field.shape):
        shape[a] = n
    return field.reshape(shape)


def _taps_windows(axes, ndim, taps, first):
    """Per tap ``t``: the tap and the slices ``first(k, t[k])`` along the convolved axes."""
    for tap in np.ndindex(*taps):
        sl = [slice(None)] * ndim
        for k, a in enumerate(axes):
            sl[a] = first(k, tap[k])
        yield tap, tuple(sl)


def spread(signal, hs, weights, axes, out_shape, dtype):
    """``y[j] = sum_t H_q[t] signal[q]``, ``q = j + r - t``, on an output box of ``out_shape``;
    ``signal`` and ``weights`` cover the box grown by ``r`` on both sides of each convolved
    axis (the batch axes as the box)."""
    xp = get_array_module(signal)
    d = len(axes)
    taps = hs.shape[d:]
    hs = _real_or_complex(xp.asarray(hs), dtype)
    weights = [xp.asarray(W, dtype=np.finfo(dtype).dtype) for W in weights]
    sizes = [out_shape[a] for a in axes]
    y = xp.zeros(out_shape, dtype=dtype)

    def inputs(k, t):  # q = j + r - t for the box's j, stored from start - r: from 2r - t
        first = 2 * (taps[k] // 2) - t
        return slice(first, first + sizes[k])

    for tap, sl in _taps_windows(axes, signal.ndim, taps, inputs):
        at_inputs = [W[sl[a]] for W, a in zip(weights, axes)]
        field = _field(xp, hs[(slice(None),) * d + tap], at_inputs)
        y += _along(field, axes, signal.ndim) * signal[sl]
    return y


def gather(signal, hs, weights, axes, out_shape, dtype):
    """The adjoint of :func:`spread` with the filters at the output: ``x[i] = sum_t H_i[t]
    signal[i - r + t]``; ``signal`` covers the box grown by ``r``, ``weights`` the box."""
    xp = get_array_module(signal)
    d = len(axes)
    taps = hs.shape[d:]
    hs = _real_or_complex(xp.asarray(hs), dtype)
    weights = [xp.asarray(W, dtype=np.finfo(dtype).dtype) for W in weights]
    sizes = [out_shape[a] for a in axes]
    x = xp.zeros(out_shape, dtype=dtype)
    for tap, sl in _taps_windows(axes, signal.ndim, taps, lambda k, t: slice(t, t + sizes[k])):
        field = _field(xp, hs[(slice(None),) * d + tap], weights)
        x += _along(field, axes, signal.ndim) * signal[sl]
    return x


def collect(signal, inp, weights, grid_shape, taps, dtype):
    """The adjoint of :func:`spread` with respect to the filters:
    ``hs[g, t] = sum_p W[p, g] inp[p] signal[p - r + t]``; ``inp`` and ``weights`` cover the
    positions ``p`` summed over, ``signal`` those grown by ``r``."""
    xp = get_array_module(signal)
    weights = [xp.asarray(W, dtype=np.finfo(dtype).dtype) for W in weights]
    inp = xp.asarray(inp)
    hs = xp.zeros(tuple(grid_shape) + tuple(taps), dtype=dtype)
    axes = tuple(range(inp.ndim))
    for tap, sl in _taps_windows(axes, inp.ndim, taps, lambda k, t: slice(t, t + inp.shape[k])):
        hs[(slice(None),) * len(axes) + tap] = _contract(xp, inp * signal[sl], weights)
    return hs


def _grown(box_start, box_stop, axes, reach):
    start, stop = list(box_start), list(box_stop)
    for a, r in zip(axes, reach):
        start[a] -= r
        stop[a] += r
    return start, stop


# --- non-stationary convolution ----------------------------------------------------------------

def convolve_spread_kernel(x, *, where, dtype, hs, grids, axes):
    """Forward chunk kernel: filters at the input positions, spread over the output."""
    reach = [n // 2 for n in hs.shape[len(axes):]]
    lo, hi = _grown(where.start, where.stop, axes, reach)
    weights = [interpolation_weights(lo[a], hi[a], g) for a, g in zip(axes, grids)]
    out_shape = tuple(b - a for a, b in zip(where.start, where.stop))
    return spread(window(x, where.origin, lo, hi), hs, weights, axes, out_shape, dtype)


def convolve_gather_kernel(y, *, where, dtype, hs, grids, axes):
    """Adjoint chunk kernel: filters at the output positions, applied to the input around."""
    reach = [n // 2 for n in hs.shape[len(axes):]]
    lo, hi = _grown(where.start, where.stop, axes, reach)
    weights = [interpolation_weights(where.start[a], where.stop[a], g) for a, g in zip(axes, grids)]
    out_shape = tuple(b - a for a, b in zip(where.start, where.stop))
    return gather(window(y, where.origin, lo, hi), hs, weights, axes, out_shape, dtype)


class NonStationaryConvolveBase(LinearOperator):
    """Non-stationary convolution along ``axes`` with the bank ``hs`` at the positions ``ihs``
    (one sequence per axis); the base of ``NonStationaryConvolve1D/2D/3D``."""

    def __init__(self, dims, hs, ihs, axes, dtype, name, chunks):
        opname = type(self).__name__
        dims = as_dims(dims)
        hs = as_numpy(hs)
        d = len(axes)
        if np.iscomplexobj(hs):
            raise NotImplementedError(
                f"{opname}: complex filters are not supported (PyLops' adjoint does not "
                "conjugate them, so it is not the adjoint); split real and imaginary parts")
        if hs.ndim != 2 * d:
            raise ValueError(f"{opname}: the filters hs must have {2 * d} axes ({d} for the "
                             f"filter grid, {d} for the filters), got shape {hs.shape}")
        taps = hs.shape[d:]
        if any(n % 2 == 0 for n in taps):
            raise ValueError(f"{opname}: the filters hs must have odd length, got {taps}")
        names = ("ih",) if d == 1 else ("ihx", "ihy", "ihz") if d == 3 else ("ihx", "ihz")
        grids = tuple(filter_grid(ih, dims[a], opname, what)
                      for ih, a, what in zip(ihs, axes, names))
        if tuple(g[2] for g in grids) != hs.shape[:d]:
            raise ValueError(f"{opname}: hs has a grid of {hs.shape[:d]} filters but "
                             f"{tuple(g[2] for g in grids)} positions are given")
        self.hs, self.hshape = hs, tuple(taps)
        self._params = dict(hs=hs, grids=grids, axes=tuple(axes))
        self._token = new_token()
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        depth = [(0, 0)] * len(self.dims)
        for a, n in zip(self._params["axes"], self.hshape):
            depth[a] = (n // 2, n // 2)
        return ChunkKernel(
            convolve_gather_kernel if adjoint else convolve_spread_kernel, self.dims, self.dims,
            name=type(self).__name__.lower() + ("-adjoint" if adjoint else ""),
            token=f"{self._token}-{int(adjoint)}", params=self._params,
            out_dtype=functools.partial(result_dtype, self.dtype), depth=tuple(depth))


# --- non-stationary filter estimation --------------------------------------------------------

def _operand_box(depth, dims, side, istart, istop, ostart, ostop):
    """Box of the fixed signal for a call: its data box (the output's for the forward, the
    input piece's for the adjoint) grown by the filters' reach, inside the array."""
    return halo_region(depth, dims, *((istart, istop) if side == "in" else (ostart, ostop)))


def _whole_box(dims, start, stop):
    return (0,) * len(dims), tuple(dims)


def _fixed_chunks(chunks, _):
    return chunks


def filters_spread_kernel(hs, inp, *, where, dtype, grids, depth, dims):
    """Forward chunk kernel: the (whole) filter bank ``hs`` interpolated and convolved with the
    fixed signal ``inp`` (cut to the output box grown by the reach) on the output box."""
    axes = tuple(range(len(grids)))
    inp_start = _operand_box(depth, dims, "out", None, None, where.start, where.stop)[0]
    lo, hi = _grown(where.start, where.stop, axes, [r for r, _ in depth])
    weights = [interpolation_weights(lo[a], hi[a], g) for a, g in zip(axes, grids)]
    out_shape = tuple(b - a for a, b in zip(where.start, where.stop))
    return spread(window(inp, inp_start, lo, hi), hs, weights, axes, out_shape, dtype)


def filters_collect_kernel(y, inp, *, where, dtype, grids, depth, dims):
    """Adjoint chunk kernel (additive): the part of the filters' gradient that a piece ``y`` of
    the data gives, on the output box of the filter bank."""
    axes = tuple(range(len(grids)))
    stop = tuple(o + n for o, n in zip(where.origin, y.shape))
    lo, hi = _operand_box(depth, dims, "in", where.origin, stop, None, None)
    weights = [interpolation_weights(lo[a], hi[a], g) for a, g in zip(axes, grids)]
    glo, ghi = _grown(lo, hi, axes, [r for r, _ in depth])
    taps = tuple(2 * r + 1 for r, _ in depth)
    hs = collect(window(y, where.origin, glo, ghi), inp, weights,
                 tuple(g[2] for g in grids), taps, dtype)
    part = window(hs, (0,) * hs.ndim, where.start, where.stop)
    return part if part.shape == hs.shape else part.copy()


class NonStationaryFiltersBase(LinearOperator):
    """Estimation of a non-stationary filter bank (the model, of shape ``grid + hshape``)
    from its convolution with the fixed signal ``inp`` (the data's shape); the base of
    ``NonStationaryFilters1D/2D``."""

    def __init__(self, inp, hshape, ihs, dtype, name, chunks):
        import dask.array as da

        opname = type(self).__name__
        hshape = as_dims(hshape)
        if not isinstance(inp, da.Array):
            inp = inp if get_array_module(inp) is not np else np.asarray(inp)
        if len(hshape) != len(ihs):
            raise ValueError(f"{opname}: hshape={hshape} must have {len(ihs)} filter lengths")
        if inp.ndim != len(hshape):
            raise ValueError(f"{opname}: the input signal must have {len(hshape)} axes, got "
                             f"shape {inp.shape}")
        if np.iscomplexobj(np.empty(0, inp.dtype)):
            raise NotImplementedError(
                f"{opname}: a complex input signal is not supported (PyLops' adjoint does "
                "not conjugate it, so it is not the adjoint)")
        if any(n % 2 == 0 for n in hshape):
            raise ValueError(f"{opname}: the filters must have odd length, got {hshape}")
        names = ("ih",) if len(hshape) == 1 else ("ihx", "ihz")
        grids = tuple(filter_grid(ih, n, opname, what)
                      for ih, n, what in zip(ihs, inp.shape, names))
        self.inp, self.hshape = inp, hshape
        dims = tuple(g[2] for g in grids) + hshape
        self._depth = tuple((n // 2, n // 2) for n in hshape)
        self._params = dict(grids=grids, depth=self._depth, dims=tuple(inp.shape))
        self._data_chunks = _data_chunks(chunks, inp)
        self._token = new_token()
        super().__init__(dims, inp.shape, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        operand = Operand(self.inp, functools.partial(
            _operand_box, self._depth, self.dimsd, "in" if adjoint else "out"),
            (None,) * len(self.dimsd))
        out_chunks = tuple((n,) for n in self.dims) if adjoint else self._data_chunks
        return ChunkKernel(
            filters_collect_kernel if adjoint else filters_spread_kernel, dims_in, dims_out,
            name=type(self).__name__.lower() + ("-adjoint" if adjoint else ""),
            token=f"{self._token}-{int(adjoint)}", params=self._params, operands=[operand],
            out_dtype=functools.partial(result_dtype, self.dtype),
            region=functools.partial(_whole_box, dims_in),
            chunks=functools.partial(_fixed_chunks, out_chunks), axes=(None,) * len(dims_out),
            whole=() if adjoint else range(len(dims_in)), additive=adjoint)


def _data_chunks(chunks, inp):
    """Chunks of the data: ``chunks`` where it fits the data, else ``inp``'s for a dask
    ``inp``, else dask's ``"auto"``."""
    from dask.array.core import normalize_chunks

    if isinstance(chunks, (tuple, list)) and len(chunks) != inp.ndim:
        chunks = None
    if chunks is None:
        chunks = getattr(inp, "chunks", None) or "auto"
    return normalize_chunks(chunks, inp.shape, dtype=inp.dtype)
