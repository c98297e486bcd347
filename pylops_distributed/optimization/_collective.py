"""The collective solver path: one long task per worker, halos and dots through NCCL or Gloo.

On the fused backend every iteration is a few tasks per chunk, and each hop through the
scheduler costs milliseconds (about 6 ms on a GPU node), which on GPUs is longer than the
iteration's arithmetic. The collective path runs the *same solver code* (its setup, steps
and checks, written against the vector space of :mod:`._space`) in one task per worker,
on that worker's slab of the vectors:

- a vector is cut into one slab per rank along the axis the data is chunked on (the chunks
  grouped, in order); slab ``r`` lives on rank ``r``'s worker;
- applying the operator runs its chunk kernel on the slab, after receiving from the other
  ranks the rows its input region needs (the halo; any depth) and sending them theirs;
- the dot products of a step are summed over the ranks in one all-reduce where the maths
  allows (two per CGLS iteration);
- scalars are then the same on every rank, so every rank takes the same decisions (checks,
  ``tol``, ``niter``); the first rank returns the solver's numbers, every rank its slab of
  the result, which stays on its worker.

It is used by :func:`~pylops_distributed.optimization.cg`, ``cgls``, ``lsqr``, ``ista`` and
``fista`` (without ``SOp`` or a percentile threshold; their step size estimated first) on a
distributed client when the operator has a single chunk kernel and the data is chunked along
at most one axis: by default for CuPy chunks (NCCL between the GPUs), and with
``dask.config.set({"pylops_distributed.collective": True})`` for NumPy chunks too (Gloo,
through ``torch.distributed``). Anything else (callbacks, a checkpoint, a progress bar,
``show``, stacked vectors, several chunked axes) runs on the fused path, with the reason
logged. ``False`` turns the path off; ``pylops_distributed.collective-timeout`` (seconds,
default 300) bounds Gloo's waits. A lost worker ends a collective solve with an error (NCCL
leaves the other ranks waiting until the workers restart): see ``docs/multigpu.md``.
"""

import contextlib
import logging
import numbers
import threading
import uuid

import dask
import dask.array as da
import numpy as np

from pylops_distributed._arrays import get_array_module, is_cupy, meta_like
from pylops_distributed._blocks import bounds, box_slices
from pylops_distributed._graph import array_from_tasks
from pylops_distributed.kernels import ChunkKernel, NoChunkKernel
from pylops_distributed.optimization import _comm
from pylops_distributed.optimization._runner import Runner, Unsupported
from pylops_distributed.optimization.eigs import step_size
from pylops_distributed.optimization._collective_ranks import RankContext, RankSpace, directions

log = logging.getLogger("pylops_distributed.optimization")

#: The solvers whose steps run collectively (class names of this package's solvers).
SOLVERS = ("CG", "CGLS", "LSQR", "ISTA", "FISTA")
_local = threading.local()
_LOCK = threading.Lock()
#: (client id, kind, workers) -> token of the communicator open between those workers
_TOKENS = {}
#: On the first rank's worker: a finished solve's numbers, until the client takes them
_RESULTS = {}
#: On a worker: the ranks running (their profiler paused) and whether it ran before them
_PAUSED = {"ranks": 0, "was_running": False}
_PAUSE_LOCK = threading.Lock()


def in_rank():
    """Whether this thread runs a rank of a collective solve."""
    return getattr(_local, "ctx", None) is not None


def rank_space(Op, y, x0):
    """The space of a solver set up inside a collective rank's task, else None."""
    ctx = getattr(_local, "ctx", None)
    return None if ctx is None else RankSpace(Op, y, x0, ctx)


# --- the client's side -------------------------------------------------------------------------

