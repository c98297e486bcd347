r"""Split Bregman for mixed L2-L1 problems, as :func:`pylops.optimization.sparsity.splitbregman`.

Minimises :math:`\tfrac{\mu}{2}\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|_2^2 + \sum_i
\epsilon_{L2,i}\|\mathbf{d}_i - \mathbf{R}_{L2,i}\mathbf{x}\|_2^2 + \sum_i
\|\mathbf{R}_{L1,i}\mathbf{x}\|_1` (TV denoising and deblurring with ``RegsL1`` derivatives).
Each inner iteration is a regularized least-squares solve by our solvers (on the fused path
when the operators have chunk kernels) and a soft threshold applied chunk by chunk; the
vectors stay on the cluster, persisted after each solve, and each outer iteration brings back
two numbers (the cost and the model change tested against ``tol``). Importable as
``pylops_distributed.optimization.sparsity.splitbregman``.
"""

import math

import dask
import dask.array as da
import numpy as np
from pylops.optimization.basesolver import Solver

from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization import _thresholds
from pylops_distributed.optimization._inversion import as_block, check_engine
from pylops_distributed.optimization._outer_checkpoint import outer_checkpoint
from pylops_distributed.optimization.leastsquares import regularized_in_shape

__all__ = ["SplitBregman", "splitbregman"]


def _soft(v, thresh):
    return v.map_blocks(_thresholds.soft, thresh, dtype=v.dtype)


def _sqnorm(v):
    return (abs(v) ** 2).sum()


