"""The ranks' side of the collective solver path (:mod:`._collective`): what a rank holds,
how it applies the operator on its slab (the halo exchanges, or the all-reduce of a replicated
model's adjoint), and the solver's vector space inside a rank."""

import uuid

import dask
import dask.array as da
import numpy as np

from pylops_distributed._arrays import get_array_module, meta_like
from pylops_distributed._blocks import box_slices
from pylops_distributed._graph import array_from_tasks
from pylops_distributed.kernels import Where
from pylops_distributed.optimization._eager import EagerSpace
from pylops_distributed.optimization._elementwise import lincomb
from pylops_distributed.optimization._runner import persisted_chunks
from pylops_distributed.optimization._space import Node, Scalar, State, Vec


class RankContext:
    """What one rank holds: the communicator, its slabs and the operator's kernels with the
    exchanges each application needs."""

    def __init__(self, comm, Op, layout, inputs, uses_adjoint, operands=None):
        self.comm, self.layout, self.rank = comm, layout, comm.rank
        self.inputs = inputs
        self.dtype = np.dtype(np.result_type(inputs["y"].dtype, Op.dtype))
        self.directions = directions(Op, layout, comm.rank, uses_adjoint)
        for (adjoint, k), block in (operands or {}).items():
            self.directions[adjoint].given[k] = block
        self.slab_arrays = {}

    def apply(self, adjoint, x):
        d = self.directions[adjoint]
        if d.replicated:
            out = d.kernel(x[d.own], *d.operands(get_array_module(x)), where=d.where,
                           dtype=self.dtype)
            return self.allreduce(out) if adjoint else out
        sends = {s: x[d.send[s]] for s in d.send}
        got = self.comm.exchange(sends, {s: (shape, x.dtype) for s, (shape, _) in d.recv.items()})
        xp = get_array_module(x)
        pieces = sorted([(d.recv[s][1], got[s]) for s in got] + [(d.own_at, x[d.own])],
                        key=lambda p: p[0])
        if len(pieces) == 1 or d.calls is None:
            block = _rows(pieces, d.in_axis, pieces[0][0], None)
            return d.kernel(block, *d.operands(xp), where=d.where, dtype=self.dtype)
        # the inside straight from this rank's slab, the rims from small windows: the slab
        # is not copied into a block grown by the halo
        out = xp.empty(tuple(b - a for a, b in zip(d.where.start, d.where.stop)), self.dtype)
        for inside, where, sl in d.calls:
            block = x if inside else _rows(pieces, d.in_axis, where.origin[d.in_axis],
                                           d.kernel.in_box(where.start, where.stop)[1][d.in_axis])
            d.kernel(block, where=where, dtype=self.dtype, out=out[sl])
        return out

    def allreduce(self, a):
        """The sum of the array ``a`` over the ranks (as float64, in ``a``'s dtype)."""
        xp = get_array_module(a)
        flat = a.reshape(-1)
        flat = flat.view(flat.real.dtype) if xp.iscomplexobj(flat) else flat
        total = xp.asarray(self.comm.allreduce(flat)).astype(flat.dtype)
        return (total.view(a.dtype) if xp.iscomplexobj(a) else total).reshape(a.shape)

    def values_of(self, x):
        """The local slab behind a dask array the rank's space gave out."""
        if not isinstance(x, da.Array):
            return x
        held = persisted_chunks(x) if x.npartitions == 1 else None
        return held[(0,) * x.ndim] if held else dask.compute(x, scheduler="sync")[0]


def directions(Op, layout, rank, uses_adjoint):
    """Rank ``rank``'s :class:`_Direction` of the operator (``False``) and of its adjoint
    (``True``, when the solver uses it)."""
    out = {False: _Direction(Op.chunk_kernel(False), layout, "model", "data", rank)}
    if uses_adjoint:
        out[True] = _Direction(Op.chunk_kernel(True), layout, "data", "model", rank)
    return out


