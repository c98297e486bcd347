"""Shared machinery of the sliding-window and patch operators (``Sliding1D/2D/3D``,
``Patch2D/3D``): window placement, tapers, and the chunk kernels.

The data has ``k`` windowed axes first (1 for ``Sliding1D/2D``, 2 for ``Sliding3D`` and
``Patch2D``, 3 for ``Patch3D``) and maybe trailing axes that every window covers whole. The
model stacks the windows' models: shape ``nws + mshape`` (window counts, then the model of
one window). Forward: each window's model goes through ``Op``, is tapered and added into the
data at the window's place; adjoint: each window is cut from the data, tapered and goes
through ``Op^H``. Windows start every ``nwin - nover`` samples, so neighbours overlap by
``nover``.

Kernels: a forward output box (data rows) reads the windows that touch it, whole along the
per-window axes; an adjoint output box (a range of windows) reads the data under those
windows, whole along the trailing axes. Between chunks only the overlap travels.
"""

import functools
import numbers

import numpy as np

from pylops_distributed._arrays import get_array_module
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import (ChunkKernel, NoChunkKernel, StackKernel, Where, aligned,
                                        cut)
from pylops_distributed.linearoperator import LinearOperator

_PLAIN, _LOW, _HIGH = 0, 1, 2  # rows of an axis' taper table


# --- window placement --------------------------------------------------------------------------

def window_starts(n, nwin, nover, opname, what="data"):
    """Start index of every window of ``nwin`` samples overlapping by ``nover`` on an axis of
    ``n`` samples (the last window ends at or before ``n``; samples after it are not covered,
    as in PyLops). Ends are ``starts + nwin``."""
    n, nwin, nover = _int(n, opname, what), _int(nwin, opname, "nwin"), _int(nover, opname, "nover")
    if nwin < 1 or nover < 0 or nover >= nwin:
        raise ValueError(f"{opname}: need 0 <= nover < nwin and nwin >= 1, got nwin={nwin}, "
                         f"nover={nover}")
    if nwin > n:
        raise ValueError(f"{opname}: nwin={nwin} is bigger than the {what} axis ({n} samples)")
    return np.arange(0, n - nwin + 1, nwin - nover, dtype=np.int64)


def _int(v, opname, what):
    if not isinstance(v, numbers.Integral):
        raise TypeError(f"{opname}: {what} must be an integer, got {v!r}")
    return int(v)


def shape_of(v, n, opname, what):
    """``v`` (an int or a sequence) as a shape of ``n`` axes."""
    shape = (int(v),) if isinstance(v, numbers.Integral) else tuple(int(d) for d in v)
    if len(shape) != n:
        raise ValueError(f"{opname}: {what} must have {n} axes, got {shape}")
    return shape


def as_tuple(v, n, opname, what):
    """``v`` as a tuple of ``n`` ints (PyLops takes tuples for the multi-axis windows)."""
    if isinstance(v, numbers.Integral):
        raise TypeError(f"{opname}: {what} must be a tuple of {n} ints, got {v!r}")
    v = tuple(v)
    if len(v) != n:
        raise ValueError(f"{opname}: {what} must have {n} values, got {v}")
    return tuple(_int(x, opname, what) for x in v)


# --- tapers ------------------------------------------------------------------------------------