class Layout:
    """How the vectors are cut into one slab per rank: along ``data_axis`` of the data at
    ``data_bounds`` and along ``model_axis`` of the model at ``model_bounds``; with
    ``model_axis=None`` every rank holds the whole model (it is *replicated*: the operator
    reads it whole for any slab of the data, and its adjoint is a sum over the data's slabs,
    added up by an all-reduce)."""

    def __init__(self, data_dims, data_axis, data_bounds, model_dims, model_axis, model_bounds):
        self.data_dims, self.data_axis, self.data_bounds = data_dims, data_axis, data_bounds
        self.model_dims, self.model_axis, self.model_bounds = model_dims, model_axis, model_bounds
        self.size = len(data_bounds) - 1

    def replicated(self, side):
        return side == "model" and self.model_axis is None

    def slab(self, side, r):
        """The global box of rank ``r``'s slab of the ``side`` vector."""
        dims, axis, b = ((self.data_dims, self.data_axis, self.data_bounds) if side == "data"
                         else (self.model_dims, self.model_axis, self.model_bounds))
        start, stop = [0] * len(dims), list(dims)
        if axis is not None:
            start[axis], stop[axis] = b[r], b[r + 1]
        return tuple(start), tuple(stop)

    def chunks(self, side):
        dims, axis, b = ((self.data_dims, self.data_axis, self.data_bounds) if side == "data"
                         else (self.model_dims, self.model_axis, self.model_bounds))
        return tuple(tuple(np.diff(b).tolist()) if a == axis else (n,) for a, n in enumerate(dims))


def _mode():
    mode = dask.config.get("pylops_distributed.collective", "auto")
    if mode not in ("auto", True, False):
        raise ValueError(f"pylops_distributed.collective must be 'auto', True or False, got {mode!r}")
    return mode


def _why_not(solver, kwargs, client):
    """Why ``solver.solve(**kwargs)`` cannot run collectively (None: it can)."""
    if type(solver).__name__ not in SOLVERS or not solver._ours("_iterate") or \
            not solver._ours("step"):
        return f"{type(solver).__name__} has no collective path"
    if client is None:
        return "no distributed client"
    if (solver.callbacks or "callback" in vars(solver) or solver.checkpoint is not None
            or solver.progress or kwargs.get("show")):
        return "callbacks, checkpoint=, progress= and show= run on the fused path"
    if kwargs.get("SOp") is not None:
        return "SOp is a second operator in the iteration"
    if "percentile" in str(kwargs.get("threshkind", "")):
        return "a percentile threshold reduces the whole model every iteration"
    return None


def _slabs(chunks, R):
    """Chunk boundaries (of one axis) grouped into at most ``R`` contiguous slabs of about
    equal sizes."""
    b = bounds((chunks,))[0]
    n, out = b[-1], [0]
    for r in range(1, R):
        target = n * r / R
        best = min((x for x in b if x > out[-1] and x < n), key=lambda x: abs(x - target),
                   default=None)
        if best is not None and best not in out:
            out.append(best)
    out.append(n)
    return tuple(sorted(set(out)))


def plan(solver, y, x0, R):
    """The layout of a solve on ``R`` ranks, or the reason there is none."""
    Op = solver.Op
    chunked = [a for a, c in enumerate(y.chunks) if len(c) > 1]
    if len(chunked) > 1:
        return f"the data is chunked along axes {chunked}: the collective path cuts one"
    try:
        fwd = Op.chunk_kernel(False)
        adj = Op.chunk_kernel(True) if solver.uses_adjoint else None
    except NoChunkKernel as err:
        return str(err)
    kernels = [k for k in (fwd, adj) if k is not None]
    if not all(isinstance(k, ChunkKernel) for k in kernels):
        return f"{Op.label} has a stacked kernel"
    ax = chunked[0] if chunked else 0
    db = _slabs(y.chunks[ax], R)
    dchunks = tuple(tuple(np.diff(db).tolist()) if a == ax else (n,) for a, n in
                    enumerate(y.shape))
    if (adj is not None and adj.additive and not fwd.periodic
            and not adj.periodic and ax not in adj.whole and tuple(Op.dims) != tuple(y.shape)
            and all(len(c) == 1 for c in adj.chunks(dchunks))
            and len(fwd.chunks(adj.chunks(dchunks))) == len(dchunks)):
        # the model whole on every rank, the data in slabs: the adjoint's partial results
        # summed by an all-reduce (Kirchhoff over shots, MatrixMult by rows)
        return Layout(tuple(y.shape), ax, db, tuple(Op.dims), None, None)
    if any(k.additive or k.periodic for k in kernels):
        return f"{Op.label}: a contraction or a wrap-around along a chunked axis"
    if tuple(Op.dims) == tuple(Op.dimsd):
        max_, mb, mchunks = ax, db, dchunks
    elif adj is not None:
        mchunks = tuple(tuple(c) for c in adj.chunks(dchunks))
        many = [a for a, c in enumerate(mchunks) if len(c) > 1]
        if len(many) > 1 or (len(db) > 2 and len(many) != 1) or \
                tuple(tuple(c) for c in fwd.chunks(mchunks)) != dchunks:
            return f"{Op.label}: its model is not cut in slabs like its data"
        max_ = many[0] if many else 0
        mb = bounds((mchunks[max_],))[0]
    else:
        return f"{Op.label} is not square"
    for k, in_ax in ((fwd, max_), (adj, ax)):
        if k is not None and in_ax in k.whole and len(db) > 2:
            return f"{Op.label} reads the chunked axis {in_ax} whole"
    return Layout(tuple(y.shape), ax, db, tuple(Op.dims), max_, mb)


