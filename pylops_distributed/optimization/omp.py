r"""Orthogonal Matching Pursuit (OMP) and Matching Pursuit (MP, ``niter_inner=0``), as
:func:`pylops.optimization.sparsity.omp` and :class:`pylops.optimization.cls_sparsity.OMP`.

What moves where, per outer iteration (one blocking round trip, counted in
``pylops_distributed.optimization._space.ROUND_TRIPS``; one more at setup):

- on the cluster, in the operator's data chunks (``y`` is rechunked to them once): the
  residual ``r``, the new column ``Op e_j`` (``Op`` on a one-hot vector made on the workers),
  MP's update ``r - c Op e_j`` (and ``optimal_coeff``'s two dot products);
- on the cluster, in the model's chunks: ``Op^H r`` (over the column norms with
  ``normalizecols``), reduced per chunk to its largest magnitude and the entries that reach
  it, then in one small task to the chosen column;
- in one task on one worker (OMP): the dense selected columns (``n_data x ncols``,
  ``ncols <= niter_outer``, kept there and grown by one column per iteration) and ``y``
  (gathered there once). SciPy's ``lsqr`` (``engine="scipy"``) or PyLops' ``cgls``
  (``"pylops"``, and on CuPy) runs there as PyLops runs it on ``Op.apply_columns(cols)``,
  giving ``x``, ``y - A x`` (cut back into the data's chunks) and its norm;
- back to the client: the residual norm (``cost``, for ``sigma``), the OMP coefficients
  (``ncols`` numbers) or the MP one, and the next column (index, number of tied maxima, which
  one was drawn, ``Op^H r`` there).

Ties: PyLops draws among equal maxima with ``np.random.permutation(nties)[0]``. The draw is
made on the cluster from a copy of the client's global random state, and the client makes the
same call when the step runs (so the global state advances as in PyLops); if the state changed
in between (a callback drawing random numbers), the drawn index is fetched (one more trip).
The next column comes with each residual norm (not after the last iteration), so the step
that meets ``sigma`` (or a callback's stop) computes one ``Op^H r`` for nothing.
"""

import inspect
import logging
import time
import uuid

import dask
import dask.array as da
import numpy as np
from dask.base import tokenize
from pylops.optimization import basic as _pylops_basic
from pylops.optimization.cls_sparsity import OMP as _PyLopsOMP
from pylops.optimization.callback import (CostNanInfCallback, CostToDataCallback,
                                          CostToInitialCallback)
from scipy.sparse.linalg import lsqr as _scipy_lsqr

from pylops_distributed._arrays import get_array_module, meta_like
from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization._outer_checkpoint import outer_checkpoint
from pylops_distributed._held import held
from pylops_distributed.optimization._solver import as_vector
from pylops_distributed.optimization._space import ROUND_TRIPS
from pylops_distributed.stacked import StackedArray

__all__ = ["OMP", "omp"]

log = logging.getLogger("pylops_distributed.optimization")

_ENGINES = ("scipy", "pylops")
_FIXED = {"scipy": ("A", "b", "iter_lim"), "pylops": ("Op", "y", "x0", "niter")}


def _flat(v):
    return v.ravel() if isinstance(v, StackedArray) else v.reshape(-1)


def _blocks(a):
    """Chunks as Delayed objects, keeping a persisted array's futures (an optimised
    ``to_delayed`` drops them, and every earlier step is computed again)."""
    return a.to_delayed(optimize_graph=False).ravel().tolist()


def _same(a):
    return a


def _host(a):
    """A small NumPy copy of a NumPy or CuPy array."""
    return a.get() if hasattr(a, "get") else np.asarray(a)


# --- tasks (run on the workers) -------------------------------------------------------------

def _block_top(b, offset):
    """The block's largest magnitude and the flat indices (and values) that reach it."""
    if b.size == 0:
        return -np.inf, np.zeros(0, int), _host(b)
    a = abs(b)
    top = a.max()  # NaN propagates, as in PyLops' max
    idx = get_array_module(b).flatnonzero(a == top)
    return float(top), _host(idx) + offset, _host(b[idx])


