r"""Sparsity-promoting solvers, as :mod:`pylops.optimization.sparsity`, bringing data to the client
only at checks.

    ista / ISTA     Iterative shrinkage-thresholding.
    fista / FISTA   Fast iterative shrinkage-thresholding (Nesterov momentum).
    linearized_bregman / LinearizedBregman
                    Linearized Bregman with the dynamic step (sparsity-promoting LSRTM).
    irls / IRLS     Iteratively reweighted least squares (:mod:`.irls`).
    splitbregman / SplitBregman
                    Split Bregman for mixed L2-L1 problems (:mod:`.splitbregman`).

They minimise :math:`\tfrac12\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|_2^2 + \epsilon\,
\|\mathbf{x}\|_p` with ``threshkind`` ``"soft"`` (:math:`p = 1`), ``"hard"`` (:math:`p = 0`) or
``"half"`` (:math:`p = 1/2`), the step :math:`\alpha = 1/\lambda_{max}(\mathbf{Op}^H\mathbf{Op})`
(``Op.eigs`` as PyLops, or our ``power_iteration`` on CuPy chunks) unless ``alpha`` is given.
Each is written once on the solvers' vector space, so with chunk-kernel operators an iteration is
a few tasks per chunk: the thresholds are element-wise maps fused into those tasks.

Not (yet) here: the percentile thresholds (they need a global percentile every iteration) and
``SOp`` (a second operator in the iteration); both raise ``NotImplementedError``.
"""

import functools
import math

import numpy as np

from pylops_distributed._arrays import is_cupy
from pylops_distributed.optimization import _thresholds
from pylops_distributed.optimization.irls import IRLS, irls
from pylops_distributed.optimization.splitbregman import SplitBregman, splitbregman
from pylops_distributed.optimization._solver import CheckedSolver, predicted_memory
from pylops_distributed.optimization._space import call, safe_div, sqrt
from pylops_distributed.stacked import StackedArray

__all__ = ["ISTA", "FISTA", "IRLS", "LinearizedBregman", "SplitBregman", "ista", "fista", "irls",
           "linearized_bregman", "splitbregman"]

_PERCENTILE = ("hard-percentile", "soft-percentile", "half-percentile")


def _decayed(decay, thresh, k):
    """``decay[k] * thresh`` (PyLops' per-iteration threshold)."""
    return float(decay[int(k)]) * thresh


def _first_increase(bad, normresold, r2, k):
    """The first iteration whose residual norm grew (-1: none yet)."""
    if bad >= 0:
        return bad
    return k if math.sqrt(max(r2, 0.0)) > normresold else -1


def _first_nonfinite(inf, r2):
    """The first data cost that is not finite (0: none yet). A NaN from overflow (complex
    ``inf * z`` has a NaN part) counts as Inf, as NumPy's norm reports it (``hypot(inf, nan)``
    is ``inf``)."""
    if inf != 0:
        return inf
    return 0.0 if math.isfinite(r2) else math.inf


def _real_number(v, what, name):
    """A Python float of a number or a one-element array (PyLops accepts ``1 / Op.eigs(...)``)."""
    a = np.asarray(v)
    if a.size != 1:
        raise ValueError(f"{name}: {what} must be a number, got an array of shape {a.shape}")
    return float(np.real(a.ravel()[0]))


def _normres(r2):
    return math.sqrt(max(r2, 0.0))


