"""Compiling a traced solver step into stages: the planning half of the fused engine.

A step's graph (:mod:`._space` handles) is cut into **stages** at the only points where
ranks must hear from each other before going on: a dot product (its partials are summed by
every rank at the next stage) and a contraction (an additive kernel whose output is
replicated, e.g. ``A^H y`` of a row-blocked matrix). Everything else of a stage runs in one
task per rank: linear combinations, element-wise maps and operator kernels, including kernels
applied to vectors computed in the same stage. Those are computed on a box grown by the
kernel's halo (from the thin pieces the neighbours export at the end of the stage that made
their inputs), so ``c = r + b c; q = Op c`` needs no exchange between the two lines.

Per stage and rank the plan says which box each vector is computed on, which pieces to import
(and from which export), which to export, and which values the state keeps. Plans depend
only on the step's structure and the chunk geometry, so one plan serves every iteration.
"""

import uuid

import numpy as np

from pylops_distributed._blocks import block_ids, bounds, box_hull, box_of, pieces
from pylops_distributed.kernels import as_stack

VEC_OPS = ("leaf", "lin", "map", "zeros", "apply")


class Comp:
    """One block of the model or data vectors: shape, chunks and how ranks hold it.

    ``replicated``: one chunk that every rank holds whole (a small model beside a data
    vector in several chunks); otherwise rank ``r`` holds block ``r`` (C order).
    """

    def __init__(self, index, side, dims, chunks, nranks, fine=None):
        self.index, self.side = index, side
        self.dims, self.chunks = tuple(dims), tuple(tuple(c) for c in chunks)
        #: The user's chunks (results go back in them); ``chunks`` are the ranks' blocks.
        self.fine = tuple(tuple(c) for c in (fine or chunks))
        self.bounds = bounds(self.chunks)
        self.numblocks = tuple(len(c) for c in self.chunks)
        self.replicated = int(np.prod(self.numblocks)) == 1 and nranks > 1
        self.bids = block_ids(self.chunks)

    def core(self, r):
        if self.replicated:
            return (0,) * len(self.dims), self.dims
        return box_of(self.bounds, self.bids[r])

    def rank_of(self, bid):
        return 0 if self.replicated else self.bids.index(tuple(bid))

    def __repr__(self):
        return f"<Comp {self.side}{self.index} {self.dims} chunks={self.chunks}>"


class RankPlan:
    """What one rank does in one stage (see the module notes)."""

    def __init__(self, cores):
        self.cores = cores
        self.boxes, self.imports, self.refs, self.all_refs = {}, {}, [], []
        self.exports, self.finish = [], set()
        self.ops = {}

    def ref(self, r):
        if r not in self.refs:
            self.refs.append(r)
        return self.refs.index(r)


class StagePlan:
    def __init__(self, nranks, cores):
        self.instrs = []
        self.squared = frozenset()
        self.ranks = [RankPlan(cores[r]) for r in range(nranks)]


class Plan:
    """A compiled step (shipped once to the workers)."""

    def __init__(self, space):
        self.token = space.token
        self.dtype = space.dtype
        self.nranks = space.nranks
        self.id = uuid.uuid4().hex[:12]


def _inputs(n):
    """Nodes ``n`` depends on."""
    op, a = n.op, n.args
    if op == "lin":
        return [c.node for c, _ in a if not isinstance(c, (int, float, complex))] + [m for _, m in a]
    if op == "map":
        return list(a[1]) + list(a[2])
    if op == "apply":
        return list(a[2])
    if op in ("dot", "sqnorm", "first"):
        return list(a)
    if op in ("fn", "pack"):
        return list(a[1])
    if op == "item":
        return [a[0]]
    return []  # leaf, sleaf, const, zeros (its input only gives the shape)


def topo(roots):
    """Nodes reachable from ``roots``, every node after its inputs."""
    order, seen = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        n, done = stack.pop()
        if done:
            order.append(n)
            continue
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.append((n, True))
        for m in reversed(_inputs(n)):
            if id(m) not in seen:
                stack.append((m, False))
    return order


def scalar_deps(node):
    """The scalar nodes an expression is made of, down to its dot products and leaves."""
    out, stack, seen = [], [node], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        if n.op in ("fn", "pack", "item"):
            stack.extend(_inputs(n))
    return out


