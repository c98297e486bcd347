r"""Proximal solvers of PyProximal 0.13 on the solvers' vector space, bringing numbers to the
client only at checks.

    ProximalGradient             (accelerated) proximal gradient, fixed step or backtracking
    AcceleratedProximalGradient  ProximalGradient with ``acceleration="vandenberghe"``
    ADMM                         alternating direction method of multipliers
    LinearizedADMM               linearized ADMM for :math:`f(\mathbf{x}) + g(\mathbf{Ax})`
    PrimalDual                   Chambolle-Pock primal-dual

Same arguments, defaults and returns as :mod:`pyproximal.optimization.primal` and
:func:`pyproximal.optimization.primaldual.PrimalDual`, plus ``check_every``, ``progress``,
``performance_report``, ``checkpoint`` and ``checkpoint_every`` (as
:func:`~pylops_distributed.optimization.cgls`'s). ``proxf`` and
``proxg`` are PyProximal objects; those in :data:`._proxes.REGISTRY` run chunk by chunk:
``L1``, ``Box``, ``Huber``, ``L2`` (its ``Op`` must be the solve's operator: ``A``, or the
one operator of the problem), ``Euclidean`` and ``EuclideanBall`` (one global norm, a lazy
scalar). Any other raises ``NotImplementedError`` naming it, before anything is computed.

Each iteration is lazy; every ``check_every`` iterations one round trip brings back the cost
(:math:`f + g`, as PyProximal's), printed with ``show=True``. With ``tol`` or ``rtol`` the
cost and PyProximal's stopping test are computed every iteration, lazily: the iterates freeze
at the iteration where PyProximal stops, which the next check reports (``callback`` may still
see the frozen iterate up to ``check_every - 1`` times). Differences from PyProximal:

- ``tau=None`` (or ``backtracking=True``) in ProximalGradient: each backtracking trial needs
  a number, so it costs one round trip per trial (one at least per iteration);
- ``L2(Op, b).prox`` (ADMM, or an ``A``-side L2) runs ``niter`` iterations of PyLops' CG on
  the normal equations, warm started as PyProximal: PyProximal's ``solver="cg"`` exactly;
  for its default ``"legacy"`` (SciPy's LSQR), ``"cgls"`` and explicit (dense) operators
  (a direct solve) results agree once the inner solve has converged;
- the prox objects are not modified (PyProximal's ``L2`` keeps its warm start in ``x0``);
- complex backtracking uses :math:`\Re\langle\nabla f, \mathbf{z}-\mathbf{x}\rangle`
  (PyProximal's fails there); costs are real parts.
"""

import functools
import warnings

import numpy as np

from pylops_distributed.optimization._proximal_base import (ProximalSolver, check_positive,
                                                            run_proximal, schedule)
from pylops_distributed.optimization._proxes import fista_t, pg_cost0, vandenberghe
from pylops_distributed.optimization._space import call

__all__ = ["ProximalGradient", "AcceleratedProximalGradient", "ADMM", "LinearizedADMM",
           "PrimalDual"]


