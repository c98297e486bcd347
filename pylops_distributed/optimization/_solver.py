"""What CG, CGLS and LSQR share: inputs, the choice of backend, checks and the run loop.

A solver writes its setup and its step once, as arithmetic on the handles of a vector space
(:mod:`._space`); the space is fused (:mod:`._fused`, a few tasks per chunk per iteration,
from the operator's chunk kernels) when the operator has kernels and the scheduler is one
the engine drives, plain dask.array otherwise (logged, with the reason).
"""

import logging
import math
import numbers
import time

import dask
import dask.array as da
import numpy as np
from pylops.optimization.basesolver import Solver

from pylops_distributed._arrays import as_dask
from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization._fused import FusedSpace, NotFusable
from pylops_distributed.optimization._checkpoint import (Store, check_checkpoint, fingerprint,
                                                         lost_data_errors, mismatch,
                                                         restore_state, save_state)
from pylops_distributed.optimization._snapshot import Snapshot, snapshot
from pylops_distributed.optimization._collective import in_rank, rank_space
from pylops_distributed.optimization._eager import EagerSpace
from pylops_distributed.optimization._progress import last_cost, start_bar
from pylops_distributed._held import held
from pylops_distributed.optimization._runner import Runner, Unsupported, persisted_chunks
from pylops_distributed.optimization._plain import PlainSpace, to_number
from pylops_distributed.optimization._space import ROUND_TRIPS
from pylops_distributed.kernels import NoChunkKernel, StackKernel
from pylops_distributed.stacked import StackedArray, as_stacked, split_flat

log = logging.getLogger("pylops_distributed.optimization")


def as_vector(v, dims, chunks, what):
    """A user vector (NumPy, CuPy, dask or StackedArray) as a dask collection, N-D when possible.

    Returns the vector and whether it was given flat while ``dims`` has several axes.
    """
    if isinstance(v, StackedArray):
        return v, False
    v = as_dask(v, chunks, what)
    flat = v.ndim == 1 and len(dims) > 1 and v.size == int(np.prod(dims))
    if v.shape != tuple(dims) and not flat:
        raise ValueError(f"{what}: expected shape {tuple(dims)} (or flat ({int(np.prod(dims))},)), "
                         f"got {v.shape}")
    return (v.reshape(dims) if flat else v), flat


def _stack_like_kernel(Op, v, data, like=None):
    """A flat vector of a stacked operator's data (``data``) or model, cut into its blocks
    (those of ``like``, the data of a square operator, when it is stacked)."""
    if isinstance(v, StackedArray):
        return v
    if isinstance(like, StackedArray):
        return StackedArray(b.rechunk(lb.chunks) for b, lb in
                            zip(as_stacked(v.reshape(-1), like).blocks, like.blocks))
    try:
        kernel = Op.chunk_kernel(bool(data))
    except NoChunkKernel:
        return v
    stacked = Op.data_stacked if data else Op.model_stacked
    if not isinstance(kernel, StackKernel) or (kernel.n_in == 1 and not stacked):
        return v
    shapes = [None] * kernel.n_in
    for row in kernel.terms:
        for j, k in row:
            shapes[j] = k.dims_in
    blocks = split_flat(v.reshape(-1), shapes)
    counts = {b.npartitions for b in blocks}
    if len(counts) > 1:
        # a flat vector's chunks fell across the blocks as they may: cut every block alike
        # (as many pieces along its first axis as the most cut one, at most the shortest
        # block's length), so that the fused ranks can pair them
        n = max(1, min([max(counts)] + [s[0] for s in shapes]))
        blocks = [b.rechunk((_even(s[0], n),) + tuple((m,) for m in s[1:]))
                  for b, s in zip(blocks, shapes)]
    return StackedArray(blocks)


def _even(n, k):
    """``n`` in ``k`` pieces of nearly equal length (``k <= n``)."""
    return tuple(int(d) for d in np.diff(np.linspace(0, n, k + 1).round().astype(int)))


def as_float(v):
    """A Python float of a number or a one-element array (``damp=np.array(0.5)``)."""
    return float(np.real(np.asarray(v).ravel()[0]))


def real_dtype(dtype):
    return np.empty(0, dtype).real.dtype


