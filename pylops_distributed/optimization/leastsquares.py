"""Regularized least squares, as :mod:`pylops.optimization.leastsquares`: problems built from
operators and solved by our CG, CGLS and LSQR.

    normal_equations_inversion / NormalEquationsInversion
        ``(Op^H W Op + epsI^2 I + sum epsR^2 R^H R + sum epsNR^2 N) x = Op^H W y + sum epsR^2 R^H d``
        by CG.
    regularized_inversion / RegularizedInversion
        ``[W Op; epsR_1 R_1; ...] x = [W y; epsR_1 d_1; ...]`` by CGLS (LSQR with SciPy's
        argument names).
    preconditioned_inversion / PreconditionedInversion
        ``Op P p = y`` by CGLS (or LSQR), then ``x = P p``.

The problems are operator sums, products and :class:`~pylops_distributed.VStack` stacks, so the
solvers keep their fused path (a few tasks per chunk per iteration) when every operator has a
chunk kernel. Nothing is computed before the solver's first check.

``engine``: PyLops runs SciPy's ``cg``/``lsqr`` by default (``engine="scipy"``) and its own
solvers with ``engine="pylops"``. Here both the default (``None``) and ``"pylops"`` run ours;
SciPy's solvers would gather the problem on the client, so ``"scipy"`` given explicitly is
refused with a clear error. The estimate has the shape PyLops gives for the same call: flat by
default (as SciPy's), with a flat ``x0`` and from ``preconditioned_inversion``, else the model's
shape ``Op.dims`` with ``engine="pylops"``. Without ``niter``, the normal equations run our CG
with SciPy's ``cg`` defaults and test (``maxiter``, ``rtol``, ``atol``). SciPy's argument
names are understood: ``maxiter`` and ``iter_lim`` are ``niter``; ``iter_lim``, ``atol``,
``btol`` or ``conlim`` select our LSQR (the solver SciPy would have run) for the regularized
and preconditioned problems, which by default (no ``niter``, no ``engine``) run our LSQR with
SciPy's defaults, as PyLops runs SciPy's.
"""

import numbers

import dask.array as da
from pylops.optimization.basesolver import Solver

from pylops_distributed._arrays import meta_like
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.basicoperators.vstack import VStack
from pylops_distributed.linearoperator import _fit, aslinearoperator
from pylops_distributed.optimization._inversion import (as_block, check_engine, scipy_lsqr_defaults,
                                                       solver_kwargs)
from pylops_distributed.optimization.cg import cg
from pylops_distributed.optimization.cgls import cgls
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.stacked import StackedArray

__all__ = ["NormalEquationsInversion", "RegularizedInversion", "PreconditionedInversion",
           "RegularizedOperator", "normal_equations_inversion", "regularized_inversion",
           "preconditioned_inversion"]

def _check_regs(Regs, dataregs, epsRs, name):
    """PyLops' checks of the regularization lists, before anything is built."""
    if Regs is None:
        return
    if not isinstance(Regs, (list, tuple)):
        raise TypeError(f"{name}: Regs must be a list of operators (or None), got "
                        f"{type(Regs).__name__}")
    n = len(Regs)
    if not n == (n if dataregs is None else len(dataregs)) == (n if epsRs is None else len(epsRs)):
        raise ValueError("Regs, dataregs, and epsRs must have the same size")
    for eps in epsRs or ():
        if not isinstance(eps, numbers.Number):
            raise TypeError(f"{name}: epsRs must hold numbers, got {type(eps).__name__}")


def _shaped(x, engine, dims, x0=None):
    """PyLops' shape for the estimate: flat by default (SciPy's) or from a flat ``x0``,
    ``dims`` with its own engine."""
    flat = engine is None or (getattr(x0, "ndim", None) == 1 and len(dims) > 1)
    if isinstance(x, StackedArray):  # a stacked model (HStack): its blocks, or flat
        return x.ravel() if flat else x
    return x.ravel() if flat else x.reshape(dims)


