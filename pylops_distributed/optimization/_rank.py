"""Worker side of the fused engine: one rank's share of a solver stage.

A *rank* owns one block of every vector (the blocks at the same index of the model and the
data) and runs, each stage, one task (:func:`run_stage`) on its previous state, plus the
small exports of the other ranks it reads: reduction partials, contraction partials and the
thin pieces of vectors its kernels read beyond its block. The plan
(:mod:`~pylops_distributed.optimization._plan`) says, per rank, which boxes to compute, which
pieces to import and which to export; this module only follows it.
"""

import numbers

import numpy as np
from dask.sizeof import sizeof

from pylops_distributed._blocks import assemble, box_intersection, pieces
from pylops_distributed.kernels import Where, cut
from pylops_distributed.optimization._context import Pieces, unbox
from pylops_distributed.optimization._elementwise import dot, lincomb, lincomb_sqnorm
from pylops_distributed.optimization._recycle import ChunkState, empty as recycled_empty
from pylops_distributed.optimization._recycle import using as recycling
from pylops_distributed.optimization._plan import scalar_deps
from pylops_distributed.optimization._space import scalar_value


class Export:
    """What a rank's stage gives the others: partials of reductions and contractions, pieces
    of its blocks and (rank 0 of a last stage) the scalars of the state."""

    __slots__ = ("partials", "cparts", "pieces", "check")

    def __init__(self):
        self.partials, self.cparts, self.pieces, self.check = {}, {}, {}, None


@sizeof.register(Export)
def _sizeof_export(e):
    return sizeof(e.cparts) + sizeof(e.pieces) + 64 * len(e.partials)


class Both:
    """State and export of a stage in one result (local schedulers: nothing moves)."""

    __slots__ = ("state", "export")

    def __init__(self, state, export):
        self.state, self.export = state, export


@sizeof.register(Both)
def _sizeof_both(b):
    return sizeof(b.state) + sizeof(b.export)


def _state(obj):
    return obj.state if isinstance(obj, Both) else obj


def _export(obj):
    return obj.export if isinstance(obj, Both) else obj


# --- one stage ---------------------------------------------------------------------------------