def is_complex(dtype):
    return np.iscomplexobj(np.empty(0, dtype))


def predicted_memory(name, Op, nmodel, ndata, show, unit):
    """Bytes of ``nmodel`` model-size and ``ndata`` data-size vectors, as PyLops' memory_usage."""
    memuse = (nmodel * Op.shape[1] + ndata * Op.shape[0]) * np.dtype(Op.dtype).itemsize
    if show:
        scale = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30}[unit]
        print(f"{name} predicted memory usage: {memuse / scale:.2f} {unit}")
    return memuse


class CheckedSolver(Solver):
    """Base of the solvers: a state on a vector space, one round trip every ``check_every``."""

    #: Whether the solver applies ``Op^H`` (CG does not).
    uses_adjoint = True
    #: The attributes a step's graph depends on besides the state's structure.
    step_params = ("damp",)
    #: NaN or Inf at a check raises (else the solver's ``_on_check`` deals with it).
    raise_on_nonfinite = True
    #: Show a progress bar (``tqdm.auto``) moved at each check during :meth:`run`.
    progress = False
    #: What the bar's value (the last ``cost``) is.
    progress_label = "cost"
    _bar = None
    #: Where the state is saved at checks (:meth:`set_checkpoint`), and how often.
    checkpoint = None
    checkpoint_every = 1
    _resumed = None
    #: The machinery of a run (saves, the copy of the state kept for recovery, the progress
    #: bar): neither saved in a checkpoint nor in that copy, so that going back to either
    #: leaves it as it is (a restore that put back ``_snapshot`` as it was when the copy was
    #: made dropped the copy itself, and ``_recoveries`` went back to 0).
    run_attributes = frozenset({
        "_store", "_saves", "_pending", "_fingerprint", "_resumed", "_snapshot", "_keeper",
        "_next_snapshot", "_recoveries", "_bar", "_extras"})

    def __init__(self, Op, callbacks=None):
        super().__init__(aslinearoperator(Op), callbacks)

    # --- inputs and space ----------------------------------------------------------------------
    def _inputs(self, y, x0, check_every, **params):
        """Check and load the inputs; ``params``: numbers that must not be negative (niter,
        damp, tolerances), checked before anything is built."""
        name = type(self).__name__
        if (isinstance(check_every, bool) or not isinstance(check_every, numbers.Integral)
                or check_every < 1):
            raise ValueError(f"{name}: check_every must be an integer >= 1, got {check_every!r}")
        for key, value in params.items():
            if value is None:
                continue
            try:
                ok = bool(np.all(np.asarray(value) >= 0))
            except TypeError:
                raise TypeError(f"{name}: {key} must be a number >= 0, got {value!r}") from None
            if not ok:
                raise ValueError(f"{name}: {key} must be >= 0, got {value!r}")
        self.check_every = int(check_every)
        self.y, self._flat = as_vector(y, self.Op.dimsd, self.Op.chunks, f"{name}: y")
        if self.y.size == 0 or 0 in self.Op.shape:
            raise ValueError(f"{name}: expected a non-empty problem, got an operator of shape "
                             f"{self.Op.shape} and y of shape {self.y.shape}")
        self.y = _stack_like_kernel(self.Op, self.y, True)
        self.x0 = None
        if x0 is not None:
            self.x0, _ = as_vector(x0, self.Op.dims, self.Op.chunks, f"{name}: x0")
            square = tuple(self.Op.dims) == tuple(self.Op.dimsd)
            self.x0 = _stack_like_kernel(self.Op, self.x0, False, self.y if square else None)
        # persisted once (distributed): every step's graph takes the same futures
        self.y, self.x0 = held(self.y), held(self.x0)
        self._rdtype = real_dtype(np.result_type(self.y.dtype, self.Op.dtype))
        self.cost, self.cost_iters = [], []
        self.iiter = 0
        self._checked = -1
        self._converged = False

    def _space(self):
        """The fused space where it applies, else the plain one (the reason is logged)."""
        name = type(self).__name__
        space = rank_space(self.Op, self.y, self.x0)  # inside a collective solve's task
        if space is not None:
            return space
        plain_only = self._plain_only()
        if plain_only:
            log.info("%s runs on plain dask.array expressions: %s", name, plain_only)
        elif dask.config.get("pylops_distributed.fused", True):
            try:
                return FusedSpace(self.Op, self.y, self.x0, adjoint=self.uses_adjoint,
                                  prefix=name.lower())
            except (NotFusable, Unsupported) as err:
                log.warning("%s runs on plain dask.array expressions (more tasks per iteration): %s",
                            name, err)
        else:
            log.info("%s: pylops_distributed.fused is off, using plain dask.array expressions", name)
        meta = getattr(self.y.blocks[0] if isinstance(self.y, StackedArray) else self.y, "_meta", None)
        if isinstance(meta, np.ndarray) and Runner.local():
            return EagerSpace(self.Op, self.y, self.x0)  # in-memory blocks, no graph per step
        return PlainSpace(self.Op, self.y, self.x0)

    def _plain_only(self):
        """Why this solve needs the plain backend (a step using :meth:`Space.reduce` or
        :meth:`Space.transform`), or None."""
        return None

    def _load(self):
        """The vector space of this solve and the handles of ``y`` and ``x0`` (None)."""
        self.vs = vs = self._space()
        arrays = dict(y=(self.y, "data"))
        if self.x0 is not None:
            arrays["x0"] = (self.x0, "model")
        ins = vs.inputs(**arrays)
        return vs, ins.y, ins.get("x0")

    @property
    def fused(self):
        """Whether the solve runs on the fused backend."""
        return getattr(self.vs, "fused", False)

    def _output(self, x):
        if self._flat and not isinstance(x, StackedArray):
            return x.reshape(-1)
        return x

    # --- checks ----------------------------------------------------------------------------------
    def _lazy_check(self, st, show):
        """Scalars to bring back at a check, from a state (solver specific)."""
        raise NotImplementedError

    def _on_check(self, values, show):
        raise NotImplementedError

    def set_checkpoint(self, checkpoint, checkpoint_every=1):
        """Save the state at checks in the folder ``checkpoint`` (a local path or an fsspec
        URL; None: no saves), every ``checkpoint_every`` checks; a solve set up with a
        folder that holds a save of the same problem resumes from it.

        Raises
        ------
        ValueError
            ``checkpoint_every`` not an integer >= 1.
        TypeError
            ``checkpoint`` not a path or URL.
        """
        check_checkpoint(type(self).__name__, checkpoint, checkpoint_every)
        self.checkpoint, self.checkpoint_every = checkpoint, int(checkpoint_every)

    def _start_state(self, outputs, extras):
        """Commit the setup's state; ``extras`` (scalars the first check reports, such as the
        norms of ``y`` and ``x0``) are computed now and brought back with that check. With a
        checkpoint of this problem, its state is committed instead."""
        self._store = Store(self.checkpoint) if self.checkpoint is not None else None
        self._saves, self._snapshot, self._recoveries, self._pending = 0, None, 0, None
        # copies from the first check after half a second on (short solves are rerun sooner)
        self._keeper, self._next_snapshot = _snapshot_client(), time.perf_counter() + 0.5
        if self._store is not None:
            norms = [k for k in ("y2", "x02") if k in extras]
            self._fingerprint = fingerprint(
                self, dict(zip(norms, self.vs.fetch(*[extras[k] for k in norms]))))
            saved = self._store.load()
            if saved is not None:
                attrs, vectors = saved
                why = mismatch(attrs["fingerprint"], self._fingerprint)
                if why is not None:
                    raise ValueError(
                        f"{type(self).__name__}: the checkpoint {self.checkpoint!r} was written "
                        f"by another problem ({why}); give another checkpoint folder, or remove "
                        "it to start again")
                self._resumed = restore_state(self, attrs, vectors)
                self._extras = None
                log.info("%s resumes from %s at iteration %d", type(self).__name__,
                         self.checkpoint, self._resumed["iiter"])
                return
        self.st = self.vs.commit({**outputs, **extras})
        self._extra_names = list(extras)
        self._extras = (list(extras), self.vs.fetch_later(*[self.st[n] for n in extras]))

    def _input_norms(self, y, x0):
        out = {"y2": self.vs.sqnorm(y)}
        if x0 is not None:
            out["x02"] = self.vs.sqnorm(x0)
        return out

    def _check(self, show=False, planned=False):
        """One blocking round trip: the check's scalars (computed with the step when
        ``planned``, else now from the state), tested for NaN, ``tol`` and the solver's own
        criteria."""
        if self._checked == self.iiter:
            return
        names, later = self._extras if self._extras else ([], None)
        if planned:
            values, first = self.vs.check_values(also=later)
        elif later is None:  # after manual steps: fetched from the committed state
            values, first = self.vs.fetch(*self._lazy_check(self.st, show)), None
        else:
            values, first = self.vs.fetch(*self._lazy_check(self.st, show), also=later)
        if self._extras:
            first = dict(zip(names, first))
            for name, what in (("y2", "data y"), ("x02", "initial guess x0")):
                if name in first and not np.isfinite(first[name]):
                    raise FloatingPointError(
                        f"{type(self).__name__}: the {what} contains NaN or Inf (its squared "
                        f"norm is {first[name]}); clean it before solving")
            self._extras = None
            self._on_first_check(first)
        bad = [v for v in np.ravel(np.asarray(values, dtype=complex)) if not np.isfinite(v)]
        if bad and self.raise_on_nonfinite:
            since = max(self._checked, 0)
            v = bad[0].real if bad[0].imag == 0 else bad[0]
            raise FloatingPointError(
                f"{type(self).__name__}: the residual became {v} between iterations {since} and "
                f"{self.iiter} (checked every {self.check_every}); the operator "
                f"{getattr(self.Op, 'name', None) or type(self.Op).__name__} produced NaN or "
                "Inf from finite data: check the operator and its parameters")
        self._checked = self.iiter
        self._on_check(values, show)
        if self._bar is not None:
            self._bar.update(self.iiter, last_cost(self))
        if getattr(self, "_store", None) is not None:
            self._saves += 1
            if self._saves % self.checkpoint_every == 0:
                self._finish_save()
                self._pending = save_state(self, self._store, self._fingerprint)
        if getattr(self, "_keeper", None) is not None and time.perf_counter() >= self._next_snapshot:
            self._keep_copy()
        self._settle_callbacks()

    def _keep_copy(self):
        """Keep a copy of the state on two workers (:func:`snapshot`), in place of the one
        before unless it could not be made."""
        t0 = time.perf_counter()
        snap = snapshot(self, self._keeper)
        if snap is not None:
            self._snapshot = snap
            log.debug("%s: state copied at iteration %d", type(self).__name__, self.iiter)
        # copies cost at most ~5% of the solve: the next one after 20 times this one's time
        self._next_snapshot = time.perf_counter() + 20 * (time.perf_counter() - t0)

    def _settle_callbacks(self):
        """Numbers for the lazy values that callbacks stored (``MetricsCallback``'s metrics of
        the lazy iterates): computed together at the check (one more round trip when any)."""
        lists = [v for cb in (self.callbacks or ()) for v in _lists_in(cb)]
        pending = [(lst, i) for lst in lists for i, v in enumerate(lst) if isinstance(v, da.Array)]
        if pending:
            ROUND_TRIPS[0] += 1
            for (lst, i), v in zip(pending, dask.compute(*[lst[i] for lst, i in pending])):
                lst[i] = to_number(v)

    def _on_first_check(self, values):
        """The setup's extras, at the first check (e.g. the cost at iteration 0)."""

    def _stopped(self, stop):
        """Whether the steps were frozen at iteration ``stop`` (>= 0, see :func:`stopped_at`);
        then that is the solver's iteration count, as PyLops stops there."""
        if stop < 0:
            return False
        self.iiter = self._checked = int(stop)
        self._converged = True
        return True

    # --- loop ----------------------------------------------------------------------------------
    def _advance(self, show=False):
        """One step; at a check, the check's scalars are computed with it.

        The step is traced (``_iterate`` run on the state's handles) only until the space
        knows it: our steps' graphs depend only on the state's structure and on the
        solver's parameters (``step_params``), so later ones replay the compiled step."""
        check = self._check_at(self.iiter + 1)
        key = (check, bool(show)) + tuple(getattr(self, p, None) for p in self.step_params)
        try:
            hash(key)
        except TypeError:  # an array-valued parameter: trace every step
            key = None
        st = self.vs.replay(key) if key is not None and self._replayable() else None
        if st is None:
            out = self._iterate(self.st)
            st = self.vs.commit(out, check=self._lazy_check(out, show) if check else None,
                                replay_as=key)
        self.st = st
        self.iiter += 1
        if check:
            self._check(show, planned=True)

    def _check_at(self, it):
        """Whether iteration ``it`` ends with a check."""
        return it % self.check_every == 0 or it == getattr(self, "niter", None)

    def _replayable(self):
        """Whether the step is one of ours (a subclass's own ``_iterate`` is traced every
        time: it may depend on the iteration or on anything else)."""
        return self._ours("_iterate")

    def _ours(self, method):
        """Whether ``method`` is this library's (not a user subclass's)."""
        owner = next(c for c in type(self).__mro__ if method in vars(c))
        return owner.__module__.startswith("pylops_distributed.optimization.")

    def step(self, x, show=False):
        r"""Run one lazy step; every ``check_every`` steps, check convergence (one round trip).

        Parameters
        ----------
        x : dask.array.Array or StackedArray
            Current model (the state is kept by the solver: ``x`` is not read).
        show : bool, optional
            Print the table row when this step is a check.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Updated model (lazy: backed by the solver's state).
        """
        self._advance(show)
        return self._x()

    def run(self, x, niter=None, show=False, itershow=(10, 10, 10)):
        r"""Run steps until ``niter``, a met tolerance at a check, or a callback's ``stop``.

        Parameters
        ----------
        x : dask.array.Array or StackedArray
            Current model (not read: the state is the solver's).
        niter : int, optional
            Number of iterations (default: the one given to ``setup``).
        show : bool, optional
            Print a table row at each check.
        itershow : tuple, optional
            Accepted for PyLops compatibility; rows are printed at checks.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Estimated model.
        """
        if self._resumed is not None:  # the saved solve's numbers, once setup is over
            vars(self).update(self._resumed)
            self._resumed = None
        niter = self.niter if niter is None else niter
        if niter is None:
            raise ValueError(f"{type(self).__name__}.run: niter must not be None")
        self.niter = niter
        # nobody looks at the iterates between checks unless asked to
        watched = (self.callbacks or "callback" in vars(self)
                   or type(self).callback is not CheckedSolver.callback
                   or not self._ours("step"))
        self._bar = start_bar(self, niter)
        try:
            while True:
                try:
                    self._steps(x, niter, show, watched)
                    self._finish_save()
                    if getattr(self, "_store", None) is not None:
                        self._store.drop_spare()  # only the latest save stays
                    break
                except lost_data_errors() as err:
                    self._recover(err)
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            # the copy's chunks leave the workers now, not when the solver is collected (a
            # solver is in reference cycles: that may be much later)
            self._snapshot = None
        self._settle_callbacks()  # the last step's (its check came before its callback)
        return self._x()

    def _finish_save(self, wait=True):
        """Complete the save being written (``wait=False``: only if its chunks are written)."""
        pending = getattr(self, "_pending", None)
        if pending is not None and (wait or pending.done()):
            self._pending = None
            pending.finish()

    def _steps(self, x, niter, show, watched):
        while self.iiter < niter and not self._converged:
            self._finish_save(wait=False)
            if not watched:
                self._advance(show)
                continue
            x = self.step(x, show=show)
            x = x[0] if isinstance(x, tuple) else x  # PyLops' ISTA/FISTA return (x, ..., xupdate)
            self.callback(x)
            if self.callbacks and any(getattr(cb, "stop", False) for cb in self.callbacks):
                break
        self._check(show)

    def _recover(self, err):
        """After a lost worker: back to the copy of the state kept at the last check (or the
        checkpoint), on a new layout over the workers left; else a clear error."""
        name = type(self).__name__
        snap, source = getattr(self, "_snapshot", None), "the copy kept at the last check"
        if snap is None and getattr(self, "_store", None) is not None:
            snap, source = self._store.load(), f"the checkpoint {self.checkpoint!r}"
        if snap is None or self._recoveries >= 3:
            why = ("no copy of it was kept (copies are kept on clusters of two "
                   "workers or more)" if snap is None else "it was lost 3 times in this solve")
            raise RuntimeError(
                f"{name}: a worker was lost with part of the solver's state near iteration "
                f"{self.iiter} ({type(err).__name__}: {err}), and {why}. Call the solver again; "
                "with checkpoint=PATH the state is saved at checks and a new call resumes "
                "from the last save") from err
        self._recoveries += 1
        self._pending = None  # a save being written may have lost its chunks
        attrs = snap.attrs if isinstance(snap, Snapshot) else snap[0]
        log.warning("%s: a worker was lost near iteration %d (%s); going back to iteration %d "
                    "from %s", name, self.iiter, type(err).__name__, attrs["iiter"], source)
        try:
            vectors = snap.vectors() if isinstance(snap, Snapshot) else snap[1]
            self.vs = self._space()
            vars(self).update(restore_state(self, attrs, vectors))
            if self.iiter == 0:  # back before the first check: its first values again
                names = self._extra_names
                self._extras = (names, self.vs.fetch_later(*[self.st[n] for n in names]))
        except lost_data_errors() as again:
            raise RuntimeError(
                f"{name}: a worker was lost near iteration {self.iiter} and {source} was lost "
                "too (more than one worker gone?). Call the solver again; with checkpoint=PATH "
                "the state is saved on disk at checks and a new call resumes from the last "
                "save") from again
        if getattr(self, "_keeper", None) is not None:
            # the copy just used may be left on one worker: the state it gave, on two again
            try:
                self._keep_copy()
            except lost_data_errors():
                pass  # lost again: the next check says so, and the copy before is still kept

    def callback(self, x, *args, **kwargs):
        """Called after every step with the lazy model (PyLops' hook)."""

    def _finish(self, x):
        """The result on chunks of its own (the solver's states may go), and the space released."""
        if any(persisted_chunks(b) is None for b in _arrays_of(x)):
            # a collective rank holds its slab: nothing to send to the cluster
            (x,) = dask.persist(x, scheduler="sync" if in_rank() else None)
        self.vs.release()
        return x

    def _check_final(self):
        """After manual ``step`` calls: check the last step (one round trip) if not done yet."""
        if self._checked != self.iiter:
            self._check(False)

    def _print_row_x0(self, x0v):
        if isinstance(x0v, complex):
            return f"{x0v:1.2e}   "
        return f"{x0v:11.4e}        "

    def _elapsed(self):
        self.tend = time.time()
        self.telapsed = self.tend - self.tstart


