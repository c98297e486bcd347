"""Solvers that compute only at convergence checks.

    cg / CG         Conjugate gradient (square systems).
    cgls / CGLS     Conjugate gradient least squares.
    lsqr / LSQR     LSQR (Paige and Saunders).

Each solver persists its state every iteration (non-blocking with a distributed client)
and brings scalars back to the client only every ``check_every`` iterations and at the end.
"""

from pylops_distributed.optimization.basic import CG, CGLS, LSQR, cg, cgls, lsqr

__all__ = ["CG", "CGLS", "LSQR", "cg", "cgls", "lsqr"]
