"""Solvers that compute only at convergence checks.

    cg / CG         Conjugate gradient (square systems).
    cgls / CGLS     Conjugate gradient least squares.
    lsqr / LSQR     LSQR (Paige and Saunders).

    leastsquares    PyLops' regularized least squares: normal_equations_inversion,
                    regularized_inversion, preconditioned_inversion (and classes).
    eigs            power_iteration (largest eigenvalue, checked every ``check_every``).
    sparsity        ista / ISTA, fista / FISTA (soft, hard, half and percentile thresholds,
                    SOp), omp / OMP, irls / IRLS, splitbregman / SplitBregman,
                    linearized_bregman / LinearizedBregman (spgl1: a documented absence).
    proximal        PyProximal's ProximalGradient, AcceleratedProximalGradient, ADMM,
                    LinearizedADMM, PrimalDual (import the module; needs pyproximal).

Each solver is written once against a small vector space (``_space``): with operators that
have chunk kernels an iteration is a few tasks per chunk (``_fused``), otherwise dask.array
expressions. Nothing but a few scalars comes back to the client, and only every
``check_every`` iterations and at the end.
"""

from pylops_distributed.optimization.cg import CG, cg
from pylops_distributed.optimization.cgls import CGLS, cgls
from pylops_distributed.optimization.lsqr import LSQR, lsqr

__all__ = ["CG", "CGLS", "LSQR", "cg", "cgls", "lsqr"]
