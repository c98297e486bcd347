r"""CG, CGLS and LSQR that bring data to the client only at convergence checks.

Each iteration builds the next state lazily and persists it (with a distributed client
``persist`` returns at once, so the client runs ahead of the workers and the graph never
grows); step scalars stay lazy 0-d dask arrays. Every ``check_every`` iterations, and at the
end, one round trip brings a few scalars back as Python floats: ``tol`` is tested, ``cost``
records them, ``show=True`` prints a row of PyLops' table, and NaN/Inf raise
:class:`FloatingPointError`.

Signatures and returns follow :mod:`pylops.optimization.basic` (PyLops 2.x), plus
``check_every``. Differences, all due to checking only every ``check_every`` iterations:

- ``tol`` (and LSQR's ``atol``/``btol``/``conlim``) are tested at checks, so a solver stops at
  the first check after the criterion is met (``iit`` says how many iterations ran);
- ``cost`` holds the values seen at checks (iteration 0, then every check);
  ``solver.cost_iters`` lists their iteration numbers;
- ``show=True`` prints the table rows at checks; ``itershow`` is accepted and ignored;
- ``x`` comes back as a (persisted) dask array or :class:`~pylops_distributed.StackedArray`,
  N-D of shape ``Op.dims`` (flat when ``y`` was given flat).

Operators the fused engine (:mod:`pylops_distributed.optimization._fused`) knows run CGLS
with two tasks per chunk per iteration; any other operator runs through dask.array
expressions (``dask.config.set({"pylops_distributed.fused": False})`` forces that path).
"""

import math
import time

import dask.array as da
import numpy as np
from pylops.optimization.basesolver import Solver

from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization import _fused
from pylops_distributed.optimization._vec import (as_vector, conform, dot, fetch, first,
                                                  is_complex, persist, sqnorm, zeros_like)
from pylops_distributed.stacked import StackedArray

__all__ = ["CG", "CGLS", "LSQR", "cg", "cgls", "lsqr"]

_TINY = np.finfo(np.float64).tiny


def _safe_div(n, d):
    """Lazy ``n / d`` that is 0 where ``d`` is 0 (an exact solution stays put, no NaN)."""
    return n / da.maximum(d, _TINY).astype(d.dtype)


def _real_dtype(dtype):
    return np.empty(0, dtype).real.dtype


def _predicted_memory(name, Op, nmodel, ndata, show, unit):
    """Bytes of ``nmodel`` model-size and ``ndata`` data-size vectors, as PyLops' memory_usage."""
    memuse = (nmodel * Op.shape[1] + ndata * Op.shape[0]) * np.dtype(Op.dtype).itemsize
    if show:
        scale = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30}[unit]
        print(f"{name} predicted memory usage: {memuse / scale:.2f} {unit}")
    return memuse


