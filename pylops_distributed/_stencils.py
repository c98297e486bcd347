"""Stencils along axes: their coefficients, and the per-chunk kernels that apply them.

Every derivative and smoothing operator is a sum (or a chain) of 1-D banded operators
along axes. A :class:`Stencil1D` describes one of them for an axis of length ``n``: the
constant taps of the interior rows, and explicit rows at the two ends (PyLops' ``edge``
rules, zero rows, truncated smoothing windows). The adjoint is another
:class:`Stencil1D`, obtained by transposing, so forward and adjoint are exact at the
array's edges by construction.

The chunk kernels (:mod:`pylops_distributed.kernels` protocol) know where their block lies in
the whole array (``where``) and apply the edge rows only at the global edges.
:func:`stencil_sum` is the one entry point; it picks the kernel by the chunk's array
module:

- NumPy, up to 3 axes: one compiled Numba call (:mod:`._stencils_numba`) computes every
  term into the preallocated output, row by row, without temporaries and without the GIL.
- CuPy, up to 3 axes: one generated raw CUDA kernel per (stencils, weights, dtype)
  (:mod:`._stencils_cupy`) computes every term of an output element in one pass.
- Otherwise (more axes, per-point weights, no Numba): the sliced path below, slab by slab
  (about 1 MiB of output at a time), each tap one vectorised multiply-add of slices into
  the preallocated output; temporaries are slab-sized, never full-size. It works on NumPy
  and CuPy arrays alike.
"""

import functools
from dataclasses import dataclass

import numpy as np

from pylops_distributed import _stencils_numba
from pylops_distributed._arrays import get_array_module as _xp
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, aligned, as_depth, halo_region
from pylops_distributed.linearoperator import LinearOperator

#: Output bytes processed at a time by the NumPy kernels (slabs along the first axis).
SLAB_BYTES = 1 << 20
#: Axis length from which stencils are taken from a fixed-size template (shorter axes are
#: described exactly, row by row).
TEMPLATE_N = 64


# --- 1-D stencils -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Stencil1D:
    """A 1-D banded operator on an axis of length ``n``.

    Row ``i`` of ``y = S x`` is ``sum(c * x[i + o] for o, c in taps)`` for
    ``len(head) <= i < n - len(tail)``; row ``i < len(head)`` is
    ``sum(c * x[j] for j, c in head[i])`` and row ``n - len(tail) + r`` is
    ``sum(c * x[n + j] for j, c in tail[r])`` (``j < 0``).
    ``lo``/``hi`` are how far any row reaches to the left/right (the halo depth).
    """

    n: int
    taps: tuple
    head: tuple
    tail: tuple
    lo: int
    hi: int

    @classmethod
    def from_matrix(cls, M):
        """Describe the banded matrix ``M`` (``n x n``); exact for its own ``n``."""
        M = np.asarray(M)
        n = M.shape[0]
        i0 = n // 2
        taps = tuple((int(j - i0), float(M[i0, j])) for j in np.flatnonzero(M[i0]))

        def regular(i):
            row = np.zeros(n)
            for o, c in taps:
                if not 0 <= i + o < n:
                    return False
                row[i + o] = c
            return np.array_equal(row, M[i])

        L = i0
        while L > 0 and regular(L - 1):
            L -= 1
        R = n - 1 - i0
        while R > 0 and regular(n - R):
            R -= 1
        if not all(regular(i) for i in range(L, n - R)):  # pragma: no cover - not banded
            taps, L, R = (), n, 0
        head = tuple(tuple((int(j), float(M[i, j])) for j in np.flatnonzero(M[i])) for i in range(L))
        tail = tuple(tuple((int(j - n), float(M[i, j])) for j in np.flatnonzero(M[i]))
                     for i in range(n - R, n))
        reach = [(i - j, j - i) for i in range(n) for j in np.flatnonzero(M[i])]
        lo = max([0] + [a for a, _ in reach])
        hi = max([0] + [b for _, b in reach])
        return cls(n, taps, head, tail, int(lo), int(hi))

    def resized(self, n):
        """The same stencil for an axis of length ``n`` (from a template of length ``self.n``)."""
        return Stencil1D(n, self.taps, self.head, self.tail, self.lo, self.hi)

    def matrix(self):
        """Dense ``n x n`` matrix (tests and small axes)."""
        n = self.n
        M = np.zeros((n, n))
        L, R = len(self.head), len(self.tail)
        for i in range(L, n - R):
            for o, c in self.taps:
                M[i, i + o] = c
        for i, row in enumerate(self.head):
            for j, c in row:
                M[i, j] = c
        for r, row in enumerate(self.tail):
            for j, c in row:
                M[n - R + r, n + j] = c
        return M