class ISTA(CheckedSolver):
    r"""Iterative Shrinkage-Thresholding Algorithm, as :class:`pylops.optimization.sparsity.ISTA`.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to invert.
    callbacks : sequence of pylops.optimization.callback.Callbacks, optional
        Called around ``setup``, every ``step`` and ``run`` with the lazy model.

    Notes
    -----
    One iteration, as PyLops'::

        r = y - Op x;  x = thresh(x + alpha Op^H r, decay[k] eps alpha / 2)

    ``cost`` (PyLops': :math:`\tfrac12\|\mathbf{r}\|^2 + \epsilon\|\mathbf{x}\|_1`, the residual
    before the update), ``tol`` (on :math:`\|\mathbf{x}_k - \mathbf{x}_{k-1}\|_2`), ``rtol`` and
    ``rtol1`` are evaluated at checks, every ``check_every`` iterations (and after the first
    iteration when ``rtol`` is given: PyLops' ``rtol`` compares with the first cost); the
    solver may run up to ``check_every - 1`` iterations past the one where PyLops stops.
    ``monitorres`` raises at the check after the iteration whose residual grew, naming it.
    """

    step_params = ("alpha", "thresh", "threshkind", "monitorres")
    raise_on_nonfinite = False  # a cost that overflows stops the solver, as PyLops' callback

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory(type(self).__name__, self.Op, 3, 2, show, unit)

    def setup(self, y, x0=None, niter=None, SOp=None, eps=0.1, alpha=None, eigsdict=None,
              tol=1e-10, rtol=0.0, rtol1=0.0, threshkind="soft", perc=None, decay=None,
              monitorres=False, preallocate=False, show=False, check_every=10):
        r"""Set up the solver (lazy, except the step size: ``Op.eigs`` when ``alpha`` is None).

        Parameters
        ----------
        y : array-like
            Data, of shape ``Op.dimsd`` or flat.
        x0 : array-like, optional
            Initial guess (default zeros).
        niter : int, optional
            Number of iterations.
        SOp : LinearOperator, optional
            Not supported yet (raises ``NotImplementedError``).
        eps : float, optional
            Sparsity weight :math:`\epsilon`.
        alpha : float, optional
            Step size (default :math:`1/\lambda_{max}(\mathbf{Op}^H\mathbf{Op})`).
        eigsdict : dict, optional
            Arguments of ``Op.eigs`` (or of ``power_iteration`` on CuPy chunks).
        tol, rtol, rtol1 : float, optional
            Stop when the model update is ``<= tol``, the cost below ``rtol`` times the first
            cost, or below ``rtol1`` times :math:`\|\mathbf{y}\|_2` (tested at checks).
        threshkind : {"soft", "hard", "half"}, optional
            Threshold (the percentile kinds are not supported yet).
        perc : float, optional
            Percentile (percentile kinds only).
        decay : array-like, optional
            Factor of the threshold at each iteration (``niter`` values).
        monitorres : bool, optional
            Raise when the residual norm grows.
        preallocate : bool, optional
            Accepted for PyLops compatibility.
        show : bool, optional
            Print the header (and a row at each check when running).
        check_every : int, optional
            Iterations between checks (round trips to the client).

        Returns
        -------
        x : dask.array.Array or StackedArray
            Initial guess.
        """
        name = type(self).__name__
        if threshkind in _PERCENTILE and perc is None:
            raise ValueError(f"{name}: Provide a percentile when choosing hard-percentile, "
                             "soft-percentile, or half-percentile thresholding")
        if threshkind in _PERCENTILE:
            raise NotImplementedError(
                f"{name}: threshkind={threshkind!r} needs the percentile of the whole model at "
                "every iteration, which is not available on chunks yet; use 'soft', 'hard' or "
                "'half' (with decay= to change the threshold over the iterations)")
        if threshkind not in _thresholds.KINDS:
            raise ValueError(f"{name}: `threshkind` must be hard, soft, half, hard-percentile, "
                             f"soft-percentile, or half-percentile, got {threshkind}")
        if SOp is not None:
            raise NotImplementedError(
                f"{name}: SOp is not supported yet; solve for the coefficients with "
                "Op @ SOp.H instead (the synthesis form) and apply SOp.H to the result")
        self._inputs(y, x0, check_every, niter=niter, eps=eps, tol=tol, rtol=rtol, rtol1=rtol1)
        if decay is not None and niter is not None and len(decay) < niter:
            raise ValueError(f"{name}: decay has {len(decay)} values for niter={niter}")
        self.niter, self.eps, self.tol, self.rtol, self.rtol1 = niter, eps, tol, rtol, rtol1
        self.threshkind, self.perc, self.monitorres = threshkind, perc, monitorres
        self.preallocate, self.eigsdict = preallocate, dict(eigsdict or {})
        self.alpha = self._step_size() if alpha is None else _real_number(alpha, "alpha", name)
        self.thresh = eps * self.alpha * 0.5
        self.decay = decay
        self._thresh_at = (None if decay is None else
                           functools.partial(_decayed, tuple(np.asarray(decay).tolist()), self.thresh))
        vs, y, x0 = self._load()
        self._ynorm = None
        state = self._start(vs, y, x0)
        state.update(y=y, inf=0.0)
        if decay is not None or monitorres:
            state["k"] = 0
        if monitorres:
            state.update(nro=math.inf, bad=-1)
        extras = self._input_norms(y, x0)
        self._start_state(state, extras)
        self.cost, self.cost_iters = [], []
        if show:
            self._print_setup()
        return self._x()

    def _step_size(self):
        """``1 / lambda_max(Op^H Op)``, as PyLops finds it."""
        from pylops_distributed.optimization.eigs import power_iteration

        Op1 = self.Op.H @ self.Op
        blocks = self.y.blocks if isinstance(self.y, StackedArray) else [self.y]
        if is_cupy(blocks[0]._meta):
            maxeig = np.abs(power_iteration(Op1, dtype=Op1.dtype, backend="cupy",
                                            **self.eigsdict)[0])
        else:
            maxeig = np.abs(Op1.eigs(neigs=1, symmetric=True, **self.eigsdict)[0])
        return 1.0 / float(maxeig)

    def _start(self, vs, y, x0):
        x = vs.zeros_like(vs.rmatvec(y)) if x0 is None else x0
        return dict(x=x)

    def _threshold(self, vs, xu, st):
        t = self.thresh if self._thresh_at is None else call(self._thresh_at, st.k)
        return vs.map(_thresholds.KINDS[self.threshkind], xu, scalars=(t,))

    def _bookkeeping(self, out, st, r2):
        """The first non-finite data cost (0: none yet; from the cost's ``out["r2"]``), the
        iteration counter and the residual monitor on ``r2`` (when they are in the state)."""
        out["inf"] = call(_first_nonfinite, st.inf, out["r2"])
        if "k" in st:
            out["k"] = st.k + 1
        if self.monitorres:
            out["bad"] = call(_first_increase, st.bad, st.nro, r2, st.k)
            out["nro"] = call(_normres, r2)

    def _iterate(self, st):
        vs = self.vs
        r = st.y - vs.matvec(st.x)
        x = self._threshold(vs, st.x + self.alpha * vs.rmatvec(r), st)
        r2 = vs.sqnorm(r)
        out = dict(x=x, y=st.y, r2=r2, dx2=vs.sqnorm(x - st.x))
        self._bookkeeping(out, st, r2)
        return out

    def _x(self):
        return self._output(self.vs.to_dask(self.st.x))

    # --- checks --------------------------------------------------------------------------------
    def _check_at(self, it):
        # PyLops' callbacks read the cost after every step: with callbacks, every step is a check
        return super()._check_at(it) or (it == 1 and self.rtol > 0) or bool(self.callbacks)

    def _lazy_check(self, st, show):
        vs = self.vs
        lazy = [st["r2"], st["dx2"], vs.dot(vs.map(_thresholds.unit, st["x"]), st["x"]),
                st["bad"] if self.monitorres else -1, st["inf"]]
        if show:
            lazy.append(vs.first(st["x"]))
        return lazy

    def _on_first_check(self, values):
        self._ynorm = math.sqrt(max(values["y2"], 0.0))

    def _on_check(self, values, show):
        if self.iiter == 0:
            return
        r2, dx2, l1, bad, inf = values[:5]
        if bad >= 0:
            raise ValueError(f"{type(self).__name__} stopped at iteration {int(bad)} due to "
                             "residual increasing, consider modifying eps and/or alpha...")
        if inf != 0:  # the cost overflowed: stop there, as PyLops' CostNanInfCallback
            self.cost.append(float(np.real(inf)))
            self.cost_iters.append(self.iiter)
            self.xupdate = math.nan
            self._converged = True
            return
        costdata = 0.5 * r2
        self.cost.append(float(costdata + self.eps * np.real(l1)))
        self.cost_iters.append(self.iiter)
        self.xupdate = math.sqrt(max(dx2, 0.0))
        if (self.xupdate <= self.tol
                or (self.rtol > 0 and self.cost[-1] < self.rtol * self.cost[0])
                or (self.rtol1 > 0 and self.cost[-1] < self.rtol1 * self._ynorm)):
            self._converged = True
        if show:
            x0 = values[5]
            strx = f"  {x0:1.2e}   " if isinstance(x0, complex) else f"     {x0:11.4e}        "
            print(f"{self.iiter:6g} " + strx
                  + f"{costdata:10.3e}   {self.cost[-1]:9.3e}  {self.xupdate:10.3e}")

    def _print_setup(self):
        self._print_solver(f" ({self.threshkind} thresholding)")
        print(f"eps = {self.eps:10e}\ttol = {self.tol:10e}\tniter = {self.niter}"
              f"\tcheck_every = {self.check_every}")
        print(f"alpha = {self.alpha:10e}\tthresh = {self.thresh:10e}")
        print("-" * 80)
        print("   Itn          x[0]              r2norm     r12norm     xupdate")

    def finalize(self, show=False):
        """Finalize: ``cost`` becomes a NumPy array (its values at the checks)."""
        self._check_final()
        self._elapsed()
        self.cost = np.array(self.cost)
        if show:
            self._print_finalize(nbar=80)

    def solve(self, y, x0=None, niter=None, SOp=None, eps=0.1, alpha=None, eigsdict=None,
              tol=1e-10, rtol=0.0, rtol1=0.0, threshkind="soft", perc=None, decay=None,
              monitorres=False, show=False, itershow=(10, 10, 10), preallocate=False,
              check_every=10):
        r"""Run the whole solver: ``setup``, ``run``, ``finalize``.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Estimated model (persisted).
        niter : int
            Number of executed iterations.
        cost : numpy.ndarray
            Cost function at the checks (``cost_iters`` says at which iterations).
        """
        x = self.setup(y=y, x0=x0, niter=niter, SOp=SOp, eps=eps, alpha=alpha,
                       eigsdict=eigsdict, tol=tol, rtol=rtol, rtol1=rtol1,
                       threshkind=threshkind, perc=perc, decay=decay, monitorres=monitorres,
                       preallocate=preallocate, show=show, check_every=check_every)
        x = self.run(x, niter, show=show, itershow=itershow)
        self.finalize(show)
        return self._finish(x), self.iiter, self.cost