def signature(roots, leaves):
    """The structure of a step: equal signatures, equal plans. Only the leaves the step reads
    count; a scalar left pending by the previous step enters by its expression and the ids
    of its parts in the previous plan (not by that plan's identity: a check's plan and the
    others leave the same pending scalars).

    One walk of the graph (in :func:`topo`'s order), each node described by its operation,
    parameters and the positions of its inputs: it runs at every step, before the plan is
    looked up, so it is kept to one pass."""
    ids, sig, used = {}, [], set()

    def visit(n):
        i = ids.get(id(n))
        if i is not None:
            return i
        for m in _inputs(n):
            visit(m)
        op, a = n.op, n.args
        if op == "lin":
            static = tuple((c if isinstance(c, (int, float, complex)) else ("s", ids[id(c.node)]),
                            ids[id(m)]) for c, m in a)
        elif op == "map":
            static = (a[0], tuple(ids[id(m)] for m in a[1]), tuple(ids[id(m)] for m in a[2]),
                      str(a[3]))
        elif op == "apply":
            static = (a[0], a[1], tuple(ids[id(m)] for m in a[2]))
        elif op in ("fn", "pack"):
            static = (a[0], tuple(ids[id(m)] for m in a[1]))
        elif op in ("dot", "sqnorm", "first", "item"):
            static = tuple(ids[id(m)] if hasattr(m, "op") else m for m in a)
        elif op == "zeros":
            static = ()
        else:
            static = a
            if op in ("leaf", "sleaf"):
                used.add(a[0])
        comp = n.comp
        sig.append((op, static, None if comp is None else getattr(comp, "index", None)))
        i = ids[id(n)] = len(sig) - 1
        return i

    for r in roots:
        visit(r)
    prev = []
    for k in sorted(used):
        v = leaves[k]
        prev.append((k, v[0]) + (_expr_signature(v[2], v[1].ids) if v[0] == "pending" else ()))
    return tuple(sig), tuple(prev)


def _expr_signature(node, ids):
    """A pending scalar's expression as the next step sees it: its structure and the ids of
    its parts (under which their partials and kept values are found)."""
    out = []
    for d in scalar_deps(node):
        static = d.args[0] if d.op in ("const", "fn", "pack") else None
        out.append((d.op, ids[d], static))
    return tuple(out)


class Tail:
    """A step's last stage when it only finishes what the stage before exported (sums of
    partials, element-wise work, nothing to exchange): it runs at the start of the next
    step's first stage instead of as a stage of its own."""

    def __init__(self, plan, stage, keep):
        self.ids, self.kernels, self.dtype, self.token = plan.ids, plan.kernels, plan.dtype, plan.token
        self.stages, self.S, self.keep = [stage], 1, keep