class _Rank:
    """Evaluation of one stage on one rank."""

    def __init__(self, plan, t, r, ctx, state, exports):
        self.plan, self.stage, self.r, self.ctx, self.t = plan, plan.stages[t], r, ctx, t
        self.rp = self.stage.ranks[r]
        self.old = state.values
        self.exports = [_export(e) for e in exports]
        self.env = {}       # vector node -> (array, start) on its box
        self.senv = {}      # scalar node -> value
        self.new = {}
        self.out = Export()
        self.dtype = plan.dtype
        self.xp = ctx.settle(self.old)
        self.sq = {}        # vector node -> its squared norm on this rank, made with it

    # values
    def scalar(self, node):
        return scalar_value(node, self.senv, self._leaf_scalar, self._reduction, self._first)

    def _first(self, node):
        """The first element of a vector, on the rank that holds it (NaN elsewhere)."""
        m = node.args[0]
        c0, _ = self.rp.cores[m.comp.index]
        if any(c0):
            return float("nan")
        return _number(_first_of(self.core(m)))

    def _leaf_scalar(self, name):
        key = ("name", name)
        return self.new[key] if key in self.new else self.old[key]

    def _reduction(self, node):
        key = ("id", self.plan.ids[node])
        return self.new[key] if key in self.new else self.old[key]

    def coef(self, c):
        return c if isinstance(c, numbers.Number) else self.scalar(c.node)

    def core(self, node):
        """A vector's block (its value on this rank's own box)."""
        nid = self.plan.ids[node]
        if node in self.env:
            arr, start = self.env[node]
            c0, c1 = self.rp.cores[node.comp.index]
            return cut(arr, start, c0, c1)
        key = ("name",) + tuple(node.args) if node.op == "leaf" else ("id", nid)
        return self.old[key]

    def value(self, node, start, stop):
        """A vector on the global box ``[start, stop)`` (computed here, or from the state and
        the pieces imported from the other ranks)."""
        if node in self.env:
            arr, a0 = self.env[node]
            return cut(arr, a0, start, stop)
        c0, c1 = self.rp.cores[node.comp.index]
        core = self.core(node)
        if tuple(start) == tuple(c0) and tuple(stop) == tuple(c1):
            return core
        key = tuple(node.args) if node.op == "leaf" else self.plan.ids[node]
        parts = []
        lo = [max(a, b) for a, b in zip(start, c0)]
        hi = [min(a, b) for a, b in zip(stop, c1)]
        if all(a < b for a, b in zip(lo, hi)):
            parts.append((core[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, c0))],
                          tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))))
        for ref, pkey, gstart, src in self.rp.imports.get(key, ()):
            piece = core[_slices(src)] if ref is None else self.exports[ref].pieces[pkey]
            lo = [max(a, g) for a, g in zip(start, gstart)]
            hi = [min(b, g + n) for b, g, n in zip(stop, gstart, piece.shape)]
            if all(a < b for a, b in zip(lo, hi)):
                parts.append((piece[tuple(slice(a - g, b - g) for a, b, g in zip(lo, hi, gstart))],
                              tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))))
        shape = tuple(b - a for a, b in zip(start, stop))
        return assemble(self.xp, shape, core.dtype, parts,
                        recycled_empty if self.xp is np else None)

    # instructions
    def run(self):
        with recycling(self.plan.token):
            for ins in self.stage.instrs:
                getattr(self, "_" + ins[0])(*ins[1:])
            for pkey, node, src in self.rp.exports:
                self.out.pieces[pkey] = self.core(node)[_slices(src)].copy()
        if self.t == self.plan.S - 1:  # the step's outputs become the next step's leaves
            new = {("name",) + k[1:]: v for k, v in self.new.items() if k[0] == "out"}
            tail = getattr(self.plan, "tail", None)
            for k in (tail.keep if tail is not None else ()):  # what the step's tail reads
                new[("tail",) + k] = self.new[k] if k in self.new else self.old[k]
            self.new = new
        return ChunkState(self.plan.token, values=self.new), self.out

    def _tail(self):
        """The previous step's tail: its outputs join this step's leaves."""
        tail = self.plan.tail_in
        exports = [self.exports[self.rp.refs.index(("prev", p))]
                   for _, p in tail.stages[0].ranks[self.r].refs]
        self.old = run_tail_values(tail, self.r, self.ctx, self.old, exports)

    def _vec(self, node):
        start, stop = self.rp.boxes[node]
        op = node.op
        if op == "lin":
            val = self._lincomb(node, start, stop)
        elif op == "map":
            fn, vecs, scalars, dtype = node.args
            val = fn(*[self.value(v, start, stop) for v in vecs], *[self.scalar(s) for s in scalars])
        elif op == "zeros":
            val = self.xp.zeros(tuple(b - a for a, b in zip(start, stop)), dtype=self.dtype)
        elif op == "apply":
            val = None
            for term, (j, k, contract) in enumerate(self.plan.kernels[node.args[0], node.args[1]]):
                if contract:
                    continue
                part = self._apply_term(node, term, j, k, start, stop)
                val = part if val is None else _iadd(val, part)
            if node in self.rp.finish:
                for ref in self.rp.all_refs:
                    for key, part in self.exports[ref].cparts.items():
                        if key[0] == self.plan.ids[node]:
                            val = part.copy() if val is None else _iadd(val, part)
        else:  # pragma: no cover
            raise ValueError(op)
        if val.dtype != self.dtype:
            val = val.astype(self.dtype)
        self.env[node] = (val, start)

    def _apply_term(self, node, term, j, kernel, start, stop):
        src = node.args[2][j]
        istart, istop = kernel.in_box(start, stop)
        return self._call(node, term, kernel, src, istart, istop, start, stop)

    def _call(self, node, term, kernel, src, istart, istop, start, stop):
        """``kernel`` on one box, by the calls worked out once for that box (see :meth:`_calls`)."""
        key = (node.args[0], node.args[1], term, istart, istop, start, stop)
        calls = self.ctx.calls.get(key)
        if calls is None:
            calls = self.ctx.calls[key] = self._calls(node, term, kernel, istart, istop, start, stop)
        return self._run_calls(calls, kernel, src)

    def _run_calls(self, calls, kernel, src):
        if calls[0] == "call":
            _, istart, istop, start, stop, ops = calls
            x = self.value(src, istart, istop)
            out = None
            if kernel.split and self.xp is np:  # written into a recycled buffer
                out = recycled_empty(tuple(b - a for a, b in zip(start, stop)), self.dtype)
            return kernel(x, *ops, where=Where(istart, start, stop), dtype=self.dtype, out=out)
        if calls[0] == "zeros":  # a piece that adds nothing to this output box
            return self.xp.zeros(tuple(b - a for a, b in zip(calls[1], calls[2])), self.dtype)
        parts = [self._run_calls(c, kernel, src) for c in calls[2]]
        if calls[0] == "cat":
            return self.xp.concatenate(parts, axis=calls[1])
        for part in parts[1:]:
            parts[0] = _iadd(parts[0], part)
        return parts[0]

    def _calls(self, node, term, kernel, istart, istop, start, stop):
        """How to compute ``kernel`` on one box: ``("call", boxes, operand blocks)``, or split
        along an operand kept in chunks: ``("cat", axis, parts)`` (output boxes side by side)
        or ``("sum", None, parts)`` (pieces of the input box of an additive kernel)."""
        ops = []
        for i, (s, e) in enumerate(kernel.operand_boxes(istart, istop, start, stop)):
            okey = (node.args[0], node.args[1], term, i)
            entry = self.ctx.operands[okey]
            if isinstance(entry, Pieces):
                found, cuts = entry.find(s, e)
                if found is None:
                    calls = self._split(node, term, kernel, (istart, istop), (start, stop),
                                        kernel.operands[i].axes, cuts)
                    if calls is not None:
                        return calls
                    # no axis to split along: the chunks gathered once, for every later call
                    self.ctx.operands[okey] = found = entry.whole(self.xp)
                entry = found
            a, a0 = entry
            ops.append(cut(a, a0, s, e))
        return ("call", istart, istop, start, stop, ops)

    def _split(self, node, term, kernel, ibox, obox, axes, cuts):
        for ax, where in enumerate(axes):
            if not cuts[ax] or where is None:
                continue
            side, k = where
            c = min(cuts[ax])
            if side == "in" and kernel.pointwise:  # the output box is the input box
                side = "out"
            if side == "out":  # two output boxes, side by side
                boxes = [(obox[0], _set(obox[1], k, c)), (_set(obox[0], k, c), obox[1])]
                # each reads its input box within this call's (a piece of an additive
                # kernel's box stays that piece: the other pieces are summed beside it)
                parts = []
                for b in boxes:
                    ib = box_intersection(kernel.in_box(*b), ibox)
                    parts.append(self._calls(node, term, kernel, *ib, *b)
                                 if all(x < y for x, y in zip(*ib)) else ("zeros",) + b)
                return ("cat", k, _flatten(parts, "cat", k))
            if kernel.additive:  # two pieces of the input box, summed
                boxes = [(ibox[0], _set(ibox[1], k, c)), (_set(ibox[0], k, c), ibox[1])]
                parts = [self._calls(node, term, kernel, *b, *obox) for b in boxes]
                return ("sum", None, _flatten(parts, "sum", None))
        return None

    def _lincomb(self, node, start, stop):
        """A linear combination on a box: in one piece per source chunk when the box reaches
        beyond the rank's own (no input is copied into a grown block first); its squared
        norm in the same pass when the stage asks for it."""
        coefs = [self.coef(c) for c, _ in node.args]
        parts = self._parts(node, start, stop)
        if len(parts) == 1:
            terms = [(c, self.value(n, start, stop)) for c, (_, n) in zip(coefs, node.args)]
            core = tuple(map(tuple, self.rp.cores[node.comp.index]))
            if node in self.stage.squared and (start, stop) == core:
                out, self.sq[node] = lincomb_sqnorm(terms, self.dtype)
                return out
            return lincomb(terms, self.dtype)
        out = self._empty(tuple(b - a for a, b in zip(start, stop)))
        for s0, s1 in parts:
            sub = tuple(slice(a - o, b - o) for a, b, o in zip(s0, s1, start))
            lincomb([(c, self.value(n, s0, s1)) for c, (_, n) in zip(coefs, node.args)],
                    self.dtype, out=out[sub])
        return out

    def _parts(self, node, start, stop):
        """The box cut along the chunk boundaries of the node's vector (one part if it is the
        rank's own block, or lies in it)."""
        comp = node.comp
        c0, c1 = self.rp.cores[comp.index]
        if comp.replicated or all(a >= s and b <= e for a, b, s, e in zip(start, stop, c0, c1)):
            return [(start, stop)]
        out = []
        for _, _, dst in pieces(start, stop, comp.bounds):
            out.append((tuple(a + d.start for a, d in zip(start, dst)),
                        tuple(a + d.stop for a, d in zip(start, dst))))
        return out

    def _empty(self, shape):
        if self.xp is np:
            return recycled_empty(shape, self.dtype)
        return self.xp.empty(shape, dtype=self.dtype)

    def _part(self, node):
        """A reduction's partial over this rank's blocks."""
        if node.op == "sqnorm" and node.args[0] in self.sq:
            self.out.partials[self.plan.ids[node]] = self.sq[node.args[0]]
            return
        a = self.core(node.args[0])
        b = a if node.op == "sqnorm" else self.core(node.args[1])
        self.out.partials[self.plan.ids[node]] = dot(a, b, node.op == "sqnorm")

    def _local(self, node):
        """A reduction of replicated vectors: computed whole on every rank."""
        self._part(node)
        self.new[("id", self.plan.ids[node])] = self.out.partials.pop(self.plan.ids[node])

    def _fin(self, node):
        """Sum a reduction's partials from every rank (the same order everywhere)."""
        nid = self.plan.ids[node]
        self.new[("id", nid)] = sum(self.exports[ref].partials[nid] for ref in self.rp.all_refs)

    def _pend(self, name, expr):
        """A scalar left pending by the previous step: its dot products' partials are in the
        previous step's exports, its other parts in the state."""
        ids = self.plan.prev_ids[name]
        exports = [self.exports[ref] for ref in self.rp.all_refs]
        self.new[("name", name)] = evaluate(expr, ids, self.old, exports, "pv")

    def _cpart(self, node, term):
        """A contraction's partial: this rank's block through an additive kernel, onto the
        whole (replicated) output."""
        j, kernel, _ = self.plan.kernels[node.args[0], node.args[1]][term]
        src = node.args[2][j]
        c0, c1 = self.rp.cores[src.comp.index]
        start, stop = self.rp.cores[node.comp.index]
        self.out.cparts[(self.plan.ids[node], term)] = self._call(node, term, kernel, src, c0, c1,
                                                                  start, stop)

    def _store(self, key, node):
        if node.op not in ("leaf", "lin", "map", "zeros", "apply"):
            self.new[key] = self.scalar(node)
            return
        self.new[key] = self.core(node)  # (a view of a grown block: its base is recycled with it)

    def _carry(self, key):
        self.new[key] = self.old[key]


