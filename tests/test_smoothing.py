"""Smoothing1D and Smoothing2D against PyLops, at every chunking."""

import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops

from pylops_distributed.signalprocessing import Smoothing1D, Smoothing2D

par1 = dict(dims=(13, 11), chunks=(13, 11))
par2 = dict(dims=(13, 11), chunks=(5, 4))
par3 = dict(dims=(13, 11), chunks=((1, 11, 1), (10, 1)))
par4 = dict(dims=(13, 11), chunks=(2, 1))
par5 = dict(dims=(7, 6, 9), chunks=(3, 6, 4))
PARS = [par1, par2, par3, par4, par5]
IDS = ["one", "regular", "edge1", "tiny", "3d"]


# PyLops' Convolve1D requires nsmooth <= dims[axis]: only those cases have a reference
CASES1D = [pytest.param(par, n, axis, id=f"{pid}-{n}-{axis}")
           for par, pid in zip(PARS, IDS) for n in (1, 4, 5, 9) for axis in (0, -1)
           if n <= par["dims"][axis]]


@pytest.mark.parametrize("par, nsmooth, axis", CASES1D)
@pytest.mark.parametrize("dtype", DTYPES)
def test_smoothing1d(par, nsmooth, axis, dtype):
    Op = Smoothing1D(nsmooth, par["dims"], axis=axis, dtype=dtype)
    assert_like_pylops(Op, pylops.Smoothing1D(nsmooth, par["dims"], axis=axis, dtype=dtype),
                       par["chunks"], dtype)


@pytest.mark.parametrize("par", PARS, ids=IDS)
@pytest.mark.parametrize("nsmooth", [(3, 5), (4, 1), (7, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_smoothing2d(par, nsmooth, dtype):
    axes = (-2, -1) if len(par["dims"]) == 2 else (2, 0)
    Op = Smoothing2D(nsmooth, par["dims"], axes=axes, dtype=dtype)
    assert_like_pylops(Op, pylops.Smoothing2D(nsmooth, par["dims"], axes=axes, dtype=dtype),
                       par["chunks"], dtype)


@pytest.mark.parametrize("axes", [(1, 0), (-1, 0), (0, 1)])
def test_smoothing2d_axes_order_on_2d_dims(axes):
    """On 2-D dims PyLops runs the first window length along axis 0 whatever the axes order."""
    Op = Smoothing2D((7, 3), (13, 11), axes=axes)
    assert_like_pylops(Op, pylops.Smoothing2D((7, 3), (13, 11), axes=axes), (5, 4), "float64")


def test_zero_length_is_identity_as_in_pylops():
    for Op, POp in ((Smoothing1D(0, (13, 11), axis=0), pylops.Smoothing1D(0, (13, 11), axis=0)),
                    (Smoothing2D((0, 3), (13, 11)), pylops.Smoothing2D((0, 3), (13, 11)))):
        assert_like_pylops(Op, POp, (5, 4), "float64")


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_schedulers(scheduler, dtype):
    for Op, POp in ((Smoothing1D(5, (20, 9), axis=0, dtype=dtype),
                     pylops.Smoothing1D(5, (20, 9), axis=0, dtype=dtype)),
                    (Smoothing2D((5, 3), (20, 9), dtype=dtype),
                     pylops.Smoothing2D((5, 3), (20, 9), dtype=dtype))):
        assert_like_pylops(Op, POp, (6, 4), dtype)


def test_errors():
    with pytest.raises(ValueError, match="Smoothing1D"):
        Smoothing1D(-1, (5, 5))
    with pytest.raises(ValueError, match="Smoothing2D"):
        Smoothing2D((3,), (5, 5))
    assert Smoothing1D(4, 10).nsmooth == 5
    assert Smoothing2D((2, 4), (5, 5)).nsmooth == (3, 5)