def axis_tapers(nwin, nover, tapertype, edge):
    """Taper table of one windowed axis: rows ``[plain, low edge, high edge]``.

    The plain row is PyLops' 1-D taper; the edge rows are the tapers of the first and last
    windows, where the overlap is not tapered (nothing overlaps it): set to 1 (``edge="one"``,
    ``Sliding1D/2D``) or to the taper's middle value (``edge="middle"``, the others), the slices
    ``[:nover]`` and ``[-nover:]`` exactly as PyLops writes them.
    """
    from pylops.utils.tapers import taper

    plain = np.asarray(taper(nwin, nover, tapertype), dtype=np.float64)
    value = 1.0 if edge == "one" else plain[nwin // 2]
    low, high = plain.copy(), plain.copy()
    low[:nover] = value
    high[-nover:] = value
    return np.stack([plain, low, high])


def _codes(i, n, prefer_high):
    """Row of the taper table of window ``i`` of ``n`` (arrays): first/last windows get the
    edge rows; a single window gets the high one where ``prefer_high``, else the low one."""
    lo, hi = i == 0, i == n - 1
    return np.where(lo & hi, np.where(prefer_high, _HIGH, _LOW),
                    np.where(lo, _LOW, np.where(hi, _HIGH, _PLAIN)))


# --- the layout --------------------------------------------------------------------------------

class WindowLayout:
    """Where the windows lie, their tapers and shapes (small and picklable: it travels in
    tasks).

    Parameters
    ----------
    starts : tuple of numpy.ndarray
        Window starts per windowed data axis.
    nwin : tuple of int
        Window length per windowed axis.
    dimsd : tuple of int
        Data shape (windowed axes first).
    mshape : tuple of int
        Model shape of one window.
    simop : bool
        ``Op`` acts on the whole model at once (PyLops' ``simOp``).
    tapers : tuple of numpy.ndarray or None
        Per windowed axis, the ``(3, nwin)`` table of :func:`axis_tapers`.
    rule : {"low", "high", "patch3d"}
        Which edge row a single window along an axis gets: PyLops' choice differs between
        operators and ``savetaper`` (``"patch3d"``: ``Patch3D(savetaper=False)``, high along
        the third axis only for windows in the last column of the second).
    taper_dtype : numpy.dtype
        dtype tapers are cast to (``Op.dtype``, as PyLops).
    """

    def __init__(self, starts, nwin, dimsd, mshape, simop, tapers, rule, taper_dtype):
        self.starts = tuple(np.asarray(s, dtype=np.int64) for s in starts)
        self.k = len(self.starts)
        self.nws = tuple(len(s) for s in self.starts)
        self.nwin, self.dimsd, self.mshape = tuple(nwin), tuple(dimsd), tuple(mshape)
        self.wshape = self.nwin + self.dimsd[self.k:]
        self.dims = self.nws + self.mshape
        self.simop, self.tapers, self.rule = bool(simop), tapers, rule
        self.taper_dtype = np.dtype(taper_dtype)

    def taper(self, w0, g):
        """Tapers of the windows ``[w0, w0 + g)``, shape ``g + wshape`` up to broadcasting."""
        k = self.k
        grids = np.meshgrid(*[np.arange(a, a + n) for a, n in zip(w0, g)], indexing="ij")
        total = None
        for a in range(k):
            prefer_high = self.rule == "high"
            if self.rule == "patch3d" and a == 2:
                prefer_high = (grids[1] == self.nws[1] - 1) & (self.nws[1] > 1)
            t = self.tapers[a][_codes(grids[a], self.nws[a], prefer_high)]
            shape = tuple(g) + tuple(self.nwin[a] if b == a else 1 for b in range(k)) \
                + (1,) * (len(self.wshape) - k)
            total = t.reshape(shape) if total is None else total * t.reshape(shape)
        return total.astype(self.taper_dtype)


def forward_region(L, start, stop):
    """Model box read by the forward output box: the windows touching it, whole models."""
    if L.simop:
        return (0,) * len(L.dims), L.dims
    lo, hi = [], []
    for a in range(L.k):
        st = L.starts[a]
        w_lo = int(np.searchsorted(st + L.nwin[a], start[a], side="right"))
        w_hi = int(np.searchsorted(st, stop[a], side="left"))
        lo.append(w_lo)
        hi.append(max(w_hi, w_lo))
    return tuple(lo) + (0,) * len(L.mshape), tuple(hi) + L.mshape


def adjoint_region(L, start, stop):
    """Data box read by the adjoint output box: the data under its windows (their overlap
    with the neighbours' included), whole trailing axes."""
    if L.simop:
        return (0,) * len(L.dimsd), L.dimsd
    lo, hi = [], []
    for a in range(L.k):
        wa, wb = start[a], stop[a]
        if wb <= wa:
            s = int(L.starts[a][wa]) if wa < L.nws[a] else L.dimsd[a]
            lo.append(s)
            hi.append(s)
        else:
            lo.append(int(L.starts[a][wa]))
            hi.append(int(L.starts[a][wb - 1]) + L.nwin[a])
    trail = L.dimsd[L.k:]
    return tuple(lo) + (0,) * len(trail), tuple(hi) + trail


def forward_chunks(L, chunks):
    """Data chunks from the model's: a data chunk starts where the first window of a model
    chunk starts (so the adjoint gives the model's window chunks back); trailing axes whole."""
    if L.simop:
        return tuple((n,) for n in L.dimsd)
    out = []
    for a in range(L.k):
        sizes = np.asarray(chunks[a], dtype=np.int64)
        firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])[sizes > 0]
        edges = [int(L.starts[a][f]) for f in firsts] + [L.dimsd[a]]
        edges[0] = 0
        out.append(tuple(int(d) for d in np.diff(edges)))
    return tuple(out) + tuple((n,) for n in L.dimsd[L.k:])