def _homes(client, arr, layout, workers):
    """A worker per rank: the one holding most of its slab's chunks when ``arr`` is
    persisted, else the workers in order."""
    from distributed import futures_of

    futures = [f for f in futures_of(arr)  # its own chunks only (not those of its inputs)
               if isinstance(f.key, tuple) and f.key[0] == arr.name]
    if not futures:
        return workers[:layout.size]
    who = client.who_has(futures)
    held = {}
    b = bounds(arr.chunks)
    ax = layout.data_axis
    for key, ws in who.items():
        bid = key[1:]
        lo, hi = b[ax][bid[ax]], b[ax][bid[ax] + 1]
        size = int(np.prod([b[a][i + 1] - b[a][i] for a, i in enumerate(bid)]))
        for r in range(layout.size):
            if lo < layout.data_bounds[r + 1] and hi > layout.data_bounds[r]:
                for w in ws:
                    held[(r, w)] = held.get((r, w), 0) + size
    homes, free = [], list(workers)
    for r in range(layout.size):
        w = max(free, key=lambda w: held.get((r, w), 0))
        homes.append(w)
        free.remove(w)
    return homes


def solve_collectively(solver, kwargs):
    """``solver.solve(**kwargs)`` on the collective path, or None when it does not apply
    (the reason logged)."""
    from pylops_distributed.optimization._solver import as_vector

    mode = _mode()
    if mode is False or (mode == "auto" and not is_cupy(kwargs.get("y"))):
        return None  # (the NumPy default: nothing checked here, the fused path as before)
    try:
        client = Runner().client
    except Unsupported:
        client = None
    name = type(solver).__name__
    why = _why_not(solver, kwargs, client)
    if why is None:
        y, flat = as_vector(kwargs["y"], solver.Op.dimsd, solver.Op.chunks, f"{name}: y")
        x0 = kwargs.get("x0")
        if x0 is not None:
            x0, _ = as_vector(x0, solver.Op.dims, solver.Op.chunks, f"{name}: x0")
        if not isinstance(y, da.Array) or (x0 is not None and not isinstance(x0, da.Array)):
            why = "stacked vectors"
    if why is None:
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        layout = plan(solver, y, x0, min(len(workers), max(len(c) for c in y.chunks)))
        if isinstance(layout, str):
            why = layout
    if why is not None:
        (log.info if mode == "auto" else log.warning)("%s does not run collectively: %s", name, why)
        return None
    if name in ("ISTA", "FISTA") and kwargs.get("alpha") is None:
        # the step size's eigenvalue estimate runs here, on the cluster, before the ranks
        kwargs = dict(kwargs, alpha=step_size(solver.Op, y, kwargs.get("eigsdict")))
    return _run(client, solver, kwargs, y, flat, x0, layout, workers)


def _run(client, solver, kwargs, y, flat, x0, layout, workers):
    with _LOCK:  # one collective solve at a time from this process: they share communicators
        return _run_locked(client, solver, kwargs, y, flat, x0, layout, workers)


def _communicator(client, kind, homes, timeout):
    """The token of an open communicator between the ranks at ``homes`` (made now, or kept
    from an earlier solve when every rank's worker still holds it), and what the ranks need
    to open it (None: it is open)."""
    key = (client.id, kind, tuple(homes))
    token = _TOKENS.get(key)
    if token is not None and all(client.run(_comm.is_open, token, workers=list(homes)).values()):
        return token, None
    token = f"collective-{kind}-{uuid.uuid4().hex[:12]}"
    meeting = client.submit(_comm.rendezvous, token, kind, timeout, workers=[homes[0]],
                            allow_other_workers=False, pure=False, key=f"{token}-meet").result()
    return token, meeting