class _CheckedSolver(Solver):
    """Shared machinery: input conversion, the convergence check and the run loop."""

    _nbar = 65

    def __init__(self, Op, callbacks=None):
        super().__init__(aslinearoperator(Op), callbacks)

    # --- inputs ------------------------------------------------------------------------------
    def _inputs(self, y, x0, check_every):
        if int(check_every) < 1:
            raise ValueError(f"{type(self).__name__}: check_every must be an integer >= 1, "
                             f"got {check_every!r}")
        self.check_every = int(check_every)
        self.y, self._flat = as_vector(y, self.Op.dimsd, self.Op.chunks,
                                       f"{type(self).__name__}: y")
        self.x0 = None
        if x0 is not None:
            self.x0, _ = as_vector(x0, self.Op.dims, self.Op.chunks, f"{type(self).__name__}: x0")
        self._rdtype = _real_dtype(np.result_type(self.y.dtype, self.Op.dtype))
        self.cost, self.cost_iters = [], []
        self.iiter = 0
        self._checked = -1
        self._converged = False
        self._setup_scalars = []

    def _output(self, x):
        if self._flat and not isinstance(x, StackedArray):
            return x.reshape(-1)
        return x

    # --- checks ------------------------------------------------------------------------------
    def _lazy_check(self, x, show):
        """Lazy scalars to bring back at a check (solver specific)."""
        raise NotImplementedError

    def _on_check(self, values, x, show):
        raise NotImplementedError

    def _check(self, x, show=False):
        """One blocking round trip: fetch this iteration's scalars, test them and ``tol``."""
        if self._checked == self.iiter:
            return
        lazy = self._lazy_check(x, show)
        extra = self._setup_scalars
        values = fetch(*extra, *lazy)
        head, values = values[:len(extra)], values[len(extra):]
        if extra:
            self._setup_scalars = []
            self._on_setup_values(head)
        bad = [v for v in np.ravel(np.concatenate([np.ravel(v) for v in values]))
               if not np.isfinite(v)] if values else []
        if bad:
            since = max(self._checked, 0)
            raise FloatingPointError(
                f"{type(self).__name__}: the residual became {bad[0]} between iterations {since} "
                f"and {self.iiter} (checked every {self.check_every}); the operator produced NaN "
                f"or Inf from finite data: check the operator and its parameters")
        self._checked = self.iiter
        self._on_check(values, x, show)

    def _on_setup_values(self, values):
        """First check: the norms of y (and x0) must be finite."""
        names = ["data y", "initial guess x0"]
        for name, v in zip(names, values):
            if not np.isfinite(v):
                raise FloatingPointError(f"{type(self).__name__}: the {name} contains NaN or Inf "
                                         f"(its squared norm is {v}); clean it before solving")

    def _lazy_inputs_norms(self):
        lazy = [sqnorm(self.y)]
        if self.x0 is not None:
            lazy.append(sqnorm(self.x0))
        return lazy

    # --- loop --------------------------------------------------------------------------------
    def step(self, x, show=False):
        r"""Run one lazy step; every ``check_every`` steps, check convergence (one round trip).

        Parameters
        ----------
        x : dask.array.Array or StackedArray
            Current model.
        show : bool, optional
            Print the table row when this step is a check.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Updated model (persisted, lazy).
        """
        x = self._step(x)
        self.iiter += 1
        self._x_last = x
        if self.iiter % self.check_every == 0:
            self._check(x, show)
        return x

    def run(self, x, niter=None, show=False, itershow=(10, 10, 10)):
        r"""Run steps until ``niter``, a met tolerance at a check, or a callback's ``stop``.

        Parameters
        ----------
        x : dask.array.Array or StackedArray
            Current model.
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
        niter = self.niter if niter is None else niter
        if niter is None:
            raise ValueError(f"{type(self).__name__}.run: niter must not be None")
        self.niter = niter
        # nobody looks at the iterates between checks: the solver may run them in one go
        batch = (not self.callbacks and "callback" not in vars(self)
                 and type(self).callback is _CheckedSolver.callback
                 and type(self).step is _CheckedSolver.step)
        while self.iiter < niter and not self._converged:
            k = min(niter - self.iiter, self.check_every - self.iiter % self.check_every)
            many = self._steps(x, k) if batch and k > 1 else None
            if many is not None:
                x = self._x_last = many
                self.iiter += k
                if self.iiter % self.check_every == 0:
                    self._check(x, show)
                continue
            x = self.step(x, show)
            self.callback(x)
            if self.callbacks and any(getattr(cb, "stop", False) for cb in self.callbacks):
                break
        self._check(x, show)
        return x

    def _steps(self, x, k):
        """``k`` steps in one go where the solver can (see :meth:`CGLS._steps`), else None."""
        return None

    def callback(self, x, *args, **kwargs):
        """Called after every step with the lazy model (PyLops' hook)."""

    def _print_row_x0(self, x0v):
        if isinstance(x0v, complex):
            return f"{x0v:1.2e}   "
        return f"{x0v:11.4e}        "


class CG(_CheckedSolver):
    r"""Conjugate gradient for square (Hermitian positive definite) systems.

    Solves :math:`\mathbf{y} = (\mathbf{Op} + \epsilon\mathbf{I})\,\mathbf{x}` as
    :class:`pylops.optimization.basic.CG` does, with data on a Dask cluster.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Square operator (PyLops operators are wrapped with :class:`~pylops_distributed.FromPyLops`).
    callbacks : sequence of pylops.optimization.callback.Callbacks, optional
        Called around ``setup``, every ``step`` and ``run`` with the lazy model.

    Notes
    -----
    One round trip to the client every ``check_every`` iterations and at the end; ``tol``
    is compared with :math:`\|\mathbf{r}\|_2^2` as in PyLops. See the module notes.
    """

    _nbar = 55

    def memory_usage(self, show=False, unit="B"):
        return _predicted_memory("CG", self.Op, 2, 4, show, unit)

    def setup(self, y, x0=None, niter=None, damp=0.0, tol=1e-4, preallocate=False, show=False,
              check_every=10):
        r"""Set up the solver (lazy: nothing is computed).

        Parameters
        ----------
        y : array-like
            Data, of shape ``Op.dimsd`` or flat (NumPy, CuPy or dask).
        x0 : array-like, optional
            Initial guess (default zeros).
        niter : int, optional
            Number of iterations.
        damp : float, optional
            Damping :math:`\epsilon` added to the diagonal.
        tol : float, optional
            Stop at the first check where :math:`\|\mathbf{r}\|_2^2 \le` ``tol``.
        preallocate : bool, optional
            Accepted for PyLops compatibility (dask arrays are immutable).
        show : bool, optional
            Print the table header.
        check_every : int, optional
            Iterations between convergence checks (round trips to the client).

        Returns
        -------
        x : dask.array.Array
            Initial guess.
        """
        self._inputs(y, x0, check_every)
        self.niter, self.damp, self.tol, self.preallocate = niter, damp, tol, preallocate
        if self.x0 is None:
            self.r = self.y
            same = isinstance(self.y, StackedArray) or self.Op.dims == self.Op.dimsd
            x = zeros_like(self.y if same else self.y.reshape(self.Op.dims))
        else:
            x = self.x0
            r = self.y - conform(self.Op.matvec(x), self.y)
            self.r = r - damp * conform(x, r) if damp != 0 else r
        self.c = self.r
        self.kold = sqnorm(self.r)
        x, self.r, self.c, self.kold = persist(x, self.r, self.c, self.kold)
        self._setup_scalars = self._lazy_inputs_norms()
        self._pending = [self.kold]
        if show:
            self._print_setup(is_complex(self.y.dtype))
        self._x_last = x
        return x

    def _step(self, x):
        c = conform(self.c, x)
        Opc = conform(self.Op.matvec(c), self.r)
        if self.damp != 0.0:
            Opc = Opc + self.damp * self.c
        a = _safe_div(self.kold, abs(dot(self.c, Opc))).astype(self._rdtype)
        x = x + a * c
        self.r = self.r - a * Opc
        k = sqnorm(self.r)
        b = _safe_div(k, self.kold).astype(self._rdtype)
        self.c = self.r + b * self.c
        self.kold = k
        x, self.r, self.c, self.kold = persist(x, self.r, self.c, self.kold)
        return x

    def _lazy_check(self, x, show):
        lazy = [self.kold]
        if self._checked < 0 and self.iiter > 0:
            lazy.append(self._pending[0])
        if show:
            lazy.append(first(x))
        return lazy

    def _on_check(self, values, x, show):
        if self.iiter > 0 and not self.cost:
            self.cost.append(math.sqrt(values[1]))
            self.cost_iters.append(0)
        kold = values[0]
        self.cost.append(math.sqrt(kold))
        self.cost_iters.append(self.iiter)
        self._kold_value = kold
        if kold <= self.tol:
            self._converged = True
        if show and self.iiter > 0:
            msg = f"{self.iiter:6g}        " + self._print_row_x0(values[-1]) + f"{self.cost[-1]:11.4e}"
            print(msg)

    def _print_setup(self, xcomplex=False):
        self._print_solver(nbar=55)
        strpar = f"tol = {self.tol:10e}\tniter = {self.niter}\tcheck_every = {self.check_every}"
        print(strpar)
        print("-" * 55 + "\n")
        print("    Itn           x[0]              r2norm" if not xcomplex else
              "    Itn              x[0]                  r2norm")

    def finalize(self, show=False):
        """Finalize: a last check if needed; ``cost`` becomes a NumPy array."""
        self._check_final()
        self.tend = time.time()
        self.telapsed = self.tend - self.tstart
        self.cost = np.array(self.cost)
        if show:
            self._print_finalize(nbar=55)

    def _check_final(self):
        """After manual ``step`` calls: check the last step (one round trip) if not done yet."""
        if self._checked != self.iiter:
            self._check(self._x_last, show=False)

    def solve(self, y, x0=None, niter=10, damp=0.0, tol=1e-4, preallocate=False, show=False,
              itershow=(10, 10, 10), check_every=10):
        r"""Run the whole solver: ``setup``, ``run``, ``finalize``.

        Returns
        -------
        x : dask.array.Array
            Estimated model (persisted).
        iit : int
            Number of executed iterations.
        cost : numpy.ndarray
            :math:`\|\mathbf{r}\|_2` at iteration 0 and at each check.
        """
        x = self.setup(y=y, x0=x0, niter=niter, damp=damp, tol=tol, preallocate=preallocate,
                       show=show, check_every=check_every)
        x = self.run(x, niter, show=show, itershow=itershow)
        self.finalize(show)
        return self._output(x), self.iiter, self.cost


class CGLS(_CheckedSolver):
    r"""Conjugate gradient least squares.

    Minimises :math:`\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|_2^2 + \epsilon^2\|\mathbf{x}\|_2^2`
    as :class:`pylops.optimization.basic.CGLS` does, with data on a Dask cluster.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to invert (VStack/HStack operators give StackedArray vectors).
    callbacks : sequence of pylops.optimization.callback.Callbacks, optional
        Called around ``setup``, every ``step`` and ``run`` with the lazy model.

    Notes
    -----
    ``tol`` is compared with the squared norm of the gradient
    :math:`\|\mathbf{Op}^H\mathbf{s} - \epsilon^2\mathbf{x}\|_2^2`, and ``r1norm`` returns
    it, as in PyLops 2.x. With an operator the fused engine knows (MatrixMult, Diagonal,
    FromPyLops, derivatives and Laplacian, their scaled and summed combinations), each
    iteration is a handful of tasks per chunk; see :mod:`pylops_distributed.optimization._fused`.
    With such an operator on a model in one chunk (one GPU, say) and no callbacks, ``run``
    submits the iterations between two checks as one task: nothing is exchanged between them,
    and each scheduler hop would cost more than the iteration's own work.
    """

    def memory_usage(self, show=False, unit="B"):
        return _predicted_memory("CGLS", self.Op, 5, 3, show, unit)

    def setup(self, y, x0=None, niter=None, damp=0.0, tol=1e-4, preallocate=False, show=False,
              check_every=10):
        r"""Set up the solver (lazy: nothing is computed).

        Parameters
        ----------
        y : array-like
            Data, of shape ``Op.dimsd`` or flat (NumPy, CuPy, dask or StackedArray).
        x0 : array-like, optional
            Initial guess (default zeros).
        niter : int, optional
            Number of iterations.
        damp : float, optional
            Damping :math:`\epsilon`.
        tol : float, optional
            Stop at the first check where the squared gradient norm is ``<= tol``.
        preallocate : bool, optional
            Accepted for PyLops compatibility (dask arrays are immutable).
        show : bool, optional
            Print the table header.
        check_every : int, optional
            Iterations between convergence checks (round trips to the client).

        Returns
        -------
        x : dask.array.Array or StackedArray
            Initial guess.
        """
        self._inputs(y, x0, check_every)
        self.niter, self.tol, self.preallocate = niter, tol, preallocate
        self.damp = damp ** 2.0
        self._engine = _fused.cgls_engine(self.Op, self.y, self.x0, self.damp, self._rdtype)
        if self._engine is not None:
            x = self._engine.setup()
        else:
            Op = self.Op
            if self.x0 is None:
                self.s = self.y
                self.c = Op.rmatvec(self.s)
                x = zeros_like(self.c)
            else:
                x = self.x0
                self.s = self.y - conform(Op.matvec(x), self.y)
                self.c = conform(Op.rmatvec(self.s), x)
                if self.damp != 0:
                    self.c = self.c - self.damp * x
            self.q = Op.matvec(self.c)
            self.s = conform(self.s, self.q)
            self.kold = sqnorm(self.c)
            x, self.s, self.c, self.q, self.kold = persist(x, self.s, self.c, self.q, self.kold)
        self._setup_scalars = self._lazy_inputs_norms()
        self._cost0 = self._lazy_cost(x)
        if show:
            self._print_setup(is_complex(np.result_type(self.y.dtype, self.Op.dtype)))
        self._x_last = x
        return x

    def _step(self, x):
        if self._engine is not None:
            return self._engine.step(x)
        a = _safe_div(self.kold, sqnorm(self.q) + self.damp * sqnorm(self.c)).astype(self._rdtype)
        x = x + a * self.c
        self.s = self.s - a * self.q
        r = conform(self.Op.rmatvec(self.s), x)
        if self.damp != 0:
            r = r - self.damp * x
        k = sqnorm(r)
        b = _safe_div(k, self.kold).astype(self._rdtype)
        self.c = r + b * self.c
        self.q = conform(self.Op.matvec(self.c), self.s)
        self.kold = k
        x, self.s, self.c, self.q, self.kold = persist(x, self.s, self.c, self.q, self.kold)
        return x

    def _steps(self, x, k):
        """A lone chunk's ``k`` iterations as one task (fused engine), else None."""
        if self._engine is not None:
            return self._engine.steps(x, k)
        return None

    def _lazy_cost(self, x):
        """Lazy (kold, ||s||^2, ||x||^2) of the current state."""
        if self._engine is not None:
            return self._engine.scalars(x)
        xn = sqnorm(x) if self.damp != 0 else 0.0
        return [self.kold, sqnorm(self.s), xn]

    def _lazy_check(self, x, show):
        lazy = list(self._lazy_cost(x))
        if not self.cost:
            lazy += list(self._cost0)
        if show:
            lazy.append(first(x))
        return lazy

    def _record(self, kold, s2, x2, iiter):
        self.kold_value = kold
        self.cost.append(math.sqrt(s2))
        self.cost1.append(math.sqrt(s2 + self.damp * x2))
        self.cost_iters.append(iiter)

    def _on_check(self, values, x, show):
        if not self.cost:
            self.cost1 = []
            self._cost0 = None  # fetched: its (setup) states may go
            if self.iiter > 0:
                self._record(*values[3:6], 0)
        self._record(*values[:3], self.iiter)
        if self.kold_value <= self.tol:
            self._converged = True
        if show and self.iiter > 0:
            print(f"{self.iiter:6g}       " + self._print_row_x0(values[-1])
                  + f"{self.cost[-1]:11.4e}    {self.cost1[-1]:11.4e}")

    def _print_setup(self, xcomplex=False):
        self._print_solver(nbar=65)
        print(f"damp = {self.damp:10e}\ttol = {self.tol:10e}\tniter = {self.niter}"
              f"\tcheck_every = {self.check_every}")
        print("-" * 65 + "\n")
        print("    Itn          x[0]              r1norm         r2norm" if not xcomplex else
              "    Itn             x[0]             r1norm         r2norm")

    def finalize(self, show=False):
        """Finalize: reason for termination, ``r1norm``, ``r2norm``; ``cost`` becomes an array."""
        CG._check_final(self)
        self.tend = time.time()
        self.telapsed = self.tend - self.tstart
        if self.kold_value < self.tol:
            self.istop = 1
        elif self.iiter >= self.niter:
            self.istop = 2
        else:
            self.istop = 3
        self.r1norm = self.kold_value
        self.r2norm = self.cost1[-1]
        if show:
            self._print_finalize(nbar=65)
        self.cost = np.array(self.cost)

    def solve(self, y, x0=None, niter=10, damp=0.0, tol=1e-4, preallocate=False, show=False,
              itershow=(10, 10, 10), check_every=10):
        r"""Run the whole solver: ``setup``, ``run``, ``finalize``.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Estimated model (persisted).
        istop : int
            1: ``tol`` met at a check; 2: ``niter`` reached; 3: stopped by a callback.
        iit : int
            Number of executed iterations.
        r1norm : float
            Squared gradient norm at the end (PyLops' ``r1norm`` of CGLS).
        r2norm : float
            :math:`\sqrt{\|\mathbf{r}\|^2 + \epsilon^2\|\mathbf{x}\|^2}` at the end.
        cost : numpy.ndarray
            :math:`\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|_2` at iteration 0 and at each check.
        """
        x = self.setup(y=y, x0=x0, niter=niter, damp=damp, tol=tol, preallocate=preallocate,
                       show=show, check_every=check_every)
        x = self.run(x, niter, show=show, itershow=itershow)
        self.finalize(show)
        if self._engine is not None:
            # the result gets chunks of its own, so that the solver's states (and their
            # recycled buffers) can go now rather than when the user drops x
            (x,) = persist(x)
            self._x_last = x
            self._engine.release()
        return self._output(x), self.istop, self.iiter, self.r1norm, self.r2norm, self.cost


# LSQR's scalar recurrences run in one small task per half-step on a float64 state vector.
_F = ["alfa", "beta", "anorm", "rhobar", "phibar", "ddnorm", "res2", "xxnorm", "z", "cs2", "sn2",
      "xnorm", "acond", "rnorm", "r1norm", "r2norm", "arnorm", "t1", "t2", "inv_rho", "inv_beta",
      "inv_alfa", "bnorm", "arnorm0", "damp"]
_I = {name: i for i, name in enumerate(_F)}


def _lsqr_init(beta2, alfa2, damp):
    st = np.zeros(len(_F))
    beta, alfa = math.sqrt(float(beta2)), math.sqrt(float(alfa2))
    st[_I["damp"]] = damp
    st[_I["beta"]] = st[_I["bnorm"]] = st[_I["phibar"]] = st[_I["rnorm"]] = beta
    st[_I["r1norm"]] = st[_I["r2norm"]] = beta
    st[_I["inv_beta"]] = 1.0 / beta if beta > 0 else 0.0
    if beta == 0:
        alfa = 0.0
    st[_I["alfa"]] = st[_I["rhobar"]] = alfa
    st[_I["inv_alfa"]] = 1.0 / alfa if alfa > 0 else 0.0
    st[_I["arnorm"]] = st[_I["arnorm0"]] = alfa * beta
    st[_I["cs2"]] = -1.0
    return st


def _lsqr_beta(st, beta2):
    """First half-step: the new beta and the running norm of Opbar."""
    st = st.copy()
    beta = math.sqrt(float(beta2))
    st[_I["beta"]] = beta
    if beta > 0:
        st[_I["inv_beta"]] = 1.0 / beta
        st[_I["anorm"]] = math.sqrt(st[_I["anorm"]] ** 2 + st[_I["alfa"]] ** 2 + beta ** 2
                                    + st[_I["damp"]] ** 2)
    else:
        st[_I["inv_beta"]] = 0.0
    return st


def _lsqr_rotate(st, alfa2, w2):
    """Second half-step: new alfa, the plane rotations and the norm estimates (PyLops' order)."""
    s = {name: float(st[i]) for i, name in enumerate(_F)}
    if s["beta"] > 0:
        alfa = math.sqrt(float(alfa2))
        s["alfa"], s["inv_alfa"] = alfa, (1.0 / alfa if alfa > 0 else 0.0)
    damp = s["damp"]
    rhobar1 = math.hypot(s["rhobar"], damp)
    cs1, sn1 = s["rhobar"] / rhobar1, damp / rhobar1
    psi = sn1 * s["phibar"]
    phibar = cs1 * s["phibar"]
    rho = math.hypot(rhobar1, s["beta"])
    cs, sn = rhobar1 / rho, s["beta"] / rho
    theta = sn * s["alfa"]
    s["rhobar"] = -cs * s["alfa"]
    phi = cs * phibar
    s["phibar"] = sn * phibar
    tau = sn * phi
    s["t1"], s["t2"], s["inv_rho"] = phi / rho, -theta / rho, 1.0 / rho
    s["ddnorm"] += float(w2) / rho ** 2
    delta = s["sn2"] * rho
    gambar = -s["cs2"] * rho
    rhs = phi - delta * s["z"]
    zbar = rhs / gambar
    s["xnorm"] = math.sqrt(s["xxnorm"] + zbar ** 2)
    gamma = math.hypot(gambar, theta)
    s["cs2"], s["sn2"] = gambar / gamma, theta / gamma
    s["z"] = rhs / gamma
    s["xxnorm"] += s["z"] ** 2
    s["acond"] = s["anorm"] * math.sqrt(s["ddnorm"])
    res1 = s["phibar"] ** 2
    s["res2"] += psi ** 2
    s["rnorm"] = math.sqrt(res1 + s["res2"])
    s["arnorm"] = s["alfa"] * abs(tau)
    r1sq = s["rnorm"] ** 2 - damp ** 2 * s["xxnorm"]
    s["r1norm"] = math.sqrt(abs(r1sq)) * (-1.0 if r1sq < 0 else 1.0)
    s["r2norm"] = s["rnorm"]
    return np.array([s[name] for name in _F])


def _state_map(fn, *args):
    arrays = [a for a in args if isinstance(a, da.Array)]
    return da.map_blocks(_host_call, fn, *args, dtype=np.float64, chunks=((len(_F),),),
                         meta=np.empty((0,), np.float64), new_axis=0 if arrays[0].ndim == 0 else None,
                         token=fn.__name__.strip("_"))


def _host_call(fn, *args):
    vals = []
    for v in args:
        if hasattr(v, "get") and type(v).__module__.split(".")[0] == "cupy":
            v = v.get()
        vals.append(np.asarray(v))
    return fn(*vals)


class LSQR(_CheckedSolver):
    r"""LSQR (Paige and Saunders) for least-squares problems.

    Minimises :math:`\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|_2^2 + \epsilon^2\|\mathbf{x}\|_2^2`
    as :class:`pylops.optimization.basic.LSQR` does, with data on a Dask cluster.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to invert.
    callbacks : sequence of pylops.optimization.callback.Callbacks, optional
        Called around ``setup``, every ``step`` and ``run`` with the lazy model.

    Notes
    -----
    The scalar recurrences of each iteration (plane rotations, norm and condition
    estimates) run in two small tasks on a float64 state vector; the stopping tests
    (``atol``, ``btol``, ``conlim``) are evaluated on the client at checks.
    """

    def __init__(self, Op, callbacks=None):
        super().__init__(Op, callbacks)
        self.msg = (
            "The exact solution is x = 0                               ",
            "Op x - b is small enough, given atol, btol                 ",
            "The least-squares solution is good enough, given atol     ",
            "The estimate of cond(Opbar) has exceeded conlim            ",
            "Op x - b is small enough for this machine                  ",
            "The least-squares solution is good enough for this machine",
            "Cond(Opbar) seems to be too large for this machine         ",
            "The iteration limit has been reached                      ",
        )

    def memory_usage(self, show=False, unit="B"):
        return _predicted_memory("LSQR", self.Op, 5, 2, show, unit)

    def setup(self, y, x0=None, damp=0.0, atol=1e-08, btol=1e-08, conlim=100000000.0, niter=10,
              calc_var=True, preallocate=False, show=False, check_every=10):
        r"""Set up the solver (lazy, except with ``show=True``, which fetches row 0).

        Parameters
        ----------
        y : array-like
            Data, of shape ``Op.dimsd`` or flat.
        x0 : array-like, optional
            Initial guess (default zeros).
        damp : float, optional
            Damping :math:`\epsilon`.
        atol, btol, conlim : float, optional
            Stopping tolerances, as in PyLops, tested at checks.
        niter : int, optional
            Number of iterations.
        calc_var : bool, optional
            Estimate the diagonal of :math:`(\mathbf{Op}^H\mathbf{Op} + \epsilon^2\mathbf{I})^{-1}`.
        preallocate : bool, optional
            Accepted for PyLops compatibility.
        show : bool, optional
            Print the table header.
        check_every : int, optional
            Iterations between convergence checks.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Initial guess.
        """
        self._inputs(y, x0, check_every)
        self.damp, self.atol, self.btol, self.conlim = damp, atol, btol, conlim
        self.niter, self.calc_var, self.preallocate = niter, calc_var, preallocate
        self.ctol = 1.0 / conlim if conlim > 0 else 0.0
        self.istop = 0
        Op = self.Op
        if self.x0 is None:
            u = self.y
        else:
            u = self.y - conform(Op.matvec(self.x0), self.y)
        beta2 = sqnorm(u)
        inv_beta = 1.0 / da.maximum(da.sqrt(beta2), _TINY)
        u = u * (inv_beta * (beta2 > 0)).astype(self._rdtype)
        v = Op.rmatvec(u)
        alfa2 = sqnorm(v)
        st = _state_map(_lsqr_init_task, beta2, alfa2, float(damp))
        self.u = conform(u, Op.matvec(v))
        self.v = v * self._scalar("inv_alfa", st)
        self.w = self.v
        x = zeros_like(self.v) if self.x0 is None else conform(self.x0, self.v)
        self.var = zeros_like(self.v).real if calc_var else None
        self.st = st
        x, self.u, self.v, self.w, self.st, self.var = persist(x, self.u, self.v, self.w, self.st,
                                                               self.var)
        self._setup_scalars = self._lazy_inputs_norms()
        self._row = None
        self.cost_iters = []
        if show:
            self._check(x, show=False)
            self._print_setup(x, is_complex(self.v.dtype))
        self._x_last = x
        return x

    def _scalar(self, name, st=None):
        """One entry of the state as a lazy NumPy scalar (CuPy chunks take those, not arrays)."""
        st = self.st if st is None else st
        like = self.y.blocks[0] if isinstance(self.y, StackedArray) else self.y
        # the chunk is a NumPy scalar; the meta follows the vectors' array type (NumPy or
        # CuPy) so that dask infers CuPy chunks for the products
        meta = _meta0(like, self._rdtype)
        return da.map_blocks(_pick, st, _I[name], self._rdtype, drop_axis=0, dtype=self._rdtype,
                             meta=meta, token=f"lsqr-{name}")

    def _step(self, x):
        Op = self.Op
        u = conform(Op.matvec(self.v), self.u) - self._scalar("alfa") * self.u
        st = _state_map(_lsqr_beta, self.st, sqnorm(u))
        u = u * self._scalar("inv_beta", st)
        v = conform(Op.rmatvec(u), self.v) - self._scalar("beta", st) * self.v
        st = _state_map(_lsqr_rotate, st, sqnorm(v), sqnorm(self.w))
        v = v * self._scalar("inv_alfa", st)
        x = x + self._scalar("t1", st) * self.w
        if self.calc_var:
            dk = self.w * self._scalar("inv_rho", st)
            self.var = self.var + (abs(dk) ** 2 if is_complex(dk.dtype) else dk * dk)
        self.w = v + self._scalar("t2", st) * self.w
        self.u, self.v, self.st = u, v, st
        x, self.u, self.v, self.w, self.st, self.var = persist(x, self.u, self.v, self.w, self.st,
                                                               self.var)
        return x

    def _lazy_check(self, x, show):
        lazy = [self.st]
        if show:
            lazy.append(first(x))
        return lazy

    def _on_check(self, values, x, show):
        s = dict(zip(_F, values[0]))
        self._s = s
        for name in ("alfa", "beta", "anorm", "acond", "xnorm", "arnorm", "rnorm", "bnorm"):
            setattr(self, name, s[name])
        self.r1norm, self.r2norm = s["r1norm"], s["r2norm"]
        if not self.cost and self.iiter > 0:
            self.cost.append(s["bnorm"])
            self.cost_iters.append(0)
        self.cost.append(abs(s["r1norm"]) if self.iiter > 0 else s["rnorm"])
        self.cost_iters.append(self.iiter)
        if self.iiter == 0:
            self._row = values[-1] if show else None
            return
        bnorm = s["bnorm"] if s["bnorm"] > 0 else 1.0
        self.test1 = s["rnorm"] / bnorm
        self.test2 = s["arnorm"] / s["arnorm0"] if s["arnorm0"] > 0 else 0.0
        self.test3 = 1.0 / s["acond"] if s["acond"] > 0 else np.inf
        t1 = self.test1 / (1.0 + s["anorm"] * s["xnorm"] / bnorm)
        self.rtol = self.btol + self.atol * s["anorm"] * s["xnorm"] / bnorm
        istop = 0
        if 1 + self.test3 <= 1:
            istop = 6
        if 1 + self.test2 <= 1:
            istop = 5
        if 1 + t1 <= 1:
            istop = 4
        if self.test3 <= self.ctol:
            istop = 3
        if self.test2 <= self.atol:
            istop = 2
        if self.test1 <= self.rtol:
            istop = 1
        self.istop = istop
        if istop != 0:
            self._converged = True
        if show:
            strx = (f"{values[-1]:1.2e}   " if isinstance(values[-1], complex)
                    else f"{values[-1]:11.4e}")
            print(f"{self.iiter:6g} " + strx + f" {self.r1norm:10.3e} {self.r2norm:10.3e}"
                  + f"  {self.test1:8.1e} {self.test2:8.1e}"
                  + f" {self.anorm:8.1e} {self.acond:8.1e}")

    def _print_setup(self, x, xcomplex=False):
        self._print_solver(nbar=90)
        print(f"damp = {self.damp:20.14e}     calc_var = {self.calc_var:6g}")
        print(f"atol = {self.atol:8.2e}                 conlim = {self.conlim:8.2e}")
        print(f"btol = {self.btol:8.2e}                 niter = {self.niter:8g}"
              f"   check_every = {self.check_every}")
        print("-" * 90)
        head2 = " Compatible   LS     Norm A   Cond A"
        head1 = ("   Itn     x[0]      r1norm     r2norm  " if not xcomplex else
                 "   Itn        x[0]              r1norm    r2norm  ")
        print(head1 + head2)

    def _print_finalize(self):
        print(" ")
        print(f"LSQR finished, {self.msg[self.istop]}")
        print(" ")
        print(f"istop ={self.istop:8g}   r1norm ={self.r1norm:8.1e}   "
              f"anorm ={self.anorm:8.1e}   arnorm ={self.arnorm:8.1e}")
        print(f"itn   ={self.iiter:8g}   r2norm ={self.r2norm:8.1e}   "
              f"acond ={self.acond:8.1e}   xnorm  ={self.xnorm:8.1e}")
        print(f"Total time (s) = {self.telapsed:.2f}")
        print("-" * 90 + "\n")

    def finalize(self, show=False):
        """Finalize: ``cost`` becomes a NumPy array."""
        CG._check_final(self)
        self.tend = time.time()
        self.telapsed = self.tend - self.tstart
        self.cost = np.array(self.cost)
        if show:
            self._print_finalize()

    def solve(self, y, x0=None, damp=0.0, atol=1e-08, btol=1e-08, conlim=100000000.0, niter=10,
              calc_var=True, preallocate=False, show=False, itershow=(10, 10, 10), check_every=10):
        r"""Run the whole solver: ``setup``, ``run``, ``finalize``.

        Returns
        -------
        x, istop, iit, r1norm, r2norm, anorm, acond, arnorm, xnorm, var, cost
            As :func:`pylops.optimization.basic.lsqr`; ``x`` and ``var`` are (persisted) dask
            arrays, ``cost`` holds ``r1norm`` at iteration 0 and at each check.
        """
        x = self.setup(y=y, x0=x0, damp=damp, atol=atol, btol=btol, conlim=conlim, niter=niter,
                       calc_var=calc_var, preallocate=preallocate, show=show,
                       check_every=check_every)
        x = self.run(x, niter=niter, show=show, itershow=itershow)
        self.finalize(show)
        var = self.var
        if var is not None:
            var = self._output(var)
        return (self._output(x), self.istop, self.iiter, self.r1norm, self.r2norm, self.anorm,
                self.acond, self.arnorm, self.xnorm, var, self.cost)


def _meta0(like, dtype):
    """A 0-d empty-like meta of ``like``'s chunk type."""
    from dask.array.utils import meta_from_array

    return meta_from_array(like._meta.real, ndim=0, dtype=dtype)


def _pick(st, i, dtype):
    return np.dtype(dtype).type(st[i])


def _lsqr_init_task(beta2, alfa2, damp):
    return _lsqr_init(beta2, alfa2, damp)


def cg(Op, y, x0=None, niter=10, damp=0.0, tol=1e-4, show=False, itershow=(10, 10, 10),
       callback=None, preallocate=False, check_every=10):
    r"""Conjugate gradient (see :class:`CG`).

    Returns
    -------
    x : dask.array.Array
        Estimated model.
    iit : int
        Number of executed iterations.
    cost : numpy.ndarray
        :math:`\|\mathbf{r}\|_2` at iteration 0 and at each check.
    """
    solver = CG(Op)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y=y, x0=x0, niter=niter, damp=damp, tol=tol, preallocate=preallocate,
                        show=show, itershow=itershow, check_every=check_every)