def _snapshot_client():
    """The client whose workers keep a copy of the state at each check (to survive the loss
    of one), or None: local schedulers, a single worker, or
    ``dask.config.set({"pylops_distributed.recovery": False})``."""
    if not dask.config.get("pylops_distributed.recovery", True) or in_rank():
        return None
    try:
        client = Runner().client
    except Unsupported:
        return None
    if client is None or len(client.scheduler_info(n_workers=-1)["workers"]) < 2:
        return None
    return client


def _lists_in(obj):
    """The lists among an object's attributes and in its dict attributes (a callback's
    records)."""
    for v in getattr(obj, "__dict__", {}).values():
        if isinstance(v, list):
            yield v
        elif isinstance(v, dict):
            yield from (w for w in v.values() if isinstance(w, list))


def _arrays_of(x):
    """The dask arrays of a result (an array, a StackedArray or a tuple of them)."""
    if isinstance(x, (tuple, list)):
        return [a for v in x for a in _arrays_of(v)]
    if x is None:
        return []
    return list(x.blocks) if isinstance(x, StackedArray) else [x]


def stopped_at(stop, it, value, tol):
    """The iteration where ``value <= tol`` first held (``stop`` when already known), else -1:
    PyLops' loop condition, evaluated in the step's graph."""
    if stop >= 0:
        return stop
    return it if value <= tol else -1.0


def active(stop):
    """1 while the solver runs, 0 once stopped: the later steps of a check interval leave the
    state as it was (PyLops' iterate, with no extra round trip)."""
    return 1.0 if stop < 0 else 0.0


def sqrt0(v):
    """``sqrt`` of a non-negative real, 0 for tiny negative rounding."""
    return math.sqrt(max(v, 0.0))
