"""Restriction and CausalIntegration against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, check_kernel_boxes, new_tasks, rand

import pylops_distributed as pld

par_restr = [
    dict(dims=(20,), iava=[1, 4, 6, 11, 19], axis=-1, chunks=(7,)),              # sorted, axis chunked
    dict(dims=(5, 9, 4), iava=[8, 0, 3, 3, -1, 2], axis=1, chunks=(3, 2, 4)),    # unsorted, repeats, negative
    dict(dims=(9, 5), iava=np.array([6, 2, 7]), axis=0, chunks=(9, 3)),         # axis whole, odd chunks
]


@pytest.mark.parametrize("p", par_restr)
@pytest.mark.parametrize("dtype", DTYPES)
def test_restriction(p, dtype, scheduler):
    Op = pld.Restriction(p["dims"], p["iava"], axis=p["axis"], dtype=dtype)
    # reference: PyLops' forward, and the explicit adjoint (PyLops' own adjoint loses repeated
    # indices that are written once as i and once as i - n, e.g. [8, -1] for n = 9)
    POp = pylops.Restriction(p["dims"], p["iava"], axis=p["axis"], dtype=dtype)
    ref = pylops.MatrixMult(POp.todense(), dtype=dtype)
    assert_like_pylops(Op, POp if not POp.repeated else ref, p["chunks"], dtype)


def test_restriction_unique_matches_pylops_adjoint():
    Op = pld.Restriction((6, 9), [8, 0, 3, 2], axis=1)
    assert_like_pylops(Op, pylops.Restriction((6, 9), [8, 0, 3, 2], axis=1), (4, 2), "float64")
    assert Op.dims == (6, 9) and Op.dimsd == (6, 4) and not Op.repeated


def test_restriction_tasks():
    x = da.from_array(rand((8, 400), "float64"), chunks=(4, 50)).persist()   # 16 chunks
    Op = pld.Restriction((8, 400), np.arange(3, 400, 7), axis=1)
    y = Op @ x
    assert new_tasks(y, x) <= 3 * x.npartitions
    yp = y.persist()
    xa = Op.H @ yp
    assert new_tasks(xa, yp) <= 4 * xa.npartitions and xa.chunks[0] == yp.chunks[0]


@pytest.mark.parametrize("iava, exc, match", [
    ([1.0, 2.0], TypeError, r"Restriction: iava must hold integer indices, got dtype float64"),
    ([1, 9], ValueError, r"Restriction: iava values \[9\] out of range for dims\[0\] = 9"),
    ([[1, 2]], ValueError, r"Restriction: iava must be 1-D"),
])
def test_restriction_bad_iava(iava, exc, match):
    with pytest.raises(exc, match=match):
        pld.Restriction((9, 3), iava, axis=0)


par_ci = [
    dict(dims=(12,), axis=-1, kind="full", removefirst=False, chunks=(5,)),        # axis chunked
    dict(dims=(6, 7), axis=0, kind="half", removefirst=True, chunks=(2, 3)),       # axis chunked, odd
    dict(dims=(4, 9, 3), axis=1, kind="trapezoidal", removefirst=False, chunks=(3, 9, 2)),  # axis whole
    dict(dims=(4, 9, 3), axis=1, kind="trapezoidal", removefirst=True, chunks=(4, 4, 3)),
]


@pytest.mark.parametrize("p", par_ci)
@pytest.mark.parametrize("dtype", DTYPES)
def test_causalintegration(p, dtype, scheduler):
    kw = dict(axis=p["axis"], sampling=0.3, kind=p["kind"], removefirst=p["removefirst"], dtype=dtype)
    Op = pld.CausalIntegration(p["dims"], **kw)
    assert_like_pylops(Op, pylops.CausalIntegration(p["dims"], **kw), p["chunks"], dtype)


@pytest.mark.parametrize("kind", ["full", "half", "trapezoidal"])
@pytest.mark.parametrize("removefirst", [False, True])
@pytest.mark.parametrize("chunks", [(3, 8), (3, 3)])
def test_causalintegration_kinds(kind, removefirst, chunks):
    kw = dict(axis=1, sampling=2.0, kind=kind, removefirst=removefirst)
    assert_like_pylops(pld.CausalIntegration((5, 8), **kw), pylops.CausalIntegration((5, 8), **kw),
                       chunks, "float64", check_dot=False)


def test_causalintegration_tasks():
    x = da.from_array(rand((8, 400), "float64"), chunks=(4, 400)).persist()   # axis whole: 2 chunks
    Op = pld.CausalIntegration((8, 400), axis=1, kind="trapezoidal")
    assert new_tasks(Op @ x, x) == 2 and new_tasks(Op.H @ x, x) == 2
    x = x.rechunk((4, 50)).persist()                                          # axis chunked: 16 chunks
    # the axis is merged into one chunk first (one rechunk task per output chunk), then one
    # task per chunk; the output is one chunk along the axis
    for y in (Op @ x, Op.H @ x):
        assert new_tasks(y, x) == 2 * 2 and y.chunks == (x.chunks[0], (400,))


def test_causalintegration_bad_kind():
    with pytest.raises(ValueError, match=r"CausalIntegration: kind='simpson' is not one of"):
        pld.CausalIntegration(5, kind="simpson")


# --- per-chunk kernels -------------------------------------------------------------------------

def restriction_twin(dims, iava, axis, dtype):
    """PyLops' Restriction, as the explicit matrix of its forward where indices repeat (see
    test_restriction; PyLops misses an index written once as ``i`` and once as ``i - n``,
    in ``repeated`` and in its adjoint, which ``todense`` uses for wide operators)."""
    POp = pylops.Restriction(dims, iava, axis=axis, dtype=dtype)
    if np.unique(np.asarray(iava) % dims[axis]).size == len(iava):
        return POp
    eye = np.eye(POp.shape[1], dtype=dtype)
    return pylops.MatrixMult(np.column_stack([POp @ e for e in eye]), dtype=dtype)


CI_KW = dict(axis=1, sampling=0.5, kind="trapezoidal", removefirst=True)
KERNEL_OPS = {
    "Restriction-sorted": (lambda dt: pld.Restriction((5, 12), [0, 2, 2, 7, 11], axis=1, dtype=dt),
                           lambda dt: restriction_twin((5, 12), [0, 2, 2, 7, 11], 1, dt),
                           [((0, 0), (5, 5)), ((1, 1), (4, 3)), ((0, 4), (2, 5))],
                           [((0, 0), (5, 12)), ((0, 1), (5, 2)), ((2, 3), (4, 7)), ((0, 2), (5, 8))]),
    "Restriction-unsorted": (lambda dt: pld.Restriction((9, 2), [8, 0, 3, 3, 8, 5], axis=0, dtype=dt),
                             lambda dt: restriction_twin((9, 2), [8, 0, 3, 3, 8, 5], 0, dt),
                             [((0, 0), (6, 2)), ((2, 1), (4, 2)), ((5, 0), (6, 2))],
                             [((0, 0), (9, 2)), ((3, 0), (4, 1)), ((1, 0), (3, 2)), ((4, 0), (9, 2))]),
    "CausalIntegration": (lambda dt: pld.CausalIntegration((3, 8), **CI_KW, dtype=dt),
                          lambda dt: pylops.CausalIntegration((3, 8), **CI_KW, dtype=dt),
                          [((0, 0), (3, 7)), ((1, 2), (2, 5))],
                          [((0, 0), (3, 8)), ((0, 0), (3, 1)), ((1, 3), (3, 8))]),
}


@pytest.mark.parametrize("name", KERNEL_OPS)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_kernels(name, dtype):
    """Forward and adjoint kernels exist and are exact on any output box."""
    make, twin, fwd_boxes, adj_boxes = KERNEL_OPS[name]
    Op, POp = make(dtype), twin(dtype)
    check_kernel_boxes(Op, POp, False, dtype, fwd_boxes)
    check_kernel_boxes(Op, POp, True, dtype, adj_boxes)


par_restr_chunks = [
    dict(iava=[13, 0, 2, 2, 13, 7, 1, 12, 7, 7]),            # unsorted, repeated in different chunks
    dict(iava=[0, 0, 1, 4, 4, 4, 5, 9, 13, 13]),             # sorted, repeats across chunk edges
    dict(iava=[-1, 13, 3, -11]),                             # the same index twice, written two ways
    dict(iava=[6]),                                          # a single sample
]


@pytest.mark.parametrize("p", par_restr_chunks)
@pytest.mark.parametrize("chunks", [(2, 3), (4, 1), (1, 14), (3, 5)])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_restriction_across_chunks(p, chunks, dtype):
    Op = pld.Restriction((4, 14), p["iava"], axis=1, dtype=dtype)
    assert_like_pylops(Op, restriction_twin((4, 14), p["iava"], 1, dtype), chunks, dtype)
    assert_like_pylops(Op.H, restriction_twin((4, 14), p["iava"], 1, dtype).H, chunks, dtype)


def test_restriction_chunks():
    x = da.from_array(rand((2, 20), "float64"), chunks=(2, 5))
    sorted_op = pld.Restriction((2, 20), [1, 3, 3, 12, 13, 19], axis=1)
    y = sorted_op @ x
    assert y.chunks == ((2,), (3, 2, 1))                 # per input chunk, the empty one dropped
    assert (sorted_op.H @ y).chunks == ((2,), (12, 7, 1))  # from y's chunks' first indices 12, 19
    unsorted = pld.Restriction((2, 20), [19, 3, 3, 0, 12], axis=1)
    assert (unsorted @ x).chunks == ((2,), (2, 1, 1, 1))
    assert (unsorted.H @ (unsorted @ x)).chunks == ((2,), (5, 5, 5, 5))
    # model chunks where no index falls ([4, 8) and [8, 12)) read nothing and are zeros
    xa = unsorted.H @ da.from_array(np.ones((2, 5)), chunks=(2, 1))
    assert xa.chunks == ((2,), (4, 4, 4, 4, 4))
    blocks = [b.compute() for b in xa.to_delayed().ravel()]
    assert all(isinstance(b, np.ndarray) for b in blocks) and not blocks[1].any() and not blocks[2].any()
    np.testing.assert_array_equal(xa.compute()[0], np.bincount([19, 3, 3, 0, 12], minlength=20))


@pytest.mark.parametrize("dims,axis", [((10,), 0), ((6, 7), 0), ((6, 7), 1), ((4, 5, 6), 2)])
def test_restriction_mask_like_pylops(dims, axis):
    iava = np.array([0, 2, 3])
    x = np.random.default_rng(4).standard_normal(dims)
    ours, ref = pld.Restriction(dims, iava, axis=axis).mask(da.from_array(x)), \
        pylops.Restriction(dims, iava, axis=axis).mask(x)
    assert isinstance(ours, np.ma.MaskedArray) and ours.shape == dims
    np.testing.assert_array_equal(ours.mask, ref.mask)
    np.testing.assert_array_equal(ours.filled(0), ref.filled(0))
    with pytest.raises(ValueError, match="repeated"):
        pld.Restriction(dims, [1, 1], axis=axis).mask(x)
