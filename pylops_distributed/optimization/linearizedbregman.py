r"""Linearized Bregman iterations with the dynamic step, for sparse models (sparsity-promoting
least-squares migration as in JUDI); also importable from :mod:`.sparsity`."""

import math

import numpy as np

from pylops_distributed.optimization import _thresholds
from pylops_distributed.optimization._progress import run_options, solve_with
from pylops_distributed.optimization._solver import CheckedSolver, predicted_memory
from pylops_distributed.optimization._space import call, safe_div

__all__ = ["LinearizedBregman", "linearized_bregman"]


class LinearizedBregman(CheckedSolver):
    r"""Linearized Bregman iterations with the dynamic step, for sparse models.

    Solves :math:`\min \lambda\|\mathbf{x}\|_1 + \tfrac12\|\mathbf{x}\|_2^2` subject to
    :math:`\mathbf{Op}\,\mathbf{x} = \mathbf{y}` (approximately, for noisy data), as used for
    sparsity-promoting least-squares migration (Herrmann and Li; Witte et al., JUDI)::

        r = Op x - y;  g = Op^H r;  t = ||r||^2 / ||g||^2  (or the given alpha)
        z = z - t g;  x = soft(z, thresh)

    ``cost`` holds :math:`\tfrac12\|\mathbf{Op}\,\mathbf{x} - \mathbf{y}\|_2^2` of the iterate
    entering the step, at checks; ``tol`` is tested there on
    :math:`\|\mathbf{x}_k - \mathbf{x}_{k-1}\|_2`. An iteration has two stages (the step needs
    the two squared norms), each one task per chunk with kernel operators.
    """

    step_params = ("alpha", "thresh")

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory("LinearizedBregman", self.Op, 3, 2, show, unit)

    def setup(self, y, x0=None, niter=None, thresh=0.1, alpha=None, tol=1e-10, show=False,
              check_every=10):
        r"""Set up the solver (lazy).

        Parameters
        ----------
        y : array-like
            Data, of shape ``Op.dimsd`` or flat.
        x0 : array-like, optional
            Initial auxiliary variable :math:`\mathbf{z}_0` (default zeros; the first model is
            its soft-thresholded version).
        niter : int, optional
            Number of iterations.
        thresh : float, optional
            Soft threshold :math:`\lambda`.
        alpha : float, optional
            Fixed step (default: the dynamic step :math:`\|\mathbf{r}\|^2/\|\mathbf{g}\|^2`).
        tol : float, optional
            Stop when the model update is ``<= tol`` (at checks).
        show : bool, optional
            Print the header (and a row at each check when running).
        check_every : int, optional
            Iterations between checks.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Initial model.
        """
        self._inputs(y, x0, check_every, niter=niter, thresh=thresh, tol=tol,
                     alpha=alpha)
        self.niter, self.thresh, self.alpha, self.tol = niter, thresh, alpha, tol
        vs, y, z0 = self._load()
        z = vs.zeros_like(vs.rmatvec(y)) if z0 is None else z0
        x = vs.map(_thresholds.soft, z, scalars=(thresh,))
        self._start_state(dict(x=x, z=z, y=y, r2=0.0, dx2=0.0), self._input_norms(y, z0))
        self.cost, self.cost_iters = [], []
        if show:
            self._print_solver(f" (thresh = {thresh:10e}, "
                               f"{'dynamic step' if alpha is None else f'alpha = {alpha:10e}'})")
            print("   Itn          x[0]              r2norm     xupdate")
        return self._x()

    def _iterate(self, st):
        vs = self.vs
        r = vs.matvec(st.x) - st.y
        g = vs.rmatvec(r)
        r2 = vs.sqnorm(r)
        t = call(safe_div, r2, vs.sqnorm(g)) if self.alpha is None else self.alpha
        z = st.z - t * g
        x = vs.map(_thresholds.soft, z, scalars=(self.thresh,))
        return dict(x=x, z=z, y=st.y, r2=r2, dx2=vs.sqnorm(x - st.x))

    def _x(self):
        return self._output(self.vs.to_dask(self.st.x))

    def _lazy_check(self, st, show):
        lazy = [st["r2"], st["dx2"]]
        if show:
            lazy.append(self.vs.first(st["x"]))
        return lazy

    def _on_check(self, values, show):
        if self.iiter == 0:
            return
        r2, dx2 = values[:2]
        self.cost.append(0.5 * float(r2))
        self.cost_iters.append(self.iiter)
        self.xupdate = math.sqrt(max(dx2, 0.0))
        if self.xupdate <= self.tol:
            self._converged = True
        if show:
            x0 = values[2]
            strx = f"  {x0:1.2e}   " if isinstance(x0, complex) else f"     {x0:11.4e}        "
            print(f"{self.iiter:6g} " + strx + f"{self.cost[-1]:10.3e}   {self.xupdate:10.3e}")

    def finalize(self, show=False):
        """Finalize: ``cost`` becomes a NumPy array (its values at the checks)."""
        self._check_final()
        self._elapsed()
        self.cost = np.array(self.cost)
        if show:
            self._print_finalize(nbar=80)

    def solve(self, y, x0=None, niter=10, thresh=0.1, alpha=None, tol=1e-10, show=False,
              itershow=(10, 10, 10), check_every=10):
        """Run the whole solver: ``setup``, ``run``, ``finalize``; returns ``(x, niter, cost)``."""
        x = self.setup(y=y, x0=x0, niter=niter, thresh=thresh, alpha=alpha, tol=tol, show=show,
                       check_every=check_every)
        x = self.run(x, niter, show=show, itershow=itershow)
        self.finalize(show)
        return self._finish(x), self.iiter, self.cost


@run_options("cost")
def linearized_bregman(Op, y, x0=None, niter=10, thresh=0.1, alpha=None, tol=1e-10, show=False,
                       itershow=(10, 10, 10), callback=None, check_every=10, progress=False,
                       performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Linearized Bregman iterations with the dynamic step (see :class:`LinearizedBregman`).

    Takes the parameters of :meth:`LinearizedBregman.solve`, and these:

    Parameters
    ----------
    {run_options}

    Returns
    -------
    x : dask.array.Array or StackedArray
        Estimated (sparse) model.
    niter : int
        Number of executed iterations.
    cost : numpy.ndarray
        Half the squared residual at the checks.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.sparsity import linearized_bregman
    >>> A = np.random.default_rng(0).standard_normal((30, 50))
    >>> xtrue = np.zeros(50); xtrue[[3, 17, 40]] = [1.0, -2.0, 1.5]
    >>> Op = pld.MatrixMult(da.from_array(A, chunks=(10, 50)))
    >>> x, it, cost = linearized_bregman(Op, A @ xtrue, niter=300, thresh=0.5, tol=0)
    >>> np.flatnonzero(np.abs(x.compute()) > 0.5).tolist()
    [3, 17, 40]
    """
    return solve_with(LinearizedBregman(Op), callback, progress, performance_report, checkpoint,
                      checkpoint_every,
                      y=y, x0=x0, niter=niter, thresh=thresh, alpha=alpha, tol=tol, show=show,
                      itershow=itershow, check_every=check_every)

