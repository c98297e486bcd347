r"""CGLS: conjugate gradient least squares, bringing data to the client only at checks."""

import math

import numpy as np

from pylops_distributed.optimization._progress import run_options, solve_with
from pylops_distributed.optimization._solver import (CheckedSolver, active, as_float, is_complex,
                                                    predicted_memory, stopped_at)
from pylops_distributed.optimization._space import call, safe_div


class CGLS(CheckedSolver):
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
    One iteration, as PyLops' (the dot products' order aside)::

        a = kold / (||q||^2 + damp ||c||^2)
        x = x + a c;  s = s - a q;  r = Op^H s - damp x;  k = ||r||^2
        b = k / kold;  c = r + b c;  q = Op c

    With an operator that has chunk kernels it runs as two stages (one per dot product) of
    one task per chunk each, plus a small task per chunk with what the neighbours read: 4
    tasks per chunk per iteration. ``tol`` is compared with the squared norm of the gradient
    :math:`\|\mathbf{Op}^H\mathbf{s} - \epsilon^2\mathbf{x}\|_2^2`, and ``r1norm`` returns it,
    as in PyLops 2.x.
    """

    step_params = ("damp", "tol")
    progress_label = "residual"

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory("CGLS", self.Op, 5, 3, show, unit)

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
            Stop where the squared gradient norm is ``<= tol``, as PyLops: the test runs in
            each step's graph (the steps after it leave the state as it is) and is read at
            the next check, so the result and the iteration count are PyLops'.
        preallocate : bool, optional
            Accepted for PyLops compatibility.
        show : bool, optional
            Print the table header.
        check_every : int, optional
            Iterations between convergence checks (round trips to the client).

        Returns
        -------
        x : dask.array.Array or StackedArray
            Initial guess.
        """
        self._inputs(y, x0, check_every, niter=niter, damp=damp, tol=tol)
        self.niter, self.tol, self.preallocate = niter, tol, preallocate
        # PyLops' setup takes ``damp`` itself for the first residual and cost, and its
        # square in the iterations: both kept, for PyLops' iterates from an ``x0``
        self.damp_setup = as_float(damp)
        self.damp = self.damp_setup ** 2.0
        vs, y, x0 = self._load()
        state = self._start(vs, y, x0)
        extras = self._input_norms(y, x0)
        extras.update(s2_0=vs.sqnorm(state["s"]), x2_0=vs.sqnorm(state["x"]) if self.damp != 0
                      else state["kold"] * 0, kold_0=state["kold"])
        self._start_state(state, extras)
        if show:
            self._print_setup(is_complex(np.result_type(self.y.dtype, self.Op.dtype)))
        return self._x()

    def _start(self, vs, y, x0):
        if x0 is None:
            s = y
            r = vs.rmatvec(s)
            x = vs.zeros_like(r)
        else:
            x, s = x0, y - vs.matvec(x0)
            r = vs.rmatvec(s) - self.damp_setup * x0
        q = vs.matvec(r)
        return dict(x=x, s=s, c=r, q=q, kold=vs.sqnorm(r), qq=vs.sqnorm(q), cc=vs.sqnorm(r),
                    stop=-1.0, it=0.0)

    def _iterate(self, st):
        vs, damp = self.vs, self.damp
        stop = call(stopped_at, st.stop, st.it, st.kold, self.tol)  # PyLops' kold > tol test
        # the damping of this step (PyLops reads it here)
        a = call(active, stop) * call(safe_div, st.kold, st.qq + damp * st.cc)
        x = st.x + a * st.c
        s = st.s - a * st.q
        r = vs.rmatvec(s) - damp * x
        k = vs.sqnorm(r)
        b = call(safe_div, k, st.kold)
        c = r + b * st.c
        q = vs.matvec(c)
        return dict(x=x, s=s, c=c, q=q, kold=k, qq=vs.sqnorm(q), cc=vs.sqnorm(c), stop=stop,
                    it=st.it + 1)

    #: Not written in checkpoints (a quarter less to write): ``q = Op c``, made again at a resume
    derived = ("q",)

    def rederive(self, vs, st):
        """The vectors of ``derived`` from the rest of the state ``st`` (bit for bit the same
        as the step made them: the same apply on the same vector)."""
        return {"q": vs.matvec(st["c"])}

    def _x(self):
        return self._output(self.vs.to_dask(self.st.x))

    # --- checks --------------------------------------------------------------------------------
    def _lazy_check(self, st, show):
        vs = self.vs
        lazy = [st["kold"], vs.sqnorm(st["s"]), vs.sqnorm(st["x"]) if self.damp != 0 else 0.0,
                call(stopped_at, st["stop"], st["it"], st["kold"], self.tol)]
        if show:
            lazy.append(vs.first(st["x"]))
        return lazy

    def _record(self, kold, s2, x2, iiter, damp=None):
        self.kold_value = kold
        self.cost.append(math.sqrt(s2))
        self.cost1.append(math.sqrt(s2 + (self.damp if damp is None else damp) * x2))
        self.cost_iters.append(iiter)

    def _on_first_check(self, values):
        self.cost1 = []
        if self.iiter > 0:
            self._record(values["kold_0"], values["s2_0"], values["x2_0"], 0, self.damp_setup)

    def _on_check(self, values, show):
        if self._stopped(values[3]) and self.cost_iters and self.cost_iters[-1] == self.iiter:
            return  # stopped at iteration 0: recorded by the first check
        self._record(*values[:3], self.iiter)
        if show and self.iiter > 0:
            print(f"{self.iiter:6g}       " + self._print_row_x0(values[4])
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
        self._check_final()
        self._elapsed()
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
            1: ``tol`` met; 2: ``niter`` reached; 3: stopped by a callback.
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
        return (self._finish(x), self.istop, self.iiter, self.r1norm, self.r2norm, self.cost)


@run_options("residual")
def cgls(Op, y, x0=None, niter=10, damp=0.0, tol=1e-4, show=False, itershow=(10, 10, 10),
         callback=None, preallocate=False, check_every=10, progress=False,
         performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Conjugate gradient least squares (see :class:`CGLS`).

    Takes the parameters of :meth:`CGLS.solve`, and these:

    Parameters
    ----------
    {run_options}

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
    return solve_with(CGLS(Op), callback, progress, performance_report, checkpoint,
                      checkpoint_every,
                      y=y, x0=x0, niter=niter, damp=damp, tol=tol, preallocate=preallocate,
                      show=show, itershow=itershow, check_every=check_every)
