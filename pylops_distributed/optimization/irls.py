r"""Iteratively reweighted least squares (IRLS), as :func:`pylops.optimization.sparsity.irls`.

Each outer iteration solves a weighted least-squares problem with our solvers (the weights a
lazy :class:`~pylops_distributed.Diagonal` of the previous residual or model, so the inner
solve keeps the fused path) and brings back two numbers: the residual norm (``cost``) and the
model change tested against ``tolIRLS``. Importable as
``pylops_distributed.optimization.sparsity.irls``.
"""

import dask
import dask.array as da
import numpy as np
from pylops.optimization.basesolver import Solver

from pylops_distributed.basicoperators.blockdiag import BlockDiag
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.basicoperators.vstack import VStack
from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization._inversion import (as_block, check_engine, scipy_lsqr_defaults,
                                                       solver_kwargs)
from pylops_distributed.optimization._outer_checkpoint import outer_checkpoint
from pylops_distributed.optimization.cgls import cgls
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.stacked import StackedArray

__all__ = ["IRLS", "irls"]


def _blocks(v):
    return list(v.blocks) if isinstance(v, StackedArray) else [v]


def _norm(v):
    return da.sqrt(sum((abs(b) ** 2).sum() for b in _blocks(v)))


def _diagonal(w):
    """``Diagonal(w)`` (a BlockDiag of them for a stacked vector)."""
    blocks = _blocks(w)
    ops = [Diagonal(b, dtype=b.dtype) for b in blocks]
    return ops[0] if len(ops) == 1 else BlockDiag(ops)