class FISTA(ISTA):
    r"""Fast Iterative Shrinkage-Thresholding Algorithm, as
    :class:`pylops.optimization.sparsity.FISTA`.

    Notes
    -----
    One iteration, as PyLops'::

        r = y - Op z;  x1 = thresh(z + alpha Op^H r)
        t1 = (1 + sqrt(1 + 4 t^2)) / 2;  z = x1 + (t - 1) / t1 (x1 - x);  x = x1;  t = t1

    ``Op z`` is kept in the state as the same combination of ``Op x1`` and ``Op x``, so an
    iteration applies ``Op`` and ``Op^H`` once each and the cost (PyLops':
    :math:`\tfrac12\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|^2 + \epsilon\|\mathbf{x}\|_1` of the
    new iterate) costs no extra apply. Checks as :class:`ISTA`.
    """

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory("FISTA", self.Op, 4, 3, show, unit)

    def _start(self, vs, y, x0):
        if x0 is None:
            x = vs.zeros_like(vs.rmatvec(y))
            Ox = vs.zeros_like(y)
        else:
            x, Ox = x0, vs.matvec(x0)
        return dict(x=x, z=x, Ox=Ox, Oz=Ox, t=1.0)

    def _iterate(self, st):
        vs = self.vs
        r = st.y - st.Oz
        x = self._threshold(vs, st.z + self.alpha * vs.rmatvec(r), st)
        t = (1 + sqrt(1 + 4 * st.t * st.t)) / 2
        c = (st.t - 1) / t
        Ox = vs.matvec(x)
        out = dict(x=x, z=(1 + c) * x - c * st.x, Ox=Ox, Oz=(1 + c) * Ox - c * st.Ox, t=t,
                   y=st.y, r2=vs.sqnorm(st.y - Ox), dx2=vs.sqnorm(x - st.x))
        self._bookkeeping(out, st, vs.sqnorm(r))
        return out


