"""The fused backend of the solvers' vector space: a few tasks per chunk per iteration.

Every vector of a solve is cut into the same number of blocks (*ranks*): rank ``r`` holds
block ``r`` of the model and of the data (C order), or the whole of a vector that is one
small block (a model beside a data vector in several chunks is *replicated*). Each step of
the solver is traced (:mod:`._space`), compiled once (:mod:`._plan`) and then run, per
stage, as one task per rank on the rank's state (:func:`._rank.run_stage`) plus, with a
distributed client, one small task per rank that takes out what the other ranks read (the
*export*: partial sums and thin halo pieces). Dicts of tasks go through dask's documented
custom-graph spec to the active scheduler; with a client they return futures at once, so the
client runs ahead and the graph never grows. Task keys carry the solve's token and a counter:
unique, never reused for different work.

A lone rank (the model in one chunk, e.g. on one GPU) has nothing to exchange: its stages are
kept until someone needs a value (a check, ``x``) and then run as one task.
"""

import logging
import operator
import uuid

import dask

import numpy as np

from pylops_distributed._arrays import is_cupy, meta_like
from pylops_distributed._blocks import (bounds, box_hull, box_inside, chunk_shape, is_whole, pieces,
                                        slice_wrapped)
from pylops_distributed._graph import array_from_tasks
from pylops_distributed._held import held_operand
from pylops_distributed._kernel_algebra import mixes_periodic
from pylops_distributed.kernels import NoChunkKernel, as_stack, dask_operands
from pylops_distributed.optimization import _context, _layout, _rank
from pylops_distributed.optimization._plan import Comp, compile_step, exported_leaves, signature, topo
from pylops_distributed.optimization._runner import Runner, local_threads, run_kept
from pylops_distributed.optimization._space import ROUND_TRIPS, Space, State, Vec, as_scalar
from pylops_distributed.stacked import StackedArray

log = logging.getLogger("pylops_distributed.optimization")

#: Largest block (elements) that every rank may hold whole (a replicated model).
REPLICATE_MAX = 1 << 22
#: A lone rank runs at most this many stages in one task.
MAX_BATCH = 200
#: On a local scheduler, tasks kept before they are run in one go (see ``FusedSpace._run``).
MAX_DEFERRED = 2000


class NotFusable(Exception):
    """The problem cannot run on the fused backend (the message says why)."""