def cgls(Op, y, x0=None, niter=10, damp=0.0, tol=1e-4, show=False, itershow=(10, 10, 10),
         callback=None, preallocate=False, check_every=10):
    r"""Conjugate gradient least squares (see :class:`CGLS`).

    Returns
    -------
    x, istop, iit, r1norm, r2norm, cost
        As :func:`pylops.optimization.basic.cgls`; ``cost`` holds the values at checks.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization import cgls
    >>> A = np.random.default_rng(0).standard_normal((40, 20))
    >>> Op = pld.MatrixMult(da.from_array(A, chunks=(10, 20)))
    >>> y = Op @ np.ones(20)
    >>> x, istop, iit, r1, r2, cost = cgls(Op, y, niter=20, tol=0, check_every=5)
    >>> np.allclose(x.compute(), 1.0), iit, len(cost)
    (True, 20, 5)
    """
    solver = CGLS(Op)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y=y, x0=x0, niter=niter, damp=damp, tol=tol, preallocate=preallocate,
                        show=show, itershow=itershow, check_every=check_every)


def lsqr(Op, y, x0=None, damp=0.0, atol=1e-08, btol=1e-08, conlim=100000000.0, niter=10,
         calc_var=True, show=False, itershow=(10, 10, 10), callback=None, preallocate=False,
         check_every=10):
    r"""LSQR (see :class:`LSQR`).

    Returns
    -------
    x, istop, iit, r1norm, r2norm, anorm, acond, arnorm, xnorm, var, cost
        As :func:`pylops.optimization.basic.lsqr`; ``cost`` holds the values at checks.
    """
    solver = LSQR(Op)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y=y, x0=x0, damp=damp, atol=atol, btol=btol, conlim=conlim, niter=niter,
                        calc_var=calc_var, preallocate=preallocate, show=show, itershow=itershow,
                        check_every=check_every)