def compile_step(space, outputs, leaves, check=(), tail=None):
    """Compile ``outputs`` (names -> handles) of one step into a :class:`Plan`.

    ``leaves``: per state name of the previous step, ``("vec", comp)``, ``("scalar",)`` or
    ``("pending", plan, node)`` (a scalar whose reductions' partials are in the previous
    step's last exports). ``check``: scalars of this step that the client will ask for
    (evaluated, with a distributed client, by rank 0's last export task). ``tail``: the
    previous step's :class:`Tail`, run first.
    """
    roots = []
    for h in outputs.values():
        roots.extend(getattr(h, "nodes", None) or [h.node])
    roots += [s.node for s in check]
    order = topo(roots)
    plan = Plan(space)
    plan.nodes = order
    plan.ids = {n: i for i, n in enumerate(order)}
    R = space.nranks
    comps = space.comps
    cores = [{c.index: c.core(r) for c in comps} for r in range(R)]

    # --- stages -------------------------------------------------------------------------------
    av, pst = {}, {}
    kernels = {}
    for n in order:
        op, a = n.op, n.args
        ins = _inputs(n)
        base = max([av[m] for m in ins], default=0)
        if op in ("const", "leaf"):
            av[n] = 0
        elif op == "sleaf":
            av[n] = 1 if leaves[a[0]][0] == "pending" else 0
        elif op in ("fn", "pack", "item"):
            av[n] = base
        elif op == "first":
            av[n] = max(base, 1)
        elif op in ("dot", "sqnorm"):
            pst[n] = max(base, 1)
            local = all(m.comp.replicated for m in ins) or R == 1
            av[n] = pst[n] if local else pst[n] + 1
        elif op == "zeros":
            av[n] = 1
        elif op in ("lin", "map"):
            av[n] = max(base, 1)
        elif op == "apply":
            key = (a[0], a[1])
            if key not in kernels:
                terms = as_stack(space.Op.chunk_kernel(a[0])).terms[a[1]]
                kernels[key] = [(j, k.stripped(), bool(k.additive and n.comp.replicated
                                                       and not a[2][j].comp.replicated))
                                for j, k in terms]
            p = max(base, 1)
            pst[n] = p
            av[n] = p + 1 if any(c for _, _, c in kernels[key]) else p
        else:  # pragma: no cover
            raise ValueError(op)
    plan.kernels = kernels
    S = max([av[n] for n in order if n.op in VEC_OPS and n.op != "leaf"]
            + [pst[n] for n in pst] + [1])
    plan.S = S
    stages = [StagePlan(R, cores) for _ in range(S)]
    plan.stages = stages

    def ins(t, *instr):
        stages[t - 1].instrs.append(instr)

    # outputs: where each committed name lives after the step
    out_info, committed = {}, {}

    def keep_for_next(node, tag):
        """Store the parts of a scalar known by the end of the step; the rest must be dot
        products whose partials the last stage exports."""
        stack = [node]
        while stack:
            d = stack.pop()
            if d.op == "const":
                continue
            if av[d] <= S:
                committed[("out", (tag, plan.ids[d]))] = d
            elif d.op in ("fn", "pack", "item"):
                stack.extend(_inputs(d))
            elif d.op not in ("dot", "sqnorm"):  # pragma: no cover
                raise ValueError(f"a scalar left for the next step depends on {d.op}")

    for name, h in outputs.items():
        if hasattr(h, "nodes"):
            out_info[name] = ("vec", tuple(n.comp.index for n in h.nodes))
            committed.update({("out", name, k): n for k, n in enumerate(h.nodes)})
        elif av[h.node] > S:
            keep_for_next(h.node, "pv")
            out_info[name] = ("pending", plan, h.node)
        else:
            out_info[name] = ("scalar",)
            committed[("out", name)] = h.node
    plan.outputs = out_info
    plan.check = tuple(s.node for s in check)
    for n in plan.check:
        keep_for_next(n, "cv")

    # the previous step's tail, then its pending scalars, first thing (every rank)
    plan.tail_in = tail
    if tail is not None:
        ins(1, "tail")
    plan.prev_ids = {}
    for n in order:
        if n.op == "sleaf" and leaves[n.args[0]][0] == "pending":
            _, prev, expr = leaves[n.args[0]]
            plan.prev_ids[n.args[0]] = prev.ids
            ins(1, "pend", n.args[0], expr)
    # reductions finishing at a stage (summed from the previous stage's exports)
    for n in order:
        if n.op in ("dot", "sqnorm") and av[n] == pst[n] + 1 and av[n] <= S:
            ins(av[n], "fin", n)
    # the vectors, partials and contractions, in dependency order
    for n in order:
        if n.op in ("lin", "map", "zeros"):
            ins(av[n], "vec", n)
        elif n.op == "apply":
            for term, (j, k, c) in enumerate(kernels[(n.args[0], n.args[1])]):
                if c:
                    ins(pst[n], "cpart", n, term)
            ins(av[n], "vec", n)
            if av[n] > pst[n]:
                for rp in stages[av[n] - 1].ranks:
                    rp.finish.add(n)
        elif n.op in ("dot", "sqnorm"):
            ins(pst[n], "local" if av[n] == pst[n] else "part", n)
    for key, n in committed.items():
        ins(S, "store", key, n)

    # --- what the state keeps between stages ----------------------------------------------------
    prod = {}  # state key -> stage that puts it in the state (0: the previous step's state)
    for n in order:
        k = _key(n, plan)
        if n.op in ("leaf", "sleaf"):
            prod[k] = 1 if n.op == "sleaf" and leaves[n.args[0]][0] == "pending" else 0
        elif n.op in VEC_OPS or (n.op in ("dot", "sqnorm") and av[n] <= S):
            prod[k] = av[n]
    reads = {}

    def read(node, t):
        k = _key(node, plan)
        if k in prod and prod[k] < t:
            reads.setdefault(k, set()).add(t)

    def read_scalar(node, t):
        for d in scalar_deps(node):
            if d.op in ("dot", "sqnorm", "sleaf"):
                read(d, t)

    for t, st in enumerate(stages, 1):
        for instr in st.instrs:
            if instr[0] == "tail":
                continue
            kind, n = instr[0], instr[1]
            if kind == "vec":
                for m in _inputs(n):
                    if m.op in VEC_OPS:
                        # read by contractions only: their partials come from stage pst[n]
                        if n.op == "apply" and av[n] > pst[n] and all(
                                c for j, _, c in kernels[(n.args[0], n.args[1])]
                                if n.args[2][j] is m):
                            continue
                        read(m, t)
                    else:
                        read_scalar(m, t)
            elif kind in ("part", "local"):
                for m in n.args:
                    read(m, t)
            elif kind == "cpart":
                read(n.args[2][kernels[(n.args[0], n.args[1])][instr[2]][0]], t)
            elif kind == "store":
                m = instr[2]
                if m.op in VEC_OPS:
                    read(m, t)
                else:
                    read_scalar(m, t)
    for k, ts in reads.items():
        p, last = prod[k], max(ts)
        if k[0] == "id" and plan.nodes[k[1]].op in VEC_OPS and last > p:
            ins(p, "store", k, plan.nodes[k[1]])
        for t in range(max(p + 1, 1), last):
            ins(t, "carry", k)
    _order_instrs(stages)

    # --- boxes, imports and exports --------------------------------------------------------------
    stage_of = {n: av[n] for n in order if n.op in VEC_OPS and n.op != "leaf"}
    plan.leaf_needs = {}
    plan.op_needs = [dict() for _ in range(R)]
    for t in range(1, S + 1):
        st = stages[t - 1]
        here = [n for n in order if n in stage_of and stage_of[n] == t]
        for r in range(R):
            rp = st.ranks[r]
            dem, corner = {}, {}
            for n in here:
                _union(dem, n, cores[r][n.comp.index])
            for ins_ in st.instrs:
                if ins_[0] in ("part", "local"):
                    for m in ins_[1].args:
                        _union(dem, m, cores[r][m.comp.index])
                elif ins_[0] == "cpart":
                    n, term = ins_[1], ins_[2]
                    j = kernels[(n.args[0], n.args[1])][term][0]
                    m = n.args[2][j]
                    _union(dem, m, cores[r][m.comp.index])
                    k = kernels[(n.args[0], n.args[1])][term][1]
                    c0, c1 = cores[r][m.comp.index]
                    o0, o1 = cores[r][n.comp.index]
                    _need_ops(plan, r, n, term, k, c0, c1, o0, o1)
                elif ins_[0] == "store" and ins_[2].op in VEC_OPS:
                    m = ins_[2]
                    _union(dem, m, cores[r][m.comp.index])
            for n in reversed(here):
                D = dem[n]
                if n.op in ("lin", "map"):
                    for m in (m for m in _inputs(n) if m.op in VEC_OPS):
                        _union(dem, m, D)
                        corner[m] = corner.get(m, False) or corner.get(n, False)
                elif n.op == "apply":
                    for term, (j, k, c) in enumerate(kernels[(n.args[0], n.args[1])]):
                        if c:
                            continue
                        m = n.args[2][j]
                        B = k.in_box(*D)
                        _union(dem, m, B)
                        # a cross-shaped stencil reads no diagonal neighbour of the input
                        # block under its output box; other boxes (grown ones, a replicated
                        # output, blocks on another grid) may read any
                        own = _over_block(k, D, cores[r][m.comp.index])
                        corner[m] = corner.get(m, False) or k.corners or not own
                        _need_ops(plan, r, n, term, k, B[0], B[1], D[0], D[1])
            for n, D in dem.items():
                if n in stage_of and stage_of[n] == t:
                    rp.boxes[n] = (tuple(D[0]), tuple(D[1]))
                    continue
                _imports(plan, stages, t, r, n, D, corner.get(n, False), stage_of)
            if any(i[0] in ("fin", "pend", "tail") for i in st.instrs) or rp.finish:
                rp.all_refs = [rp.ref(("prev", p) if t == 1 else (t - 1, p)) for p in range(R)]
    # forward exports: the pieces of each committed vector that this plan reads of its leaves
    # (the next step, if it runs this plan again, imports them from the stage that made them)
    for key, n in committed.items():
        needs = plan.leaf_needs.get(key[1:])
        if not needs or n not in stage_of:
            continue
        for p, entries in needs.items():
            exp = stages[stage_of[n] - 1].ranks[p].exports
            for pkey, src in entries:
                if (pkey, n, src) not in exp:
                    exp.append((pkey, n, src))
    plan.tail = None
    last = stages[-1]
    if (S >= 2 and not any(i[0] in ("part", "cpart", "tail") for i in last.instrs)
            and not any(rp.imports or rp.exports for rp in last.ranks)):
        # the last stage only finishes: left to the next step (reads kept by the stage before)
        keep = {k for k, ts in reads.items() if S in ts}
        plan.tail = Tail(plan, last, keep)
        plan.tail.outputs = {i[1][1] for i in last.instrs if i[0] == "store" and i[1][0] == "out"}
        plan.stages = stages[:-1]
        plan.S = S - 1
    return plan