class FusedSpace(Space):
    """Vector space of one solve on the fused backend (see the module notes).

    Parameters
    ----------
    Op : LinearOperator
    y : dask.array.Array or StackedArray
        Data (its chunks give the data's blocks).
    x0 : dask.array.Array or StackedArray, optional
        Initial model (its chunks give the model's blocks).
    adjoint : bool
        Whether the solver applies ``Op^H`` (CG does not).
    prefix : str
        Task name prefix (the solver's name).
    """

    fused = True

    def __init__(self, Op, y, x0=None, adjoint=True, prefix="solver"):
        super().__init__(Op)
        self.runner = Runner()
        self.prefix, self.token = prefix, uuid.uuid4().hex[:12]
        self.dtype = np.dtype(np.result_type(y.dtype, Op.dtype))
        self.square = tuple(Op.dims) == tuple(Op.dimsd) and not isinstance(y, StackedArray)
        try:
            fwd = as_stack(Op.chunk_kernel(False))
            adj = as_stack(Op.chunk_kernel(True)) if adjoint else None
        except NoChunkKernel as err:
            raise NotFusable(str(err)) from None
        # a Roll's boxes wrap around: the ranks exchange them unless mixed with other kernels
        alone = all(len(s.terms) == 1 and len(s.terms[0]) == 1 for s in (fwd, adj) if s)
        periodic = [k.name for s in (fwd, adj) if s is not None
                    for row in s.terms for _, k in row
                    if (k.periodic and not alone) or mixes_periodic(k)]
        if periodic:
            raise NotFusable(f"{Op.label}: {periodic[0]} mixes boxes that wrap around the "
                             "array (a Roll) with others, which the fused ranks do not exchange")
        ys = list(y.blocks) if isinstance(y, StackedArray) else [y]
        if adj is None and isinstance(y, StackedArray):
            raise NotFusable(f"{Op.label}: CG's x and y are stacked vectors (a square operator of "
                             "stacks): their blocks are not paired by the ranks")
        if adj is not None and (adj.n_in != len(ys) or fwd.n_in != adj.n_out):
            raise NotFusable(f"{Op.label}: its kernels' blocks do not match the data's")
        data_chunks, model_chunks = _layout.vector_chunks(fwd, adj, ys, x0, self.square)
        if model_chunks is None:
            raise NotFusable(f"{Op.label}: model and data differ and no x0 gives the model's chunks")
        fine = data_chunks + ([] if self.square else model_chunks)
        # y and x0 come persisted (the solver's setup), the operands too (held_operand)
        # unless they are too large to keep: those are persisted for this solve, in one graph
        operands = [held_operand(d) for d in dask_operands(fwd, adj)]
        self.persisted = self.runner.persist_together(operands)
        coarse, self.homes = self._layout(fine, ys, x0)
        data_chunks, model_chunks = coarse[:len(ys)], (coarse[len(ys):] or coarse[:1])
        nblocks = [int(np.prod([len(c) for c in ch])) for ch in coarse]
        R = max(nblocks)
        self.nranks = R
        dims_in = [None] * fwd.n_in
        for row in fwd.terms:
            for j, k in row:
                dims_in[j] = k.dims_in
        self.data, self.model, self.comps = [], [], []
        for ch, f, yj in zip(data_chunks, fine, ys):
            self.data.append(self._comp("data", yj.shape, ch, f))
        if self.square:
            self.model = self.data
        else:
            for i, (ch, f) in enumerate(zip(model_chunks, fine[len(ys):])):
                self.model.append(self._comp("model", dims_in[i], ch, f))
        for c in self.comps:
            n = int(np.prod(c.numblocks))
            if n != R and n != 1:
                raise NotFusable(f"{Op.label}: a vector block in {n} chunks beside others in {R} "
                                 f"(chunks {c.chunks}); chunk them alike")
            if c.replicated and int(np.prod(c.dims)) > REPLICATE_MAX:
                raise NotFusable(f"{Op.label}: a block of {int(np.prod(c.dims))} elements in one "
                                 f"chunk beside others in {R} chunks would be held by every rank")
        self.kernel_terms = {}
        for adjoint_, mat in ((False, fwd), (True, adj)):
            if mat is not None:
                for i, row in enumerate(mat.terms):
                    self.kernel_terms[(adjoint_, i)] = row
        self.xp_name = "cupy" if is_cupy(ys[0]) else "numpy"
        self.meta = meta_like(ys[0], self.dtype)
        self.plans, self.shared = {}, {}
        self.states = [None] * R
        self.last_exports = [None] * R
        self.leaves, self.leaf_src, self.leaf_cover = {}, {}, {}
        self.ctx, self.ctx_boxes = [None] * R, [dict() for _ in range(R)]
        self.pending = []  # a lone rank's stages not yet submitted
        self.deferred = {}  # local schedulers: tasks not yet run (see _run)
        self.check_src = None
        self.tail = None  # the last plan, when its tail is still to run
        self.tail_left = ()  # the ranks that have not run it yet
        self.plan_now = None  # the last plan submitted
        self.replays = {}  # (situation, key) -> (plan, output kinds): see Space.replay
        self.nsub = 0
        self.tasks_submitted = 0

    def _comp(self, side, dims, chunks, fine):
        c = Comp(len(self.comps), side, dims, chunks, self.nranks, fine)
        self.comps.append(c)
        return c

    def _layout(self, fine, ys, x0):
        """The ranks' blocks (runs of the user's chunks) and, with a client, their workers."""
        self.handles = {}
        sizes = [int(np.prod([sum(c) for c in ch])) for ch in fine]
        R0 = max(int(np.prod([len(c) for c in ch])) for ch in fine)
        if R0 == 1:
            return fine, None
        ref = next(i for i, ch in enumerate(fine) if int(np.prod([len(c) for c in ch])) == R0)
        run_homes = None
        n = len(_layout.owner_axis(fine[ref]))
        if self.runner.distributed:
            xs = list(x0.blocks) if isinstance(x0, StackedArray) else [x0]
            arrays = (ys + xs) if not self.square else ys
            arr = arrays[ref] if ref < len(arrays) and arrays[ref] is not None else None
            if arr is None:
                return fine, None
            if arr.chunks != fine[ref]:
                arr = arr.rechunk(fine[ref])
            handles = self._handles(arr)
            who = self.runner.owners(handles.values())
            slabs = _layout.slab_holders(fine[ref], [who[handles[bid]] for bid in sorted(handles)])
            runs, run_homes = _layout.plan_runs(slabs, self.runner.threads())
        else:
            threads = local_threads()
            runs = _layout.even_runs(n, 1 if max(sizes) <= _layout.LOCAL_ONE_RANK else threads)
        return _layout.apply_runs(fine, ref, runs, run_homes)

    # --- inputs --------------------------------------------------------------------------------
    def inputs(self, **arrays):
        """Load the user's arrays (``name=(array, side)``) into the ranks' states; return their
        leaf handles."""
        dsk, specs, args = {}, [[] for _ in range(self.nranks)], [[] for _ in range(self.nranks)]
        out = State()
        for name, (arr, side) in arrays.items():
            comps = self.model if side == "model" else self.data
            blocks = list(arr.blocks) if isinstance(arr, StackedArray) else [arr]
            for k, (b, comp) in enumerate(zip(blocks, comps)):
                if b.shape != comp.dims:
                    b = b.reshape(comp.dims)
                if b.chunks not in (comp.chunks, comp.fine):
                    log.info("%s: %s rechunked from %s to %s", self.prefix, name, b.chunks, comp.fine)
                    b = b.rechunk(comp.fine)
                handles, bb = self._handles(b), bounds(b.chunks)
                for r in range(self.nranks):
                    c0, c1 = comp.core(r)
                    ps = pieces(c0, c1, bb)  # the user's chunks that make up the rank's block
                    specs[r].append((("name", name, k), tuple(e - a for a, e in zip(c0, c1)),
                                     self.dtype, [dst for _, _, dst in ps]))
                    args[r] += [self._piece(dsk, b, handles, bid, src) for bid, src, _ in ps]
            out[name] = self.leaf_vec(name, side)
            self.leaves[name] = ("vec",)
        keys, self.loads = [], getattr(self, "loads", 0) + 1  # a resumed solve loads twice
        for r in range(self.nranks):
            key = (f"{self.prefix}-load{self.loads}-{self.token}", r)
            dsk[key] = (_context.load, self.token, _context.Box(specs[r])) + tuple(args[r])
            keys.append(key)
        self.states = self._run(dsk, keys, list(range(self.nranks)))
        return out

    def _run(self, dsk, keys, ranks):
        """Submit ``dsk`` for ``keys`` (those of ``ranks``), each rank's on its home worker.

        On a local scheduler, which runs a graph before it returns, the tasks are kept and the
        keys stand for their values until :meth:`_realise` runs them all in one graph (a
        ``get`` costs ~0.7 ms, as much as a stage's work on small chunks)."""
        self.tasks_submitted += len(dsk)
        if not self.runner.distributed:
            self.deferred.update(dsk)
            if len(self.deferred) >= MAX_DEFERRED:
                self._realise()
            return list(keys)
        if self.homes is None:
            return list(self.runner.submit(dsk, keys))
        return list(self.runner.submit_at(dsk, keys, {k: self.homes[r] for k, r in zip(keys, ranks)}))

    def _realise(self, dsk=None, key=None):
        """Local schedulers: run the kept tasks (and ``dsk``'s ``key``, whose value is
        returned), putting values where their keys stood."""
        if dsk:
            self.deferred.update(dsk)
        if not self.deferred:
            return None
        check = [self.check_src]
        held = [self.states, self.last_exports, self.ctx, check] + list(self.leaf_src.values())
        # one rank's tasks form one chain: a pool thread would only add hand-offs
        out = run_kept(dask.get if self.nranks == 1 else self.runner.get, self.deferred, held, key)
        self.check_src, self.deferred = check[0], {}
        return out

    def _piece(self, dsk, arr, handles, bid, src):
        """A chunk's handle, or a (task) slice of it."""
        h = handles[bid]
        if is_whole(src, chunk_shape(bounds(arr.chunks), bid)):
            return h
        key = (f"{self.prefix}-piece-{self.token}", len(dsk), self.nsub)
        dsk[key] = (operator.getitem, h, src)
        return key

    # --- steps ---------------------------------------------------------------------------------
    def _commit(self, outputs, check):
        roots = []
        for h in outputs.values():
            roots.extend(h.nodes if isinstance(h, Vec) else [h.node])
        roots += [s.node for s in check]
        self._settle_tail()
        tail = self.tail.tail if self.tail is not None else None
        sig = signature(roots, self.leaves) + (
            len(check), self.tail.structure if tail is not None else None)
        plan = self.plans.get(sig)
        if plan is None:
            plan = compile_step(self, outputs, self.leaves, check, tail)
            plan.structure = sig[0]
            self.plans[sig] = plan
        self.traced_from = self._situation()
        self._adopt(plan)

    def _settle_tail(self):
        if self.tail is not None and len(self.tail_left) < self.nranks:
            self._run_tail()  # some ranks ran it on their own (a result asked for): the rest too

    def _situation(self):
        """What a step's plan depends on besides the step's own code: the plan before it
        (whose outputs are the step's leaves) and whether that plan's tail is still to run."""
        return (self.plan_now.id if self.plan_now is not None else None, self.tail is None)

    def _adopt(self, plan):
        self._submit(plan)
        self.leaves = dict(plan.outputs)
        self.tail = plan if plan.tail is not None else None
        self.tail_left = tuple(range(self.nranks))
        self.plan_now = plan

    def _record(self, key, kinds):
        self.replays[(self.traced_from, key)] = (self.plan_now, kinds)

    def replay(self, key):
        self._settle_tail()
        found = self.replays.get((self._situation(), key))
        if found is None:
            return None
        plan, kinds = found
        self.step_count += 1
        self._adopt(plan)
        return self._leaf_state(kinds)

    def _run_tail(self, names=None, ranks=None):
        """Everything submitted, and the last step's tail as tasks of their own when the
        state's values ``names`` (default: all) are among its outputs, on ``ranks`` (default:
        all; the others run it when they are next read, so no task is left to chance)."""
        self.flush()
        if self.tail is None:
            return
        if names is not None and not set(names) & self.tail.tail.outputs:
            return
        ranks = [r for r in self.tail_left if ranks is None or r in ranks]
        handle = self._handle(self.tail)
        dsk, keys = {}, []
        for r in ranks:
            key = (f"{self.prefix}-tail-{self.token}", self.nsub, r)
            dsk[key] = (_rank.run_tail, handle, r, self.ctx[r], self.states[r], *self.last_exports)
            keys.append(key)
        for r, state in zip(ranks, self._run(dsk, keys, ranks)):
            self.states[r] = state
        self.tail_left = tuple(r for r in self.tail_left if r not in ranks)
        if not self.tail_left:
            self.tail = None

    def check_values(self, also=None):
        """The values of the last commit's ``check`` scalars (their evaluation was part of
        the step's last tasks), and of ``also`` (from :meth:`fetch_later`): one blocking
        round trip."""
        self.flush()
        self._realise()
        ROUND_TRIPS[0] += 1
        if self.nranks == 1:
            src = self.check_src
        elif self.runner.distributed:
            src = self.last_exports[0]
        else:  # local: the stages' results are in memory
            src = _rank.take_export_check(self._handle(self.check_plan), self.states[0],
                                          self.ctx[0], *self.last_exports[1:])
        if self.runner.distributed:
            src, also = self.runner.client.gather([src, also])
        values = src.check if hasattr(src, "check") else src.export.check
        return values, also

    def fetch_later(self, *scalars):
        """Start computing scalars of the current state (a future, or the values on a local
        scheduler); :meth:`fetch` or :meth:`check_values` bring them back (``also=``)."""
        dsk, fkey = self._fetch_graph(scalars)
        if not self.runner.distributed:
            return self._realise(dsk, fkey)
        return self.runner.submit(dsk, [fkey])[0]

    def _handle(self, plan):
        """The plan as tasks take it: scattered to the workers once (data, not a task)."""
        if plan.id not in self.shared:
            box = _context.Box(plan)
            if self.runner.distributed:
                box = self.runner.client.scatter(box, hash=False)
            self.shared[plan.id] = box
        return self.shared[plan.id]

    def _submit(self, plan):
        self.nsub += 1
        self._ensure_ctx(plan)
        self._late_exports(plan)
        handle = self._handle(plan)
        if self.nranks == 1:
            self.pending.append((handle, plan.S))
            if sum(n for _, n in self.pending) >= MAX_BATCH:
                self.flush()
            return
        R = self.nranks
        dist = self.runner.distributed
        name = f"{self.prefix}-{self.token}"
        exports, states = {}, {}
        forward = exported_leaves(plan)
        for t in range(1, plan.S + 1):
            dsk, keys, ranks = {}, [], []
            for r in range(R):
                rp = plan.stages[t - 1].ranks[r]
                refs = [self._ref(ref, exports) for ref in rp.refs]
                state = self.states[r] if t == 1 else states[(t - 1, r)]
                skey = (f"{name}-stage", self.nsub, t, r)
                dsk[skey] = (_rank.run_stage, handle, t - 1, r, self.ctx[r], state) + tuple(refs)
                keys.append(skey)
                ranks.append(r)
                if dist and not (plan.check and t == plan.S and r == 0):
                    # only the small export travels to the other ranks
                    ekey = (f"{name}-export", self.nsub, t, r)
                    dsk[ekey] = (_rank.take_export, skey)
                    keys.append(ekey)
                    ranks.append(r)
            got = dict(zip(keys, self._run(dsk, keys, ranks)))
            for r in range(R):
                states[(t, r)] = got[(f"{name}-stage", self.nsub, t, r)]
                exports[(t, r)] = got.get((f"{name}-export", self.nsub, t, r), states[(t, r)])
            if dist and plan.check and t == plan.S:
                # rank 0's last export is also the check's values (one round trip brings them)
                ckey = (f"{name}-export", self.nsub, t, 0)
                dsk = {ckey: (_rank.take_export_check, handle, states[(t, 0)], self.ctx[0])
                       + tuple(exports[(t, p)] for p in range(1, R))}
                (exports[(t, 0)],) = self._run(dsk, [ckey], [0])
        self.states = [states[(plan.S, r)] for r in range(R)]
        self.last_exports = [exports[(plan.S, r)] for r in range(R)]
        if plan.check:
            self.check_plan = plan
        for label, t in forward:
            self.leaf_src[label] = [exports[(t, p)] for p in range(R)]
            self.leaf_cover[label] = {p: set(e) for p, e in plan.leaf_needs.get(label, {}).items()}

    def _ref(self, ref, exports):
        if ref[0] == "prev":
            return self.last_exports[ref[1]]
        if ref[0] == "leaf":
            return self.leaf_src[ref[1]][ref[2]]
        return exports[ref]

    def _late_exports(self, plan):
        """Pieces of this step's leaves that the previous step did not export (a new plan)."""
        dsk, where = {}, []
        for label, needs in plan.leaf_needs.items():
            cover = self.leaf_cover.setdefault(label, {})
            src = self.leaf_src.setdefault(label, [None] * self.nranks)
            for p, entries in needs.items():
                if entries <= cover.get(p, set()):
                    continue
                spec = [(pkey, ("name",) + tuple(label), srck) for pkey, srck in entries]
                key = (f"{self.prefix}-late-{self.token}", self.nsub, str(label), p)
                dsk[key] = (_rank.late_export, _context.Box(spec), self.states[p])
                where.append((src, p, key))
                cover[p] = set(entries)
        if dsk:
            keys = [key for _, _, key in where]
            got = dict(zip(keys, self._run(dsk, keys, [p for _, p, _ in where])))
            for src, p, key in where:
                src[p] = got[key]

    # --- operands ------------------------------------------------------------------------------
    def _ensure_ctx(self, plan):
        """Each rank's operand blocks cover what the plan reads (rebuilt when they do not)."""
        dsk, ranks = {}, []
        for r in range(self.nranks):
            need = plan.op_needs[r]
            have = self.ctx_boxes[r]
            if self.ctx[r] is not None and all(
                    k in have and box_inside(b, have[k]) for k, b in need.items()):
                continue
            boxes = dict(have)
            for k, b in need.items():
                boxes[k] = b if k not in boxes else box_hull(boxes[k], b)
            spec, args = [], []
            for key, (start, stop) in boxes.items():
                adjoint, i, term, opi = key
                op = self.kernel_terms[(adjoint, i)][term][1].operands[opi]
                data = op.data
                shape = tuple(b - a for a, b in zip(start, stop))
                if 0 in shape:  # an empty box (a block of BlockDiag this rank does not hold)
                    spec.append((key, start, shape, (), np.empty(shape, data.dtype), False))
                elif hasattr(data, "dask"):
                    handles = self._handles(data)
                    ps = pieces(start, stop, bounds(data.chunks))
                    # an operand that follows the input or output stays in its chunks
                    spec.append((key, start, shape, [dst for _, _, dst in ps], None,
                                 op.axes is not None))
                    args += [self._piece(dsk, data, handles, bid, src) for bid, src, _ in ps]
                else:
                    spec.append((key, start, shape, (), slice_wrapped(data, start, stop), False))
            key = (f"{self.prefix}-context-{self.token}", self.nsub, r)
            dsk[key] = (_context.make_context, self.xp_name, _context.Box(spec)) + tuple(args)
            ranks.append((r, key))
            self.ctx_boxes[r] = boxes
        if ranks:
            got = self._run(dsk, [k for _, k in ranks], [r for r, _ in ranks])
            for (r, _), c in zip(ranks, got):
                self.ctx[r] = c

    def _handles(self, data):
        if data.name not in self.handles:
            self.handles[data.name] = self.runner.chunks(self.persisted.get(data.name, data))
        return self.handles[data.name]

    # --- results -------------------------------------------------------------------------------
    def flush(self):
        """Run a lone rank's kept stages (one task)."""
        if not self.pending:
            return
        handles, spec = [], []
        for handle, S in self.pending:
            if handle not in handles:
                handles.append(handle)
            spec += [(handles.index(handle), t) for t in range(S)]
        key = (f"{self.prefix}-{self.token}-stages", self.nsub, len(spec))
        dsk = {key: (_rank.run_stages, _context.Box(spec), self.ctx[0], self.states[0],
                     self.last_exports[0]) + tuple(handles)}
        self.pending = []
        (both,) = self._run(dsk, [key], [0])
        self.states = [both]
        self.last_exports = [both]
        if self.runner.distributed:  # the check's values, not the state, travel
            ckey = (f"{self.prefix}-{self.token}-checkvalues", self.nsub, len(spec))
            (self.check_src,) = self._run({ckey: (_rank.take_export, both)}, [ckey], [0])
        else:
            self.check_src = both

    def _fetch_graph(self, scalars):
        """The graph of a check: per rank the dot products it asks for, then one task that
        evaluates the scalars (its key is returned)."""
        nodes = [as_scalar(s).node for s in scalars]
        order = topo(nodes)
        pending_leaf = any(n.op == "sleaf" and self.leaves[n.args[0]][0] == "pending" for n in order)
        self._run_tail(None if pending_leaf else {n.args[0] for n in order
                                                  if n.op in ("leaf", "sleaf")})
        adhoc = {}
        for n in order:
            if n.op in ("dot", "sqnorm"):
                if any(m.op != "leaf" for m in n.args):
                    raise ValueError("fetch: dot products of committed vectors only")
                adhoc[n] = len(adhoc)
        pending = {}
        for n in order:
            if n.op == "sleaf" and self.leaves[n.args[0]][0] == "pending":
                _, prev, expr = self.leaves[n.args[0]]
                pending[n.args[0]] = (expr, prev.ids)
        self.nchecks = getattr(self, "nchecks", 0) + 1
        tag = (self.nsub, self.nchecks)
        dsk, pkeys = {}, []
        for r in range(self.nranks):
            spec = [(i, n) for n, i in adhoc.items()
                    if r == 0 or not any(m.comp.replicated for m in n.args)]
            key = (f"{self.prefix}-check-{self.token}",) + tag + (r,)
            dsk[key] = (_rank.partials, _context.Box(spec), self.states[r])
            pkeys.append(key)
        fkey = (f"{self.prefix}-fetch-{self.token}",) + tag
        program = _context.Box((nodes, adhoc, pending, self.nranks))
        dsk[fkey] = (_rank.fetch, program, self.states[0], *pkeys, *self.last_exports)
        self.tasks_submitted += len(dsk)
        return dsk, fkey

    def fetch(self, *scalars, also=None):
        """Python numbers of lazy scalars over the state: one graph, one blocking round trip
        (with ``also``: the values and those of :meth:`fetch_later`'s handle)."""
        dsk, fkey = self._fetch_graph(scalars)
        ROUND_TRIPS[0] += 1
        if not self.runner.distributed:
            value = self._realise(dsk, fkey)
            return value if also is None else (value, also)
        if also is None:
            return self.runner.result(dsk, fkey)
        if self.runner.distributed:
            fut = self.runner.client.get(dsk, fkey, sync=False)
            return tuple(self.runner.client.gather([fut, also]))
        return self.runner.result(dsk, fkey), also

    def lazy(self, s):
        """A lazy scalar over the state as a 0-d dask array (no round trip)."""
        dsk, fkey = self._fetch_graph([s])
        self._realise()
        name = f"{self.prefix}-scalar-{self.token}-{fkey[1]}-{fkey[2]}"
        dsk[(name,)] = (_rank.first_value, fkey)
        return array_from_tasks(name, dsk, (), np.result_type(self.dtype, np.float64),
                                meta_like(self.meta, self.dtype, 0))

    def to_dask(self, v, copy=True):
        """The dask arrays (a StackedArray for several blocks) of a committed vector (its
        chunks views of the states with ``copy=False``: they keep the states' arrays)."""
        self._run_tail({n.args[0] for n in v.nodes if n.op == "leaf"},
                       {n.comp.rank_of(b) for n in v.nodes if n.op == "leaf"
                        for b in np.ndindex(*[len(c) for c in n.comp.chunks])})
        self._realise()
        blocks = []
        for n in v.nodes:
            if n.op != "leaf":
                raise ValueError("to_dask: committed vectors only")
            comp = n.comp
            aname = f"{self.prefix}-{n.args[0]}-{self.token}-{self.nsub}-{n.args[1]}"
            dsk = {}
            fb = bounds(comp.fine)
            for bid in np.ndindex(*[len(c) for c in comp.fine]):  # back in the user's chunks
                cbid, sl = _layout.fine_block_of(comp.bounds, fb, bid)
                task = (_rank.get_block, self.states[comp.rank_of(cbid)],
                        ("name",) + tuple(n.args), _context.Box(sl), copy)
                # local: the states are in memory, the chunk is a view of its state's block
                dsk[(aname,) + tuple(bid)] = (task if self.runner.distributed
                                              else task[0](*task[1:-1], copy=False))
            blocks.append(array_from_tasks(aname, dsk, comp.fine, self.dtype,
                                           meta_like(self.meta, self.dtype, len(comp.dims))))
        side_stacked = len(v.nodes) > 1
        return StackedArray(blocks) if side_stacked else blocks[0]

    def release(self):
        """Drop the solve's states (the arrays given out keep what they need)."""
        self.states = self.last_exports = self.ctx = None
        self.leaf_src, self.shared, self.handles, self.pending = {}, {}, {}, []
        self.persisted = {}
        self.deferred = {}