def adjoint_chunks(L, chunks):
    """Model chunks from the data's: each window goes with the data chunk holding its start
    (chunks holding none are dropped); per-window axes whole."""
    if L.simop:
        return tuple((n,) for n in L.dims)
    out = []
    for a in range(L.k):
        edges = np.concatenate([[0], np.cumsum(np.asarray(chunks[a], dtype=np.int64))])
        counts = np.diff(np.searchsorted(L.starts[a], edges, side="left"))
        out.append(tuple(int(c) for c in counts if c > 0))
    return tuple(out) + tuple((m,) for m in L.mshape)


# --- applying Op to stacks of windows ----------------------------------------------------------

def apply_columns(Op, inner, ops, X, adjoint):
    """``Op`` (or ``Op^H``) on every row of ``X`` (one flattened window model/data per row):
    PyLops' ``matmat`` for all rows at once, or our kernel ``inner`` window by window."""
    if inner is not None:
        return _kernel_rows(inner, ops, X)
    xp = get_array_module(X)
    if xp.iscomplexobj(X) and not np.iscomplexobj(np.empty(0, Op.dtype)):
        # real PyLops operators write into real arrays: apply to both parts
        return (apply_columns(Op, None, ops, X.real, adjoint)
                + 1j * apply_columns(Op, None, ops, X.imag, adjoint))
    if X.shape[0] == 1:
        return (Op.rmatvec if adjoint else Op.matvec)(X[0]).reshape(1, -1)
    return (Op.rmatmat if adjoint else Op.matmat)(X.T).T


def _kernel_rows(inner, ops, X):
    """Our operator's chunk kernel evaluated on each whole window (one call per row)."""
    xp = get_array_module(X)
    start, stop = (0,) * len(inner.dims_out), inner.dims_out
    istart, istop = inner.in_box(start, stop)
    boxes = inner.operand_boxes(istart, istop, start, stop)
    mine = [cut(b, (0,) * b.ndim, *box) for b, box in zip(ops, boxes)]
    dtype = inner.out_dtype(X.dtype)
    rows = []
    for row in X:
        x = _read_box(xp, row.reshape(inner.dims_in), istart, istop)
        y = inner(x, *mine, where=Where(tuple(istart), start, stop), dtype=dtype)
        rows.append(y.reshape(-1))
    if not rows:
        return xp.zeros((0, int(np.prod(inner.dims_out))), dtype=dtype)
    return xp.stack(rows)


def _read_box(xp, x, start, stop):
    """``x`` on the box ``[start, stop)``, coordinates beyond the axes wrapping around (the
    region of a periodic kernel)."""
    if all(0 <= a and b <= n for a, b, n in zip(start, stop, x.shape)):
        return x[tuple(slice(a, b) for a, b in zip(start, stop))]
    for ax, (a, b, n) in enumerate(zip(start, stop, x.shape)):
        x = xp.take(x, xp.asarray(np.arange(a, b) % n), axis=ax)
    return x


# --- kernels -----------------------------------------------------------------------------------

def forward_kernel(x, *ops, where, dtype, layout, Op, inner):
    """Data on the output box: the windows of ``x`` through ``Op``, tapered and added at
    their places (only the parts inside the box)."""
    L, k = layout, layout.k
    xp = get_array_module(x)
    out = xp.zeros(tuple(b - a for a, b in zip(where.start, where.stop)), dtype=dtype)
    w0, g = tuple(where.origin[:k]), tuple(x.shape[:k])
    if 0 in g or 0 in out.shape:
        return out
    nrow = 1 if L.simop else int(np.prod(g))
    Y = apply_columns(Op, inner, ops, x.reshape(nrow, -1), False).reshape(g + L.wshape)
    if L.tapers is not None:
        Y = Y * xp.asarray(L.taper(w0, g))
    trail = L.dimsd[k:]
    for j in np.ndindex(*g):
        lo = tuple(int(L.starts[a][w0[a] + j[a]]) for a in range(k)) + (0,) * len(trail)
        hi = tuple(s + n for s, n in zip(lo, L.wshape))
        a0 = [max(s, b) for s, b in zip(lo, where.start)]
        a1 = [min(e, b) for e, b in zip(hi, where.stop)]
        if any(p >= q for p, q in zip(a0, a1)):
            continue
        dst = tuple(slice(p - b, q - b) for p, q, b in zip(a0, a1, where.start))
        src = tuple(slice(p - s, q - s) for p, q, s in zip(a0, a1, lo))
        out[dst] += Y[j][src]
    return out


