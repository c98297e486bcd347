"""CG, CGLS and LSQR (PyLops' ``pylops.optimization.basic``), one module per solver."""

from pylops_distributed.optimization.cg import CG, cg
from pylops_distributed.optimization.cgls import CGLS, cgls
from pylops_distributed.optimization.lsqr import LSQR, lsqr

__all__ = ["CG", "CGLS", "LSQR", "cg", "cgls", "lsqr"]
