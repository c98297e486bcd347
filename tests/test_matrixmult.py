"""MatrixMult against pylops.MatrixMult: NumPy, dask (row/column chunked) and sparse matrices."""

import dask.array as da
import numpy as np
import pylops
import pytest
import scipy.sparse as sp
from _helpers import DTYPES, assert_like_pylops, rand

import pylops_distributed as pld

par = [
    dict(N=23, M=17, otherdims=None, chunks=(5,)),          # model chunked along the matrix axis
    dict(N=23, M=17, otherdims=None, chunks=(17,)),         # one chunk
    dict(N=10, M=8, otherdims=(6,), chunks=(3, 6)),         # chunks along both axes, odd size
    dict(N=10, M=8, otherdims=(6, 5), chunks=(8, 2, 5)),    # chunks only on the other axes
]


@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_matrix(p, dtype, scheduler):
    A = rand((p["N"], p["M"]), dtype, seed=3)
    Op = pld.MatrixMult(A, otherdims=p["otherdims"], dtype=dtype)
    assert_like_pylops(Op, pylops.MatrixMult(A, otherdims=p["otherdims"], dtype=dtype), p["chunks"], dtype)


@pytest.mark.parametrize("achunks", [(6, 17), (23, 5), (7, 4)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dask_matrix_blocks(achunks, dtype, scheduler):
    A = rand((23, 17), dtype, seed=4)
    Op = pld.MatrixMult(da.from_array(A, chunks=achunks), dtype=dtype)
    assert_like_pylops(Op, pylops.MatrixMult(A, dtype=dtype), (6,), dtype)
    y = Op @ da.from_array(rand(17, dtype), chunks=achunks[1])
    assert y.chunks == (da.from_array(A, chunks=achunks).chunks[0],)


@pytest.mark.parametrize("otherdims", [None, (4,)])
def test_sparse_matrix(otherdims, scheduler):
    A = sp.random(30, 20, density=0.2, format="csr", random_state=0)
    Op = pld.MatrixMult(A, otherdims=otherdims)
    chunks = (7,) if otherdims is None else (20, 3)
    assert_like_pylops(Op, pylops.MatrixMult(A, otherdims=otherdims), chunks, "float64")


def test_complex_matrix_upcasts_dtype():
    A = rand((4, 3), "complex128")
    with pytest.warns(UserWarning, match="complex"):
        Op = pld.MatrixMult(A, dtype="float64")
    assert Op.dtype == np.complex128


def test_bad_matrix():
    with pytest.raises(TypeError, match="MatrixMult: A must be a 2-D"):
        pld.MatrixMult([[1.0, 2.0]])
    with pytest.raises(TypeError, match="MatrixMult: A must be a 2-D"):
        pld.MatrixMult(np.ones(3))


def test_chunks_that_do_not_line_up_in_a_composition(scheduler):
    """A product of matrices chunked differently: one fused kernel, right answer, nothing
    gathered (each task takes the blocks of both matrices it needs)."""
    Am, Bm = rand((12, 10), "float64"), rand((12, 12), "float64", seed=1)
    A = da.from_array(Am, chunks=(4, 5))
    B = da.from_array(Bm, chunks=(6, 6))
    Op = pld.MatrixMult(B) @ pld.MatrixMult(A)
    x = rand(10, "float64", seed=2)
    y = Op @ x
    np.testing.assert_allclose(y.compute(), Bm @ (Am @ x))
    np.testing.assert_allclose((Op.H @ y).compute(), Am.T @ (Bm.T @ y.compute()))

@pytest.mark.parametrize("achunks,ychunks", [((4, 6), 4), ((6, 8), 4), ((3, 5), 3)])
def test_cgls_blocked_both_ways(achunks, ychunks, scheduler):
    """A chunked along rows and columns (each rank's block of the data reads the whole
    model, and the other way round): CGLS on the fused path equals PyLops' (a contraction
    split along both the operand's rows and its columns was once counted twice)."""
    from pylops_distributed.optimization import cgls

    A, y = rand((12, 16), "float64", seed=5), rand(12, "float64", seed=6)
    got = cgls(pld.MatrixMult(da.from_array(A, chunks=achunks)),
               da.from_array(y, chunks=ychunks), niter=4, tol=0)
    ref = pylops.optimization.basic.cgls(pylops.MatrixMult(A), y, niter=4, tol=0)
    np.testing.assert_allclose(got[0].compute(), ref[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[3:5], ref[3:5], rtol=1e-10)  # r1norm, r2norm
