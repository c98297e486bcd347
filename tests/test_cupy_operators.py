"""Basic operators on CuPy chunks (run on the lent GPU): same numbers as PyLops/NumPy, CuPy chunks out."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.stacked import compute_all  # noqa: E402


def on_gpu(x, chunks):
    return da.from_array(cp.asarray(x), chunks=chunks, asarray=False)


def check(Op, POp, chunks, dtype, rtol=1e-5):
    x, y = rand(Op.dims, dtype, 1), rand(Op.dimsd, dtype, 2)
    fwd, adj = Op @ on_gpu(x, chunks), Op.H @ on_gpu(y, chunks if len(Op.dimsd) == len(Op.dims) else "auto")
    for out in (fwd, adj):
        blocks = out.blocks if isinstance(out, pld.StackedArray) else [out]
        assert all(isinstance(b._meta, cp.ndarray) for b in blocks), "chunks left the GPU"
    f, a = compute_all(fwd, adj)
    assert isinstance(f, cp.ndarray) and isinstance(a, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(f).ravel(), (POp @ x.ravel()).ravel(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(cp.asnumpy(a).ravel(), (POp.H @ y.ravel()).ravel(), rtol=rtol, atol=rtol)
    cflag = 3 if np.iscomplexobj(np.empty(0, dtype)) else 0
    assert pld.utils.dottest(Op, complexflag=cflag, rtol=1e-4, backend="cupy")


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_matrixmult_cupy(dtype):
    A = rand((40, 30), dtype, 3)
    check(pld.MatrixMult(cp.asarray(A), otherdims=4, dtype=dtype),
          pylops.MatrixMult(A, otherdims=4, dtype=dtype), (10, 2), dtype)
    check(pld.MatrixMult(da.from_array(cp.asarray(A), chunks=(10, 30), asarray=False), dtype=dtype),
          pylops.MatrixMult(A, dtype=dtype), (30,), dtype)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_diagonal_identity_stacks_cupy(dtype):
    d = rand((12, 5), dtype, 4)
    D, PD = pld.Diagonal(cp.asarray(d), dtype=dtype), pylops.Diagonal(d, dtype=dtype)
    check(D, PD, (4, 5), dtype)
    check(pld.Identity((14, 6), (12, 5), dtype=dtype), pylops.Identity((14, 6), (12, 5), dtype=dtype), (5, 2), dtype)
    check(pld.VStack([D, 2 * D]), pylops.VStack([PD, 2 * PD]), (3, 5), dtype)
    check(pld.BlockDiag([D, D.H]), pylops.BlockDiag([PD, PD.H]), (1, 4, 5), dtype)


def test_frompylops_cupy():
    A = rand((7, 9), "float32", 5)
    Op = pld.FromPyLops(pylops.MatrixMult(cp.asarray(A), dtype="float32"), dims=(20, 9), axes=1)
    check(Op, pylops.BlockDiag([pylops.MatrixMult(A, dtype="float32")] * 20), (5, 9), "float32")


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_convolve1d_cupy(dtype):
    h = rand((9,), "float64", 5)
    check(pld.Convolve1D((12, 70), h, offset=3, axis=1, dtype=dtype),
          pylops.signalprocessing.Convolve1D((12, 70), h, offset=3, axis=1, dtype=dtype),
          (6, 25), dtype)