def check_axis_length(n, opname):
    """A stencil runs along an axis of at least one sample (an empty or negative axis has
    nothing to apply it to, and would fail deep inside the setup)."""
    if n < 1:
        raise ValueError(f"{opname}: expected dims of at least 1 sample along the axes the "
                         f"stencil runs along, got an axis of {n}; e.g. dims=(100, 50)")


@functools.lru_cache(maxsize=256)
def derivative_stencils(which, n, kind="centered", order=3, edge=False, opname=None):
    """(forward, adjoint) :class:`Stencil1D` of PyLops' First/SecondDerivative, unit sampling.

    The coefficients are read from PyLops' own 1-D operator on a short template axis, so
    they follow PyLops' definitions (``kind``, ``order``, ``edge``) exactly.

    Raises
    ------
    ValueError
        If the axis is too short for the stencil (PyLops cannot apply it either).
    """
    import pylops

    check_axis_length(n, opname or f"{which} derivative")
    m = min(n, TEMPLATE_N)
    try:
        if which == "first":
            Op = pylops.FirstDerivative(m, kind=kind, edge=edge, order=order, dtype="float64")
        else:
            Op = pylops.SecondDerivative(m, kind=kind, edge=edge, dtype="float64")
        M = Op.todense()
    except IndexError as err:
        opts = f"kind={kind!r}, edge={edge}" + (f", order={order}" if which == "first" else "")
        raise ValueError(f"{opname or which + ' derivative'}: an axis of {n} samples is too short "
                         f"for the {which} derivative with {opts} (PyLops fails too: {err}); "
                         "use a longer axis or edge=False") from None
    fwd, adj = Stencil1D.from_matrix(M), Stencil1D.from_matrix(M.T)
    return fwd.resized(n), adj.resized(n)


@functools.lru_cache(maxsize=256)
def box_stencil(nsmooth, n, opname="smoothing"):
    """Zero-padded centred moving average of odd length ``nsmooth`` (PyLops' Smoothing1D)."""
    check_axis_length(n, opname)
    m = min(n, max(TEMPLATE_N, 4 * nsmooth))
    half = nsmooth // 2
    i = np.arange(m)
    M = (np.abs(i[:, None] - i[None, :]) <= half) / float(nsmooth)
    return Stencil1D.from_matrix(M).resized(n)


# --- per-chunk kernels: NumPy/CuPy sliced path -------------------------------------------------

def _take(a, axis, start, stop):
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return a[tuple(idx)]


def _axpy(dst, src, c, first):
    """``dst (=|+=) c * src`` in place; no temporary for c = +-1 or the first term."""
    if first:
        if c == 1:
            dst[...] = src
        else:
            np.multiply(src, c, out=dst)  # CuPy arrays take NumPy ufuncs (__array_ufunc__)
    elif c == 1:
        dst += src
    elif c == -1:
        dst -= src
    else:
        dst += c * src


def _apply1d(xb, b0, axis, st, r0, r1, scale, out, first, wout=None):
    """Rows ``[r0, r1)`` (global) of ``scale * S x`` along ``axis`` into ``out``.

    ``xb`` covers global rows ``[b0, b0 + xb.shape[axis])`` along ``axis`` and exactly the
    output box on the other axes; ``wout`` (optional, ``out``'s shape) multiplies the result.
    ``first``: assign instead of accumulate.
    """
    n = st.n
    L, R = len(st.head), len(st.tail)
    a0, a1 = max(r0, L), min(r1, n - R)
    if a0 < a1:
        dst = _take(out, axis, a0 - r0, a1 - r0)
        if not st.taps:
            if first:
                dst[...] = 0
        elif wout is None:
            for k, (o, c) in enumerate(st.taps):
                _axpy(dst, _take(xb, axis, a0 + o - b0, a1 + o - b0), c * scale, first and k == 0)
        else:
            w = _take(wout, axis, a0 - r0, a1 - r0)
            acc = None
            for o, c in st.taps:
                t = c * scale * _take(xb, axis, a0 + o - b0, a1 + o - b0)
                acc = t if acc is None else acc + t
            _axpy(dst, acc * w, 1, first)
    for i in list(range(r0, min(r1, L))) + list(range(max(r0, n - R, L), r1)):
        row = st.head[i] if i < L else st.tail[i - (n - R)]
        base = 0 if i < L else n
        dst = _take(out, axis, i - r0, i - r0 + 1)
        if not row:
            if first:
                dst[...] = 0
            continue
        acc = None
        for j, c in row:
            t = (c * scale) * _take(xb, axis, base + j - b0, base + j - b0 + 1)
            acc = t if acc is None else acc + t
        if wout is not None:
            acc = acc * _take(wout, axis, i - r0, i - r0 + 1)
        _axpy(dst, acc, 1, first)