def adjoint_kernel(x, *ops, where, dtype, layout, Op, inner):
    """Window models on the output box: the windows cut from ``x``, tapered, through
    ``Op^H``."""
    L, k = layout, layout.k
    xp = get_array_module(x)
    shape = tuple(b - a for a, b in zip(where.start, where.stop))
    if 0 in shape:
        return xp.zeros(shape, dtype=dtype)
    # the windows to compute: the box's (all of them when Op acts on the whole model)
    w0 = (0,) * k if L.simop else tuple(where.start[:k])
    g = L.nws if L.simop else shape[:k]
    W = x
    for a in range(k):  # axis a becomes (window, sample) at position 2a
        local = L.starts[a][w0[a]:w0[a] + g[a]] - where.origin[a]
        idx = local[:, None] + np.arange(L.nwin[a])
        W = xp.take(W, xp.asarray(idx), axis=2 * a)
    order = tuple(range(0, 2 * k, 2)) + tuple(range(1, 2 * k, 2)) + tuple(range(2 * k, W.ndim))
    W = W.transpose(order)
    if L.tapers is not None:
        W = W * xp.asarray(L.taper(w0, g))
    nrow = 1 if L.simop else int(np.prod(g))
    M = apply_columns(Op, inner, ops, W.reshape(nrow, -1), True).reshape(tuple(g) + L.mshape)
    box = tuple(slice(a - o, b - o) for a, b, o in
                zip(where.start, where.stop, w0 + (0,) * len(L.mshape)))
    y = M[box]
    return y.astype(dtype, copy=bool(xp.may_share_memory(y, x)))


# --- the operator ------------------------------------------------------------------------------

def inner_kernels(Op, opname):
    """``(forward, adjoint)`` chunk kernels of ``Op`` when it is one of ours, None for a PyLops
    operator; a clear error for anything else."""
    if isinstance(Op, LinearOperator):
        try:
            kernels = (Op.chunk_kernel(False), Op.chunk_kernel(True))
        except NoChunkKernel as err:
            raise NotImplementedError(
                f"{opname}: Op {Op.label} has no chunk kernel ({err}); pass a PyLops operator "
                "or one of ours that has one") from None
        if any(isinstance(kern, StackKernel) for kern in kernels):
            raise NotImplementedError(f"{opname}: Op {Op.label} is a stack of operators (its "
                                      "vectors are StackedArrays); pass a PyLops operator")
        return kernels
    if not all(hasattr(Op, m) for m in ("shape", "dtype", "matvec", "rmatvec", "matmat",
                                        "rmatmat")):
        raise TypeError(f"{opname}: Op must be a PyLops or pylops_distributed LinearOperator, "
                        f"got {type(Op).__name__}")
    return None


def check_op(Op, opname, design, dims_user, nws, mshape, wshape):
    """Whether ``Op`` acts on all windows at once (PyLops' ``simOp``); a ValueError when its
    shape matches neither one window nor the whole model."""
    nmodel, nwindows = int(np.prod(dims_user)), int(np.prod(nws))
    simop = Op.shape[1] == nmodel
    n_in = nmodel if simop else int(np.prod(mshape))
    if Op.shape[1] != n_in:
        raise ValueError(
            f"{opname}: model shape (dims={tuple(dims_user)}) is not consistent with the "
            f"{nws} windows and Op.shape={Op.shape}: Op should have {n_in} columns (one "
            f"window's model, {mshape}) or {nmodel} (all windows). Run {design} to identify "
            "the correct number of windows for the current model size")
    n_out = int(np.prod(wshape)) * (nwindows if simop else 1)
    if Op.shape[0] != n_out:
        raise ValueError(f"{opname}: Op.shape={Op.shape} should have {n_out} rows (windows of "
                         f"shape {wshape}{f' times {nwindows} windows' if simop else ''})")
    return simop