def RegularizedOperator(Op, Regs, epsRs=(1,)):
    r"""``[Op; epsR_1 R_1; ...; epsR_N R_N]`` as a :class:`~pylops_distributed.VStack`
    (:func:`pylops.optimization.leastsquares.RegularizedOperator`).

    Examples
    --------
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.leastsquares import RegularizedOperator
    >>> RegularizedOperator(pld.Identity(4), [pld.FirstDerivative(4)], epsRs=[0.5]).shape
    (8, 4)
    """
    Op = aslinearoperator(Op)
    if len(epsRs) != len(Regs):
        raise ValueError("Regs and epsRs must have the same size")
    return VStack([Op] + [eps * aslinearoperator(R) for eps, R in zip(epsRs, Regs)],
                  dtype=Op.dtype)


class _Wrapper(Solver):
    """What the three share: PyLops' Solver (callbacks, timing, ``finalize``); no ``step``
    (they hand the whole problem to one of our solvers, as PyLops hands it to SciPy)."""

    def __init__(self, Op, callbacks=None):
        super().__init__(aslinearoperator(Op), callbacks)

    def _print_setup(self):
        self._print_solver(nbar=65)

    def _print_finalize(self):
        print(f"\nTotal time (s) = {self.telapsed:.2f}")
        print("-" * 65 + "\n")

    def memory_usage(self, show=False, unit="B"):
        pass

    def step(self):
        raise NotImplementedError(f"{type(self).__name__} hands the problem to one of the "
                                  "solvers (CG, CGLS, LSQR): use run or solve")


