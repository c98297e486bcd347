"""Transpose, Flip, Roll, Symmetrize, Pad and Sum against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, new_tasks, rand

import pylops_distributed as pld

# chunks: along the operator's own axis, an odd size, the other axes only
par_transpose = [
    dict(dims=(6, 5), axes=(1, 0), chunks=(6, 2)),
    dict(dims=(4, 5, 3), axes=(2, 0, 1), chunks=(3, 3, 3)),
    dict(dims=(4, 5, 3), axes=(-1, 1, 0), chunks=(2, 5, 1)),
]


@pytest.mark.parametrize("p", par_transpose)
@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose(p, dtype, scheduler):
    Op = pld.Transpose(p["dims"], p["axes"], dtype=dtype)
    assert_like_pylops(Op, pylops.Transpose(p["dims"], p["axes"], dtype=dtype), p["chunks"], dtype)


def test_transpose_chunks_follow_axes():
    x = da.from_array(rand((4, 5, 3), "float64"), chunks=(2, 5, 1))
    y = pld.Transpose((4, 5, 3), (2, 0, 1)) @ x
    assert y.chunks == (x.chunks[2], x.chunks[0], x.chunks[1])
    assert new_tasks(y, x) == x.npartitions


def test_transpose_bad_axes():
    with pytest.raises(ValueError, match=r"Transpose: axes=\(0, 0, 1\) must contain every axis "
                                         r"of dims=\(4, 5, 3\)"):
        pld.Transpose((4, 5, 3), (0, 0, 1))


par_axis = [
    dict(dims=(11,), axis=0, shift=1, chunks=(3,)),              # 1-D, chunked along the axis
    dict(dims=(5, 7, 4), axis=1, shift=-4, chunks=(3, 7, 3)),    # odd chunks, axis whole
    dict(dims=(6, 7), axis=-1, shift=9, chunks=(6, 3)),          # odd chunks along the axis
]


@pytest.mark.parametrize("p", par_axis)
@pytest.mark.parametrize("dtype", DTYPES)
def test_flip(p, dtype, scheduler):
    Op = pld.Flip(p["dims"], axis=p["axis"], dtype=dtype)
    assert_like_pylops(Op, pylops.Flip(p["dims"], axis=p["axis"], dtype=dtype), p["chunks"], dtype)


@pytest.mark.parametrize("p", par_axis)
@pytest.mark.parametrize("dtype", DTYPES)
def test_roll(p, dtype, scheduler):
    Op = pld.Roll(p["dims"], axis=p["axis"], shift=p["shift"], dtype=dtype)
    POp = pylops.Roll(p["dims"], axis=p["axis"], shift=p["shift"], dtype=dtype)
    assert_like_pylops(Op, POp, p["chunks"], dtype)


par_sym = [
    dict(dims=(11,), axis=0, chunks=(3,)),
    dict(dims=(5, 7, 4), axis=-1, chunks=(2, 3, 3)),   # chunked along the axis, odd size
    dict(dims=(1, 4), axis=0, chunks=(1, 3)),          # a single sample: the identity
]


@pytest.mark.parametrize("p", par_sym)
@pytest.mark.parametrize("dtype", DTYPES)
def test_symmetrize(p, dtype, scheduler):
    Op = pld.Symmetrize(p["dims"], axis=p["axis"], dtype=dtype)
    assert_like_pylops(Op, pylops.Symmetrize(p["dims"], axis=p["axis"], dtype=dtype), p["chunks"], dtype)


par_pad = [
    dict(dims=(9,), pad=(2, 3), chunks=(4,)),
    dict(dims=(6, 7), pad=((1, 0), (0, 3)), chunks=(2, 7)),
    dict(dims=(5, 7, 4), pad=((0, 0), (2, 2), (1, 5)), chunks=(3, 3, 3)),
]


@pytest.mark.parametrize("p", par_pad)
@pytest.mark.parametrize("dtype", DTYPES)
def test_pad(p, dtype, scheduler):
    Op = pld.Pad(p["dims"], p["pad"], dtype=dtype)
    assert_like_pylops(Op, pylops.Pad(p["dims"], p["pad"], dtype=dtype), p["chunks"], dtype)


par_sum = [
    dict(dims=(6, 7), axis=0, chunks=(2, 7)),        # chunked along the summed axis
    dict(dims=(5, 7, 4), axis=-1, chunks=(5, 3, 3)),  # odd chunks along it
    dict(dims=(8,), axis=-1, chunks=(3, 1)),         # PyLops treats 1-D dims as (N, 1)
]


@pytest.mark.parametrize("p", par_sum)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sum(p, dtype, scheduler):
    Op = pld.Sum(p["dims"], axis=p["axis"], dtype=dtype)
    POp = pylops.Sum(p["dims"], axis=p["axis"], dtype=dtype)
    assert Op.dims == tuple(POp.dims) and Op.dimsd == tuple(POp.dimsd)
    assert_like_pylops(Op, POp, p["chunks"], dtype)


def test_sum_forceflat_and_chunks():
    x = da.from_array(rand((6, 8, 4), "float64"), chunks=(6, 3, 2))
    Op = pld.Sum((6, 8, 4), axis=0)
    y = Op @ x
    assert y.shape == (8, 4) and y.chunks == x.chunks[1:]
    xa = Op.H @ y
    assert xa.shape == (6, 8, 4) and xa.chunks[1:] == x.chunks[1:]
    assert pld.Sum((3, 4), axis=0, forceflat=True).rmatvec(np.ones(4)).shape == (12,)
    assert (pld.Sum((3, 4), axis=0, forceflat=True).H @ np.ones(4)).shape == (12,)
    with pytest.warns(UserWarning, match="Sum: setting forceflat=None"):
        pld.Sum((3, 4, 5), forceflat=True)


@pytest.mark.parametrize("make", [
    lambda: pld.Flip((6, 40), axis=0), lambda: pld.Roll((6, 40), axis=1, shift=3),
    lambda: pld.Pad((6, 40), ((1, 1), (2, 2))), lambda: pld.Symmetrize((6, 40), axis=1),
    lambda: pld.Sum((6, 40), axis=0)])
def test_tasks_scale_with_chunks(make):
    Op = make()
    counts = []
    for c in (10, 5):   # 4 then 8 chunks along axis 1
        x = da.from_array(rand((6, 40), "float64"), chunks=(3, c))
        counts.append((new_tasks(Op @ x, x), new_tasks(Op.H @ (Op @ x), x)))
    nchunks = (8, 16)
    for (fwd, both), n in zip(counts, nchunks):
        assert fwd <= 6 * n and both <= 12 * n, (counts, n)


@pytest.mark.parametrize("make, match", [
    (lambda: pld.Flip((4, 5), axis=2), r"Flip: axis=2 is out of range"),
    (lambda: pld.Roll((4, 5), shift=1.5), r"Roll: shift must be an integer, got 1.5"),
    (lambda: pld.Symmetrize((4, 5), axis=-3), r"Symmetrize: axis=-3 is out of range"),
    (lambda: pld.Pad((4, 5), ((1, 1),)), r"Pad: pad=\(\(1, 1\),\) must hold one \(before, after\) pair"),
    (lambda: pld.Pad(4, (1, -1)), r"Pad: padding must be positive or zero"),
    (lambda: pld.Sum((4, 5), axis=3), r"Sum: axis=3 is out of range"),
])
def test_bad_input(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_bad_shape_at_apply():
    with pytest.raises(ValueError, match=r"Flip.*expected an input of shape \(4, 5\)"):
        pld.Flip((4, 5)) @ da.ones((5, 4))
