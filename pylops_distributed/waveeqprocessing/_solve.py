"""Running a solver as PyLops' applications run SciPy's ``lsqr``: SciPy's argument names
(``iter_lim``, ``maxiter``) understood, SciPy's defaults where no iteration count is given."""

from pylops_distributed.optimization._inversion import scipy_lsqr_defaults, solver_kwargs
from pylops_distributed.optimization.cg import cg
from pylops_distributed.optimization.cgls import cgls
from pylops_distributed.optimization.lsqr import lsqr


def run_solver(solver, Op, y, kwargs, name):
    """``solver(Op, y, **kwargs)`` with SciPy's names translated for our LSQR, CGLS and CG
    (our LSQR gets SciPy's defaults when no iteration count is given, as PyLops runs
    SciPy's ``lsqr``); other solvers get ``kwargs`` as they are."""
    if solver is lsqr:
        kw, scipy_names = solver_kwargs(kwargs, name, True)
        scipy_lsqr_defaults(kw, None, Op.shape[1], scipy_names=scipy_names)
        return solver(Op, y, **kw)
    if solver in (cgls, cg):
        kw, _ = solver_kwargs(kwargs, name, False)
        return solver(Op, y, **kw)
    return solver(Op, y, **kwargs)
