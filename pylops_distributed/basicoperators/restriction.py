"""Restriction: selects samples of an N-D model at given indices along an axis."""

import functools
import warnings

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module, is_cupy, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, Operand
from pylops_distributed.linearoperator import LinearOperator


class Restriction(LinearOperator):
    r"""Restriction (sampling): :math:`y_i = x_{l_i}` along ``axis``; adjoint scatters back.

    In adjoint mode the data are placed (added, for repeated indices) at the locations
    :math:`l_i` of an otherwise zero model: :math:`x_j = \sum_{i:\,l_i = j} y_i`.

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    iava : sequence of int or numpy/cupy integer array
        Indices of the samples to keep along ``axis``. Any order, repeats allowed,
        negative indices count from the end (as ``numpy.take``).
    axis : int, optional
        Axis along which the restriction is applied.
    inplace : bool, optional
        Accepted for PyLops compatibility (dask arrays are never modified in place).
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`. As in PyLops, reset to
        ``None`` (with a warning) when ``len(dims) > 2``.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    iava : numpy.ndarray
        The indices, non-negative.
    repeated : bool
        Whether some index is repeated.

    Raises
    ------
    TypeError
        If ``iava`` is not integer (PyLops fails on float indices at apply time).
    ValueError
        If ``iava`` is not 1-D or an index is out of range for ``dims[axis]``.

    Notes
    -----
    One task per output chunk, which reads the input between the smallest and the largest
    index (or position) it needs along ``axis``; nothing is rechunked.

    Forward: a ``take``. For sorted ``iava`` the output chunks along ``axis`` hold the
    samples selected in each input chunk (empty ones dropped), so each task reads one input
    chunk; otherwise ``len(iava)`` is split into as many near-equal chunks as the input has,
    and a task reads the span of input its indices cover (all of ``axis`` at worst).

    Adjoint: zeros with the data rows added at their indices (repeated indices add up). For
    sorted ``iava`` a model chunk starts at the first index of each data chunk, so each task
    reads one data chunk (plus a slice of the previous one when an index repeated across
    their boundary); otherwise the model axis is split into near-equal chunks and a task
    reads the span of data whose indices fall in its chunk.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Restriction(6, [4, 1, 1])
    >>> (Op @ da.arange(6.0, chunks=4)).compute()
    array([4., 1., 1.])
    >>> (Op.H @ da.ones(3, chunks=2)).compute()
    array([0., 2., 0., 0., 1., 0.])
    """

    def __init__(self, dims, iava, axis=-1, inplace=True, forceflat=None, dtype="float64", name="R",
                 chunks=None):
        dims = as_dims(dims)
        axis = normalize_axis(axis, len(dims), "Restriction")
        iava = iava.get() if is_cupy(iava) else np.asarray(iava)
        if iava.ndim != 1:
            raise ValueError(f"Restriction: iava must be 1-D, got shape {iava.shape}")
        if iava.size and not np.issubdtype(iava.dtype, np.integer):
            raise TypeError(f"Restriction: iava must hold integer indices, got dtype {iava.dtype}; "
                            "use pylops.signalprocessing.Interp for fractional positions")
        n = dims[axis]
        iava = iava.astype(np.int64)
        if iava.size and (iava.min() < -n or iava.max() >= n):
            bad = iava[(iava < -n) | (iava >= n)]
            raise ValueError(f"Restriction: iava values {bad[:5].tolist()} out of range for "
                             f"dims[{axis}] = {n} (dims={dims})")
        if len(dims) > 2 and forceflat is not None:
            warnings.warn(f"Restriction: setting forceflat=None since len(dims)={len(dims)}>2; the "
                          "output is flat for flat inputs and N-D for N-D inputs", stacklevel=2)
            forceflat = None
        self.iava = iava % n if n else iava
        self.axis, self.inplace = axis, inplace
        self.repeated = np.unique(self.iava).size != self.iava.size
        self._token = new_token()
        # sorted indices: chunks follow the input's; otherwise adjoint regions look the
        # positions of an index up in the indices sorted (the arrays travel with each task)
        self._ascending = bool(np.all(np.diff(self.iava) >= 0))
        order = None if self._ascending else np.argsort(self.iava, kind="stable")
        self._sorted = (None, self.iava) if self._ascending else (order, self.iava[order])
        dimsd = list(dims)
        dimsd[axis] = self.iava.size
        super().__init__(dims, dimsd, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def mask(self, x):
        """The model with the samples that are not kept masked, as PyLops' ``Restriction.mask``:
        a :class:`numpy.ma.MaskedArray` of shape ``dims`` (``x`` flat or N-D; a dask or CuPy
        ``x`` is brought to memory).

        Raises
        ------
        ValueError
            If an index of ``iava`` is repeated.
        """
        if np.unique(self.iava).size != self.iava.size:
            raise ValueError(f"{self.label}.mask: at least one index in iava is repeated, "
                             "mask is not enabled")
        x = x.compute() if hasattr(x, "compute") else x
        x = np.asarray(x.get() if is_cupy(x) else x).reshape(self.dims)
        y = np.ma.array(np.zeros(self.dims), mask=np.ones(self.dims), dtype=self.dtype)
        xs, ys = np.swapaxes(x, self.axis, -1), np.swapaxes(y, self.axis, -1)
        ys.mask[..., self.iava] = False
        ys[..., self.iava] = xs[..., self.iava]
        return np.swapaxes(ys, -1, self.axis)

    def _kernel(self, adjoint):
        ax = self.axis
        ascending = self.iava if self._ascending else None
        iava = Operand(self.iava, functools.partial(_iava_box, ax, "in" if adjoint else "out"))
        common = dict(dtype=self.dtype, token=f"{self._token}-{int(adjoint)}",
                      params=dict(axis=ax), operands=[iava])
        if adjoint:
            return ChunkKernel(_scatter_kernel, self.dimsd, self.dims, name="restriction-adjoint",
                               region=functools.partial(_positions_region, ax, *self._sorted),
                               chunks=functools.partial(_model_chunks, ax, ascending, self.dims[ax]),
                               **common)
        return ChunkKernel(_take_kernel, self.dims, self.dimsd, name="restriction",
                           region=functools.partial(_indices_region, ax, self.iava),
                           chunks=functools.partial(_data_chunks, ax, ascending, self.iava.size),
                           **common)


def _iava_box(axis, side, istart, istop, ostart, ostop):
    """Box of ``iava`` a call needs: the data rows it reads (adjoint) or writes (forward)."""
    lo, hi = (istart, istop) if side == "in" else (ostart, ostop)
    return (lo[axis],), (hi[axis],)


def _split(n, parts):
    """``n`` samples in ``parts`` near-equal chunks (no empty chunk; ``(0,)`` for none)."""
    parts = max(1, min(parts, n))
    return tuple(n // parts + (1 if i < n % parts else 0) for i in range(parts)) if n else (0,)


def _with_axis(box, axis, lo, hi):
    start, stop = list(box[0]), list(box[1])
    start[axis], stop[axis] = lo, hi
    return tuple(start), tuple(stop)


def _indices_region(axis, iava, start, stop):
    """Input box of a forward output box: from the smallest to the largest index it takes."""
    sel = iava[start[axis]:stop[axis]]
    if not sel.size:
        return _with_axis((start, stop), axis, 0, 0)
    return _with_axis((start, stop), axis, int(sel.min()), int(sel.max()) + 1)


def _data_chunks(axis, iava, m, chunks):
    """Forward output chunks: the samples selected in each input chunk for sorted indices
    ``iava``, else (``iava`` None) ``m`` in as many near-equal chunks as the input has."""
    if iava is not None:
        edges = np.cumsum((0,) + tuple(chunks[axis]))
        counts = np.diff(np.searchsorted(iava, edges, side="left"))
        sizes = tuple(int(c) for c in counts if c) or (0,)
    else:
        sizes = _split(m, len(chunks[axis]))
    return tuple(chunks[:axis]) + (sizes,) + tuple(chunks[axis + 1:])


def _take_kernel(x, iava, *, where, dtype, axis):
    """The samples ``iava`` (this output box's slice of it) of ``x`` along ``axis``."""
    xp = get_array_module(x)
    idx = xp.asarray(iava) - where.origin[axis]
    return xp.take(x, idx, axis=axis).astype(dtype, copy=False)


def _positions_region(axis, order, srt, start, stop):
    """Input box of an adjoint output box: the data positions whose index falls in it
    (``srt``: the indices sorted, ``order``: their positions, None when already sorted)."""
    lo, hi = (int(p) for p in np.searchsorted(srt, (start[axis], stop[axis]), side="left"))
    if lo == hi:
        return _with_axis((start, stop), axis, 0, 0)
    if order is None:
        return _with_axis((start, stop), axis, lo, hi)
    pos = order[lo:hi]
    return _with_axis((start, stop), axis, int(pos.min()), int(pos.max()) + 1)


def _model_chunks(axis, iava, n, chunks):
    """Adjoint output chunks: for sorted indices ``iava`` a model chunk starts at the first
    index of each data chunk, else (``iava`` None) ``n`` in as many near-equal chunks as the
    data has along ``axis``."""
    if iava is not None:
        firsts = np.cumsum((0,) + tuple(chunks[axis]))[1:-1]
        edges = [0] + [int(iava[k]) for k in firsts if k < iava.size] + [n]
        sizes = tuple(b - a for a, b in zip(edges[:-1], edges[1:]) if b > a) or (0,)
    else:
        sizes = _split(n, len(chunks[axis]))
    return tuple(chunks[:axis]) + (sizes,) + tuple(chunks[axis + 1:])


def _scatter_kernel(y, iava, *, where, dtype, axis):
    """Zeros on the model box plus the rows of ``y`` added at their indices (``iava``: the
    slice of the indices of ``y``'s rows); rows whose index falls outside the box are left."""
    xp = get_array_module(y)
    out = xp.zeros(tuple(b - a for a, b in zip(where.start, where.stop)), dtype=dtype)
    if y.size == 0:
        return out
    iava = xp.asarray(iava)
    o0, o1 = where.start[axis], where.stop[axis]
    rows = xp.flatnonzero((iava >= o0) & (iava < o1))
    if rows.size:
        index = (slice(None),) * axis + (iava[rows] - o0,)
        rows = xp.take(y, rows, axis=axis).astype(dtype, copy=False)
        if out.dtype.kind == "c":  # CuPy's add.at takes real dtypes only: the parts one by one
            xp.add.at(out.real, index, rows.real)
            xp.add.at(out.imag, index, rows.imag)
        else:
            xp.add.at(out, index, rows)
    return out