def evaluate(node, ids, values, exports, tag, first=None):
    """A scalar of a step, from what its end left: the parts kept in the state
    (``("name", (tag, id))``) and its dot products' partials in ``exports``."""
    env = {}
    for d in scalar_deps(node):
        key = ("name", (tag, ids[d]))
        if key in values:
            env[d] = values[key]
    return scalar_value(node, env, lambda name: values[("name", name)],
                        lambda n: sum(e.partials[ids[n]] for e in exports), first)


def _first_of(a):
    v = a.reshape(-1)[:1]
    if type(v).__module__.split(".")[0] == "cupy":
        v = v.get()
    return v[0]


def _iadd(a, b):
    a += b
    return a


def _flatten(parts, kind, axis):
    """Nested splits of one kind (and axis) as one list of parts."""
    out = []
    for p in parts:
        out += p[2] if p[0] == kind and p[1] == axis else [p]
    return out


def _set(t, k, v):
    return tuple(v if i == k else a for i, a in enumerate(t))


def _slices(src):
    return tuple(slice(a, b) for a, b in src)


def run_stage(plan, t, r, ctx, state, *exports):
    """One stage on one rank: the new state with its export (with a distributed client the
    export is taken out by :func:`take_export`, a separate small task, so that only it travels
    to the other ranks)."""
    new, out = _Rank(unbox(plan), t, r, ctx, _state(state), exports).run()
    return Both(new, out)


