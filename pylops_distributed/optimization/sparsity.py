r"""Sparsity-promoting solvers, as :mod:`pylops.optimization.sparsity`, bringing data to the client
only at checks.

    ista / ISTA     Iterative shrinkage-thresholding.
    fista / FISTA   Fast iterative shrinkage-thresholding (Nesterov momentum).
    linearized_bregman / LinearizedBregman
                    Linearized Bregman with the dynamic step (sparsity-promoting LSRTM,
                    :mod:`.linearizedbregman`).
    omp / OMP       Orthogonal matching pursuit, and matching pursuit (:mod:`.omp`).
    irls / IRLS     Iteratively reweighted least squares (:mod:`.irls`).
    splitbregman / SplitBregman
                    Split Bregman for mixed L2-L1 problems (:mod:`.splitbregman`).

They minimise :math:`\tfrac12\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|_2^2 + \epsilon\,
\|\mathbf{x}\|_p` with ``threshkind`` ``"soft"`` (:math:`p = 1`), ``"hard"`` (:math:`p = 0`) or
``"half"`` (:math:`p = 1/2`), the step :math:`\alpha = 1/\lambda_{max}(\mathbf{Op}^H\mathbf{Op})`
(``Op.eigs`` as PyLops, or our ``power_iteration`` on CuPy chunks) unless ``alpha`` is given.
Each is written once on the solvers' vector space, so with chunk-kernel operators an iteration is
a few tasks per chunk: the thresholds are element-wise maps fused into those tasks.

The percentile kinds (``"soft-percentile"``...; the threshold is the percentile of the whole
vector at every iteration, exact: one task per iteration combines each chunk's largest values)
and ``SOp`` (thresholding in the domain of a second operator) run on plain dask.array
expressions, a few more tasks per iteration.
"""

import functools
import math

import numpy as np

from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization import _thresholds
from pylops_distributed.optimization.irls import IRLS, irls
from pylops_distributed.optimization.linearizedbregman import LinearizedBregman, linearized_bregman
from pylops_distributed.optimization.omp import OMP, omp
from pylops_distributed.optimization.splitbregman import SplitBregman, splitbregman
from pylops_distributed.optimization._progress import run_options, solve_with
from pylops_distributed.optimization._solver import CheckedSolver, active, predicted_memory
from pylops_distributed.optimization._space import call, sqrt
from pylops_distributed.optimization.eigs import step_size

__all__ = ["ISTA", "FISTA", "IRLS", "LinearizedBregman", "OMP", "SplitBregman", "ista", "fista",
           "irls", "linearized_bregman", "omp", "spgl1", "splitbregman"]

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