def ista(Op, y, x0=None, niter=10, SOp=None, eps=0.1, alpha=None, eigsdict=None, tol=1e-10,
         rtol=0.0, rtol1=0.0, threshkind="soft", perc=None, decay=None, monitorres=False,
         show=False, itershow=(10, 10, 10), callback=None, preallocate=False, check_every=10):
    r"""Iterative Shrinkage-Thresholding Algorithm (see :class:`ISTA`).

    Returns
    -------
    x, niter, cost
        As :func:`pylops.optimization.sparsity.ista`; ``cost`` holds the values at checks.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.sparsity import ista
    >>> A = np.random.default_rng(0).standard_normal((30, 50))
    >>> xtrue = np.zeros(50); xtrue[[3, 17, 40]] = [1.0, -2.0, 1.5]
    >>> Op = pld.MatrixMult(da.from_array(A, chunks=(10, 50)))
    >>> x, it, cost = ista(Op, A @ xtrue, niter=400, eps=0.1, tol=0)
    >>> np.flatnonzero(np.abs(x.compute()) > 0.5).tolist()
    [3, 17, 40]
    """
    solver = ISTA(Op)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y=y, x0=x0, niter=niter, SOp=SOp, eps=eps, alpha=alpha,
                        eigsdict=eigsdict, tol=tol, rtol=rtol, rtol1=rtol1,
                        threshkind=threshkind, perc=perc, decay=decay, monitorres=monitorres,
                        show=show, itershow=itershow, preallocate=preallocate,
                        check_every=check_every)