def _key(n, plan):
    """The state key of a node's value."""
    if n.op == "leaf":
        return ("name", n.args[0], n.args[1])
    if n.op == "sleaf":
        return ("name", n.args[0])
    return ("id", plan.ids[n])


def _order_instrs(stages):
    """Within a stage: pending scalars, then finished reductions, then the rest in order;
    stores and carries last."""
    rank = {"tail": -1, "pend": 0, "fin": 1, "carry": 3, "store": 4}
    for st in stages:
        st.instrs = sorted(enumerate(st.instrs), key=lambda e: (rank.get(e[1][0], 2), e[0]))
        st.instrs = [i for _, i in st.instrs]
        seen, out = set(), []
        for i in st.instrs:
            k = (i[0], i[1]) if i[0] in ("store", "carry") else id(i)
            if k not in seen:
                seen.add(k)
                out.append(i)
        st.instrs = out
        # the vectors whose squared norms the stage takes (made in the same pass when it
        # makes them too)
        st.squared = frozenset(i[1].args[0] for i in out
                               if i[0] in ("part", "local") and i[1].op == "sqnorm")


def _union(dem, n, box):
    s, e = box
    if n not in dem:
        dem[n] = (tuple(s), tuple(e))
    else:
        a, b = dem[n]
        dem[n] = (tuple(min(x, y) for x, y in zip(a, s)), tuple(max(x, y) for x, y in zip(b, e)))