def _update_stop(stop, it, dx2, tol):
    """The iteration whose update norm was first ``<= tol`` (PyLops' ``xupdate > tol``
    loop test), else -1."""
    if stop >= 0:
        return stop
    return it if math.sqrt(max(dx2, 0.0)) <= tol else -1.0


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

    ``tol`` (on :math:`\|\mathbf{x}_k - \mathbf{x}_{k-1}\|_2`) is PyLops' loop test run in
    each step's graph: the steps after it keep the state, and the next check stops the solver
    at PyLops' iteration with PyLops' iterate. ``cost`` (PyLops':
    :math:`\tfrac12\|\mathbf{r}\|^2 + \epsilon\|\mathbf{x}\|_1`, the residual before the
    update), ``rtol`` and ``rtol1`` are evaluated at checks, every ``check_every`` iterations
    (and after the first iteration when ``rtol`` is given: PyLops' ``rtol`` compares with the
    first cost), so those two may stop up to ``check_every - 1`` iterations after PyLops.
    ``monitorres`` raises at the check after the iteration whose residual grew, naming it.
    """

    step_params = ("alpha", "thresh", "threshkind", "perc", "SOp", "monitorres", "tol")
    #: The state that freezes once PyLops would have stopped (see ``_freeze``).
    _frozen = ("x", "r2", "dx2")
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
            Sparsifying transform: the threshold is applied to ``SOp^H x`` and the model is
            ``SOp`` of the result, as PyLops (plain dask.array path).
        eps : float, optional
            Sparsity weight :math:`\epsilon`.
        alpha : float, optional
            Step size (default :math:`1/\lambda_{max}(\mathbf{Op}^H\mathbf{Op})`).
        eigsdict : dict, optional
            Arguments of ``Op.eigs`` (or of ``power_iteration`` on CuPy chunks).
        tol, rtol, rtol1 : float, optional
            Stop when the model update is ``<= tol`` (where PyLops stops), the cost below
            ``rtol`` times the first cost, or below ``rtol1`` times :math:`\|\mathbf{y}\|_2`
            (these two tested at checks).
        threshkind : {"soft", "hard", "half", "soft-percentile", "hard-percentile", "half-percentile"}
            Threshold; the percentile kinds keep the ``perc`` % largest values, their threshold
            being ``np.percentile(|x|, 100 - perc)`` of the whole vector at every iteration
            (exact; plain dask.array path, ``decay`` not used).
        perc : float, optional
            Percentage of values kept (percentile kinds only).
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
        if threshkind not in _thresholds.KINDS and threshkind not in _PERCENTILE:
            raise ValueError(f"{name}: `threshkind` must be hard, soft, half, hard-percentile, "
                             f"soft-percentile, or half-percentile, got {threshkind}")
        if threshkind in _PERCENTILE and perc is None:
            raise ValueError(f"{name}: Provide a percentile when choosing hard-percentile, "
                             "soft-percentile, or half-percentile thresholding")
        if threshkind in _PERCENTILE and not 0 <= perc <= 100:
            raise ValueError(f"{name}: perc={perc!r} must be a percentage in [0, 100]")
        self.SOp = None if SOp is None else aslinearoperator(SOp)
        if self.SOp is not None and self.SOp.shape[0] != self.Op.shape[1]:
            raise ValueError(f"{name}: SOp has shape {self.SOp.shape}: its {self.SOp.shape[0]} rows "
                             f"must match the model size {self.Op.shape[1]} of Op")
        self._inputs(y, x0, check_every, niter=niter, eps=eps, tol=tol, rtol=rtol, rtol1=rtol1)
        if decay is not None and niter is not None and len(decay) < niter:
            raise ValueError(f"{name}: decay has {len(decay)} values for niter={niter}")
        self.niter, self.eps, self.tol, self.rtol, self.rtol1 = niter, eps, tol, rtol, rtol1
        self.threshkind, self.monitorres = threshkind, monitorres
        self.perc = perc if threshkind in _PERCENTILE else None
        self.preallocate, self.eigsdict = preallocate, dict(eigsdict or {})
        self.alpha = (step_size(self.Op, self.y, self.eigsdict, name) if alpha is None
                      else _real_number(alpha, "alpha", name))
        self.thresh = eps * self.alpha * 0.5
        self.decay = decay
        self._thresh_at = (None if decay is None or self.perc is not None else
                           functools.partial(_decayed, tuple(np.asarray(decay).tolist()), self.thresh))
        vs, y, x0 = self._load()
        self._ynorm = None
        state = self._start(vs, y, x0)
        state.update(y=y, inf=0.0, stop=-1.0, it=0.0, r2=0.0, dx2=0.0)
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

    def _start(self, vs, y, x0):
        x = vs.zeros_like(vs.rmatvec(y)) if x0 is None else x0
        return dict(x=x)

    def _plain_only(self):
        if self.perc is not None:
            return f"threshkind={self.threshkind!r} reduces the whole model every iteration"
        if self.SOp is not None:
            return "SOp is a second operator in the iteration"
        return None

    def _threshold(self, vs, xu, st):
        """PyLops' thresholding of ``xu`` (in the domain of ``SOp^H`` when given)."""
        v = xu if self.SOp is None else vs.transform(self.SOp, xu, "coefficients", adjoint=True)
        kind = self.threshkind.replace("-percentile", "")
        if self.perc is not None:
            n = int(self.SOp.shape[1] if self.SOp is not None else self.Op.shape[1])
            q = 100 - self.perc
            p = vs.reduce(functools.partial(_thresholds.top_abs, _thresholds.percentile_index(n, q)[1]),
                          functools.partial(_thresholds.percentile_of_tops, n, q), v)
            t = call(functools.partial(_thresholds.percentile_threshold, kind), p)
        else:
            t = self.thresh if self._thresh_at is None else call(self._thresh_at, st.k)
        v = vs.map(_thresholds.KINDS[kind], v, scalars=(t,))
        return v if self.SOp is None else vs.transform(self.SOp, v, "model")

    def _freeze(self, out, st):
        """PyLops' loop test in the step's graph: once an update norm was ``<= tol`` (at
        iteration ``stop``), later steps keep the state as it was, and the next check stops
        the solver there, with PyLops' iterate."""
        if self.tol > 0:  # (tol=0 stops on a zero update: a fixed point, nothing to freeze)
            go = call(active, st.stop)
            for k in self._frozen:
                out[k] = go * out[k] + (1 - go) * st[k]
        out["stop"] = call(_update_stop, st.stop, st.it + 1, out["dx2"], self.tol)
        out["it"] = st.it + 1

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
        self._freeze(out, st)
        self._bookkeeping(out, st, r2)
        return out

    def _x(self):
        return self._output(self.vs.to_dask(self.st.x))

    def step(self, x, show=False):
        r"""Run one lazy step, as PyLops' ``ISTA.step`` (checks as :meth:`run`).

        Parameters
        ----------
        x : dask.array.Array or StackedArray
            Current model (not read: the state is the solver's).
        show : bool, optional
            Print the table row when this step is a check.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Updated model (lazy).
        xupdate : dask.array.Array
            Norm of the update, a lazy 0-d array: computing it (``float(xupdate)``,
            ``xupdate > tol``) is a round trip; :meth:`run` tests it at checks only.
        """
        self._advance(show)
        return self._x(), self._xupdate()

    def _xupdate(self):
        return self.vs.lazy(sqrt(self.st.dx2))

    # --- checks --------------------------------------------------------------------------------
    def _check_at(self, it):
        # PyLops' callbacks read the cost after every step: with callbacks, every step is a check
        return super()._check_at(it) or (it == 1 and self.rtol > 0) or bool(self.callbacks)

    def _lazy_check(self, st, show):
        vs = self.vs
        lazy = [st["r2"], st["dx2"], vs.dot(vs.map(_thresholds.unit, st["x"]), st["x"]),
                st["bad"] if self.monitorres else -1, st["inf"], st["stop"]]
        if show:
            lazy.append(vs.first(st["x"]))
        return lazy

    def _on_first_check(self, values):
        self._ynorm = math.sqrt(max(values["y2"], 0.0))

    def _on_check(self, values, show):
        if self.iiter == 0:
            return
        r2, dx2, l1, bad, inf = values[:5]
        self._stopped(values[5])  # (the state froze there: the values are that iteration's)
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
            x0 = values[6]
            strx = f"  {x0:1.2e}   " if isinstance(x0, complex) else f"     {x0:11.4e}        "
            print(f"{self.iiter:6g} " + strx
                  + f"{costdata:10.3e}   {self.cost[-1]:9.3e}  {self.xupdate:10.3e}")

    def _print_setup(self):
        self._print_solver(f" ({self.threshkind} thresholding)")
        print(f"eps = {self.eps:10e}\ttol = {self.tol:10e}\tniter = {self.niter}"
              f"\tcheck_every = {self.check_every}")
        print(f"alpha = {self.alpha:10e}\t" + (f"thresh = {self.thresh:10e}" if self.perc is None
                                                 else f"perc = {self.perc:.1f}"))
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

    _frozen = ("x", "z", "Ox", "Oz", "t", "r2", "dx2")

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory("FISTA", self.Op, 4, 3, show, unit)

    def _start(self, vs, y, x0):
        if x0 is None:
            x = vs.zeros_like(vs.rmatvec(y))
            Ox = vs.zeros_like(y)
        else:
            x, Ox = x0, vs.matvec(x0)
        return dict(x=x, z=x, Ox=Ox, Oz=Ox, t=1.0)

    def step(self, x, z=None, show=False):
        r"""Run one lazy step, as PyLops' ``FISTA.step``.

        Parameters
        ----------
        x, z : dask.array.Array or StackedArray
            Current model and auxiliary model (not read: the state is the solver's).
        show : bool, optional
            Print the table row when this step is a check.

        Returns
        -------
        x, z : dask.array.Array or StackedArray
            Updated model and auxiliary model (lazy).
        xupdate : dask.array.Array
            Norm of the update, a lazy 0-d array (computing it is a round trip).
        """
        self._advance(show)
        return self._x(), self._output(self.vs.to_dask(self.st.z)), self._xupdate()

    def _iterate(self, st):
        vs = self.vs
        r = st.y - st.Oz
        x = self._threshold(vs, st.z + self.alpha * vs.rmatvec(r), st)
        t = (1 + sqrt(1 + 4 * st.t * st.t)) / 2
        c = (st.t - 1) / t
        Ox = vs.matvec(x)
        out = dict(x=x, z=(1 + c) * x - c * st.x, Ox=Ox, Oz=(1 + c) * Ox - c * st.Ox, t=t,
                   y=st.y, r2=vs.sqnorm(st.y - Ox), dx2=vs.sqnorm(x - st.x))
        self._freeze(out, st)
        self._bookkeeping(out, st, vs.sqnorm(r))
        return out