def split_model(dims_user, nws, opname, design):
    """One window's model shape for the model ``dims_user`` whose first axes stack ``nws``
    windows each (a ValueError when they do not divide)."""
    k = len(nws)
    if any(d % n for d, n in zip(dims_user[:k], nws)):
        raise ValueError(
            f"{opname}: model shape (dims={tuple(dims_user)}) is not consistent with the "
            f"chosen number of windows {nws}: dims[:{k}] must be multiples of it. Run "
            f"{design} to identify the correct number of windows for the current model size")
    return tuple(d // n for d, n in zip(dims_user[:k], nws)) + tuple(dims_user[k:])


def patch_model(dims_user, nws, nop, opname, design):
    """``nop``, when the model ``dims_user`` holds ``nws * nop`` along every axis (PyLops'
    check of the patch operators), else a ValueError."""
    if any(n * p != d for n, p, d in zip(nws, nop, dims_user)):
        raise ValueError(
            f"{opname}: model shape (dims={tuple(dims_user)}) is not consistent with the "
            f"chosen number of windows {nws} times nop={tuple(nop)}. Run {design} to identify "
            "the correct number of windows for the current model size")
    return tuple(nop)


class WindowedOperator(LinearOperator):
    """Base of the sliding-window and patch operators: their kernels from a
    :class:`WindowLayout` (subclasses build it and call :meth:`_init_windows`)."""

    def _init_windows(self, Op, layout, name, chunks, opname):
        self.Op, self._layout = Op, layout
        self.simOp = layout.simop
        self._inner = inner_kernels(Op, opname)
        self._token = new_token()
        super().__init__(layout.dims, layout.dimsd, Op.dtype, name=name, chunks=chunks,
                         clinear=bool(getattr(Op, "clinear", True)))

    def _kernel(self, adjoint):
        L = self._layout
        inner = None if self._inner is None else self._inner[int(adjoint)]
        dims_in, dims_out = (L.dimsd, L.dims) if adjoint else (L.dims, L.dimsd)
        k = L.k
        if L.simop:
            whole, axes = range(len(dims_in)), (None,) * len(dims_out)
        else:
            whole = range(k, len(dims_in))
            axes = tuple(range(k)) + (None,) * (len(dims_out) - k)
        operands = [] if inner is None else [aligned(op.data, (None,) * op.data.ndim)
                                             for op in inner.operands]
        kind = type(self).__name__.lower()
        return ChunkKernel(
            adjoint_kernel if adjoint else forward_kernel, dims_in, dims_out,
            name=kind + ("-adjoint" if adjoint else ""), token=f"{self._token}-{int(adjoint)}",
            params=dict(layout=L, Op=None if inner is not None else self.Op,
                        inner=None if inner is None else inner.stripped()),
            out_dtype=functools.partial(_out_dtype, self.dtype, inner),
            region=functools.partial(adjoint_region if adjoint else forward_region, L),
            chunks=functools.partial(adjoint_chunks if adjoint else forward_chunks, L),
            axes=axes, operands=operands, whole=whole)


def _out_dtype(op_dtype, inner, dtype):
    if inner is not None:
        return np.result_type(op_dtype, inner.out_dtype(dtype))
    return np.result_type(op_dtype, dtype)


def build_layout(Op, opname, design, dims_user, dimsd, nwin, nover, mshape_of, tapertype,
                 edge, rule):
    """Window starts, the ``simOp`` check and the tapers, as one :class:`WindowLayout`
    (``mshape_of(nws)``: one window's model shape for ``nws`` windows, or a ValueError)."""
    starts = tuple(window_starts(n, w, o, opname) for n, w, o in zip(dimsd, nwin, nover))
    nws = tuple(len(s) for s in starts)
    mshape = tuple(mshape_of(nws))
    wshape = tuple(nwin) + tuple(dimsd[len(nwin):])
    simop = check_op(Op, opname, design, dims_user, nws, mshape, wshape)
    tapers = None
    if tapertype is not None:
        tapers = tuple(axis_tapers(w, o, tapertype, edge) for w, o in zip(nwin, nover))
    return WindowLayout(starts, nwin, dimsd, mshape, simop, tapers, rule, Op.dtype)