def fista(Op, y, x0=None, niter=10, SOp=None, eps=0.1, alpha=None, eigsdict=None, tol=1e-10,
          rtol=0.0, rtol1=0.0, threshkind="soft", perc=None, decay=None, monitorres=False,
          show=False, itershow=(10, 10, 10), callback=None, preallocate=False, check_every=10):
    r"""Fast Iterative Shrinkage-Thresholding Algorithm (see :class:`FISTA`).

    Returns
    -------
    x, niter, cost
        As :func:`pylops.optimization.sparsity.fista`; ``cost`` holds the values at checks.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.sparsity import fista
    >>> A = np.random.default_rng(0).standard_normal((30, 50))
    >>> xtrue = np.zeros(50); xtrue[[3, 17, 40]] = [1.0, -2.0, 1.5]
    >>> Op = pld.MatrixMult(da.from_array(A, chunks=(10, 50)))
    >>> x, it, cost = fista(Op, A @ xtrue, niter=200, eps=0.1, tol=0)
    >>> np.flatnonzero(np.abs(x.compute()) > 0.5).tolist()
    [3, 17, 40]
    """
    solver = FISTA(Op)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y=y, x0=x0, niter=niter, SOp=SOp, eps=eps, alpha=alpha,
                        eigsdict=eigsdict, tol=tol, rtol=rtol, rtol1=rtol1,
                        threshkind=threshkind, perc=perc, decay=decay, monitorres=monitorres,
                        show=show, itershow=itershow, preallocate=preallocate,
                        check_every=check_every)


class LinearizedBregman(CheckedSolver):
    r"""Linearized Bregman iterations with the dynamic step, for sparse models.

    Solves :math:`\min \lambda\|\mathbf{x}\|_1 + 	frac12\|\mathbf{x}\|_2^2` subject to
    :math:`\mathbf{Op}\,\mathbf{x} = \mathbf{y}` (approximately, for noisy data), as used for
    sparsity-promoting least-squares migration (Herrmann and Li; Witte et al., JUDI)::

        r = Op x - y;  g = Op^H r;  t = ||r||^2 / ||g||^2  (or the given alpha)
        z = z - t g;  x = soft(z, thresh)

    ``cost`` holds :math:`	frac12\|\mathbf{Op}\,\mathbf{x} - \mathbf{y}\|_2^2` of the iterate
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


def linearized_bregman(Op, y, x0=None, niter=10, thresh=0.1, alpha=None, tol=1e-10, show=False,
                       itershow=(10, 10, 10), callback=None, check_every=10):
    r"""Linearized Bregman iterations with the dynamic step (see :class:`LinearizedBregman`).

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
    solver = LinearizedBregman(Op)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y=y, x0=x0, niter=niter, thresh=thresh, alpha=alpha, tol=tol, show=show,
                        itershow=itershow, check_every=check_every)