def _run_locked(client, solver, kwargs, y, flat, x0, layout, workers):
    from distributed import wait

    kind = "nccl" if is_cupy(y) else "gloo"
    timeout = float(dask.config.get("pylops_distributed.collective-timeout", 300))
    homes = _homes(client, y, layout, workers)
    comm, meeting = _communicator(client, kind, homes, timeout)
    token = f"{type(solver).__name__.lower()}-collective-{uuid.uuid4().hex[:12]}"
    ys = _slab_inputs(client, y, "data", layout, homes)
    x0s = (_slab_inputs(client, x0, "model", layout, homes) if x0 is not None
           else [None] * layout.size)
    settings = {k: v for k, v in kwargs.items() if k not in ("y", "x0")}
    operands = _operand_inputs(client, solver, layout, homes)
    ranks = [client.submit(_rank_task, comm, kind, meeting, r, timeout, type(solver), solver.Op,
                           settings, layout, ys[r], x0s[r], str(y.dtype),
                           None if x0 is None else str(x0.dtype), token, operands[r],
                           workers=[homes[r]], allow_other_workers=False, pure=False,
                           key=f"{token}-rank-{r}")
             for r in range(layout.size)]
    wait(ranks)
    bad = [f for f in ranks if f.status != "finished"]
    if bad:
        err = bad[0].exception()
        client.cancel(ranks)
        _TOKENS.pop((client.id, kind, tuple(homes)), None)  # the next solve opens a new one
        if kind == "gloo":  # (an NCCL rank may still be waiting on its GPU: left as it is)
            try:
                client.run(_comm.forget, comm, workers=list(homes))
            except (OSError, KeyError, ValueError):  # a worker gone
                pass
        raise err
    _TOKENS[(client.id, kind, tuple(homes))] = comm
    numbers_, attrs = client.run(_take_result, token, workers=[homes[0]])[homes[0]]
    # the result: the ranks' slabs where they are (no task run on them)
    dims, axis = layout.model_dims, layout.model_axis
    name = f"{token}-x"
    dsk = {(name,) + tuple(r if a == axis else 0 for a in range(len(dims))): f
           for r, f in enumerate(ranks if axis is not None else ranks[:1])}
    x = array_from_tasks(name, dsk, layout.chunks("model"), np.result_type(y.dtype, solver.Op.dtype),
                         meta_like(y, np.result_type(y.dtype, solver.Op.dtype)))
    if tuple(dims) == tuple(y.shape) and x.chunks != y.chunks:
        x = x.rechunk(y.chunks)  # the user's chunks, sliced from the slabs when read
    if flat:
        x = x.reshape(-1)
    vars(solver).update(attrs)
    log.info("%s ran collectively on %d ranks (%s)", type(solver).__name__, layout.size, kind)
    return (x,) + tuple(numbers_) if isinstance(numbers_, tuple) else x


def _slab_inputs(client, arr, side, layout, homes):
    """Per rank, what makes its slab of ``arr``, already on the rank's worker (a rank must
    not wait for data from a worker that runs another rank): the futures of the chunks it
    covers with their ranges along the cut axis when they are all there (put together in
    the rank's task), else the slab computed there."""
    from distributed import futures_of, wait

    if layout.replicated(side):  # the whole array on every rank's worker
        out = [client.compute(arr, workers=[home]) for home in homes]
        wait(out)
        return out
    held = {f.key: f for f in futures_of(arr)}
    axis = layout.data_axis if side == "data" else layout.model_axis
    b = bounds(arr.chunks)[axis]
    keys = [(arr.name,) + k for k in np.ndindex(*arr.numblocks)]
    where = client.who_has([held[k] for k in keys]) if all(k in held for k in keys) else {}
    out = []
    for r in range(layout.size):
        lo, hi = layout.slab(side, r)[0][axis], layout.slab(side, r)[1][axis]
        mine = [k for k in keys if b[k[1 + axis]] < hi and b[k[1 + axis] + 1] > lo]
        if mine and all(homes[r] in where.get(k, ()) for k in mine):
            out.append([(held[k], b[k[1 + axis]], b[k[1 + axis] + 1], lo, hi, axis) for k in mine])
        else:
            out.append(client.compute(arr[box_slices(*layout.slab(side, r))], workers=[homes[r]]))
    wait([f for f in out if not isinstance(f, list)])
    return out


