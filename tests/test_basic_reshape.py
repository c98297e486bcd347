"""Transpose, Flip, Roll, Symmetrize, Pad and Sum against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, check_kernel_boxes, new_tasks, rand

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


# --- per-chunk kernels -------------------------------------------------------------------------

KERNEL_OPS = {
    # name: (distributed operator, PyLops twin, output boxes of the forward, of the adjoint)
    "Transpose": (lambda dt: pld.Transpose((4, 5, 3), (2, 0, 1), dtype=dt),
                  lambda dt: pylops.Transpose((4, 5, 3), (2, 0, 1), dtype=dt),
                  [((0, 0, 0), (3, 4, 5)), ((1, 2, 1), (3, 3, 4))], [((0, 1, 1), (4, 4, 3))]),
    "Flip": (lambda dt: pld.Flip((7, 4), axis=0, dtype=dt), lambda dt: pylops.Flip((7, 4), axis=0, dtype=dt),
             [((0, 0), (7, 4)), ((2, 1), (5, 3)), ((6, 0), (7, 1))], [((1, 0), (6, 4))]),
    "Roll": (lambda dt: pld.Roll((9, 3), axis=0, shift=-11, dtype=dt),
             lambda dt: pylops.Roll((9, 3), axis=0, shift=-11, dtype=dt),
             [((0, 0), (9, 3)), ((5, 1), (9, 2)), ((1, 0), (3, 3))], [((0, 0), (9, 3)), ((6, 0), (8, 2))]),
    "Pad": (lambda dt: pld.Pad((4, 3), ((5, 1), (0, 2)), dtype=dt),
            lambda dt: pylops.Pad((4, 3), ((5, 1), (0, 2)), dtype=dt),
            [((0, 0), (10, 5)), ((0, 0), (4, 2)), ((4, 1), (7, 5)), ((9, 3), (10, 5))],
            [((0, 0), (4, 3)), ((1, 1), (3, 2))]),
    "Symmetrize": (lambda dt: pld.Symmetrize((3, 5), axis=1, dtype=dt),
                   lambda dt: pylops.Symmetrize((3, 5), axis=1, dtype=dt),
                   [((0, 0), (3, 9)), ((1, 2), (3, 6)), ((0, 5), (2, 9))],
                   [((0, 0), (3, 5)), ((1, 0), (2, 1)), ((0, 1), (3, 4)), ((0, 3), (3, 5))]),
    "Sum": (lambda dt: pld.Sum((6, 4, 3), axis=1, dtype=dt),
            lambda dt: pylops.Sum((6, 4, 3), axis=1, dtype=dt),
            [((0, 0), (6, 3)), ((2, 1), (5, 2))], [((0, 0, 0), (6, 4, 3)), ((1, 2, 0), (4, 3, 2))]),
}


@pytest.mark.parametrize("name", KERNEL_OPS)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_kernels(name, dtype):
    """Every operator has a forward and an adjoint kernel, exact on any output box."""
    make, twin, fwd_boxes, adj_boxes = KERNEL_OPS[name]
    Op, POp = make(dtype), twin(dtype)
    check_kernel_boxes(Op, POp, False, dtype, fwd_boxes)
    check_kernel_boxes(Op, POp, True, dtype, adj_boxes)


@pytest.mark.parametrize("shift", [1, 7, -5, -13, 40])
@pytest.mark.parametrize("chunks", [(3, 4), (2, 7), (5, 1)])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_roll_shifts_beyond_a_chunk(shift, chunks, dtype):
    Op = pld.Roll((5, 13), axis=1, shift=shift, dtype=dtype)
    assert_like_pylops(Op, pylops.Roll((5, 13), axis=1, shift=shift, dtype=dtype), chunks, dtype)
    x = da.from_array(rand((5, 13), dtype), chunks=chunks)
    assert (Op @ x).chunks == x.chunks and (Op.H @ x).chunks == x.chunks
    # a task per output chunk, reading the few input chunks its shifted box overlaps through
    # small (shared) slicing tasks: linear in the chunks
    assert new_tasks(Op @ x, x) <= 3 * x.npartitions


@pytest.mark.parametrize("chunks", [(2, 3), (5, 1), (1, 7)])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_pad_beyond_a_chunk(chunks, dtype):
    pad = ((4, 7), (9, 0))
    Op = pld.Pad((5, 7), pad, dtype=dtype)
    assert_like_pylops(Op, pylops.Pad((5, 7), pad, dtype=dtype), chunks, dtype)
    x = da.from_array(rand((5, 7), dtype), chunks=chunks)
    y = Op @ x
    assert y.chunks == tuple((c[0] + b,) + c[1:-1] + (c[-1] + a,) if len(c) > 1 else (c[0] + b + a,)
                             for c, (b, a) in zip(x.chunks, pad))
    assert (Op.H @ y).chunks == x.chunks   # the adjoint brings the forward's chunks back
    # data chunked anyhow: model chunks at the data's boundaries shifted by the pads
    yd = da.from_array(rand(Op.dimsd, dtype), chunks=(3, 4))
    assert (Op.H @ yd).chunks == ((2, 3), (3, 4))


@pytest.mark.parametrize("chunks", [(4, 3), (7, 2), (1, 5), (3, 1)])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_flip_uneven_chunks(chunks, dtype):
    for axis in (0, 1):
        Op = pld.Flip((11, 6), axis=axis, dtype=dtype)
        assert_like_pylops(Op, pylops.Flip((11, 6), axis=axis, dtype=dtype), chunks, dtype)
        x = da.from_array(rand((11, 6), dtype), chunks=chunks)
        assert (Op @ x).chunks == x.chunks   # the user's chunks are kept


@pytest.mark.parametrize("axis, chunks", [(0, (2, 5)), (0, (5, 5)), (1, (3, 2)), (1, (1, 5)), (-1, (6, 4))])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_sum_chunked_axis(axis, chunks, dtype):
    Op = pld.Sum((6, 9), axis=axis, dtype=dtype)
    assert_like_pylops(Op, pylops.Sum((6, 9), axis=axis, dtype=dtype), chunks, dtype)


@pytest.mark.parametrize("chunks", [(3, 10), (2, 40), (6, 5)])
def test_sum_partials_per_chunk(chunks):
    """A chunked summed axis gives one partial-sum task per input chunk, then one adding
    task per output chunk: the axis is never rechunked."""
    x = da.from_array(rand((6, 40), "float64"), chunks=chunks).persist()
    Op = pld.Sum((6, 40), axis=0)
    y = Op @ x
    graph = dict(y.__dask_graph__())
    assert not any("rechunk" in k[0] for k in graph if isinstance(k, tuple))
    partials = [k for k in graph if isinstance(k, tuple) and "-partial-" in k[0]]
    nsum, nother = x.numblocks
    assert len(partials) == (x.npartitions if nsum > 1 else 0)
    assert new_tasks(y, x) == len(partials) + nother and y.chunks == x.chunks[1:]
    np.testing.assert_allclose(y.compute(), x.compute().sum(axis=0))


@pytest.mark.parametrize("chunks", [(21, 5, 1), (4, 5, 1), (21, 2, 1)])
@pytest.mark.parametrize("shift", [-1, 3])
def test_roll_in_products_with_pointwise_and_halo_kernels(chunks, shift, scheduler):
    """A Roll after a pointwise kernel (Diagonal) and before a halo kernel: the product reads
    a box that wraps around the rolled axis (it was once clipped, giving one row)."""
    dims = (21, 5, 1)
    w = rand(dims, "float64", seed=3)
    Ro, PRo = pld.Roll(dims, axis=0, shift=shift), pylops.Roll(dims, axis=0, shift=shift)
    W, PW = pld.Diagonal(w), pylops.Diagonal(w.ravel())
    D, PD = pld.FirstDerivative(dims, axis=1), pylops.FirstDerivative(dims, axis=1)
    for Op, POp in [(Ro @ W, PRo @ PW), (D @ Ro @ W, PD @ PRo @ PW),
                    (D.H @ Ro.H @ W, PD.H @ PRo.H @ PW)]:
        assert_like_pylops(Op, POp, chunks, "float64")


@pytest.mark.parametrize("solver", ["cgls", "lsqr"])
def test_solvers_on_blocks_with_a_roll(solver, scheduler):
    """Solvers on a Block holding Rolls (boxes that wrap around) and on Roll + Diagonal:
    PyLops' answers (the fused ranks once mixed wrapped and plain boxes: wrong results or a
    shape error; these solves now take the plain backend, logged)."""
    from pylops_distributed.basicoperators.block import Block
    from pylops_distributed.optimization import cgls, lsqr
    from pylops_distributed.stacked import StackedArray

    dims = (21, 5, 1)
    w = 0.5 + rand(dims, "float64", seed=4) ** 2
    Ro, PRo = pld.Roll(dims, axis=0, shift=-1), pylops.Roll(dims, axis=0, shift=-1)
    W, PW = pld.Diagonal(w), pylops.Diagonal(w.ravel())
    run = {"cgls": lambda Op, y: cgls(Op, y, niter=5, tol=0)[0],
           "lsqr": lambda Op, y: lsqr(Op, y, niter=5, atol=0, btol=0)[0]}[solver]
    ref = {"cgls": lambda Op, y: pylops.optimization.basic.cgls(Op, y, niter=5, tol=0)[0],
           "lsqr": lambda Op, y: pylops.optimization.basic.lsqr(Op, y, niter=5, atol=0,
                                                                btol=0)[0]}[solver]
    y = rand(2 * int(np.prod(dims)), "float64", seed=5)
    half = [da.from_array(v.reshape(dims), chunks=(7, 3, 1)) for v in np.split(y, 2)]
    got = run(Block([[W, Ro @ W], [Ro, W]]), StackedArray(half))
    want = ref(pylops.Block([[PW, PRo @ PW], [PRo, PW]]), y)
    np.testing.assert_allclose(got.ravel().compute(), np.ravel(want), rtol=1e-9, atol=1e-12)
    got = run(Ro + W, half[0])
    want = ref(PRo + PW, y[: y.size // 2])
    np.testing.assert_allclose(got.compute().ravel(), np.ravel(want), rtol=1e-9, atol=1e-12)
