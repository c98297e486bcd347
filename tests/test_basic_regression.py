"""Regression and LinearRegression against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, check_kernel_boxes, new_tasks, rand

import pylops_distributed as pld

par = [
    dict(n=21, order=2, chunks=(5,), tchunks=None),       # data chunked like the input (odd size)
    dict(n=30, order=3, chunks=(4,), tchunks=7),          # taxis chunks differ from the data's
    dict(n=12, order=0, chunks=(12,), tchunks=12),        # one chunk
]


def reference(taxis, order, dtype):
    """PyLops' Regression where it applies (its forward rejects complex models)."""
    if np.iscomplexobj(np.empty(0, dtype)):
        return pylops.MatrixMult(np.vander(taxis, order + 1, increasing=True), dtype=dtype)
    return pylops.Regression(taxis, order, dtype=dtype)


@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", DTYPES)
def test_regression(p, dtype, scheduler):
    taxis = np.linspace(-1.0, 2.0, p["n"])
    Op = pld.Regression(taxis, p["order"], dtype=dtype, chunks=p["tchunks"])
    assert Op.dims == (p["order"] + 1,) and Op.dimsd == (p["n"],)
    assert_like_pylops(Op, reference(taxis, p["order"], dtype), p["chunks"], dtype)


@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", DTYPES)
def test_linearregression(p, dtype, scheduler):
    taxis = da.from_array(np.linspace(0.0, 3.0, p["n"]), chunks=p["tchunks"] or 6)
    Op = pld.LinearRegression(taxis, dtype=dtype)
    POp = reference(taxis.compute(), 1, dtype)
    assert_like_pylops(Op, POp, p["chunks"], dtype)


def test_apply_and_chunks():
    taxis = np.linspace(0.0, 1.0, 40)
    Op = pld.Regression(taxis, 2, chunks=10)
    x = np.array([1.0, -2.0, 0.5])
    xd = da.from_array(x).persist()
    y = Op @ xd
    assert y.chunks == ((10, 10, 10, 10),)
    assert new_tasks(y, xd) == 4 + 4                  # one per chunk, plus taxis' 4 chunks
    t = np.array([0.25, 3.0])
    np.testing.assert_allclose(Op.apply(t, x).compute(), pylops.Regression(taxis, 2).apply(t, x))
    yd = da.from_array(rand(40, "float64"), chunks=10).persist()
    assert new_tasks(Op.H @ yd, yd) <= 3 * 4 + 1      # partial sums, taxis, tree reduction


@pytest.mark.parametrize("make, exc, match", [
    (lambda: pld.Regression([0.0, 1.0], 1), TypeError,
     r"Regression: taxis must be a NumPy, CuPy or dask array, got list"),
    (lambda: pld.Regression(np.ones((2, 3)), 1), ValueError,
     r"Regression: taxis must be 1-D, got shape \(2, 3\)"),
    (lambda: pld.Regression(np.ones(3), -1), ValueError, r"Regression: order must be >= 0, got -1"),
    (lambda: pld.LinearRegression(3.0), TypeError, r"LinearRegression: taxis must be a NumPy"),
])
def test_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("cls", ["Regression", "LinearRegression"])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_kernels(cls, dtype):
    """Forward and adjoint kernels exist and are exact on any output box (the adjoint also on
    any piece of the data)."""
    taxis = np.linspace(-1.0, 2.0, 11)
    Op = pld.Regression(taxis, 2, dtype=dtype, chunks=4) if cls == "Regression" else \
        pld.LinearRegression(taxis, dtype=dtype, chunks=4)
    POp = reference(taxis, Op.order, dtype)
    check_kernel_boxes(Op, POp, False, dtype, [((0,), (11,)), ((3,), (7,))])
    check_kernel_boxes(Op, POp, True, dtype, [((0,), (Op.order + 1,)), ((1,), (2,))])


@pytest.mark.parametrize("chunks, tchunks", [(5, 5), (3, 7), (40, 10), (7, None)])
def test_adjoint_partials_per_chunk(chunks, tchunks):
    """The adjoint is one partial-sum task per data chunk, added up by a tree of at most 8
    per task: the data is never rechunked (taxis only sliced where its chunks differ)."""
    taxis = np.linspace(0.0, 1.0, 40)
    Op = pld.Regression(taxis, 3, chunks=tchunks)
    yd = da.from_array(rand(40, "float64"), chunks=chunks).persist()
    xa = Op.H @ yd
    graph = dict(xa.__dask_graph__())
    assert not any("rechunk" in k[0] for k in graph if isinstance(k, tuple))
    partials = [k for k in graph if isinstance(k, tuple) and "-partial-" in k[0]]
    assert len(partials) == (yd.npartitions if yd.npartitions > 1 else 0)
    assert xa.chunks == ((4,),)
    t = Op._t
    pieces = [k for k in graph if isinstance(k, tuple) and "-piece-" in k[0]]
    sums = [k for k in graph if isinstance(k, tuple) and "-sum-" in k[0]]
    assert len(sums) == (0 if len(partials) <= 8 else -(-len(partials) // 8))
    assert new_tasks(xa, yd, t) == len(partials) + len(sums) + 1 + len(pieces)
    assert len(pieces) <= yd.npartitions + t.npartitions
    np.testing.assert_allclose(xa.compute(), pylops.Regression(taxis, 3).H @ yd.compute())