class _Direction:
    """The exchange pattern of one kernel (forward or adjoint) on the slabs: what this rank
    sends to and receives from each other rank, and its kernel call's boxes."""

    def __init__(self, kernel, layout, side_in, side_out, rank):
        self.kernel = kernel
        self._operands, self.given = None, {}
        self.replicated = layout.replicated(side_in) or layout.replicated(side_out)
        if self.replicated:
            # nothing exchanged: the forward reads the whole model this rank holds; the
            # adjoint runs on this rank's data slab (an additive kernel: its part of the sum)
            mine, (ostart, ostop) = layout.slab(side_in, rank), layout.slab(side_out, rank)
            istart, istop = (kernel.in_box(ostart, ostop) if layout.replicated(side_in)
                             else mine)
            self.where = Where(tuple(istart), tuple(ostart), tuple(ostop))
            self.boxes = (istart, istop, ostart, ostop)
            self.own = box_slices(tuple(a - m for a, m in zip(istart, mine[0])),
                               tuple(b - m for b, m in zip(istop, mine[0])))
            return
        self.in_axis = layout.model_axis if side_in == "model" else layout.data_axis
        ax = self.in_axis
        need = []
        for s in range(layout.size):
            ostart, ostop = layout.slab(side_out, s)
            istart, istop = kernel.in_box(ostart, ostop)
            need.append((istart, istop))
            if s == rank:
                self.where = Where(tuple(istart), tuple(ostart), tuple(ostop))
                self.boxes = (istart, istop, ostart, ostop)
        mine = layout.slab(side_in, rank)
        self.send, self.recv = {}, {}
        self.own, self.own_at = tuple(slice(0, 0) for _ in mine[0]), need[rank][0][ax]
        for s in range(layout.size):
            # the rows of my slab that rank s reads
            lo, hi = max(need[s][0][ax], mine[0][ax]), min(need[s][1][ax], mine[1][ax])
            if s != rank and lo < hi:
                self.send[s] = _local_slices(need[s], mine, ax, lo, hi)
            # the rows of rank s's slab that I read
            theirs = layout.slab(side_in, s)
            lo, hi = max(need[rank][0][ax], theirs[0][ax]), min(need[rank][1][ax], theirs[1][ax])
            if lo >= hi:
                continue
            if s == rank:
                self.own, self.own_at = _local_slices(need[rank], mine, ax, lo, hi), lo
            else:
                shape = tuple(hi - lo if a == ax else b - a0
                              for a, (a0, b) in enumerate(zip(*need[rank])))
                self.recv[s] = (shape, lo)
        # (shape-keeping kernels with no operands whose output slab is their input's)
        self.calls = self._split(mine) if kernel.split and not kernel.operands and \
            layout.slab(side_out, rank) == mine else None

    def _split(self, mine):
        """The calls that compute the output without growing the slab: ``(inside, where,
        out slices)``, the inside reading the slab only and the rims the halo windows; None
        if the kernel's inside does not fit in the slab."""
        ax, where = self.in_axis, self.where
        (i0, i1), (m0, m1) = (where.origin[ax], self.kernel.in_box(where.start, where.stop)[1][ax]), \
            (mine[0][ax], mine[1][ax])
        o0, o1 = where.start[ax], where.stop[ax]
        lo, hi = max(m0 - i0, 0), max(i1 - m1, 0)
        if o1 - o0 <= lo + hi:
            return None
        calls = []
        for a, b, inside in ((o0, o0 + lo, False), (o0 + lo, o1 - hi, True), (o1 - hi, o1, False)):
            if a >= b:
                continue
            start = tuple(a if k == ax else v for k, v in enumerate(where.start))
            stop = tuple(b if k == ax else v for k, v in enumerate(where.stop))
            istart, istop = self.kernel.in_box(start, stop)
            if inside and (istart[ax] < m0 or istop[ax] > m1):
                return None
            origin = tuple(m0 if k == ax else 0 for k in range(len(start))) if inside else istart
            sl = tuple(slice(a - o0, b - o0) if k == ax else slice(None) for k in range(len(start)))
            calls.append((inside, Where(origin, start, stop), sl))
        return calls

    def operand_blocks(self):
        """The kernel's operands cut to this rank's call (dask operands still lazy)."""
        boxes = self.kernel.operand_boxes(*self.boxes)
        return [op.data[box_slices(start, stop)] for op, (start, stop) in
                zip(self.kernel.operands, boxes)]

    def operands(self, xp):
        """The kernel's operand blocks for this rank's call (cut once; those of dask operands
        computed by the client beforehand, in :attr:`given`: a rank computing them itself
        could wait for a worker busy with another rank)."""
        if self._operands is None:
            out = []
            for k, block in enumerate(self.operand_blocks()):
                if isinstance(block, da.Array):
                    block = self.given[k] if k in self.given else \
                        dask.compute(block, scheduler="sync")[0]
                out.append(block)
            self._operands = out
        return self._operands


def _rows(pieces, axis, lo, hi):
    """Rows ``[lo, hi)`` (``hi`` None: all) along ``axis`` of the pieces ``(first row, array)``
    that cover them in order: a view when one piece holds them, else a copy."""
    xp = get_array_module(pieces[0][1])
    parts = []
    for p0, a in pieces:
        n = a.shape[axis]
        a0, a1 = max(lo, p0), (p0 + n if hi is None else min(hi, p0 + n))
        if a0 < a1:
            sl = tuple(slice(a0 - p0, a1 - p0) if k == axis else slice(None) for k in range(a.ndim))
            parts.append(a[sl])
    return parts[0] if len(parts) == 1 else xp.concatenate(parts, axis=axis)


def _local_slices(box, mine, ax, lo, hi):
    """Slices of my slab (global box ``mine``) for rows ``[lo, hi)`` along ``ax`` and
    ``box``'s extent along the other axes."""
    return tuple(slice(lo - m0, hi - m0) if a == ax else slice(b0 - m0, b1 - m0)
                 for a, (b0, b1, m0) in enumerate(zip(box[0], box[1], mine[0])))


