"""CG, CGLS and LSQR on many operators and chunkings: fused, and the same answers as PyLops."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization.basic import cg as pcg, cgls as pcgls, lsqr as plsqr

import pylops_distributed as pld
from pylops_distributed.optimization import CG, CGLS, LSQR

from _helpers import rand

N0, N1 = 24, 18


def _cases():
    d = rand((N0, N1), "float64", seed=3) + 3
    A = rand((30, 24), "float64", seed=4)
    M = rand((N0, N0), "float64", seed=5) + 5 * np.eye(N0)
    iava = np.sort(np.random.default_rng(6).choice(N1, 10, replace=False))
    conv = pylops.signalprocessing.Convolve1D
    dims = (N0, N1)
    return {
        # name: (ours, PyLops', chunks of the model)
        "laplacian-rows": (pld.Laplacian(dims), pylops.Laplacian(dims), (6, 18)),
        "laplacian-2d": (pld.Laplacian(dims), pylops.Laplacian(dims), (6, 9)),
        "gradient-2d": (pld.Gradient(dims), pylops.Gradient(dims), (12, 9)),
        "restriction@smoothing": (
            pld.Restriction(dims, iava, axis=1) @ pld.Smoothing1D(5, dims, axis=0),
            pylops.Restriction(dims, iava, axis=1) @ pylops.Smoothing1D(5, dims, axis=0), (6, 18)),
        "diagonal-dask": (pld.Diagonal(da.from_array(d, chunks=(6, 18))),
                          pylops.Diagonal(d.ravel()), (6, 18)),
        "firstderivative.T": (pld.FirstDerivative(dims, axis=0).T,
                              pylops.FirstDerivative(dims, axis=0).T, (6, 18)),
        "smoothing2d-2d": (pld.Smoothing2D((3, 5), dims), pylops.Smoothing2D((3, 5), dims), (8, 6)),
        "transpose": (pld.Transpose(dims, (1, 0)), pylops.Transpose(dims, (1, 0)), (6, 9)),
        "roll": (pld.Roll(dims, axis=0, shift=7), pylops.Roll(dims, axis=0, shift=7), (6, 18)),
        "flip+identity": (pld.Flip(dims, axis=0) + pld.Identity(dims),
                          pylops.Flip(dims, axis=0) + pylops.Identity(N0 * N1), (5, 18)),
        "pad": (pld.Pad(dims, ((2, 3), (0, 4))), pylops.Pad(dims, ((2, 3), (0, 4))), (6, 18)),
        "vstack": (pld.VStack([pld.Laplacian(dims), 0.5 * pld.Identity(dims)]),
                   pylops.VStack([pylops.Laplacian(dims), 0.5 * pylops.Identity(N0 * N1)]), (6, 18)),
        "matrixmult-numpy": (pld.MatrixMult(M, otherdims=N1), pylops.MatrixMult(M, otherdims=N1),
                             (6, 18)),
        "matrixmult-rows": (pld.MatrixMult(da.from_array(A, chunks=(10, 24))),
                            pylops.MatrixMult(A), None),
        "frompylops": (pld.FromPyLops(conv(N1, h=np.ones(3) / 3, offset=1), dims=dims, axes=1),
                       conv(dims, h=np.ones(3) / 3, offset=1, axis=1), (6, 18)),
        "sum": (pld.Sum(dims, axis=1), pylops.Sum(dims, axis=1), None),
        "blockdiag": (pld.BlockDiag([pld.Laplacian(dims), pld.Diagonal(d)]),
                      pylops.BlockDiag([pylops.Laplacian(dims), pylops.Diagonal(d.ravel())]),
                      (1, 6, 18)),
    }


CASES = list(_cases())
SOLVERS = {"cgls": (CGLS, pcgls, dict(tol=0, damp=0.1)),
           "lsqr": (LSQR, plsqr, dict(atol=0, btol=0, damp=0.1)),
           "cg": (CG, pcg, dict(tol=0))}


def _data(Op, POp, chunks, xt):
    x = da.from_array(xt.reshape(Op.dims), chunks=chunks or Op.dims)
    return Op @ x, POp @ xt


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("which", list(SOLVERS))
def test_solver_like_pylops(scheduler, case, which):
    Op, POp, chunks = _cases()[case]
    S, pfn, kw = SOLVERS[which]
    if which == "cg":  # the normal equations: square, Hermitian positive (semi-)definite
        Op, POp = Op.H @ Op, POp.H @ POp
    xt = rand(POp.shape[1], "float64", seed=7)
    y, yref = _data(Op, POp, chunks, xt)
    solver = S(Op)
    out = solver.solve(y, niter=8, check_every=3, **kw)
    assert solver.fused, f"{case} fell off the fused engine"
    ref = pfn(POp, yref, niter=8, **kw)
    x = np.asarray(out[0].compute() if isinstance(out[0], da.Array) else out[0])
    np.testing.assert_allclose(x.ravel(), np.ravel(ref[0]), rtol=1e-9,
                               atol=1e-9 * np.abs(ref[0]).max())
    if len(ref[-1]) == 9:  # PyLops stopped early (an exact solution): its costs end there
        np.testing.assert_allclose(out[-1], np.asarray(ref[-1])[[0, 3, 6, 8]], rtol=1e-8,
                                   atol=1e-12 * ref[-1][0])


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("which", list(SOLVERS))
def test_dtypes(scheduler, dtype, which, fused):
    """float32 stays float32 and complex stays complex, on the fused and the plain backend."""
    S, pfn, kw = SOLVERS[which]
    d = rand((N0, N1), dtype, seed=8) + 3
    Op = pld.Diagonal(d, dtype=dtype) + pld.Laplacian((N0, N1), dtype=dtype)
    POp = pylops.Diagonal(d.ravel(), dtype=dtype) + pylops.Laplacian((N0, N1), dtype=dtype)
    if which == "cg":
        Op, POp = Op.H @ Op, POp.H @ POp
    xt = rand(N0 * N1, dtype, seed=9)
    y, yref = _data(Op, POp, (6, 9), xt)
    solver = S(Op)
    with dask.config.set({"pylops_distributed.fused": fused}):
        x = solver.solve(y, niter=6, check_every=4, **kw)[0]
    assert solver.fused == fused and x.dtype == np.dtype(dtype)
    xc = x.compute()
    assert xc.dtype == np.dtype(dtype)
    rtol = 1e-3 if dtype == "float32" else 1e-9
    ref = np.ravel(pfn(POp, yref, niter=6, **kw)[0])
    np.testing.assert_allclose(xc.ravel(), ref, rtol=rtol, atol=rtol * np.abs(ref).max())