def _slabs(box_start, box_stop, itemsize):
    """Split an output box into slabs along its first axis of about SLAB_BYTES each."""
    row = itemsize * int(np.prod([b - a for a, b in zip(box_start[1:], box_stop[1:])], dtype=np.int64))
    step = max(1, SLAB_BYTES // max(row, 1))
    for s in range(box_start[0], box_stop[0], step):
        yield s, min(s + step, box_stop[0])


def stencil_sum(xb, borig, terms, ostart, ostop, dtype, wouts=None, out=None):
    """``sum_t scale_t * w_t * S_t x`` on the global box ``[ostart, ostop)``.

    ``xb`` covers the global box starting at ``borig`` (it must hold every row the terms
    reach); ``terms`` is a sequence of ``(axis, Stencil1D, scale)``; ``wouts`` (optional)
    per-term weight arrays aligned with ``xb`` (or None). Returns a new array of the box's
    shape, NumPy or CuPy like ``xb``, or fills and returns ``out`` (any strides) if given.
    """
    xp = _xp(xb)
    shape = tuple(b - a for a, b in zip(ostart, ostop))
    if xp is not np and wouts is None and terms and shape and min(shape) > 0:
        from pylops_distributed import _stencils_cupy

        if _stencils_cupy.supported(xb, terms, dtype, out):
            return _stencils_cupy.stencil_sum(xb, borig, terms, ostart, ostop, dtype, out)
    if xp is np and terms and _stencils_numba.available(xb, wouts):
        return _stencils_numba.stencil_sum(xb, borig, terms, ostart, ostop, dtype, out)
    if out is None:
        out = xp.empty(shape, dtype=dtype)
    if out.size == 0:
        return out
    if not terms:
        out[...] = 0
        return out
    slabs = _slabs(ostart, ostop, out.itemsize) if xp is np else [(ostart[0], ostop[0])]
    for s0, s1 in slabs:
        st0 = (s0,) + tuple(ostart[1:])
        st1 = (s1,) + tuple(ostop[1:])
        o = out[s0 - ostart[0]:s1 - ostart[0]]
        for k, (axis, st, scale) in enumerate(terms):
            idx = tuple(slice(None) if ax == axis else slice(st0[ax] - borig[ax], st1[ax] - borig[ax])
                        for ax in range(xb.ndim))
            w = None
            if wouts is not None and wouts[k] is not None:
                w = wouts[k][tuple(slice(st0[ax] - borig[ax], st1[ax] - borig[ax])
                                   for ax in range(xb.ndim))]
            _apply1d(xb[idx], borig[axis], axis, st, st0[axis], st1[axis], scale, o, k == 0, w)
    return out


def _like(a, x):
    """``a`` in ``x``'s array module (directions ``v`` given as NumPy for CuPy chunks)."""
    xp = _xp(x)
    return a if _xp(a) is xp else xp.asarray(a)


def _add(a, b):
    a += b
    return a


# --- chunk kernels (the kernels.ChunkKernel protocol) --------------------------------------------

def sum_kernel(x, *, where, dtype, terms, out=None):
    """``sum_t scale_t S_t x`` on the output box (First/SecondDerivative, Laplacian, Smoothing1D,
    constant-v directional derivatives), into ``out`` if given."""
    return stencil_sum(x, where.origin, terms, where.start, where.stop, dtype, out=out)


def stack_kernel(x, *, where, dtype, terms):
    """``stack([scale_t S_t x for t in terms])`` on the output box (Gradient forward): the
    leading output axis picks the terms."""
    s0, e0 = where.start[0], where.stop[0]
    out = _xp(x).empty(tuple(b - a for a, b in zip(where.start, where.stop)), dtype=dtype)
    for k in range(s0, e0):
        stencil_sum(x, where.origin, [terms[k]], where.start[1:], where.stop[1:], dtype,
                    out=out[k - s0])
    return out


def unstack_kernel(y, *, where, dtype, terms):
    """``sum_k scale_k S_k y[k]`` for a stacked ``y`` (Gradient adjoint; ``y``'s leading axis whole)."""
    out = None
    for k, term in enumerate(terms):
        part = stencil_sum(y[k], where.origin[1:], [term], where.start, where.stop, dtype)
        out = part if out is None else _add(out, part)
    return out


def weighted_kernel(x, v, *, where, dtype, terms, adjoint):
    """Directional derivative with a direction per point, ``v`` of shape ``(ndim, *dims)`` (its
    block aligned with ``x``'s). Forward: ``sum_a v[a] * S_a x``; adjoint:
    ``sum_a S_a^H (conj(v[a]) * y)``."""
    v = _like(v, x)
    if not adjoint:
        return stencil_sum(x, where.origin, terms, where.start, where.stop, dtype,
                           wouts=[v[ax] for ax, _, _ in terms])
    out = None
    for ax, st, scale in terms:
        part = stencil_sum(v[ax].conj() * x, where.origin, [(ax, st, scale)], where.start,
                           where.stop, dtype)
        out = part if out is None else _add(out, part)
    return out


def chain_kernel(x, *vb, where, dtype, stages, dims):
    """A chain of stencil sums, ``stages[-1] ... stages[0] x`` (Smoothing2D,
    SecondDirectionalDerivative).

    Each stage is computed on the output box grown by the reach of the stages after it, so the
    last one is exact on the box. ``stages`` is a sequence of ``(terms, mode)``, ``mode``
    None, ``"wout"`` (result weighted by ``v[axis]``) or ``"win"`` (input weighted by
    ``conj(v[axis])``), with ``v = vb[0]`` aligned with ``x``.
    """
    c0, c1 = where.start, where.stop
    ndim = len(dims)
    boxes = []
    grow_lo, grow_hi = [0] * ndim, [0] * ndim
    for terms, _ in reversed(stages):
        boxes.append((tuple(max(0, c0[a] - grow_lo[a]) for a in range(ndim)),
                      tuple(min(dims[a], c1[a] + grow_hi[a]) for a in range(ndim))))
        for a in range(ndim):
            grow_lo[a] += max([st.lo for ax, st, _ in terms if ax == a], default=0)
            grow_hi[a] += max([st.hi for ax, st, _ in terms if ax == a], default=0)
    vorg = where.origin
    vb = tuple(_like(v, x) for v in vb)
    cur, org = x, vorg
    for (terms, mode), (b0, b1) in zip(stages, boxes[::-1]):
        if mode is None:
            out = stencil_sum(cur, org, terms, b0, b1, dtype)
        else:
            region = tuple(slice(o - vo, o - vo + s) for o, vo, s in zip(org, vorg, cur.shape))
            ws = [vb[0][ax][region] for ax, _, _ in terms]
            if mode == "wout":
                out = stencil_sum(cur, org, terms, b0, b1, dtype, wouts=ws)
            else:
                out = None
                for w, term in zip(ws, terms):
                    part = stencil_sum(w.conj() * cur, org, [term], b0, b1, dtype)
                    out = part if out is None else _add(out, part)
        cur, org = out, b0
    return cur


# --- operators ----------------------------------------------------------------------------------

def reach(terms, ndim):
    """Halo ``((lo, hi), ...)`` per axis that a stencil sum needs."""
    out = [[0, 0] for _ in range(ndim)]
    for ax, st, _ in terms:
        out[ax] = [max(out[ax][0], st.lo), max(out[ax][1], st.hi)]
    return [tuple(d) for d in out]


def chain_reach(stages, ndim):
    """Halo of a chain of stencil sums: the reaches add up."""
    out = [(0, 0)] * ndim
    for terms, _ in stages:
        out = [(a + c, b + d) for (a, b), (c, d) in zip(out, reach(terms, ndim))]
    return out


def _stencil_dtype(op_dtype, promote_input, extra, dtype):
    # as PyLops' derivatives: a real input gives the operator's dtype (float64 data through a
    # float32 operator comes out float32); a complex input through a real operator stays
    # complex (PyLops would drop its imaginary part); ``extra`` adds the directions' dtype
    # where PyLops' result depends on it
    promote = promote_input or np.iscomplexobj(np.empty(0, dtype))
    base = np.result_type(op_dtype, dtype) if promote else np.dtype(op_dtype)
    return np.result_type(base, *extra)


def _lead_region(depth, dims, lead, drop, start, stop):
    """Input box of a stencil kernel with ``lead`` new leading output axes (Gradient forward)
    or ``drop`` whole leading input axes (Gradient adjoint)."""
    s, e = halo_region(depth[drop:], dims[drop:], start[lead:], stop[lead:])
    return (tuple(0 for _ in range(drop)) + s, tuple(dims[:drop]) + e)


class StencilOperator(LinearOperator):
    """Base of the stencil operators: their kernels come from two plans.

    Subclasses set ``self._plans = (forward, adjoint)`` (through :meth:`_setup`), each a dict
    with ``kernel`` (a chunk function of this module), ``depth`` (per axis of the input),
    ``kwargs`` for the kernel and optionally ``lead`` (sizes of new leading output axes),
    ``drop`` (number of leading input axes the output drops), ``weights`` (an array aligned
    with the input, e.g. directions ``v``), ``corners`` (True for chains of stencils, which
    read diagonal neighbours) and ``promote`` (dtypes the output is promoted with, besides the
    operator's).
    """

    #: Output dtype from the operator's and the input's (PyLops' convolutions, smoothing),
    #: rather than the operator's for a real input (PyLops' derivatives).
    _promote_input = False

    def _setup(self, forward, adjoint):
        self._plans = (forward, adjoint)
        self._token = new_token()

    def _kernel(self, adjoint):
        plan = self._plans[adjoint]
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        lead, drop = tuple(plan.get("lead", ())), plan.get("drop", 0)
        depth = as_depth(plan["depth"], len(dims_in))
        operands = ()
        if plan.get("weights") is not None:
            v = plan["weights"]
            operands = (aligned(v, (None,) + tuple(("in", a) for a in range(v.ndim - 1))),)
        params = dict(plan["kwargs"])
        if plan["kernel"] is chain_kernel:
            params["dims"] = dims_in
        if lead or drop:
            region = functools.partial(_lead_region, depth, dims_in, len(lead), drop)
            axes = (None,) * len(lead) + tuple(range(drop, len(dims_in)))
        else:
            region, axes = None, None
        return ChunkKernel(
            plan["kernel"], dims_in, dims_out, params=params, depth=depth, region=region,
            axes=axes, operands=operands, whole=range(drop),
            name=type(self).__name__.lower() + ("-adjoint" if adjoint else ""),
            token=f"{self._token}-{int(adjoint)}",
            out_dtype=functools.partial(_stencil_dtype, self.dtype, self._promote_input,
                                        tuple(plan.get("promote", ()))),
            corners=plan.get("corners", False), split=plan.get("split", plan["kernel"] is sum_kernel))


def sum_plans(terms_fwd, terms_adj, ndim):
    """Forward and adjoint plans of a plain stencil sum."""
    return (dict(kernel=sum_kernel, depth=reach(terms_fwd, ndim), kwargs=dict(terms=tuple(terms_fwd))),
            dict(kernel=sum_kernel, depth=reach(terms_adj, ndim), kwargs=dict(terms=tuple(terms_adj))))


def check_kind(opname, kind, order=None):
    """Validate ``kind`` (and ``order``) with a message showing a correct call."""
    if kind not in ("forward", "centered", "backward"):
        raise ValueError(f"{opname}: kind={kind!r} is not one of 'forward', 'centered', 'backward', "
                         f"e.g. {opname}(dims, kind='centered')")
    if order is not None and kind == "centered" and order not in (3, 5):
        raise ValueError(f"{opname}: order={order!r} must be 3 or 5 for kind='centered', "
                         f"e.g. {opname}(dims, order=5)")


def per_axis(value, ndim, opname, what):
    """A float or a sequence of ``ndim`` floats -> tuple of ``ndim`` values."""
    if np.ndim(value) == 0:
        return (value,) * ndim
    value = tuple(np.asarray(value).ravel().tolist())
    if len(value) != ndim:
        raise ValueError(f"{opname}: {what} has {len(value)} values, expected {ndim} (one per axis) "
                         "or a single number")
    return value
