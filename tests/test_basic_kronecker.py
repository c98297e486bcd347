"""Kronecker against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, new_tasks, rand

import pylops_distributed as pld
from pylops_distributed.kernels import NoChunkKernel

A = rand((7, 5), "float64", seed=10)
B = rand((6, 9), "float64", seed=11)

par = [
    dict(chunks=(5, 9)),    # one chunk
    dict(chunks=(2, 9)),    # along axis 0 (Op1's axis) only, odd
    dict(chunks=(5, 4)),    # along axis 1 (Op2's axis) only
    dict(chunks=(3, 5)),    # both
]


@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", DTYPES)
def test_kronecker_pylops_factors(p, dtype, scheduler):
    Op1, Op2 = pylops.MatrixMult(A, dtype=dtype), pylops.FirstDerivative(9, dtype=dtype)
    Op = pld.Kronecker(Op1, Op2, dtype=dtype)
    assert Op.dims == (5, 9) and Op.dimsd == (7, 9)
    assert_like_pylops(Op, pylops.Kronecker(Op1, Op2, dtype=dtype), p["chunks"], dtype)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_kronecker_distributed_factors(dtype, scheduler):
    Op = pld.Kronecker(pld.MatrixMult(A), pld.FromPyLops(pylops.MatrixMult(B)), dtype=dtype)
    POp = pylops.Kronecker(pylops.MatrixMult(A), pylops.MatrixMult(B), dtype=dtype)
    assert_like_pylops(Op, POp, (2, 4), dtype)


def test_kronecker_flat_like_pylops():
    Op = pld.Kronecker(pylops.MatrixMult(A), pylops.MatrixMult(B))
    x = rand(45, "float64")
    y = Op @ da.from_array(x, chunks=9)
    assert y.shape == (42,)
    np.testing.assert_allclose(y.compute(), np.kron(A, B) @ x)


def test_kronecker_tasks():
    Op = pld.Kronecker(pylops.MatrixMult(rand((40, 40), "float64")),
                       pylops.MatrixMult(rand((30, 40), "float64")))
    counts = []
    for chunks in ((10, 40), (20, 20), (10, 10)):     # 4, 4 and 16 chunks
        x = da.from_array(rand((40, 40), "float64"), chunks=chunks).persist()
        y = Op @ x
        counts.append(new_tasks(y, x))
        # one task per chunk per stage, plus the all-to-all rechunk between the stages
        assert counts[-1] <= 4 * x.npartitions + 2 * max(x.numblocks) ** 2, (chunks, counts)
        assert y.npartitions == max(x.numblocks)


def test_kronecker_bad_input():
    with pytest.raises(TypeError, match=r"Kronecker: Op2 must be a PyLops or pylops_distributed "
                                        r"LinearOperator, got ndarray"):
        pld.Kronecker(pylops.MatrixMult(A), B)


def test_kronecker_of_general_factors_has_no_chunk_kernel():
    D = pylops.FirstDerivative(9)
    Op = pld.Kronecker(pylops.MatrixMult(A), D)
    for adjoint in (False, True):
        with pytest.raises(NoChunkKernel, match=r"Kronecker\('K'\) has no chunk kernel: each output chunk "
                                                r"needs both axes of the input whole \(Op1 acts along "
                                                r"axis 0, Op2 along axis 1\)"):
            Op.chunk_kernel(adjoint)
    # a product with it has none either, and is applied stage by stage
    with pytest.raises(NoChunkKernel, match="Kronecker"):
        (pld.Diagonal(np.ones((7, 9))) @ Op).chunk_kernel()
    x = rand((5, 9), "float64")
    y = (pld.Diagonal(np.ones((7, 9))) @ Op) @ da.from_array(x, chunks=(2, 4))
    np.testing.assert_allclose(y.compute().ravel(), np.kron(A, D.todense()) @ x.ravel())
