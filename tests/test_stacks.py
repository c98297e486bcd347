"""VStack, HStack, Block and BlockDiag against PyLops, with distributed and PyLops blocks mixed."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, rand

import pylops_distributed as pld
from pylops_distributed import StackedArray


def pair(dims, dtype, seed):
    """A distributed operator and its PyLops twin on ``dims`` (N-D, chunk-friendly)."""
    d = rand(dims, dtype, seed=seed)
    return pld.Diagonal(d, dtype=dtype), pylops.Diagonal(d, dtype=dtype)


def deriv(dims, dtype):
    """A PyLops operator acting on axis 0 of dims, used as-is (the stacks wrap it)."""
    return pylops.FirstDerivative(dims, axis=0, dtype=dtype)


@pytest.mark.parametrize("chunks", [(3, 5), (1, 2), (7, 5)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_vstack(chunks, dtype, scheduler):
    dims = (7, 5)
    D, PD = pair(dims, dtype, 1)
    F = deriv(dims, dtype)
    M = rand((4, 7), dtype, seed=2)
    Op = pld.VStack([D, F, pld.MatrixMult(M, otherdims=5, dtype=dtype)])
    POp = pylops.VStack([PD, F, pylops.MatrixMult(M, otherdims=5, dtype=dtype)])
    assert_like_pylops(Op, POp, chunks, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hstack(dtype, scheduler):
    dims = (6, 4)
    D, PD = pair(dims, dtype, 3)
    F = deriv(dims, dtype)
    Op, POp = pld.HStack([D, F]), pylops.HStack([PD, F])
    assert_like_pylops(Op, POp, (5,), dtype)
    # StackedArray input with N-D blocks in any chunking
    x = [rand(dims, dtype, seed=4), rand(dims, dtype, seed=5)]
    xs = StackedArray([da.from_array(x[0], chunks=(2, 4)), da.from_array(x[1], chunks=(6, 1))])
    np.testing.assert_allclose((Op @ xs).compute(), POp @ np.concatenate([v.ravel() for v in x]), rtol=1e-4)


@pytest.mark.parametrize("chunks", [(1, 3, 4), (2, 2, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_blockdiag_same_dims(chunks, dtype, scheduler):
    dims = (3, 4)
    D, PD = pair(dims, dtype, 6)
    F = deriv(dims, dtype)
    assert_like_pylops(pld.BlockDiag([D, F]), pylops.BlockDiag([PD, F]), chunks, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_blockdiag_different_dims(dtype, scheduler):
    D, PD = pair((3, 4), dtype, 7)
    M = rand((5, 6), dtype, seed=8)
    Op = pld.BlockDiag([D, pld.MatrixMult(M, dtype=dtype)])
    POp = pylops.BlockDiag([PD, pylops.MatrixMult(M, dtype=dtype)])
    assert_like_pylops(Op, POp, (5,), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_block(dtype, scheduler):
    D1, PD1 = pair((12,), dtype, 9)
    M = rand((12, 8), dtype, seed=10)
    D2, PD2 = pair((8,), dtype, 11)
    Op = pld.Block([[D1, pld.MatrixMult(M, dtype=dtype)], [pld.MatrixMult(M.T.copy(), dtype=dtype), D2]])
    POp = pylops.Block([[PD1, pylops.MatrixMult(M, dtype=dtype)], [pylops.MatrixMult(M.T.copy(), dtype=dtype), PD2]])
    assert_like_pylops(Op, POp, (5,), dtype)


def test_stacked_output_keeps_block_chunks():
    x = da.from_array(rand((8, 6), "float64"), chunks=(4, 3))
    y = pld.VStack([pld.Identity((8, 6)), pld.Diagonal(rand((8, 6), "float64"))]) @ x
    assert isinstance(y, StackedArray)
    assert [b.chunks for b in y.blocks] == [x.chunks, x.chunks]


def test_stack_mismatch_errors():
    with pytest.raises(ValueError, match="VStack: operators must have the same number of columns"):
        pld.VStack([pld.Identity(3), pld.Identity(4)])
    with pytest.raises(ValueError, match="HStack: operators must have the same number of rows"):
        pld.HStack([pld.Identity(3), pld.Identity(4)])
    with pytest.raises(TypeError, match="VStack: expected a pylops_distributed, PyLops or SciPy"):
        pld.VStack([pld.Identity(3), "eye"])
    with pytest.raises(ValueError, match="Block: ops must be a non-empty list of rows of equal length"):
        pld.Block([[pld.Identity(3)], [pld.Identity(3), pld.Identity(3)]])


def test_blocks_computed_from_each_other(scheduler):
    """VStack([D, 2 * D]): the second block is built on the first; computing and persisting work."""
    d = rand((12, 5), "float64", seed=12)
    Op, POp = pld.VStack([pld.Diagonal(d), 2 * pld.Diagonal(d)]), pylops.VStack([pylops.Diagonal(d), 2 * pylops.Diagonal(d)])
    x = rand((12, 5), "float64", seed=13)
    y = Op @ da.from_array(x, chunks=(3, 5))
    np.testing.assert_allclose(y.compute(), POp @ x)
    np.testing.assert_allclose(np.asarray(y.persist()), POp @ x)