class RankSpace(EagerSpace):
    """The space of a solver inside a rank: eager arithmetic on the rank's slabs, the
    operator through :class:`RankContext`, dot products summed over the ranks (those of a
    step whose vectors are ready together in one all-reduce)."""

    def __init__(self, Op, y, x0, ctx):
        super().__init__(Op, y, x0)
        self.ctx = ctx
        self._reductions = []

    def inputs(self, **arrays):
        out = State()
        for name, (_, side) in arrays.items():
            self.values[(name, 0)] = self.ctx.inputs[name]
            out[name] = self.leaf_vec(name, side)
        return out

    def _dask(self, value, side, i):
        """The slab as a one-chunk dask array holding it (nothing to compute or persist)."""
        name = f"collective-slab-{uuid.uuid4().hex[:12]}"
        return array_from_tasks(name, {(name,) + (0,) * value.ndim: value},
                                tuple((n,) for n in value.shape), value.dtype,
                                meta_like(value, value.dtype))

    def _eval(self, node, env):
        if node.op != "lin" or node in env:
            return super()._eval(node, env)
        # one pass (one generated kernel on CuPy), terms with a zero coefficient left out
        terms = [(self._coef(c, env), n) for c, n in node.args]
        kept = [(c, self._eval(n, env)) for c, n in terms if c != 0] or \
            [(0.0, self._eval(terms[0][1], env))]
        dtype = np.result_type(*[a.dtype for _, a in kept])
        if dtype.kind != "c" and any(np.iscomplexobj(c) for c, _ in kept):
            dtype = np.result_type(dtype, np.complex64)
        env[node] = v = lincomb(kept, dtype)
        return v

    def _apply(self, node, env):
        adjoint, i, inputs = node.args
        key = ("apply", adjoint, inputs)
        if key not in env:
            env[key] = [self.ctx.apply(adjoint, self._eval(inputs[0], env))]
        return env[key][i]

    def _reduce(self, n, env):
        if n.op == "reduce":
            raise NotImplementedError("Space.reduce on the collective path")
        self._sum_ready(n, env)
        return env[n]

    def _first(self, n, env):
        a = self._eval(n.args[0], env)
        return a.reshape(-1)[0] if self.ctx.rank == 0 else 0.0

    def _sum_ready(self, wanted, env):
        """Sum ``wanted`` over the ranks, with every other dot product of the step whose
        vectors are computed (one all-reduce)."""
        for m in wanted.args:
            self._eval(m, env)
        batch = [wanted] + [n for n in self._reductions if n is not wanted and n not in env
                            and all(m in env for m in n.args)]
        parts = [0.0 if self._counted_elsewhere(n) else
                 _partial(env[n.args[0]], env[n.args[-1]], n.op == "sqnorm") for n in batch]
        xp = get_array_module(env[wanted.args[0]])
        local = xp.stack([xp.asarray(p, dtype=xp.complex128) for p in parts]).view(xp.float64)
        total = self.ctx.comm.allreduce(local if xp is not np else np.asarray(local))
        for k, n in enumerate(batch):
            re, im = float(total[2 * k]), float(total[2 * k + 1])
            cplx = n.op == "dot" and any(np.iscomplexobj(env[m]) for m in n.args)
            env[n] = complex(re, im) if cplx else re

    def _counted_elsewhere(self, n):
        """Whether the dot product ``n`` is of model vectors that every rank holds whole
        (replicated): then rank 0 alone counts it."""
        return (self.ctx.rank != 0 and self.ctx.layout.model_axis is None
                and n.args[0].comp in self.model)

    def _collect(self, *roots):
        self._reductions = _reductions(roots)

    def _commit(self, outputs, check):
        self._collect(list(outputs.values()), check)
        super()._commit(outputs, check)

    def fetch_later(self, *scalars):
        self._collect(scalars)
        return super().fetch_later(*scalars)

    def fetch(self, *scalars, also=None):
        self._collect(scalars)
        return super().fetch(*scalars, also=also)


def _partial(a, b, sq):
    """This rank's part of ``<a, b>`` (``||a||^2`` with ``sq``), left on the device (one
    BLAS pass on CuPy)."""
    xp = get_array_module(a)
    return xp.vdot(a, a).real if sq else xp.vdot(a, b)


def _reductions(roots):
    """The dot products and squared norms under some handles, in a stable order."""
    seen, out, stack = set(), [], list(roots)
    while stack:
        x = stack.pop()
        if isinstance(x, Scalar):
            x = x.node
        if isinstance(x, Vec):
            stack.extend(x.nodes)
            continue
        if isinstance(x, (tuple, list)):
            stack.extend(x)
            continue
        if not isinstance(x, Node) or id(x) in seen:
            continue
        seen.add(id(x))
        if x.op in ("dot", "sqnorm"):
            out.append(x)
        stack.extend(x.args)
    return out