def _need_ops(plan, r, n, term, k, i0, i1, o0, o1):
    for i, box in enumerate(k.operand_boxes(i0, i1, o0, o1)):
        key = (n.args[0], n.args[1], term, i)
        have = plan.op_needs[r].get(key)
        if have is not None:
            box = box_hull(have, box)
        plan.op_needs[r][key] = (tuple(box[0]), tuple(box[1]))


def _over_block(k, box, core):
    """Whether the output box ``box`` of kernel ``k`` lies exactly over the input block
    ``core`` (through the kernel's axes)."""
    start, stop = [None] * len(core[0]), [None] * len(core[0])
    for o, a in enumerate(k.axes):
        if a is not None:
            start[a], stop[a] = box[0][o], box[1][o]
    return tuple(start) == tuple(core[0]) and tuple(stop) == tuple(core[1])


def _imports(plan, stages, t, r, n, D, corners, stage_of):
    """The pieces of frontier vector ``n`` (made before stage ``t``) on box ``D`` that rank
    ``r`` reads beyond its own block, and their exports."""
    comp = n.comp
    c0, c1 = comp.core(r)
    if comp.replicated or all(a >= s and b <= e for a, b, s, e in zip(D[0], D[1], c0, c1)):
        return
    rp = stages[t - 1].ranks[r]
    home = None if corners else comp.bids[r]
    label = tuple(n.args) if n.op == "leaf" else plan.ids[n]
    entries = []
    for bid, src, dst in pieces(D[0], D[1], comp.bounds, home):
        gstart = tuple(a + d.start for a, d in zip(D[0], dst))
        p = comp.rank_of(bid)
        if p == r and all(s <= g and g + (d.stop - d.start) <= e
                          for g, d, s, e in zip(gstart, dst, c0, c1)):
            continue  # the rank's own block, read directly
        srck = tuple((s.start, s.stop) for s in src)
        pkey = (label, srck)
        if p == r:
            entries.append((None, pkey, gstart, srck))
            continue
        if n.op == "leaf":
            ref = rp.ref(("leaf", label, p))
            plan.leaf_needs.setdefault(label, {}).setdefault(p, set()).add((pkey, srck))
        else:
            s = stage_of[n]
            ref = rp.ref((s, p))
            exp = stages[s - 1].ranks[p].exports
            if (pkey, n, srck) not in exp:
                exp.append((pkey, n, srck))
        entries.append((ref, pkey, gstart, srck))
    rp.imports[label] = entries


def exported_leaves(plan):
    """``(leaf label, stage)`` of the committed vectors this plan exports pieces of."""
    out = []
    for t, st in enumerate(plan.stages, 1):
        labels = set()
        for rp in st.ranks:
            for pkey, n, src in rp.exports:
                if isinstance(pkey[0], tuple):
                    labels.add(pkey[0])
        out += [(label, t) for label in sorted(labels)]
    return out