class _ProximalGradient(ProximalSolver):
    name, nbar = "ProximalGradient", 81
    head = "f           g       J=f+eps*g     tau"
    results = ("x",)

    def setup(self, terms, x0, y, epsg=1.0, tau=None, backtracking=False, beta=0.5, eta=1.0,
              acceleration=None, niterback=100, niter=10, tol=None, rtol=None, show=False,
              check_every=10):
        if acceleration not in (None, "None", "vandenberghe", "fista"):
            raise NotImplementedError("Acceleration should be None, vandenberghe or fista")
        if tau is None:
            backtracking, tau = True, 1.0
        if np.size(tau) != 1:
            raise NotImplementedError(f"{self.name}: a vector tau (several right-hand sides) is "
                                      "not supported")
        check_positive(self.name, tau=tau, eta=eta, beta=beta)
        self.backtracking, self.beta, self.eta, self.niterback = backtracking, beta, eta, niterback
        self.acceleration = None if acceleration == "None" else acceleration
        self._tau = np.atleast_1d(np.asarray(tau, dtype=np.float32)).item()
        self._epsg = schedule(epsg, niter, "epsg", self.name, positive=False)
        ins = self._prepare(terms, y, x0, check_every, niter, tol, rtol)
        return self._start(ins, dict(x=ins.x0, v=ins.x0, t=1.0), ins.x0, ins.x0, show, [
            f"tau = {self._tau:4.2e}\t\tbacktrack = {self.backtracking}",
            f"beta = {beta}\t\tepsg = {self._epsg[1][0]}\t\tacceleration = {acceleration}"])

    def _first_cost(self, pf, pg, zx):
        return call(functools.partial(pg_cost0, self._epsg[0][0]), pf, pg)

    def _cost(self, pf, pg, zx, k):
        return pf + self._at_k(self._epsg, k) * pg

    def _replayable(self):
        return not self.backtracking and super()._replayable()

    def _iterate(self, st):
        self._bind(st)
        f, g = self.terms
        eps, tau = self._at_k(self._epsg, st.k), self._tau
        if self.backtracking:  # (the trials are committed: the step goes on from the last)
            st, x, tau = self._backtrack(st, eps)
            self._tau = float(np.float32(tau))
            if self.eta != 1.0:
                x = x + self.eta * (g.prox(x - tau * f.grad(x), eps * tau) - x)
        elif self.eta == 1.0:
            x = g.prox(st.v - tau * f.grad(st.v), eps * tau)
        else:
            x = st.x + self.eta * (g.prox(st.x - tau * f.grad(st.x), eps * tau) - st.x)
        out = dict(x=x, v=x, t=st.t)
        if self.acceleration == "vandenberghe":
            out["v"] = x + call(vandenberghe, st.k) * (x - st.x)
        elif self.acceleration == "fista":
            out["t"] = call(fista_t, st.t)
            out["v"] = x + ((st.t - 1.0) / out["t"]) * (x - st.x)
        return self._close(st, out)

    def _backtrack(self, st, eps):
        """PyProximal's ``_backtracking`` from ``st.v``: one round trip per trial (the gradient
        and ``f(v)``, computed once, are kept in the trials' states)."""
        vs, (f, g) = self.vs, self.terms
        tau, grad, fv = self._tau, f.grad(st.v), f.value(st.v)
        for _ in range(self.niterback):
            z = g.prox(st.v - tau * grad, eps * tau)
            d = z - st.v
            ft = fv + call(np.real, vs.dot(grad, d)) + (1.0 / (2.0 * tau)) * vs.sqnorm(d)
            trial = dict(st, z=z, bt_grad=grad, bt_fv=fv)
            for t in self.terms:
                trial.update(t.carry())
            st = vs.commit(trial, check=[f.value(z), ft])
            self._bind(st)
            grad, fv = st.bt_grad, st.bt_fv
            (fz, ftv), _ = vs.check_values()
            if fz <= ftv:
                break
            tau *= self.beta
        return st, st.z, tau

    def _row(self, pf, pg, zx, pfg):
        return f"{pf:10.3e}  {pg:10.3e}  {pfg:10.3e}  {self._tau:4.2e}"