def _operand_inputs(client, solver, layout, homes):
    """Per rank, the blocks of the operator's dask operands its kernel calls read (a matrix's
    rows, a diagonal's slab), computed on the rank's worker before the ranks start."""
    from distributed import wait

    out = []
    for r, home in enumerate(homes):
        blocks = {}
        for adjoint, d in directions(solver.Op, layout, r, solver.uses_adjoint).items():
            for k, block in enumerate(d.operand_blocks()):
                if isinstance(block, da.Array):
                    blocks[(adjoint, k)] = client.compute(block, workers=[home])
        out.append(blocks)
    wait([f for blocks in out for f in blocks.values()])
    return out


def _assemble(parts):
    """A slab from the chunks that cover it (``_slab_inputs``' list), or the slab itself."""
    if not isinstance(parts, list):
        return parts
    pieces = []
    for chunk, c0, c1, lo, hi, axis in parts:
        sl = [slice(None)] * chunk.ndim
        sl[axis] = slice(max(lo, c0) - c0, min(hi, c1) - c0)
        pieces.append(chunk[tuple(sl)])
    if len(pieces) == 1:
        return pieces[0]
    return get_array_module(pieces[0]).concatenate(pieces, axis=parts[0][5])


def _take_result(token):
    return _RESULTS.pop(token)


# --- the ranks' side -----------------------------------------------------------------------------

def _rank_task(token, kind, meeting, rank, timeout, cls, Op, settings, layout, y, x0, ydtype,
               x0dtype, solve, operands):
    """One rank of a collective solve: the solver's own ``solve`` on this rank's slabs; the
    first rank keeps the solver's numbers for the client under ``solve``."""
    y, x0 = _assemble(y), _assemble(x0)
    comm = (_comm.opened(token, rank) if meeting is None else
            _comm.connect(token, kind, meeting, rank, layout.size, timeout))
    ctx = RankContext(comm, Op, layout, dict(y=y, x0=x0), cls.uses_adjoint, operands)
    solver = cls(Op)
    ystand = da.empty(layout.data_dims, dtype=ydtype, chunks=layout.chunks("data"))
    x0stand = (None if x0dtype is None else
               da.empty(layout.model_dims, dtype=x0dtype, chunks=layout.chunks("model")))
    _local.ctx = ctx  # (not dask.config: it is the process's, shared by its threads)
    try:
        with _profiler_paused():
            out = solver.solve(y=ystand, x0=x0stand, **settings)
    finally:
        _local.ctx = None
    x = out[0] if isinstance(out, tuple) else out
    x = ctx.values_of(x)
    if rank == 0:
        attrs = {k: v for k, v in vars(solver).items() if not k.startswith("_")
                 and k not in ("Op", "y", "x0", "vs", "st", "callbacks")
                 and isinstance(v, (numbers.Number, np.ndarray, list, str, type(None)))}
        _RESULTS[solve] = ((tuple(out[1:]) if isinstance(out, tuple) else None), attrs)
    return x


@contextlib.contextmanager
def _profiler_paused():
    """The worker's statistical profiler stopped while ranks run on it. Every 10 ms it walks
    the running task's stack on the event loop, holding the GIL, while the rank's thread
    gives the GIL up and takes it back at every kernel call: 100 Kirchhoff applies and
    adjoints (10 shots) took 8 % longer with it (2 workers, alternated runs). The dashboard's
    profile shows no samples of the solve meanwhile (the task stream still shows it)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not on a worker
        yield
        return
    pc = worker.periodic_callbacks.get("profile")
    if pc is None:  # (distributed.worker.profile.enabled: False)
        yield
        return
    with _PAUSE_LOCK:
        _PAUSED["ranks"] += 1
        if _PAUSED["ranks"] == 1:
            _PAUSED["was_running"] = pc.is_running()
            worker.loop.add_callback(pc.stop)  # (tornado's callbacks: on the loop's thread)
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSED["ranks"] -= 1
            if _PAUSED["ranks"] == 0 and _PAUSED["was_running"]:
                worker.loop.add_callback(pc.start)
