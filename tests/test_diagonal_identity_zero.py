"""Diagonal, Identity and Zero against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, rand

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


def test_identity_same_shape_adds_no_task():
    x = da.from_array(rand((6, 5), "float64"), chunks=2)
    assert (pld.Identity((6, 5)) @ x) is x


def test_identity_mixed_shapes_rejected():
    with pytest.raises(ValueError, match="Identity"):
        pld.Identity((4, 8), (5, 7))


@pytest.mark.parametrize("p", [dict(N=10, M=None), dict(N=4, M=9), dict(N=(3, 4), M=(5, 2))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero(p, dtype, scheduler):
    Op = pld.Zero(p["N"], p["M"], dtype=dtype)
    assert_like_pylops(Op, pylops.Zero(p["N"], p["M"], dtype=dtype), 2, dtype)