def ProximalGradient(proxf, proxg, x0, epsg=1.0, tau=None, backtracking=False, beta=0.5,
                     eta=1.0, niter=10, niterback=100, acceleration=None, tol=None, rtol=None,
                     callback=None, show=False, itershow=(10, 10, 10), check_every=10,
                     progress=False, performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Proximal gradient (optionally accelerated), as
    :func:`pyproximal.optimization.primal.ProximalGradient`:
    :math:`\min_\mathbf{x} f(\mathbf{x}) + \epsilon g(\mathbf{x})`.

    Parameters are PyProximal's (``proxf`` needs a gradient: e.g. ``L2(Op=Op, b=b)``, its
    ``Op`` a PyLops or pylops_distributed operator), plus ``check_every``: iterations between
    round trips (with ``tau=None`` or ``backtracking=True``, also one per backtracking trial).

    Returns
    -------
    x : dask.array.Array
        Estimated model (persisted; flat when ``x0`` is flat).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pyproximal
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.proximal import ProximalGradient
    >>> A = np.random.default_rng(0).standard_normal((30, 50))
    >>> xtrue = np.zeros(50); xtrue[[3, 17, 40]] = [1.0, -2.0, 1.5]
    >>> Op = pld.MatrixMult(da.from_array(A, chunks=(10, 50)))
    >>> f, g = pyproximal.L2(Op=Op, b=A @ xtrue), pyproximal.L1(sigma=0.1)
    >>> x = ProximalGradient(f, g, x0=da.zeros(50, chunks=10), tau=0.005, niter=500,
    ...                      acceleration="fista")
    >>> np.flatnonzero(np.abs(x.compute()) > 0.5).tolist()
    [3, 17, 40]
    """
    return run_proximal(_ProximalGradient, proxf, proxg, x0, None, callback, tol, rtol, epsg=epsg,
                tau=tau, backtracking=backtracking, beta=beta, eta=eta,
                acceleration=acceleration, niterback=niterback, niter=niter, show=show,
                itershow=itershow, check_every=check_every,
                progress=progress, performance_report=performance_report,
                checkpoint=checkpoint, checkpoint_every=checkpoint_every)


def AcceleratedProximalGradient(proxf, proxg, x0, tau=None, beta=0.5, epsg=1.0, niter=10,
                                niterback=100, acceleration="vandenberghe", tol=None, rtol=None,
                                callback=None, show=False, itershow=(10, 10, 10),
                                check_every=10):
    """Accelerated proximal gradient: :func:`ProximalGradient` with ``acceleration``
    (PyProximal's deprecated wrapper, with its ``FutureWarning``).

    Examples
    --------
    >>> import warnings, numpy as np, dask.array as da, pyproximal
    >>> from pylops_distributed.optimization.proximal import AcceleratedProximalGradient
    >>> b = da.from_array(np.linspace(-2, 2, 12), chunks=4)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     x = AcceleratedProximalGradient(pyproximal.L2(b=b.compute()), pyproximal.L1(),
    ...                                     x0=da.zeros(12, chunks=4), tau=0.5, niter=50)
    >>> np.round(x.compute()[:3], 3).tolist()
    [-1.0, -0.636, -0.273]
    """
    warnings.warn("AcceleratedProximalGradient has been integrated directly into "
                  "ProximalGradient (as in PyProximal): use its acceleration parameter",
                  FutureWarning, stacklevel=2)
    return ProximalGradient(proxf, proxg, x0, tau=tau, beta=beta, epsg=epsg, niter=niter,
                            niterback=niterback, acceleration=acceleration, tol=tol, rtol=rtol,
                            callback=callback, show=show, itershow=itershow,
                            check_every=check_every)


# --- ADMM, LinearizedADMM and PrimalDual --------------------------------------------------------

class _ADMM(ProximalSolver):
    name = "ADMM"

    def setup(self, terms, x0, y, tau, z0=None, gfirst=False, niter=10, tol=None, rtol=None,
              show=False, check_every=10):
        check_positive(self.name, tau=tau)
        self.tau, self.gfirst = tau, gfirst
        ins = self._prepare(terms, y, x0, check_every, niter, tol, rtol, [("z0", z0, "model")])
        z = ins.z0 if z0 is not None else ins.x0
        return self._start(ins, dict(x=ins.x0, z=z, u=self.vs.zeros_like(ins.x0)), ins.x0,
                           ins.x0, show, [f"tau = {float(tau):6e}\tgfirst = {gfirst}"])

    def _step(self, st):
        f, g = self.terms
        if self.gfirst:
            z = g.prox(st.x + st.u, self.tau)
            x = f.prox(z - st.u, self.tau)
        else:
            x = f.prox(st.z - st.u, self.tau)
            z = g.prox(x + st.u, self.tau)
        return dict(x=x, z=z, u=st.u + x - z)


def ADMM(proxf, proxg, x0, tau, niter=10, z0=None, gfirst=False, tol=None, rtol=None,
         callback=None, callbackz=False, show=False, itershow=(10, 10, 10), check_every=10,
         progress=False, performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Alternating direction method of multipliers, as
    :func:`pyproximal.optimization.primal.ADMM`:
    :math:`\min f(\mathbf{x}) + g(\mathbf{z})` s.t. :math:`\mathbf{x} = \mathbf{z}`.

    ``proxf`` may be ``L2(Op=Op, b=b)`` (its prox: ``L2.niter`` CG iterations per step, see
    the module notes). Plus ``check_every``.

    Returns
    -------
    x, z : dask.array.Array
        Estimated model and second model (persisted).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pyproximal
    >>> from pylops_distributed.optimization.proximal import ADMM
    >>> b = np.linspace(-2, 2, 12)
    >>> x, z = ADMM(pyproximal.L2(b=b), pyproximal.Box(-1, 1), da.zeros(12, chunks=4),
    ...             tau=1.0, niter=100)
    >>> np.round(z.compute()[[0, 6, 11]], 3).tolist()
    [-1.0, 0.182, 1.0]
    """
    if x0 is None and z0 is None:
        raise ValueError("Both x0 or z0 are None, provide either of them or both")
    return run_proximal(_ADMM, proxf, proxg, z0 if x0 is None else x0, None, callback, tol, rtol,
                cbvec="z" if callbackz else None, tau=tau, z0=z0, gfirst=gfirst, niter=niter,
                show=show, itershow=itershow, check_every=check_every,
                progress=progress, performance_report=performance_report,
                checkpoint=checkpoint, checkpoint_every=checkpoint_every)


class _LinearizedADMM(ProximalSolver):
    name, with_A = "LinearizedADMM", True

    def setup(self, terms, x0, y, tau, mu, z0=None, niter=10, tol=None, rtol=None, show=False,
              check_every=10):
        check_positive(self.name, tau=tau, mu=mu)
        self.tau, self.mu = tau, mu
        ins = self._prepare(terms, y, x0, check_every, niter, tol, rtol, [("z0", z0, "data")])
        z = ins.z0 if z0 is not None else self.vs.matvec(ins.x0)
        return self._start(ins, dict(x=ins.x0, z=z, Ax=z, u=self.vs.zeros_like(z)), ins.x0, z,
                           show, [f"tau = {tau:6e}\tmu = {mu:6e}"])

    def _step(self, st):
        (f, g), vs = self.terms, self.vs
        x = f.prox(st.x - self.mu / self.tau * vs.rmatvec(st.Ax - st.z + st.u), self.mu)
        Ax = vs.matvec(x)
        z = g.prox(Ax + st.u, self.tau)
        return dict(x=x, z=z, Ax=Ax, u=st.u + Ax - z)

    def _gpoint(self, st):
        return st["Ax"]


def LinearizedADMM(proxf, proxg, A, x0, tau, mu, niter=10, z0=None, tol=None, rtol=None,
                   callback=None, show=False, itershow=(10, 10, 10), check_every=10,
                   progress=False, performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Linearized ADMM, as :func:`pyproximal.optimization.primal.LinearizedADMM`:
    :math:`\min f(\mathbf{x}) + g(\mathbf{Ax})`, plus ``check_every``.

    Returns
    -------
    x, z : dask.array.Array
        Estimated model and second model (``A``'s data side; flat when ``x0`` is flat).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pyproximal
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.proximal import LinearizedADMM
    >>> b = np.r_[np.zeros(10), np.ones(10)] + 0.1 * np.random.default_rng(0).standard_normal(20)
    >>> D = pld.FirstDerivative(20, kind="forward")
    >>> x, z = LinearizedADMM(pyproximal.L2(b=b), pyproximal.L1(sigma=0.5), D,
    ...                       da.zeros(20, chunks=5), tau=1.0, mu=0.2, niter=300)
    >>> bool(np.abs(np.diff(x.compute())).sum() < np.abs(np.diff(b)).sum())
    True
    """
    if x0 is None:
        raise ValueError("x0 must be provided when A is also provided")
    return run_proximal(_LinearizedADMM, proxf, proxg, x0, A, callback, tol, rtol, data0=z0, tau=tau,
                mu=mu, z0=z0, niter=niter, show=show, itershow=itershow, check_every=check_every,
                progress=progress, performance_report=performance_report,
                checkpoint=checkpoint, checkpoint_every=checkpoint_every)


class _PrimalDual(ProximalSolver):
    name, nbar, with_A = "PrimalDual", 85, True
    head = "f            g          z^x       J=f+g+z^x"
    results = ("x", "p")

    def setup(self, terms, x0, y, tau, mu, y0=None, z=None, theta=1.0, gfirst=True, niter=10,
              tol=None, rtol=None, show=False, check_every=10):
        self.theta, self.gfirst, self._has_z = theta, gfirst, z is not None
        self._tau, self._mu = (schedule(np.asarray(v, np.float32), niter, what, self.name)
                               for v, what in ((tau, "tau"), (mu, "mu")))
        ins = self._prepare(terms, y, x0, check_every, niter, tol, rtol,
                            [("p0", y0, "data"), ("zc", None if z is None else z.conj(),
                                                  "model")])
        state = dict(x=ins.x0, xhat=ins.x0, p=ins.p0 if y0 is not None else
                     self.vs.zeros_like(ins.y), **({"zc": ins.zc} if self._has_z else {}))
        return self._start(ins, state, ins.x0, self.vs.matvec(ins.x0), show, [
            f"tau = {self._tau[1][0]:.6g}\tmu = {self._mu[1][0]:.6g}\ttheta = {theta:6.2e}"])

    def _zx(self, st):
        return call(np.real, self.vs.dot(st["zc"], st["x"])) if self._has_z else 0.0

    def _step(self, st):
        (f, g), vs = self.terms, self.vs
        tau, mu = self._at_k(self._tau, st.k), self._at_k(self._mu, st.k)
        p = st.p
        if self.gfirst:
            p = g.proxdual(p + mu * vs.matvec(st.xhat), mu)
        ATy = vs.rmatvec(p) + st.zc if self._has_z else vs.rmatvec(p)
        x = f.prox(st.x - tau * ATy, tau)
        xhat = x + self.theta * (x - st.x)
        if not self.gfirst:
            p = g.proxdual(p + mu * vs.matvec(xhat), mu)
        return dict(x=x, xhat=xhat, p=p, **({"zc": st.zc} if self._has_z else {}))

    def _gpoint(self, st):
        return self.vs.matvec(st["x"])

    def _row(self, pf, pg, zx, pfg):
        return f" {pf:11.4e} {pg:11.4e}  {zx:11.4e}  {pfg:11.4e} "


def PrimalDual(proxf, proxg, A, x0, tau, mu, y0=None, z=None, theta=1.0, niter=10, gfirst=True,
               tol=None, rtol=None, callback=None, callbacky=False, returny=False, show=False,
               itershow=(10, 10, 10), check_every=10,
               progress=False, performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""Primal-dual algorithm, as :func:`pyproximal.optimization.primaldual.PrimalDual`:
    :math:`\min g(\mathbf{Ax}) + f(\mathbf{x}) + \mathbf{z}^T\mathbf{x}`, plus ``check_every``.

    Returns
    -------
    x : dask.array.Array
        Estimated model.
    y : dask.array.Array
        Dual variable (``A``'s data side), only with ``returny=True``.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pyproximal
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.proximal import PrimalDual
    >>> b = np.r_[np.zeros(10), np.ones(10)] + 0.1 * np.random.default_rng(0).standard_normal(20)
    >>> D = pld.FirstDerivative(20, kind="forward")
    >>> x = PrimalDual(pyproximal.L2(b=b), pyproximal.L1(sigma=0.5), D,
    ...                da.zeros(20, chunks=5), tau=0.5, mu=0.5, niter=300)
    >>> bool(np.abs(np.diff(x.compute())).sum() < np.abs(np.diff(b)).sum())
    True
    """
    x, y = run_proximal(_PrimalDual, proxf, proxg, x0, A, callback, tol, rtol, data0=y0,
                cbvec="p" if callbacky else None, tau=tau, mu=mu, y0=y0, z=z, theta=theta,
                gfirst=gfirst, niter=niter, show=show, itershow=itershow,
                check_every=check_every,
                progress=progress, performance_report=performance_report,
                checkpoint=checkpoint, checkpoint_every=checkpoint_every)
    return (x, y) if returny else x