class _Values:
    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


def run_tail_values(tail, r, ctx, values, exports):
    """A state's values with a pending tail run: the tail's outputs added, its inputs dropped."""
    view = {k[1:]: v for k, v in values.items() if k[0] == "tail"}
    new, _ = _Rank(tail, 0, r, ctx, _Values(view), exports).run()
    out = {k: v for k, v in values.items() if k[0] != "tail"}
    out.update(new.values)
    return out


def run_tail(plan, r, ctx, state, *exports):
    """A pending tail as a task of its own (before the state is read: a check, a result)."""
    tail = unbox(plan).tail
    exps = [_export(exports[p]) for _, p in tail.stages[0].ranks[r].refs]
    values = run_tail_values(tail, r, ctx, _state(state).values, exps)
    return Both(ChunkState(tail.token, values=values), Export())


def run_stages(spec, ctx, state, export, *plans):
    """A lone rank's stages back to back (``spec``: ``(plan index, stage)`` pairs): nothing
    is exchanged between them, each reads the export of the one before."""
    obj, prev = state, export
    for i, t in unbox(spec):
        plan = unbox(plans[i])
        refs = [prev] * len(plan.stages[t].ranks[0].refs)
        new, out = _Rank(plan, t, 0, ctx, _state(obj), refs).run()
        obj = prev = Both(new, out)
        if t == plan.S - 1 and plan.check:
            take_export_check(plan, obj, ctx)
    return obj