class NormalEquationsInversion(_Wrapper):
    r"""Inversion of the regularized normal equations by CG
    (:class:`pylops.optimization.leastsquares.NormalEquationsInversion`).

    Solves :math:`(\mathbf{Op}^H\mathbf{W}\mathbf{Op} + \epsilon_I^2\mathbf{I}
    + \sum_i\epsilon_{R_i}^2\mathbf{R}_i^H\mathbf{R}_i + \sum_i\epsilon_{N_i}^2\mathbf{N}_i)
    \mathbf{x} = \mathbf{Op}^H\mathbf{W}\mathbf{y} + \sum_i\epsilon_{R_i}^2\mathbf{R}_i^H
    \mathbf{d}_i` with :func:`~pylops_distributed.optimization.cg`.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.leastsquares import normal_equations_inversion
    >>> Op = pld.MatrixMult(da.from_array(np.diag([1.0, 2.0, 4.0]), chunks=3))
    >>> x, _ = normal_equations_inversion(Op, np.array([1.0, 2.0, 4.0]), None, niter=5)
    >>> np.round(x.compute(), 6)
    array([1., 1., 1.])
    """

    def setup(self, y, Regs, Weight=None, dataregs=None, epsI=0, epsRs=None, NRegs=None,
              epsNRs=None, show=False):
        name = type(self).__name__
        _check_regs(Regs, dataregs, epsRs, name)
        if (NRegs is None) != (epsNRs is None) or (NRegs is not None and len(NRegs) != len(epsNRs)):
            raise ValueError(f"{name}: NRegs and epsNRs must be given together, with the same size")
        Op = self.Op
        self.y = as_block(y, Op.dimsd, f"{name}: y")
        self.Regs = [aslinearoperator(R) for R in Regs] if Regs is not None else None
        self.epsRs = list(epsRs) if epsRs is not None else [1] * len(Regs or ())
        self.epsI = epsI
        W = aslinearoperator(Weight) if Weight is not None else None
        self.y_normal = Op.rmatvec(W.matvec(self.y) if W is not None else self.y)
        self.Op_normal = Op.H @ W @ Op if W is not None else Op.H @ Op
        if epsI > 0:
            self.Op_normal = self.Op_normal + epsI ** 2 * Identity(Op.dims, dtype=Op.dtype)
        if self.Regs is not None:
            self.dataregs = [None if d is None else as_block(d, R.dimsd, f"{name}: dataregs")
                             for d, R in zip(dataregs or [None] * len(self.Regs), self.Regs)]
            for eps, R, d in zip(self.epsRs, self.Regs, self.dataregs):
                if d is not None:
                    term = R.rmatvec(d)
                    if not isinstance(term, StackedArray) and not isinstance(self.y_normal,
                                                                             StackedArray):
                        term = _fit(term, self.y_normal.shape)  # R on the flat model
                    self.y_normal = self.y_normal + eps ** 2 * term
                self.Op_normal = self.Op_normal + eps ** 2 * (R.H @ R)
        for eps, N in zip(epsNRs or (), NRegs or ()):
            self.Op_normal = self.Op_normal + eps ** 2 * aslinearoperator(N)
        if show:
            self._print_setup()

    def run(self, x, engine=None, show=False, **kwargs_solver):
        """Solve with CG from ``x`` (``None``: zeros); returns ``(xinv, istop)`` (``istop``
        is ``None``, as PyLops' with its own solver)."""
        name = type(self).__name__
        check_engine(engine, name)
        kwargs_solver = dict(kwargs_solver)
        if engine is None and "niter" not in kwargs_solver:  # SciPy's cg, as PyLops' default
            kwargs_solver = self._scipy_cg(kwargs_solver)
        kw, _ = solver_kwargs(kwargs_solver, name, lsqr_allowed=False)
        kw["show"] = kw.get("show", False) or show
        x0 = None if x is None else as_block(x, self.Op.dims, f"{name}: x0")
        xinv = cg(self.Op_normal, self.y_normal, x0=x0, **kw)[0]
        return _shaped(xinv, engine, self.Op.dims, x), None

    def _scipy_cg(self, kw):
        r"""SciPy's cg arguments and defaults as ours: ``maxiter`` (default ten times the
        unknowns) is ``niter``; its test :math:`\|r\| \le \max(rtol\,\|b\|, atol)` (``tol``
        meaning ``atol``, as PyLops passes it; ``rtol`` 1e-5) is our CG's on
        :math:`\|r\|^2` (one round trip for :math:`\|b\|`)."""
        if "maxiter" not in kw and "niter" not in kw:
            kw["niter"] = 10 * int(self.Op.shape[1])
        if "tol" in kw and "atol" not in kw:
            kw["atol"] = kw.pop("tol")
        atol, rtol = kw.pop("atol", 0.0), kw.pop("rtol", 1e-5)
        bnorm = float(da.linalg.norm(self.y_normal.ravel()).compute()) if rtol > 0 else 0.0
        kw["tol"] = max(rtol * bnorm, atol) ** 2
        return kw

    def solve(self, y, Regs, x0=None, Weight=None, dataregs=None, epsI=0, epsRs=None,
              NRegs=None, epsNRs=None, engine=None, show=False, **kwargs_solver):
        check_engine(engine, type(self).__name__)
        self.setup(y, Regs, Weight=Weight, dataregs=dataregs, epsI=epsI, epsRs=epsRs,
                   NRegs=NRegs, epsNRs=epsNRs, show=show)
        x, istop = self.run(x0, engine=engine, show=show, **kwargs_solver)
        self.finalize(show=show)
        return x, istop


