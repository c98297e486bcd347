"""Convolve2D, ConvolveND, SmoothingND, NonStationaryConvolve1D/2D/3D and
NonStationaryFilters1D/2D against PyLops: filters of odd and even shapes, offsets, axes
subsets, every chunking (whole, along each axis, irregular, chunks smaller than the filter),
the kernels on arbitrary boxes, the solvers on threads and on the 2-process cluster, and the
constructor errors."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, RTOL, assert_like_pylops, check_kernel_boxes, rand

from pylops_distributed.optimization import cgls
from pylops_distributed.signalprocessing.convolve2d import Convolve2D
from pylops_distributed.signalprocessing.convolvend import ConvolveND
from pylops_distributed.signalprocessing.nonstatconvolve1d import NonStationaryConvolve1D
from pylops_distributed.signalprocessing.nonstatconvolve2d import NonStationaryConvolve2D
from pylops_distributed.signalprocessing.nonstatconvolve3d import NonStationaryConvolve3D
from pylops_distributed.signalprocessing.nonstatfilters1d import NonStationaryFilters1D
from pylops_distributed.signalprocessing.nonstatfilters2d import NonStationaryFilters2D
from pylops_distributed.signalprocessing.smoothingnd import SmoothingND
from pylops_distributed.stacked import compute_all
from pylops_distributed.utils import dottest

psp = pylops.signalprocessing


def _filter(shape, seed=0, complex_=False):
    h = np.random.default_rng(seed).standard_normal(shape)
    return h + 1j * np.random.default_rng(seed + 1).standard_normal(shape) if complex_ else h


# --- stationary convolutions -------------------------------------------------------------------

STATIONARY = [  # id, class name, args, kwargs, chunks
    ("2d-whole", "Convolve2D", ((30, 40), _filter((5, 5))), dict(offset=(2, 2)), (30, 40)),
    ("2d-even-axis1", "Convolve2D", ((30, 40), _filter((4, 6))), dict(offset=(0, 5)), (30, 7)),
    ("2d-axis0-small", "Convolve2D", ((30, 40), _filter((3, 8))), dict(offset=(1, 3)), (2, 40)),
    ("2d-irregular", "Convolve2D", ((50, 12), _filter((11, 3))), dict(offset=(10, 0)),
     ((1, 48, 1), (5, 7))),
    ("2d-smaller-than-filter", "Convolve2D", ((20, 21), _filter((7, 9))), dict(offset=(3, 8)),
     (3, 4)),
    ("2d-direct", "Convolve2D", ((20, 21), _filter((4, 5))), dict(offset=(1, 2), method="direct"),
     (6, 8)),
    ("2d-axes-ignored-on-2d", "Convolve2D", ((16, 18), _filter((3, 5))),
     dict(offset=(0, 4), axes=(1, 0)), (5, 6)),
    ("2d-batch-axis", "Convolve2D", ((6, 20, 18), _filter((3, 5))),
     dict(offset=(1, 1), axes=(0, 2)), (2, 7, 5)),
    ("2d-axes-reversed-3d", "Convolve2D", ((9, 4, 11), _filter((3, 5))),
     dict(offset=(2, 1), axes=(2, 0)), (4, 2, 5)),
    ("nd-full", "ConvolveND", ((10, 9, 12), _filter((3, 4, 5))), dict(offset=(1, 3, 0), axes=None),
     (3, 4, 5)),
    ("nd-1d-filter", "ConvolveND", ((5, 30, 4), _filter(7)), dict(offset=6, axes=(1,)),
     ((2, 3), (4, 20, 6), 4)),
    ("nd-auto", "ConvolveND", ((8, 10, 12), _filter((2, 3))), dict(offset=(1, 0), axes=(-1, -2),
                                                                   method="auto"), (4, 5, 5)),
    ("smooth-2of3", "SmoothingND", ((3, 4), (8, 9, 10)), dict(axes=(0, 2)), (3, 9, 4)),
    ("smooth-3d", "SmoothingND", ((3, 5, 0), (7, 8, 9)), dict(axes=None), (2, 3, 4)),
]

OURS = dict(Convolve2D=Convolve2D, ConvolveND=ConvolveND, SmoothingND=SmoothingND)
THEIRS = dict(Convolve2D=psp.Convolve2D, ConvolveND=psp.ConvolveND, SmoothingND=pylops.SmoothingND)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", STATIONARY, ids=[c[0] for c in STATIONARY])
def test_stationary_like_pylops(case, dtype):
    _, cls, args, kwargs, chunks = case
    kwargs = dict(kwargs, dtype=dtype)
    if kwargs.get("axes", 0) is None and cls == "SmoothingND":
        kwargs.pop("axes")  # PyLops' SmoothingND: a full-rank window runs along every axis
    assert_like_pylops(OURS[cls](*args, **kwargs), THEIRS[cls](*args, **kwargs), chunks, dtype)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_complex_filter(dtype):
    h = _filter((4, 3), seed=3, complex_=True)
    Op = Convolve2D((13, 6, 11), h, offset=(3, 0), axes=(0, 2), dtype="complex128")
    POp = psp.Convolve2D((13, 6, 11), h, offset=(3, 0), axes=(0, 2), dtype="complex128")
    assert_like_pylops(Op, POp, (5, 3, 2), dtype, rtol=1e-4 if dtype == "float32" else None)
    assert Op.chunk_kernel().out_dtype(np.dtype("float64")) == np.complex128


def test_filter_with_zero_border_and_shift():
    """The filter's zero border is dropped (a smaller halo); a lone tap off the centre is a
    shift, exact at the ends."""
    h = np.zeros((5, 3))
    h[4, 0] = 2.0
    Op = Convolve2D((12, 10), h, offset=(0, 2))
    assert Op.chunk_kernel().depth(((4, 4, 4), (5, 5))) == ((4, 0), (0, 2))
    assert_like_pylops(Op, psp.Convolve2D((12, 10), h, offset=(0, 2)), (4, 5), "float64")
    Z = Convolve2D((12, 10), np.zeros((3, 3)), offset=(1, 1))
    assert_like_pylops(Z, psp.Convolve2D((12, 10), np.zeros((3, 3)), offset=(1, 1)), (4, 5),
                       "float64", check_dot=False)


def test_stationary_kernel_boxes():
    """The kernel straight on boxes at the edges, inside, and larger than a chunk."""
    h = _filter((4, 5), seed=2)
    Op = Convolve2D((14, 16), h, offset=(1, 3))
    POp = psp.Convolve2D((14, 16), h, offset=(1, 3))
    boxes = [((0, 0), (3, 4)), ((5, 6), (9, 11)), ((11, 13), (14, 16)), ((0, 0), (14, 16))]
    for adjoint in (False, True):
        check_kernel_boxes(Op, POp, adjoint, "float64", boxes)


# --- non-stationary convolutions ---------------------------------------------------------------

NS1D = [  # dims, chunks, axis, filter length, ih
    ((60,), (60,), 0, 7, (5, 20, 35, 50)),
    ((60,), (7,), 0, 9, (0, 20, 40)),
    ((60,), ((1, 58, 1),), 0, 11, (10, 13, 16, 19)),
    ((60,), (3,), 0, 7, (50, 35, 20, 5)),  # decreasing positions, as PyLops reads them
    ((5, 40), (2, 9), 1, 5, (3, 4, 5, 6)),
    ((40, 5), (6, 3), 0, 13, (2, 30)),
    ((3, 30, 4), (2, 8, 3), 1, 3, (0, 10, 20)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dims,chunks,axis,nh,ih", NS1D)
def test_nonstationary1d_like_pylops(dims, chunks, axis, nh, ih, dtype):
    hs = _filter((len(ih), nh), seed=nh)
    assert_like_pylops(NonStationaryConvolve1D(dims, hs, ih, axis=axis, dtype=dtype),
                       psp.NonStationaryConvolve1D(dims, hs, ih, axis=axis, dtype=dtype),
                       chunks, dtype)


NS2D = [(14, 17), (5, 17), (14, 4), ((1, 12, 1), (2, 15)), (2, 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunks", NS2D)
def test_nonstationary2d_like_pylops(chunks, dtype):
    hs = _filter((3, 2, 5, 3), seed=4)
    args = ((14, 17), hs, (2, 6, 10), (4, 12))
    assert_like_pylops(NonStationaryConvolve2D(*args, dtype=dtype),
                       psp.NonStationaryConvolve2D(*args, dtype=dtype), chunks, dtype)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("chunks", [(6, 7, 8), (2, 3, 3), ((1, 5), (3, 4), (6, 1, 1))])
def test_nonstationary3d_like_pylops(chunks, dtype):
    hs = _filter((2, 3, 2, 3, 3, 5), seed=5)
    args = ((6, 7, 8), hs, (1, 4), (0, 3, 6), (2, 5))
    assert_like_pylops(NonStationaryConvolve3D(*args, dtype=dtype),
                       psp.NonStationaryConvolve3D(*args, dtype=dtype), chunks, dtype)


def test_nonstationary_kernel_boxes():
    hs = _filter((3, 2, 5, 3), seed=4)
    args = ((14, 17), hs, (2, 6, 10), (4, 12))
    boxes = [((0, 0), (3, 4)), ((5, 6), (9, 11)), ((11, 13), (14, 17)), ((0, 0), (14, 17))]
    for adjoint in (False, True):
        check_kernel_boxes(NonStationaryConvolve2D(*args), psp.NonStationaryConvolve2D(*args),
                           adjoint, "float64", boxes)


# --- non-stationary filter estimation -----------------------------------------------------------

def _by_parts(POp, x):
    """PyLops' (real) operator on ``x``, a complex ``x`` through its real and imaginary parts
    (PyLops' NonStationaryFilters2D rejects complex vectors)."""
    x = x.ravel()
    if np.iscomplexobj(x):
        return _by_parts(POp, x.real) + 1j * _by_parts(POp, x.imag)
    return np.ravel(POp @ x)


def assert_filters_like_pylops(Op, POp, model_chunks, dtype):
    """Forward (model chunked as given: rechunked whole) and adjoint (data in the operator's
    chunks, so the adjoint sums a part per data chunk) equal PyLops', and the dot test."""
    rtol = RTOL[np.dtype(dtype).name]
    x, y = rand(Op.dims, dtype, seed=1), rand(Op.dimsd, dtype, seed=2)
    fwd = Op @ da.from_array(x, chunks=model_chunks)
    adj = Op.H @ da.from_array(y, chunks=Op._data_chunks)
    assert fwd.chunks == Op._data_chunks and adj.chunks == tuple((n,) for n in Op.dims)
    fwd, adj = compute_all(fwd, adj)
    scale = max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(fwd.ravel(), _by_parts(POp, x), rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(adj.ravel(), _by_parts(POp.H, y), rtol=rtol, atol=rtol * scale)
    np.random.seed(7)
    assert dottest(Op, complexflag=3 if np.dtype(dtype).kind == "c" else 0,
                   rtol=max(rtol, 1e-6) * 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunks", [(50,), (7,), ((1, 48, 1),), (3,)])
def test_filters1d_like_pylops(chunks, dtype):
    inp = rand(50, "float64", seed=3)
    Op = NonStationaryFilters1D(inp, 9, (10, 25, 40), dtype=dtype, chunks=chunks)
    POp = psp.NonStationaryFilters1D(inp, 9, (10, 25, 40), dtype=dtype)
    assert_filters_like_pylops(Op, POp, (2, 5), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunks", [(12, 14), (5, 14), (2, 3), ((1, 10, 1), (7, 7))])
def test_filters2d_like_pylops(chunks, dtype):
    inp = rand((12, 14), "float64", seed=3)
    args = (inp, (3, 5), (3, 8), (2, 6, 10))
    assert_filters_like_pylops(NonStationaryFilters2D(*args, dtype=dtype, chunks=chunks),
                               psp.NonStationaryFilters2D(*args, dtype=dtype), (1, 3, 3, 5), dtype)


def test_filters_dask_input_and_kernel_boxes():
    inp = rand((12, 14), "float64", seed=3)
    args = ((3, 5), (3, 8), (2, 6, 10))
    Op = NonStationaryFilters2D(da.from_array(inp, chunks=(5, 6)), *args)
    assert Op._data_chunks == ((5, 5, 2), (6, 6, 2))
    assert_filters_like_pylops(Op, psp.NonStationaryFilters2D(inp, *args), (2, 3, 3, 5), "float64")
    POp = psp.NonStationaryFilters2D(inp, *args)
    check_kernel_boxes(NonStationaryFilters2D(inp, *args), POp, False, "float64",
                       [((0, 0), (3, 4)), ((5, 6), (12, 14))])
    check_kernel_boxes(NonStationaryFilters2D(inp, *args), POp, True, "float64",
                       [((0, 0, 0, 0), (2, 3, 3, 5))])  # additive: also on pieces of the data


# --- solvers, on threads and on the 2-process cluster ---------------------------------------------

def test_convolve2d_cgls_matches_pylops(scheduler):
    rng = np.random.default_rng(0)
    dims = (40, 36)
    h = np.outer(np.hanning(7), np.hanning(5))
    Op, POp = Convolve2D(dims, h, offset=(3, 2)), psp.Convolve2D(dims, h, offset=(3, 2))
    y = POp @ rng.standard_normal(dims).ravel()
    xo, istop, it = cgls(Op, da.from_array(y.reshape(dims), chunks=(15, 20)), niter=12, tol=0,
                         damp=0.1)[:3]
    xr = pylops.optimization.basic.cgls(POp, y, niter=12, tol=0, damp=0.1)[0].ravel()
    assert it == 12
    np.testing.assert_allclose(xo.compute().ravel(), xr, rtol=1e-9, atol=1e-9 * np.abs(xr).max())


def test_nonstationary_cgls_matches_pylops(scheduler):
    rng = np.random.default_rng(1)
    dims = (16, 18)
    hs = _filter((2, 3, 5, 3), seed=6)
    args = (dims, hs, (3, 12), (2, 8, 14))
    Op, POp = NonStationaryConvolve2D(*args), psp.NonStationaryConvolve2D(*args)
    y = POp @ rng.standard_normal(dims).ravel()
    xo = cgls(Op, da.from_array(y.reshape(dims), chunks=(5, 7)), niter=6, tol=0, damp=0.1)[0]
    xr = pylops.optimization.basic.cgls(POp, y, niter=6, tol=0, damp=0.1)[0].ravel()
    np.testing.assert_allclose(xo.compute().ravel(), xr, rtol=1e-9, atol=1e-9 * np.abs(xr).max())


def test_filters_cgls_matches_pylops(scheduler):
    """The model (filters) in one chunk, the data in chunks: the adjoint sums over them."""
    inp = rand(80, "float64", seed=4)
    Op = NonStationaryFilters1D(inp, 7, (10, 40, 70), chunks=(25,))
    POp = psp.NonStationaryFilters1D(inp, 7, (10, 40, 70))
    y = POp @ rand((3, 7), "float64", seed=5).ravel()
    xo = cgls(Op, da.from_array(y, chunks=25), niter=8, tol=0)[0]
    xr = pylops.optimization.basic.cgls(POp, y, niter=8, tol=0)[0].ravel()
    np.testing.assert_allclose(np.asarray(xo.compute()).ravel(), xr, rtol=1e-9,
                               atol=1e-9 * np.abs(xr).max())


# --- errors, before any compute ------------------------------------------------------------------

@pytest.mark.parametrize("make,exc,match", [
    (lambda: Convolve2D((8, 9), np.ones(3)), ValueError, "2-dimensional"),
    (lambda: Convolve2D((8, 9), np.ones((3, 3)), offset=(3, 0)), ValueError, "offset"),
    (lambda: Convolve2D((8, 9), np.ones((3, 3)), offset=(1,)), ValueError, "offset"),
    (lambda: Convolve2D((8, 9), np.ones((3, 3)), method="slow"), ValueError, "method"),
    (lambda: ConvolveND((8, 9, 4), np.ones((3, 3)), axes=(0,)), ValueError, "needs 2 axes"),
    (lambda: ConvolveND((8, 9, 4), np.ones((3, 3)), axes=(1, -2)), ValueError, "repeats"),
    (lambda: ConvolveND((8,), np.ones((3, 3))), ValueError, "between 1 and 1"),
    (lambda: SmoothingND((3, -1), (8, 9)), ValueError, "nsmooth"),
    (lambda: NonStationaryConvolve1D(20, np.ones((2, 4)), (2, 8)), ValueError, "odd"),
    (lambda: NonStationaryConvolve1D(20, np.ones((3, 3)), (2, 8, 9)), ValueError, "regularly"),
    (lambda: NonStationaryConvolve1D(20, np.ones((2, 3)), (2, 20)), ValueError, r"\[0, 19\]"),
    (lambda: NonStationaryConvolve1D(20, np.ones((1, 3)), (2,)), ValueError, "two filter"),
    (lambda: NonStationaryConvolve1D(20, np.ones((3, 3)), (2, 8)), ValueError, "grid"),
    (lambda: NonStationaryConvolve1D(20, np.ones((2, 3)) * 1j, (2, 8)), NotImplementedError,
     "complex"),
    (lambda: NonStationaryConvolve2D((8, 9, 2), np.ones((2, 2, 3, 3)), (1, 5), (1, 5)),
     ValueError, "two axes"),
    (lambda: NonStationaryConvolve2D((8, 9), np.ones((2, 2, 3, 3)), (1, 5), (1, 5), engine="x"),
     ValueError, "engine"),
    (lambda: NonStationaryConvolve3D((8, 9, 5), np.ones((2, 2, 3, 3)), (1, 5), (1, 5), (1, 3)),
     ValueError, "6 axes"),
    (lambda: NonStationaryFilters1D(np.ones((4, 5)), 3, (1, 3)), ValueError, "1 axes"),
    (lambda: NonStationaryFilters1D(np.ones(9) * 1j, 3, (1, 3)), NotImplementedError, "complex"),
    (lambda: NonStationaryFilters2D(np.ones((6, 7)), (3, 4), (1, 3), (1, 3)), ValueError, "odd"),
])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
