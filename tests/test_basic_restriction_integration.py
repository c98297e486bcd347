"""Restriction and CausalIntegration against PyLops."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, new_tasks, rand

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
    assert new_tasks(Op @ x, x) <= 6 * 16 and new_tasks(Op.H @ x, x) <= 8 * 16
    assert (Op @ x).chunks == x.chunks


def test_causalintegration_bad_kind():
    with pytest.raises(ValueError, match=r"CausalIntegration: kind='simpson' is not one of"):
        pld.CausalIntegration(5, kind="simpson")