class SplitBregman(Solver):
    r"""Split Bregman, as :class:`pylops.optimization.sparsity.SplitBregman`.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.sparsity import splitbregman
    >>> xtrue = np.repeat([0.0, 2.0, 1.0], 20)  # blocky: sparse first derivative
    >>> y = xtrue + np.random.default_rng(0).normal(0, 0.1, 60)
    >>> x, it, cost = splitbregman(pld.Identity(60), da.from_array(y, chunks=20),
    ...                            [pld.FirstDerivative(60, edge=True, kind="backward")],
    ...                            niter_outer=10, niter_inner=3, mu=1.0, epsRL1s=[0.3],
    ...                            tol=1e-4, iter_lim=30)
    >>> bool(np.abs(x.compute() - xtrue).mean() < np.abs(y - xtrue).mean())
    True
    """

    def __init__(self, Op, callbacks=None):
        super().__init__(aslinearoperator(Op), callbacks)

    def _print_setup(self):
        self._print_solver(f" (niter_outer = {self.niter_outer}, niter_inner = {self.niter_inner})")
        print(f"mu = {self.mu:10e}\tepsL1 = {self.epsRL1s}\tepsL2 = {self.epsRL2s}\t"
              f"tol = {self.tol:10e}")
        print("-" * 80)
        print("   Itn          x[0]           r2norm          r12norm")

    def memory_usage(self, show=False, unit="B"):
        pass

    def setup(self, y, RegsL1, x0=None, niter_outer=3, niter_inner=5, RegsL2=None,
              dataregsL2=None, mu=1.0, epsRL1s=None, epsRL2s=None, tol=1e-10, tau=1.0,
              restart=False, preallocate=False, show=False):
        """Set up the solver (lazy). See :class:`pylops.optimization.sparsity.SplitBregman`."""
        name = type(self).__name__
        if not isinstance(RegsL1, (list, tuple)) or not RegsL1:
            raise TypeError(f"{name}: RegsL1 must be a non-empty list of operators")
        self.RegsL1 = [aslinearoperator(R) for R in RegsL1]
        self.RegsL2 = [aslinearoperator(R) for R in RegsL2] if RegsL2 is not None else None
        nl1, nl2 = len(self.RegsL1), len(self.RegsL2 or ())
        if epsRL1s is None or len(epsRL1s) != nl1:
            raise ValueError(f"{name}: epsRL1s must give one damping per RegsL1 operator")
        if nl2 and (epsRL2s is None or len(epsRL2s) != nl2):
            raise ValueError(f"{name}: epsRL2s must give one damping per RegsL2 operator")
        for key, value in dict(mu=mu, tol=tol, tau=tau).items():
            if not value >= 0:
                raise ValueError(f"{name}: {key} must be >= 0, got {value!r}")
        if mu == 0:
            raise ValueError(f"{name}: mu must be > 0 (it weighs the data term)")
        self.y = as_block(y, self.Op.dimsd, f"{name}: y")
        self._flat = getattr(y, "ndim", None) == 1 and len(self.Op.dims) > 1
        self.niter_outer, self.niter_inner, self.mu, self.tol = niter_outer, niter_inner, mu, tol
        self.tau, self.restart, self.preallocate = tau, restart, preallocate
        self.epsRL1s, self.epsRL2s = list(epsRL1s), list(epsRL2s or [])
        dtype = np.result_type(self.Op.dtype, self.y.dtype)
        self.b = [da.zeros(R.dimsd, dtype=dtype) for R in self.RegsL1]
        self.d = [da.zeros(R.dimsd, dtype=dtype) for R in self.RegsL1]
        self.dataregsL2 = ([as_block(d, R.dimsd, f"{name}: dataregsL2")
                            for d, R in zip(dataregsL2, self.RegsL2)] if dataregsL2 is not None
                           else [da.zeros(R.dimsd, dtype=dtype) for R in self.RegsL2 or ()])
        self.Regs = (self.RegsL2 or []) + self.RegsL1
        self.epsRs = ([math.sqrt(e / 2) / math.sqrt(mu / 2) for e in self.epsRL2s]
                      + [math.sqrt(e / 2) / math.sqrt(mu / 2) for e in self.epsRL1s])
        self.x0 = None if x0 is None else as_block(x0, self.Op.dims, f"{name}: x0")
        self.ncp = np  # (PyLops callbacks read it)
        self.cost, self.iiter = [], 0
        if show:
            self._print_setup()
        return da.zeros(self.Op.dims, dtype=dtype) if self.x0 is None else self.x0

    def step(self, x, engine=None, show=False, show_inner=False, **kwargs_solver):
        """One outer iteration: ``niter_inner`` regularized solves and shrinkages, then the
        Bregman update and the cost (one round trip)."""
        check_engine(engine, type(self).__name__)
        x = as_block(x, self.Op.dims, f"{type(self).__name__}: x")
        for _ in range(self.niter_inner):
            dataregs = self.dataregsL2 + [d - b for d, b in zip(self.d, self.b)]
            x = regularized_in_shape(self.Op, self.y, self.Regs, self.epsRs,
                                     self.x0 if self.restart else x,
                                     dict(kwargs_solver, show=show_inner, engine=engine),
                                     type(self).__name__, dataregs=dataregs)
            self.d = [_soft(R.matvec(x) + b, eps) for R, b, eps in
                      zip(self.RegsL1, self.b, self.epsRL1s)]
            x, self.d = dask.persist(x, self.d)
        self.b = list(dask.persist(*[b + self.tau * (R.matvec(x) - d) for R, b, d in
                                     zip(self.RegsL1, self.b, self.d)]))
        parts = [self.mu / 2.0 * _sqnorm(self.y - self.Op.matvec(x))]
        parts += [e * _sqnorm(d - R.matvec(x)) for e, R, d in
                  zip(self.epsRL2s, self.RegsL2 or (), self.dataregsL2)]
        parts += [abs(R.matvec(x)).sum() for R in self.RegsL1]
        values = dask.compute(*parts)
        self.costdata = float(values[0])
        self.cost.append(float(sum(values)))
        self.iiter += 1
        if show:
            print(f"{self.iiter:6g}  {self.costdata:12.5e}  {self.cost[-1]:12.5e}")
        return x

    def run(self, x, engine=None, show=False, itershow=(10, 10, 10), show_inner=False,
            **kwargs_solver):
        """Outer iterations until ``niter_outer`` or a model change ``<= tol``."""
        # as PyLops (its first "previous" model is x + 1.1 tol): tol=0 makes no iteration
        change = 1.1 * self.tol * math.sqrt(int(np.prod(self.Op.dims)))
        ck = getattr(self, "_checkpoint", None)
        saved = ck.resume() if ck is not None else None
        if saved is not None:
            numbers, vectors = saved
            x, self.d, self.b = vectors["x"], vectors["d"], vectors["b"]
            self.iiter, self.cost, change = numbers["iiter"], numbers["cost"], numbers["change"]
            self.costdata = numbers["costdata"]
        while change > self.tol and self.iiter < self.niter_outer:
            xold = x
            x = self.step(x, engine, show, show_inner, **kwargs_solver)
            change = float(dask.compute(da.sqrt(_sqnorm(x - xold)))[0])
            if ck is not None:
                ck.save({"iiter": self.iiter, "cost": self.cost, "change": change,
                         "costdata": self.costdata}, {"x": x, "d": self.d, "b": self.b})
            self.callback(x)
            if self.callbacks and any(getattr(cb, "stop", False) for cb in self.callbacks):
                break
        if ck is not None:
            ck.close()
        return x.ravel() if self._flat else x

    def finalize(self, show=False):
        super().finalize(show=show)
        self.cost = np.array(self.cost)

    def solve(self, y, RegsL1, x0=None, niter_outer=3, niter_inner=5, RegsL2=None,
              dataregsL2=None, mu=1.0, epsRL1s=None, epsRL2s=None, tol=1e-10, tau=1.0,
              restart=False, engine=None, show=False, itershow=(10, 10, 10), show_inner=False,
              preallocate=False, checkpoint=None, checkpoint_every=1, **kwargs_solver):
        """Run the whole solver; returns ``(x, iiter, cost)``. With ``checkpoint`` (a folder),
        the state is saved every ``checkpoint_every`` outer iterations, and a call with the
        same folder resumes from the newest save."""
        x = self.setup(y, RegsL1, x0=x0, niter_outer=niter_outer, niter_inner=niter_inner,
                       RegsL2=RegsL2, dataregsL2=dataregsL2, mu=mu, epsRL1s=epsRL1s,
                       epsRL2s=epsRL2s, tol=tol, tau=tau, restart=restart,
                       preallocate=preallocate, show=show)
        params = dict(RegsL1=self.RegsL1, RegsL2=self.RegsL2, niter_inner=niter_inner, mu=mu,
                      epsRL1s=self.epsRL1s, epsRL2s=self.epsRL2s, tol=tol, tau=tau,
                      restart=restart, engine=engine, kwargs_solver=kwargs_solver)
        self._checkpoint = outer_checkpoint(
            self, checkpoint, checkpoint_every, params,
            lambda: float(dask.compute(_sqnorm(self.y))[0]), self.x0)
        x = self.run(x, engine=engine, show=show, itershow=itershow, show_inner=show_inner,
                     **kwargs_solver)
        self.finalize(show)
        return x, self.iiter, self.cost