def take_state(both):
    return both.state


def take_export(both):
    return both.export


def take_export_check(plan, both, ctx, *others):
    """Rank 0's last export, with the values of the step's check (one round trip gets them)."""
    plan = unbox(plan)
    out = both.export
    exports = [out] + [_export(e) for e in others]
    values = _state(both).values
    if plan.tail is not None:  # the check reads what the tail makes: run it here for rank 0
        exps = [exports[p] for _, p in plan.tail.stages[0].ranks[0].refs]
        values = run_tail_values(plan.tail, 0, ctx, values, exps)
    out.check = [_number(evaluate(n, plan.ids, values, exports, "cv", _no_first))
                 for n in plan.check]
    return out


def _no_first(node):  # pragma: no cover - first elements are kept in the state
    raise ValueError("first element not kept")


def late_export(pieces, state):
    """Pieces of a state's named blocks that a new plan needs and the last one did not export."""
    out = Export()
    values = _state(state).values
    for pkey, key, src in unbox(pieces):
        out.pieces[pkey] = values[key][_slices(src)].copy()
    return out


def get_block(state, key, box, copy=True):
    """A chunk of a vector of the state (a part of the rank's block), for a dask array: a
    copy, or a view (states are never written to; the recycler leaves viewed arrays alone)."""
    part = _state(state).values[key][_slices(unbox(box))]
    return part.copy() if copy else part


def partials(spec, state):
    """Dot products of a state's committed vectors, for a check."""
    out = Export()
    values = _state(state).values
    for nid, node in unbox(spec):
        a = values[("name",) + tuple(node.args[0].args)]
        b = a if node.op == "sqnorm" else values[("name",) + tuple(node.args[1].args)]
        out.partials[nid] = dot(a, b, node.op == "sqnorm")
    return out


def fetch(program, state0, *exports):
    """The scalars a check asks for, as Python numbers: ``program`` holds the scalar nodes,
    the ids of their dot products (partials in the first ``R`` exports), the pending
    scalars of the last step (partials in the last ``R`` exports) and ``R``."""
    nodes, adhoc, pending, R = unbox(program)
    values = _state(state0).values
    checks, last = [_export(e) for e in exports[:R]], [_export(e) for e in exports[R:]]

    def leaf(name):
        if name in pending:
            expr, ids = pending[name]
            return evaluate(expr, ids, values, last, "pv")
        return values[("name", name)]

    def reduce(n):
        return sum(e.partials.get(adhoc[n], 0) for e in checks)

    def first(n):
        return _first_of(values[("name",) + tuple(n.args[0].args)])

    env = {}
    return [_number(scalar_value(n, env, leaf, reduce, first)) for n in nodes]


def first_value(values):
    """The first of a check's values as a 0-d NumPy array (a lazy scalar's chunk)."""
    return np.asarray(values[0])


def _number(v):
    if isinstance(v, (list, tuple)):
        return type(v)(_number(e) for e in v)
    if isinstance(v, numbers.Number) and not isinstance(v, np.generic):
        return v
    v = np.asarray(v)[()]
    return complex(v) if np.iscomplexobj(v) else float(v)