def _pick(tops, state, draw, dtype):
    """The chosen column as ``[index, nties, draw, (Op^H r)[index]]``: among the entries at
    the global largest magnitude (none if it is NaN), PyLops' draw
    ``np.random.permutation(nties)[0]`` from the client's random ``state``."""
    top = np.max([t[0] for t in tops])
    ties = [t for t in tops if t[0] == top]
    idx = np.concatenate([t[1] for t in ties]) if ties else np.zeros(0, int)
    if idx.size == 0:
        return np.array([-1, 0, -1, np.nan], dtype=dtype)
    if draw is None:
        rs = np.random.RandomState()
        rs.set_state(state)
        draw = int(rs.permutation(idx.size)[0])
    value = np.concatenate([t[2] for t in ties])[draw]
    return np.array([idx[draw], idx.size, draw, value], dtype=dtype)


def _append(A, *col):
    """The dense selected columns with one more (C order, as PyLops' ``Op.A[:, cols]``)."""
    xp = get_array_module(col[0])
    c = xp.concatenate(col)[:, None]
    return c if A is None else xp.concatenate([A, c], axis=1)


def _inner(y, A, engine, niter, kwargs, dtype, rdtype):
    """PyLops' OMP update on the dense columns: ``x``, ``y - A x`` (as ``rdtype``, its dtype
    there) and its norm."""
    xp = get_array_module(A)
    if engine == "scipy" and xp is np:
        x = _scipy_lsqr(A, y, iter_lim=niter, **kwargs)[0]
    else:
        from pylops import MatrixMult

        x = _pylops_basic.cgls(MatrixMult(A, dtype=dtype), y, xp.zeros(A.shape[1], dtype=dtype),
                               niter=niter, **kwargs)[0]
    r = (y - A @ x).astype(rdtype, copy=False)
    return _host(x), r, float(xp.linalg.norm(r))


def _scatter(cols, vals, out_dtype, like, block_info=None):
    """A chunk of the flat vector with ``vals`` at ``cols``, zeros elsewhere (an array of
    ``like``'s module: NumPy or CuPy)."""
    xp = get_array_module(like)
    start, stop = block_info[None]["array-location"][0]
    out = xp.zeros(stop - start, dtype=out_dtype)
    keep = (cols >= start) & (cols < stop)
    out[xp.asarray(cols[keep] - start)] = xp.asarray(vals[keep].astype(out_dtype))
    return out


def _inner_engine(name, engine, kwargs, y, niter_inner):
    """The inner solver (``"pylops"`` on CuPy chunks, as PyLops); an unknown engine or
    arguments it does not take (OMP; MP has none) are refused before any work."""
    if engine not in _ENGINES:
        raise ValueError(f"{name}: engine must be 'scipy' or 'pylops', got {engine!r}")
    if get_array_module(y) is not np:
        engine = "pylops"
    fn = _scipy_lsqr if engine == "scipy" else _pylops_basic.cgls
    known = set(inspect.signature(fn).parameters) - set(_FIXED[engine])
    bad = sorted(set(kwargs) - known) if niter_inner > 0 else []
    if bad:
        raise TypeError(f"{name}: {fn.__module__}.{fn.__name__} (engine={engine!r}) takes "
                        f"no argument {', '.join(map(repr, bad))}; it takes "
                        f"{', '.join(sorted(known))}")
    return engine


def _fetch(*objs):
    """Values of (persisted) small results: the one blocking round trip."""
    ROUND_TRIPS[0] += 1
    return dask.compute(*objs)


