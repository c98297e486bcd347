"""Regression and LinearRegression against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, new_tasks, rand

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
