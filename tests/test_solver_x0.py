"""CG, CGLS and LSQR started from an x0, against PyLops (fused and plain backends)."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from numpy.testing import assert_allclose

import pylops_distributed as pld
from pylops_distributed.optimization import cg, cgls, lsqr


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_solvers_from_x0_match_pylops(fused, dtype):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((12, 12)) + (1j * rng.standard_normal((12, 12)) if dtype == "complex128" else 0)
    A = A @ A.conj().T + 12 * np.eye(12)
    y = A @ np.ones(12)
    x0 = np.full(12, 0.1, dtype=dtype)
    Op, POp = pld.MatrixMult(A, dtype=dtype), pylops.MatrixMult(A, dtype=dtype)
    yd, x0d = da.from_array(y, chunks=4), da.from_array(x0, chunks=4)
    with dask.config.set({"pylops_distributed.fused": fused, "scheduler": "threads"}):
        ours = [cg(Op, yd, x0=x0d, niter=6, tol=0)[0], cgls(Op, yd, x0=x0d, niter=6, tol=0)[0],
                lsqr(Op, yd, x0=x0d, niter=6, atol=0, btol=0, conlim=0)[0]]
    ref = [pylops.optimization.basic.cg(POp, y, x0=x0, niter=6, tol=0)[0],
           pylops.optimization.basic.cgls(POp, y, x0=x0, niter=6, tol=0)[0],
           pylops.optimization.basic.lsqr(POp, y, x0=x0, niter=6, atol=0, btol=0, conlim=0)[0]]
    for a, b in zip(ours, ref):
        assert_allclose(a.compute(), b, rtol=1e-9, atol=1e-12)