class IRLS(Solver):
    r"""Iteratively reweighted least squares, as :class:`pylops.optimization.sparsity.IRLS`.

    ``kind="data"``: an L1 data misfit (robust to outliers), weights
    :math:`1/(|r| + \epsilon_R)` (or :math:`1/\max(|r|, \epsilon_R)` with ``threshR``);
    ``kind="model"``: a sparse model, weights :math:`|x|`; ``kind="datamodel"``: both, through
    ``[Op; epsI I]``. Weights are normalised by their maximum. The inner solver is our LSQR
    (SciPy's names and defaults: ``iter_lim`` = twice the unknowns, ``atol = btol = 1e-6``,
    as PyLops' default engine) or, with ``engine="pylops"`` or ``niter=``, our CGLS.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.sparsity import irls
    >>> A = np.random.default_rng(0).standard_normal((40, 10))
    >>> y = A @ np.ones(10); y[5] += 50  # an outlier
    >>> x, nouter = irls(pld.MatrixMult(da.from_array(A, chunks=(10, 10))), y, nouter=20,
    ...                  epsR=1e-4, epsI=0, tolIRLS=1e-6, kind="data")
    >>> bool(np.allclose(x.compute(), 1, atol=1e-2))
    True
    """

    def __init__(self, Op, callbacks=None):
        super().__init__(aslinearoperator(Op), callbacks)

    def _print_setup(self):
        self._print_solver(f" ({self.kind})")
        print(f"threshR = {self.threshR}\tepsR = {self.epsR:10e}\tepsI = {self.epsI:10e}\t"
              f"tolIRLS = {self.tolIRLS:10e}")
        print("-" * 65)
        print("    Itn           x[0]        r2norm")

    def memory_usage(self, show=False, unit="B"):
        pass

    def setup(self, y, nouter=None, threshR=False, epsR=1e-10, epsI=1e-10, tolIRLS=1e-10,
              warm=False, kind="data", preallocate=False, show=False):
        """Set up the solver (lazy). See :class:`pylops.optimization.sparsity.IRLS`."""
        name = type(self).__name__
        if kind not in ("data", "model", "datamodel"):
            raise NotImplementedError(f"`kind` must be model, data or datamodel, got {kind}")
        for key, value in dict(epsR=epsR, epsI=epsI, tolIRLS=tolIRLS).items():
            if not value >= 0:
                raise ValueError(f"{name}: {key} must be >= 0, got {value!r}")
        self.nouter, self.threshR, self.epsR, self.epsI = nouter, threshR, epsR, epsI
        self.tolIRLS, self.warm, self.kind, self.preallocate = tolIRLS, warm, kind, preallocate
        self.y = as_block(y, self.Op.dimsd, f"{name}: y")
        self._flat = getattr(y, "ndim", None) == 1 and len(self.Op.dims) > 1
        if kind == "datamodel":  # the model term joins the data through [Op; epsI I]
            self.Op = VStack([self.Op, epsI * Identity(self.Op.dims, dtype=self.Op.dtype)])
            self.y = StackedArray([self.y, da.zeros(self.Op.dims, dtype=self.y.dtype)])
            self.epsI = 0.0
        self.ncp = np  # (PyLops callbacks read it)
        self.cost = [float(dask.compute(_norm(self.y))[0])]
        self.iiter = 0
        if show:
            self._print_setup()

    # --- inner solves ---------------------------------------------------------------------------
    def _solve(self, Op, y, x0, engine, kwargs, damp=None):
        """Our LSQR (PyLops' default engine: SciPy's lsqr and its defaults) or CGLS."""
        kw, use_lsqr = solver_kwargs(kwargs, type(self).__name__, lsqr_allowed=True)
        use_lsqr = scipy_lsqr_defaults(kw, engine, Op.shape[1], use_lsqr)
        if damp is not None:
            kw["damp"] = damp
        if use_lsqr:
            kw.setdefault("calc_var", False)
        return (lsqr if use_lsqr else cgls)(Op, y, x0=x0, **kw)[0]

    def _step_data(self, x, engine, kwargs):
        Weight = None
        if self.iiter > 0:
            rw = [1.0 / (da.maximum(abs(b), self.epsR) if self.threshR else abs(b) + self.epsR)
                  for b in _blocks(self.r)]
            top = max(float(v) for v in dask.compute(*[w.max() for w in rw]))
            Weight = _diagonal(StackedArray([da.sqrt(w / top) for w in rw]) if len(rw) > 1
                               else da.sqrt(rw[0] / top))
        Op = Weight @ self.Op if Weight is not None else self.Op
        y = Weight.matvec(self.y) if Weight is not None else self.y
        return self._solve(Op, y, x if self.warm else None, engine, kwargs, damp=self.epsI)

    def _step_model(self, x, engine, kwargs):
        Op, Iop = self.Op, Identity(self.Op.dimsd, dtype=self.Op.dtype)
        if self.iiter == 0:
            p = self._solve(Op @ Op.H + (self.epsI ** 2) * Iop, self.y, None, engine, kwargs)
            return Op.rmatvec(p)
        w = abs(x)
        w = w / w.max()  # a StackedArray for a stacked model: R is then a BlockDiag
        R = _diagonal(w)
        p = self._solve(Op @ R @ Op.H + (self.epsI ** 2) * Iop, self.y, None, engine, kwargs)
        v = Op.rmatvec(p)
        return w * v if isinstance(w, StackedArray) else R.matvec(v)

    # --- steps -----------------------------------------------------------------------------------
    def step(self, x, engine=None, show=False, **kwargs_solver):
        """One outer iteration: a weighted least-squares solve, then the residual."""
        check_engine(engine, type(self).__name__)
        x = (self._step_model if self.kind == "model" else self._step_data)(x, engine,
                                                                            kwargs_solver)
        r = self.y - self.Op.matvec(x)
        x, self.r = dask.persist(x, r)
        self.rnorm = float(dask.compute(_norm(self.r))[0])
        self.iiter += 1
        self.cost.append(self.rnorm)
        if show:
            print(f"{self.iiter:6g}  {self.rnorm:12.5e}")
        return x

    def run(self, x, nouter=10, engine=None, show=False, itershow=(10, 10, 10), **kwargs_solver):
        """Outer iterations until ``nouter`` or a model change below ``tolIRLS``."""
        nouter = nouter if self.nouter is None else self.nouter
        if x is not None:
            self.x0 = as_block(x, self.Op.dims, f"{type(self).__name__}: x0")
            self.y = self.y - self.Op.matvec(self.x0)
            x = self.x0
        else:
            x = da.zeros(self.Op.dims, dtype=np.result_type(self.Op.dtype, self.y.dtype))
        change = np.inf
        ck = getattr(self, "_checkpoint", None)
        saved = ck.resume() if ck is not None else None
        if saved is not None:
            numbers, vectors = saved
            x, self.r = vectors["x"], vectors["r"]
            self.iiter, self.cost, change = numbers["iiter"], numbers["cost"], numbers["change"]
        while self.iiter < nouter and change >= self.tolIRLS:
            xold = x
            x = self.step(x, engine, show, **kwargs_solver)
            change = float(dask.compute(_norm(x - xold))[0])
            if ck is not None:
                ck.save({"iiter": self.iiter, "cost": self.cost, "change": change},
                        {"x": x, "r": self.r})
            self.callback(x)
            if self.callbacks and any(getattr(cb, "stop", False) for cb in self.callbacks):
                break
        if ck is not None:
            ck.close()
        if hasattr(self, "x0"):
            x = self.x0 + x
        return x.ravel() if self._flat else x

    def finalize(self, show=False):
        super().finalize(show=show)
        self.nouter = self.iiter

    def solve(self, y, x0=None, nouter=10, threshR=False, epsR=1e-10, epsI=1e-10, tolIRLS=1e-10,
              warm=False, kind="data", engine=None, show=False, itershow=(10, 10, 10),
              preallocate=False, checkpoint=None, checkpoint_every=1, **kwargs_solver):
        """Run the whole solver; returns ``(x, nouter)``. With ``checkpoint`` (a folder), the
        state is saved every ``checkpoint_every`` outer iterations, and a call with the same
        folder resumes from the newest save."""
        self.setup(y=y, nouter=nouter, threshR=threshR, epsR=epsR, epsI=epsI, tolIRLS=tolIRLS,
                   warm=warm, kind=kind, preallocate=preallocate, show=show)
        params = dict(threshR=threshR, epsR=epsR, epsI=epsI, tolIRLS=tolIRLS, warm=warm,
                      kind=kind, engine=engine, kwargs_solver=kwargs_solver)
        self._checkpoint = outer_checkpoint(
            self, checkpoint, checkpoint_every, params, self.cost[0] ** 2,
            None if x0 is None else as_block(x0, self.Op.dims, "IRLS: x0"))
        x = self.run(x0, nouter=nouter, engine=engine, show=show, itershow=itershow,
                     **kwargs_solver)
        self.finalize(show)
        return x, self.nouter


def irls(Op, y, x0=None, nouter=10, threshR=False, epsR=1e-10, epsI=1e-10, tolIRLS=1e-10,
         warm=False, kind="data", engine=None, show=False, itershow=(10, 10, 10), callback=None,
         preallocate=False, checkpoint=None, checkpoint_every=1, **kwargs_solver):
    """Iteratively reweighted least squares (see :class:`IRLS`); returns ``(x, nouter)``.

    ``checkpoint`` (a folder, local path or fsspec URL): the state (model, residual, costs)
    is saved every ``checkpoint_every`` outer iterations, and a call with the same folder
    resumes from the newest save with the result of an uninterrupted run; a folder written
    by another problem raises ``ValueError``. Other keywords go to the inner solver.
    """
    solver = IRLS(Op)
    if callback is not None:
        solver.callback = callback
    return solver.solve(y, x0=x0, nouter=nouter, threshR=threshR, epsR=epsR, epsI=epsI,
                        tolIRLS=tolIRLS, warm=warm, kind=kind, engine=engine, show=show,
                        itershow=itershow, preallocate=preallocate, checkpoint=checkpoint,
                        checkpoint_every=checkpoint_every, **kwargs_solver)