class RegularizedInversion(_Wrapper):
    r"""Regularized inversion of the stacked system by CGLS or LSQR
    (:class:`pylops.optimization.leastsquares.RegularizedInversion`).

    Solves :math:`[\mathbf{W}\mathbf{Op}; \epsilon_{R_1}\mathbf{R}_1; \ldots]\,\mathbf{x} =
    [\mathbf{W}\mathbf{y}; \epsilon_{R_1}\mathbf{d}_1; \ldots]` in the least-squares sense.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.leastsquares import regularized_inversion
    >>> Op = pld.MatrixMult(da.from_array(np.diag([1.0, 2.0, 4.0]), chunks=3))
    >>> x = regularized_inversion(Op, np.array([1.0, 2.0, 4.0]), [pld.Identity(3)],
    ...                           epsRs=[1e-6], niter=5)[0]
    >>> np.round(x.compute(), 6)
    array([1., 1., 1.])
    """

    def setup(self, y, Regs, Weight=None, dataregs=None, epsRs=None, show=False):
        name = type(self).__name__
        _check_regs(Regs, dataregs, epsRs, name)
        Op = self.Op
        self.y = as_block(y, Op.dimsd, f"{name}: y")
        W = aslinearoperator(Weight) if Weight is not None else None
        data = W.matvec(self.y) if W is not None else self.y
        top = W @ Op if W is not None else Op
        if Regs is None:
            self.RegOp, self.datatot = top, data
        else:
            self.epsRs = list(epsRs) if epsRs is not None else [1] * len(Regs)
            Regs = [aslinearoperator(R) for R in Regs]
            self.RegOp = RegularizedOperator(top, Regs, epsRs=self.epsRs)
            blocks = [_fit(data, top.dimsd)]  # a StackedArray (stacked Op) stays one
            for eps, R, d in zip(self.epsRs, Regs, dataregs or [None] * len(Regs)):
                d = (da.zeros(R.dimsd, dtype=R.dtype, chunks=R.chunks or "auto",
                              meta=meta_like(data, R.dtype, len(R.dimsd)))  # NumPy or CuPy
                     if d is None else as_block(d, R.dimsd, f"{name}: dataregs"))
                blocks.append(eps * d)
            self.datatot = StackedArray(blocks)
        if show:
            self._print_setup()

    def run(self, x, engine=None, show=False, **kwargs_solver):
        """Solve from ``x`` (``None``: zeros); returns ``(xinv, istop, itn, r1norm, r2norm)``."""
        return _least_squares(self, self.RegOp, self.datatot, x, engine, show, kwargs_solver)

    def solve(self, y, Regs, x0=None, Weight=None, dataregs=None, epsRs=None, engine=None,
              show=False, **kwargs_solver):
        check_engine(engine, type(self).__name__)
        self.setup(y, Regs, Weight=Weight, dataregs=dataregs, epsRs=epsRs, show=show)
        out = self.run(x0, engine=engine, show=show, **kwargs_solver)
        self.finalize(show=show)
        return out


class PreconditionedInversion(_Wrapper):
    r"""Preconditioned inversion: :math:`\mathbf{Op}\,\mathbf{P}\,\mathbf{p} = \mathbf{y}` by
    CGLS or LSQR, then :math:`\mathbf{x} = \mathbf{P}\mathbf{p}`
    (:class:`pylops.optimization.leastsquares.PreconditionedInversion`).

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.leastsquares import preconditioned_inversion
    >>> Op = pld.MatrixMult(da.from_array(np.diag([1.0, 2.0, 4.0]), chunks=3))
    >>> x = preconditioned_inversion(Op, np.array([1.0, 2.0, 4.0]), pld.Identity(3), niter=5)[0]
    >>> np.round(x.compute(), 6)
    array([1., 1., 1.])
    """

    def setup(self, y, P, show=False):
        name = type(self).__name__
        self.P = aslinearoperator(P)
        self.y = as_block(y, self.Op.dimsd, f"{name}: y")
        self.POp = self.Op @ self.P
        if show:
            self._print_setup()

    def run(self, x, engine=None, show=False, **kwargs_solver):
        """Solve for ``p`` from ``x`` (an initial ``p``; ``None``: zeros); returns
        ``(P p, istop, itn, r1norm, r2norm)``."""
        p, *info = _least_squares(self, self.POp, self.y, x, engine, show, kwargs_solver)
        return (self.P.matvec(p).ravel(), *info)  # flat, as PyLops' (its p is flat)

    def solve(self, y, P, x0=None, engine=None, show=False, **kwargs_solver):
        check_engine(engine, type(self).__name__)
        self.setup(y, P, show=show)
        out = self.run(x0, engine=engine, show=show, **kwargs_solver)
        self.finalize(show=show)
        return out