def splitbregman(Op, y, RegsL1, x0=None, niter_outer=3, niter_inner=5, RegsL2=None,
                 dataregsL2=None, mu=1.0, epsRL1s=None, epsRL2s=None, tol=1e-10, rtol=0.0,
                 rtol1=0.0, tau=1.0, restart=False, engine=None, show=False,
                 itershow=(10, 10, 10), show_inner=False, callback=None, preallocate=False,
                 checkpoint=None, checkpoint_every=1, **kwargs_solver):
    """Split Bregman (see :class:`SplitBregman`); returns ``(x, iiter, cost)``.

    ``rtol`` and ``rtol1`` stop when the cost falls below ``rtol`` times the first cost or
    ``rtol1`` times :math:`\\|\\mathbf{y}\\|_2`, as PyLops' callbacks. ``checkpoint`` (a
    folder, local path or fsspec URL): the state (model, the split and Bregman variables,
    costs) is saved every ``checkpoint_every`` outer iterations, and a call with the same
    folder resumes from the newest save with the result of an uninterrupted run; a folder
    written by another problem raises ``ValueError``.
    """
    from pylops.optimization.callback import CostToDataCallback, CostToInitialCallback

    callbacks = ([CostToInitialCallback(rtol)] if rtol > 0 else []) + (
        [CostToDataCallback(rtol1)] if rtol1 > 0 else [])
    solver = SplitBregman(Op, callbacks=callbacks or None)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y, RegsL1, x0=x0, niter_outer=niter_outer, niter_inner=niter_inner,
                        RegsL2=RegsL2, dataregsL2=dataregsL2, mu=mu, epsRL1s=epsRL1s,
                        epsRL2s=epsRL2s, tol=tol, tau=tau, restart=restart, engine=engine,
                        show=show, itershow=itershow, show_inner=show_inner,
                        preallocate=preallocate, checkpoint=checkpoint,
                        checkpoint_every=checkpoint_every, **kwargs_solver)
