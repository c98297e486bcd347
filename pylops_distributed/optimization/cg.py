r"""CG: conjugate gradient for square systems, bringing data to the client only at checks."""

import math

import numpy as np

from pylops_distributed.optimization._progress import run_options, solve_with
from pylops_distributed.optimization._solver import (CheckedSolver, active, as_float, is_complex,
                                                    predicted_memory, stopped_at)
from pylops_distributed.optimization._space import call, safe_div


class CG(CheckedSolver):
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
    One iteration, as PyLops' (the search direction's update moved to the start of the next
    iteration, where it shares a stage with the operator)::

        c = r + (k / kold) c;  Opc = Op c + damp c
        a = k / <c, Opc>;  x = x + a c;  r = r - a Opc;  kold, k = k, ||r||^2

    With an operator that has chunk kernels it runs as two stages of one task per chunk each,
    plus a small task per chunk with what the neighbours read: 4 tasks per chunk per
    iteration. ``tol`` is compared with :math:`\|\mathbf{r}\|_2^2` as in PyLops.
    """

    uses_adjoint = False
    step_params = ("damp", "tol")
    progress_label = "residual"

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory("CG", self.Op, 2, 4, show, unit)

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
            Stop where :math:`\|\mathbf{r}\|_2^2 \le` ``tol``, as PyLops: tested in each
            step's graph (later steps leave the state as it is) and read at the next check,
            so the result and the iteration count are PyLops'.
        preallocate : bool, optional
            Accepted for PyLops compatibility.
        show : bool, optional
            Print the table header.
        check_every : int, optional
            Iterations between convergence checks (round trips to the client).

        Returns
        -------
        x : dask.array.Array
            Initial guess.
        """
        if self.Op.shape[0] != self.Op.shape[1]:
            raise ValueError(f"CG: expected a square operator (CG solves Op x = y for a Hermitian "
                             f"positive definite Op), got {self.Op.label} of shape "
                             f"{self.Op.shape}; for a rectangular operator use cgls or lsqr")
        self._inputs(y, x0, check_every, niter=niter, damp=damp, tol=tol)
        self.niter, self.damp, self.tol, self.preallocate = niter, as_float(damp), tol, preallocate
        vs, y, x0 = self._load()
        if x0 is None:
            x, r = vs.zeros_like(y), y
        else:
            x, r = x0, y - vs.matvec(x0) - damp * x0
        k = vs.sqnorm(r)
        # the first direction is r: c = r + b * 0 whatever b
        state = dict(x=x, r=r, c=vs.zeros_like(r), k=k, kold=k, stop=-1.0, it=0.0)
        extras = self._input_norms(y, x0)
        extras["k_0"] = k
        self._start_state(state, extras)
        if show:
            self._print_setup(is_complex(self.y.dtype))
        return self._x()

    def _iterate(self, st):
        vs = self.vs
        stop = call(stopped_at, st.stop, st.it, st.k, self.tol)  # PyLops' kold > tol test
        c = st.r + call(safe_div, st.k, st.kold) * st.c
        Opc = vs.matvec(c)
        if self.damp != 0:
            Opc = Opc + self.damp * c
        a = call(active, stop) * call(safe_div, st.k, abs(vs.dot(c, Opc)))
        x = st.x + a * c
        r = st.r - a * Opc
        return dict(x=x, r=r, c=c, k=vs.sqnorm(r), kold=st.k, stop=stop, it=st.it + 1)

    def _x(self):
        return self._output(self.vs.to_dask(self.st.x))

    # --- checks --------------------------------------------------------------------------------
    def _lazy_check(self, st, show):
        lazy = [st["k"], call(stopped_at, st["stop"], st["it"], st["k"], self.tol)]
        if show:
            lazy.append(self.vs.first(st["x"]))
        return lazy

    def _on_first_check(self, values):
        if self.iiter > 0:
            self.cost.append(math.sqrt(values["k_0"]))
            self.cost_iters.append(0)

    def _on_check(self, values, show):
        if self._stopped(values[1]) and self.cost_iters and self.cost_iters[-1] == self.iiter:
            return  # stopped at iteration 0: recorded by the first check
        self.cost.append(math.sqrt(values[0]))
        self.cost_iters.append(self.iiter)
        if show and self.iiter > 0:
            print(f"{self.iiter:6g}        " + self._print_row_x0(values[2]) + f"{self.cost[-1]:11.4e}")

    def _print_setup(self, xcomplex=False):
        self._print_solver(nbar=55)
        print(f"tol = {self.tol:10e}\tniter = {self.niter}\tcheck_every = {self.check_every}")
        print("-" * 55 + "\n")
        print("    Itn           x[0]              r2norm" if not xcomplex else
              "    Itn              x[0]                  r2norm")

    def finalize(self, show=False):
        """Finalize: a last check if needed; ``cost`` becomes a NumPy array."""
        self._check_final()
        self._elapsed()
        self.cost = np.array(self.cost)
        if show:
            self._print_finalize(nbar=55)

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
        return self._finish(x), self.iiter, self.cost


@run_options("residual")
def cg(Op, y, x0=None, niter=10, damp=0.0, tol=1e-4, show=False, itershow=(10, 10, 10),
       callback=None, preallocate=False, check_every=10, progress=False,
       performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Conjugate gradient (see :class:`CG`).

    Takes the parameters of :meth:`CG.solve`, and these:

    Parameters
    ----------
    {run_options}

    Returns
    -------
    x : dask.array.Array
        Estimated model.
    iit : int
        Number of executed iterations.
    cost : numpy.ndarray
        :math:`\|\mathbf{r}\|_2` at iteration 0 and at each check.
    """
    return solve_with(CG(Op), callback, progress, performance_report, checkpoint,
                      checkpoint_every,
                      y=y, x0=x0, niter=niter, damp=damp, tol=tol, preallocate=preallocate,
                      show=show, itershow=itershow, check_every=check_every)