def _least_squares(solver, Op, data, x, engine, show, kwargs):
    """CGLS (or LSQR, given SciPy's LSQR arguments) on ``Op x = data``; PyLops' five returns."""
    name = type(solver).__name__
    check_engine(engine, name)
    kw, use_lsqr = solver_kwargs(kwargs, name, lsqr_allowed=True)
    use_lsqr = scipy_lsqr_defaults(kw, engine, Op.shape[1], use_lsqr)
    kw["show"] = kw.get("show", False) or show
    x0 = None if x is None else as_block(x, Op.dims, f"{name}: x0")
    out = (lsqr if use_lsqr else cgls)(Op, data, x0=x0, **kw)
    return (_shaped(out[0], engine, Op.dims, x), *out[1:5])


def normal_equations_inversion(Op, y, Regs, x0=None, Weight=None, dataregs=None, epsI=0.0,
                               epsRs=None, NRegs=None, epsNRs=None, engine=None, show=False,
                               **kwargs_solver):
    """Inversion of the regularized normal equations (see :class:`NormalEquationsInversion`).

    Returns
    -------
    xinv : dask.array.Array
        Estimated model (flat, or of shape ``Op.dims`` with ``engine="pylops"``).
    istop : None
        As PyLops' with its own solver.
    """
    return NormalEquationsInversion(Op).solve(
        y, Regs, x0=x0, Weight=Weight, dataregs=dataregs, epsI=epsI, epsRs=epsRs, NRegs=NRegs,
        epsNRs=epsNRs, engine=engine, show=show, **kwargs_solver)


def regularized_inversion(Op, y, Regs, x0=None, Weight=None, dataregs=None, epsRs=None,
                          engine=None, show=False, **kwargs_solver):
    """Regularized inversion (see :class:`RegularizedInversion`).

    Returns
    -------
    xinv, istop, itn, r1norm, r2norm
        As PyLops (``xinv`` a dask array, flat, or of shape ``Op.dims`` with
        ``engine="pylops"``).
    """
    return RegularizedInversion(Op).solve(y, Regs, x0=x0, Weight=Weight, dataregs=dataregs,
                                          epsRs=epsRs, engine=engine, show=show, **kwargs_solver)


def regularized_in_shape(Op, y, Regs, epsRs, x0, kwargs, name, dataregs=None):
    """:func:`regularized_inversion` ``(Op, y, Regs, x0=x0, epsRs=epsRs, dataregs=dataregs,
    **kwargs)`` (SciPy's LSQR by default, as PyLops), its estimate kept in the model's shape
    and chunks: the flat estimate PyLops gives (SciPy's) would re-lay the chunks out, and
    reshaping it back would again. For our own callers (the inversions, split Bregman).
    Returns the estimate (lazy)."""
    kw = dict(kwargs)
    engine, show = kw.pop("engine", None), bool(kw.pop("show", False))
    check_engine(engine, name)
    solver = RegularizedInversion(Op)
    solver.setup(y, Regs, dataregs=dataregs, epsRs=epsRs)
    kw, use_lsqr = solver_kwargs(kw, name, lsqr_allowed=True)
    use_lsqr = scipy_lsqr_defaults(kw, engine, Op.shape[1], use_lsqr)
    x0 = None if x0 is None else as_block(x0, Op.dims, f"{name}: x0")
    return (lsqr if use_lsqr else cgls)(solver.RegOp, solver.datatot, x0=x0, show=show,
                                        **kw)[0]


def preconditioned_inversion(Op, y, P, x0=None, engine=None, show=False, **kwargs_solver):
    """Preconditioned inversion (see :class:`PreconditionedInversion`).

    Returns
    -------
    xinv, istop, itn, r1norm, r2norm
        As PyLops (``xinv = P p`` a flat dask array).
    """
    return PreconditionedInversion(Op).solve(y, P, x0=x0, engine=engine, show=show,
                                             **kwargs_solver)
