"""Diagonal, Identity and Zero against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, check_kernel_boxes, new_tasks, rand

import pylops_distributed as pld

par_diag = [
    dict(dims=None, axis=-1, shape=(20,), chunks=(7,)),
    dict(dims=(6, 9), axis=0, shape=(6,), chunks=(2, 9)),      # chunks along the diagonal's axis
    dict(dims=(6, 9), axis=-1, shape=(9,), chunks=(6, 4)),
    dict(dims=None, axis=-1, shape=(5, 7, 3), chunks=(2, 3, 3)),  # N-D diagonal
]


@pytest.mark.parametrize("p", par_diag)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("as_dask", [False, True])
def test_diagonal(p, dtype, as_dask, scheduler):
    d = rand(p["shape"], dtype, seed=5)
    dd = da.from_array(d, chunks=3) if as_dask else d
    Op = pld.Diagonal(dd, dims=p["dims"], axis=p["axis"], dtype=dtype)
    assert_like_pylops(Op, pylops.Diagonal(d, dims=p["dims"], axis=p["axis"], dtype=dtype), p["chunks"], dtype)


def test_diagonal_bad_size():
    with pytest.raises(ValueError, match=r"Diagonal: diag of size 5 does not match dims\[0\] = 6"):
        pld.Diagonal(np.ones(5), dims=(6, 9), axis=0)


par_id = [
    dict(N=10, M=None, chunks=(3,)),
    dict(N=12, M=7, chunks=(4,)),
    dict(N=7, M=12, chunks=(5,)),
    dict(N=(6, 8), M=(4, 5), chunks=(2, 3)),
    dict(N=(4, 5), M=(6, 8), chunks=(3, 4)),
]


@pytest.mark.parametrize("p", par_id)
@pytest.mark.parametrize("dtype", DTYPES)
def test_identity(p, dtype, scheduler):
    Op = pld.Identity(p["N"], p["M"], dtype=dtype)
    assert_like_pylops(Op, pylops.Identity(p["N"], p["M"], dtype=dtype), p["chunks"], dtype)


def test_identity_same_shape_one_task_per_chunk():
    x = da.from_array(rand((6, 5), "float64"), chunks=2).persist()
    Op = pld.Identity((6, 5))
    assert Op.chunk_kernel().pointwise and Op.chunk_kernel(True).pointwise
    for y in (Op @ x, Op.H @ x):
        assert new_tasks(y, x) == x.npartitions and y.chunks == x.chunks
        np.testing.assert_array_equal(y.compute(), x.compute())


def test_identity_mixed_shapes_rejected():
    with pytest.raises(ValueError, match="Identity"):
        pld.Identity((4, 8), (5, 7))


@pytest.mark.parametrize("p", [dict(N=10, M=None), dict(N=4, M=9), dict(N=(3, 4), M=(5, 2))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero(p, dtype, scheduler):
    Op = pld.Zero(p["N"], p["M"], dtype=dtype)
    assert_like_pylops(Op, pylops.Zero(p["N"], p["M"], dtype=dtype), 2, dtype)


@pytest.mark.parametrize("cls", ["Identity", "Zero"])
@pytest.mark.parametrize("N, M", [((6, 8), None), ((6, 8), (4, 5)), ((4, 5), (6, 8)), (7, 12), (12, 7)])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_kernels(cls, N, M, dtype):
    """Forward and adjoint kernels exist and are exact on any output box, inside or beyond
    the input array."""
    if cls == "Identity":
        Op, POp = pld.Identity(N, M, dtype=dtype), pylops.Identity(N, M, dtype=dtype)
    else:
        Op, POp = pld.Zero(N, M, dtype=dtype), pylops.Zero(N, M, dtype=dtype)
    for adjoint in (False, True):
        dims = Op.dims if adjoint else Op.dimsd
        mid = tuple(n // 2 for n in dims)
        boxes = [((0,) * len(dims), dims), ((0,) * len(dims), mid), (mid, dims),
                 (tuple(min(1, n) for n in dims), tuple(n - 1 for n in dims))]
        check_kernel_boxes(Op, POp, adjoint, dtype, [b for b in boxes if all(a < c for a, c in zip(*b))])


@pytest.mark.parametrize("N, M, chunks, out", [
    ((6, 8), (4, 5), (3, 2), ((3, 3), (2, 2, 4))),    # padded: the last chunks grow
    ((4, 5), (6, 8), (4, 3), ((4,), (3, 2))),         # truncated: cut at the new length
    (3, 10, (4,), ((3,),)),                           # chunks left empty are dropped
])
def test_identity_chunks(N, M, chunks, out):
    Op = pld.Identity(N, M)
    x = da.from_array(rand(Op.dims, "float64"), chunks=chunks).persist()
    y = Op @ x
    # a task per output chunk, plus a slicing task where a truncated chunk is read in part
    assert y.chunks == out and new_tasks(y, x) <= 2 * y.npartitions
    np.testing.assert_allclose(y.compute().ravel(), pylops.Identity(N, M) @ x.compute().ravel())
    z = pld.Zero(N, M) @ x
    assert z.chunks == out and not z.compute().any()


def test_zero_ranks_differ():
    Op = pld.Zero((3, 4), 5)
    y, xa = Op @ da.ones(5, chunks=2), Op.H @ da.ones((3, 4), chunks=2)
    assert y.shape == (3, 4) and xa.shape == (5,)
    assert not y.compute().any() and not xa.compute().any()