@run_options("cost")
def ista(Op, y, x0=None, niter=10, SOp=None, eps=0.1, alpha=None, eigsdict=None, tol=1e-10,
         rtol=0.0, rtol1=0.0, threshkind="soft", perc=None, decay=None, monitorres=False,
         show=False, itershow=(10, 10, 10), callback=None, preallocate=False, check_every=10, progress=False,
         performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Iterative Shrinkage-Thresholding Algorithm (see :class:`ISTA`).

    Takes the parameters of :meth:`ISTA.solve`, and these:

    Parameters
    ----------
    {run_options}

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
    return solve_with(ISTA(Op), callback, progress, performance_report, checkpoint,
                      checkpoint_every,
                      y=y, x0=x0, niter=niter, SOp=SOp, eps=eps, alpha=alpha,
                      eigsdict=eigsdict, tol=tol, rtol=rtol, rtol1=rtol1,
                      threshkind=threshkind, perc=perc, decay=decay, monitorres=monitorres,
                      show=show, itershow=itershow, preallocate=preallocate,
                      check_every=check_every)


@run_options("cost")
def fista(Op, y, x0=None, niter=10, SOp=None, eps=0.1, alpha=None, eigsdict=None, tol=1e-10,
          rtol=0.0, rtol1=0.0, threshkind="soft", perc=None, decay=None, monitorres=False,
          show=False, itershow=(10, 10, 10), callback=None, preallocate=False, check_every=10, progress=False,
          performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Fast Iterative Shrinkage-Thresholding Algorithm (see :class:`FISTA`).

    Takes the parameters of :meth:`FISTA.solve`, and these:

    Parameters
    ----------
    {run_options}

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
    return solve_with(FISTA(Op), callback, progress, performance_report, checkpoint,
                      checkpoint_every,
                      y=y, x0=x0, niter=niter, SOp=SOp, eps=eps, alpha=alpha,
                      eigsdict=eigsdict, tol=tol, rtol=rtol, rtol1=rtol1,
                      threshkind=threshkind, perc=perc, decay=decay, monitorres=monitorres,
                      show=show, itershow=itershow, preallocate=preallocate,
                      check_every=check_every)


def spgl1(Op, y, *args, **kwargs):
    """Not available: SPGL1 (:func:`pylops.optimization.sparsity.spgl1`) does not run on
    chunks here.

    The ``spgl1`` package that PyLops wraps iterates on whole NumPy vectors on one machine:
    every iteration projects onto an l1 ball (a sort of the whole model) and its line search
    decides on each step's numbers, so on a cluster it would gather the model every
    iteration. For the same problems use :func:`fista` (``eps`` for the l1 weight; the
    percentile thresholds keep a given fraction of the coefficients) or :func:`omp`, or run
    PyLops' ``spgl1`` on NumPy arrays.

    Raises
    ------
    NotImplementedError
        Always, with the alternatives.
    """
    raise NotImplementedError(
        "spgl1: SPGL1 does not run on chunked vectors (the spgl1 package projects the whole "
        "model onto an l1 ball and decides each line-search step on the client); use "
        "pylops_distributed.optimization.sparsity.fista or omp, or PyLops' spgl1 on NumPy arrays")