class OMP(_PyLopsOMP):
    r"""Orthogonal Matching Pursuit, as :class:`pylops.optimization.cls_sparsity.OMP`.

    Solves :math:`\min \|\mathbf{x}\|_0` subject to
    :math:`\|\mathbf{Op}\,\mathbf{x} - \mathbf{y}\|_2 \le \sigma` greedily: each outer iteration
    adds the column :math:`\arg\max_j |\mathbf{Op}^{jH}\mathbf{r}|` and refits the selected
    columns (``niter_inner`` iterations of SciPy's ``lsqr`` or PyLops' ``cgls``); with
    ``niter_inner=0``, Matching Pursuit updates one coefficient (by the correlation, or by the
    optimal coefficient with ``optimal_coeff``).

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to invert (ideally square or underdetermined).
    callbacks : sequence of pylops.optimization.callback.Callbacks, optional
        Called around ``setup``, every ``step`` and ``run``.

    Notes
    -----
    ``x`` and ``cols`` in ``step``, ``run`` and the callbacks are PyLops' (on the client);
    ``res`` is the residual (a persisted dask array), ``cost`` the residual norms. One blocking
    round trip per outer iteration and one at setup (module notes: what moves where).
    """

    def __init__(self, Op, callbacks=None):
        super().__init__(aslinearoperator(Op), callbacks)

    def setup(self, y, niter_outer=10, niter_inner=40, sigma=1e-4, normalizecols=False,
              Opbasis=None, optimal_coeff=False, preallocate=False, show=False):
        r"""Checks, then one round trip (``||y||`` and the first column).

        Parameters
        ----------
        y : array-like
            Data (dask, NumPy or CuPy), flat or of shape ``Op.dimsd``.
        niter_outer, niter_inner, sigma, normalizecols, Opbasis, optimal_coeff, preallocate, show
            As PyLops' (``niter_inner=0``: Matching Pursuit). The column norms of ``Opbasis``
            (``normalizecols``) are computed on the cluster, by chunks of columns.
        """
        name = type(self).__name__
        for key, value in dict(niter_outer=niter_outer, niter_inner=niter_inner).items():
            if isinstance(value, bool) or int(value) != value or value < 0:
                raise ValueError(f"{name}: {key} must be an integer >= 0, got {value!r}")
        if not sigma >= 0:
            raise ValueError(f"{name}: sigma must be >= 0, got {sigma!r}")
        Op = self.Op
        Opbasis = Op if Opbasis is None else aslinearoperator(Opbasis)
        if normalizecols and Opbasis.shape[1] != Op.shape[1]:
            raise ValueError(f"{name}: Opbasis has {Opbasis.shape[1]} columns, Op has "
                             f"{Op.shape[1]}")
        y = held(as_vector(y, Op.dimsd, Op.chunks, f"{name}: y")[0])
        self.niter_outer, self.niter_inner, self.sigma = int(niter_outer), int(niter_inner), sigma
        self.normalizecols, self.Opbasis = normalizecols, Opbasis
        self.optimal_coeff, self.preallocate, self.ncp = optimal_coeff, preallocate, np
        self._salt = uuid.uuid4().hex  # this solve's keys
        self._mchunks = _flat(Op.rmatvec(_flat(y))).chunks
        e = da.zeros(Op.shape[1], chunks=self._mchunks, dtype=Op.dtype)
        # y in the operator's data chunks; this solve's own keys from here on
        self.y = self._own(_flat(y), "y").rechunk(_flat(Op.matvec(e)).chunks)
        self.norms = self._own(self._column_norms(), "norms") if normalizecols else None
        self._A = None  # the selected columns, dense, on one worker (OMP)
        self._y1 = self.y.rechunk(-1) if self.niter_inner > 0 else None
        c = self._correlation(self.y) if self.niter_outer > 0 else None
        sel = None if c is None else self._selection(c)
        cost0 = da.sqrt((abs(self.y) ** 2).sum())
        self.y, self.norms, self._y1, self._c, sel, cost0 = dask.persist(
            self.y, self.norms, self._y1, c, sel, cost0)
        self.res = self.y
        cost0, self._sel = _fetch(cost0, sel)
        self.cost = [float(cost0)]
        self.iiter = 0
        if show:
            self._print_setup()

    def _own(self, a, what):
        """``a`` under keys of this solve (the scheduler must never see one key standing for
        two tasks: the same input, fused differently in another solve, would be that)."""
        return a.map_blocks(_same, name=f"omp-{what}-{self._salt}", meta=a._meta)

    def _column_norms(self):
        """``||Opbasis e_j||`` for every column, on the cluster (float64, as PyLops)."""
        Ob, m = self.Opbasis, self.Opbasis.shape[1]
        E = da.eye(m, chunks=max(1, min(m, 2**23 // max(m, Ob.shape[0]))), dtype=Ob.dtype)
        norms = da.sqrt((abs(Ob.matmat(E)) ** 2).sum(axis=0)).astype(np.float64)
        return norms.rechunk(self._mchunks)

    def _correlation(self, r):
        """Lazy ``Op^H r`` (divided by the column norms with ``normalizecols``), flat."""
        c = _flat(self.Op.rmatvec(r))
        self._cdtype = np.result_type(c.dtype, np.float64) if self.normalizecols else c.dtype
        return c / self.norms if self.normalizecols else c

    def _selection(self, c, draw=None):
        """Lazy choice of the next column from ``c``: per chunk its largest magnitude and
        where it is reached, then :func:`_pick` (new keys: a draw asked again is a new graph)."""
        blocks = _blocks(c)
        offsets = np.cumsum((0,) + c.chunks[0][:-1]).tolist()
        tops = [dask.delayed(_block_top, pure=False)(b, o) for b, o in zip(blocks, offsets)]
        state = np.random.get_state() if draw is None else None
        dtype = np.result_type(c.dtype, np.float64)
        pick = dask.delayed(_pick, pure=False)(tops, state, draw, dtype)
        return da.from_delayed(pick, (4,), dtype=dtype, meta=np.empty(0, dtype))

    def _choose(self):
        """PyLops' draw among tied maxima (the same ``np.random`` call), and the column."""
        if self._sel is None:  # a step past the planned ones: ask now
            (self._c,) = dask.persist(self._correlation(self.res))
            (self._sel,) = _fetch(self._selection(self._c))
        imax, nimax, drawn, value = self._decode(self._sel)
        self._sel = None
        if nimax == 0:
            raise FloatingPointError(f"{type(self).__name__}: Op^H r has NaN entries at "
                                     f"iteration {self.iiter}: no column can be chosen")
        draw = int(np.random.permutation(nimax)[0])
        if draw != drawn:  # the random state changed since the draw was made: ask again
            log.info("OMP: the global random state changed between steps; one more round trip")
            imax, _, _, value = self._decode(_fetch(self._selection(self._c, draw))[0])
        return imax, value

    def _decode(self, sel):
        """``(index, nties, draw, value)``, the value in the dtype of PyLops' ``cres``."""
        imax, nimax, drawn = (int(np.real(v)) for v in sel[:3])
        return imax, nimax, drawn, self._cdtype.type(sel[3])

    def _vector(self, cols, vals, name=None):
        """A lazy model-size vector, ``vals`` at ``cols``, built on the workers."""
        return da.map_blocks(_scatter, cols=np.asarray(cols, dtype=int), vals=np.asarray(vals),
                             out_dtype=self.Op.dtype, like=meta_like(self.y._meta, self.Op.dtype, 1),
                             dtype=self.Op.dtype, chunks=self._mchunks, name=name,
                             meta=meta_like(self.y._meta, self.Op.dtype, 1))

    def _column(self, j):
        """Lazy column ``j`` of ``Op`` (on a one-hot vector), with keys of this step's own
        (the scheduler must not see one key for two different tasks in two graphs)."""
        e = self._vector([j], [1], name=f"omp-unit-{tokenize(self._salt, self.iiter, j)}")
        return _flat(self.Op.matvec(e))

    def step(self, x, cols, engine="scipy", show=False, **kwargs_solver):
        r"""One outer iteration (one round trip): add a column, update the coefficients.

        ``x`` and ``cols`` are PyLops' (coefficients and indices of the selected columns;
        ``cols`` grows in place); ``engine``: SciPy's ``lsqr`` (``"scipy"``) or PyLops'
        ``cgls`` (``"pylops"``, always on CuPy), run with ``**kwargs_solver``. Returns the
        updated ``(x, cols)``.
        """
        engine = _inner_engine("OMP", engine, kwargs_solver, self.y, self.niter_inner)
        if self.preallocate and engine == "pylops":
            kwargs_solver["preallocate"] = True
        imax, value = self._choose()
        addnew = imax not in cols
        if addnew:
            cols.append(int(imax))
        lazy, keep = {}, {}
        if self.niter_inner == 0:
            col = self._column(imax)
            if self.optimal_coeff:
                value = lazy["c"] = (col.conj() * self.res).sum() / (col.conj() * col).sum()
            r = self.res - col * value
            if r.dtype != self.res.dtype and np.can_cast(r.dtype, self.res.dtype, "same_kind"):
                r = r.astype(self.res.dtype)  # PyLops updates res in place
            lazy["cost"] = da.sqrt((abs(r) ** 2).sum())
        else:
            if addnew:
                col = self._column(imax)
                A = dask.delayed(_append, pure=False)(
                    None if self._A is None else _blocks(self._A)[0], *_blocks(col))
                self._A = keep["A"] = da.from_delayed(
                    A, (self.y.size, len(cols)), dtype=col.dtype,
                    meta=meta_like(self.y._meta, col.dtype, 2))
            dtype = np.result_type(self.y.dtype, self.Op.dtype, np.float64 if engine == "scipy"
                                   else self.Op.dtype)
            out = dask.delayed(_inner, pure=False, nout=3)(
                _blocks(self._y1)[0], _blocks(self._A)[0], engine, self.niter_inner,
                kwargs_solver, self.Op.dtype, dtype)
            lazy["x"] = da.from_delayed(out[0], (len(cols),), dtype=dtype, meta=np.empty(0, dtype))
            lazy["cost"] = da.from_delayed(out[2], (), dtype=float, meta=np.empty((), float))
            r = da.from_delayed(out[1], (self.y.size,), dtype=dtype,
                                meta=meta_like(self.y._meta, dtype, 1)).rechunk(self.y.chunks)
        keep["res"] = r
        if self.iiter + 1 < self.niter_outer:
            keep["c"] = self._correlation(r)
            lazy["sel"] = self._selection(keep["c"])
        done = dict(zip([*keep, *lazy], dask.persist(*keep.values(), *lazy.values())))
        self.res, self._A, self._c = done["res"], done.get("A", self._A), done.get("c")
        vals = dict(zip(lazy, _fetch(*[done[k] for k in lazy])))
        self._sel = vals.get("sel")
        if self.niter_inner > 0:
            x = vals["x"]
        elif addnew:
            x.append(vals.get("c", value))
        else:
            x[cols.index(imax)] += vals.get("c", value)
        self.iiter += 1
        self.cost.append(float(vals["cost"]))
        if show:
            self._print_step(x)
        return x, cols

    def run(self, x, cols, engine="scipy", show=False, itershow=(10, 10, 10), **kwargs_solver):
        """Outer iterations until ``niter_outer``, a residual norm ``<= sigma``, or a
        callback's ``stop``; returns ``(x, cols)``."""
        _inner_engine(type(self).__name__, engine, kwargs_solver, self.y, self.niter_inner)
        ck = getattr(self, "_checkpoint", None)
        saved = ck.resume() if ck is not None else None
        if saved is not None:
            x, cols = self._resume(*saved)
        while self.iiter < self.niter_outer and self.cost[self.iiter] > self.sigma:
            showstep = show and (self.iiter < itershow[0]
                                 or self.niter_outer - self.iiter < itershow[1]
                                 or self.iiter % itershow[2] == 0)
            x, cols = self.step(x, cols, engine, showstep, **kwargs_solver)
            if ck is not None:
                ck.save({"iiter": self.iiter, "cost": self.cost, "x": x, "cols": cols},
                        {"res": self.res, **({"A": self._A} if self._A is not None else {})})
            self.callback(x, cols)
            if self.callbacks and any(getattr(cb, "stop", False) for cb in self.callbacks):
                break
        if ck is not None:
            ck.close()
        return x, cols

    def _resume(self, numbers, vectors):
        """The state of a save: the residual and the selected columns (``A``) back, the next
        column to be chosen asked again (one more round trip, at the first step)."""
        self.iiter, self.cost = numbers["iiter"], numbers["cost"]
        self.res = self._own(vectors["res"].rechunk(self.y.chunks), "res").persist()
        if "A" in vectors:
            self._A = vectors["A"].rechunk(-1)
        self._c = self._sel = None
        x = numbers["x"]
        return (list(x) if isinstance(x, (list, tuple)) else x), list(numbers["cols"])

    def finalize(self, x, cols, show=False):
        """The model: ``x`` at ``cols``, zeros elsewhere, a lazy dask array of size
        ``Op.shape[1]`` in the model's chunks (built on the workers from ``x``)."""
        self.tend = time.time()
        self.telapsed = self.tend - self.tstart
        self.cost = np.array(self.cost)
        self.nouter = self.iiter
        xfin = self._vector(cols, np.asarray(x).reshape(-1))
        if show:
            self._print_finalize(nbar=55)
        return xfin

    def solve(self, y, niter_outer=10, niter_inner=40, sigma=1e-4, normalizecols=False,
              Opbasis=None, optimal_coeff=False, engine="scipy", preallocate=False, show=False,
              itershow=(10, 10, 10), checkpoint=None, checkpoint_every=1, **kwargs_solver):
        """Run the whole solver; returns ``(x, niter_outer, cost)`` as PyLops. With
        ``checkpoint`` (a folder), the state is saved every ``checkpoint_every`` outer
        iterations, and a call with the same folder resumes from the newest save."""
        _inner_engine(type(self).__name__, engine, kwargs_solver, y, niter_inner)  # before setup
        self.setup(y, niter_outer=niter_outer, niter_inner=niter_inner, sigma=sigma,
                   normalizecols=normalizecols, Opbasis=Opbasis, optimal_coeff=optimal_coeff,
                   preallocate=preallocate, show=show)
        params = dict(niter_inner=niter_inner, sigma=sigma, normalizecols=normalizecols,
                      Opbasis=Opbasis, optimal_coeff=optimal_coeff, engine=engine,
                      kwargs_solver=kwargs_solver)
        self._checkpoint = outer_checkpoint(self, checkpoint, checkpoint_every, params,
                                            self.cost[0] ** 2)
        x, cols = self.run([], [], engine=engine, show=show, itershow=itershow, **kwargs_solver)
        return self.finalize(x, cols, show), self.nouter, self.cost


class _CostToData(CostToDataCallback):
    """PyLops' callback, with ``||y||`` from the setup's cost (no extra compute)."""

    def on_setup_end(self, solver, x):
        self.ynorm = solver.cost[0]


def omp(Op, y, niter_outer=10, niter_inner=40, sigma=1e-4, rtol=0.0, rtol1=0.0,
        normalizecols=False, Opbasis=None, optimal_coeff=False, engine="scipy", show=False,
        itershow=(10, 10, 10), callback=None, preallocate=False, checkpoint=None,
        checkpoint_every=1, **kwargs_solver):
    r"""Orthogonal Matching Pursuit (see :class:`OMP`), as
    :func:`pylops.optimization.sparsity.omp`: one blocking round trip per outer iteration, plus
    one at setup.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to invert.
    y : array-like
        Data (dask, NumPy or CuPy), flat or of shape ``Op.dimsd``.
    niter_outer, niter_inner, sigma : int, int, float, optional
        Outer iterations, inner iterations (0: Matching Pursuit), residual norm to reach.
    rtol, rtol1 : float, optional
        Stop below that fraction of the initial residual norm, or of ``||y||``.
    normalizecols, Opbasis, optimal_coeff, show, itershow, preallocate : optional
        As PyLops'.
    engine : {"scipy", "pylops"}, optional
        Inner solver: SciPy's ``lsqr`` or PyLops' ``cgls`` (always ``cgls`` on CuPy).
    callback : callable, optional
        ``callback(x, cols)`` after every step, as PyLops.
    checkpoint : str or os.PathLike, optional
        A folder (local path or fsspec URL) where the state (coefficients, selected columns,
        residual, costs) is saved every ``checkpoint_every`` outer iterations; a call with
        the same folder resumes from the newest save with the result of an uninterrupted run
        (ties between columns are drawn from ``np.random`` as PyLops does: seed it for the
        same draws); a folder written by another problem raises ``ValueError``.
    checkpoint_every : int, optional
        Outer iterations between two saves (default 1).
    **kwargs_solver
        Arguments of the inner solver (PyLops' ``step`` takes them).

    Returns
    -------
    x : dask.array.Array
        Estimated model, flat (``Op.shape[1]``), in the model's chunks.
    niter_outer : int
        Number of outer iterations run.
    cost : numpy.ndarray
        Residual norms, from ``||y||``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.omp import omp
    >>> A = np.random.default_rng(0).standard_normal((30, 50))
    >>> xtrue = np.zeros(50); xtrue[[3, 17, 40]] = [1.0, -2.0, 1.5]
    >>> Op = pld.MatrixMult(da.from_array(A, chunks=(10, 50)))
    >>> x, nouter, cost = omp(Op, da.from_array(A @ xtrue, chunks=10), niter_outer=10)
    >>> nouter, np.flatnonzero(x.compute()).tolist()
    (3, [3, 17, 40])
    >>> bool(np.allclose(x.compute(), xtrue)), bool(cost[-1] < 1e-4)
    (True, True)
    """
    callbacks = [CostNanInfCallback()]
    if rtol > 0.0:
        callbacks.append(CostToInitialCallback(rtol))
    if rtol1 > 0.0:
        callbacks.append(_CostToData(rtol1))
    solver = OMP(Op, callbacks=callbacks)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y, niter_outer=niter_outer, niter_inner=niter_inner, sigma=sigma,
                        normalizecols=normalizecols, Opbasis=Opbasis, optimal_coeff=optimal_coeff,
                        engine=engine, preallocate=preallocate, show=show, itershow=itershow,
                        checkpoint=checkpoint, checkpoint_every=checkpoint_every, **kwargs_solver)
