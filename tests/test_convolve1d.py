"""Convolve1D against PyLops: filters of odd and even length, any offset, every chunking
(also along the convolution axis), and the solvers' fused path around it."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops

import pylops_distributed as pld
from pylops_distributed.optimization import cgls
from pylops_distributed.signalprocessing import Convolve1D

CASES = [  # dims, chunks, axis, filter length, offset
    ((50,), (50,), 0, 5, 2),
    ((50,), (7,), 0, 8, 0),
    ((50,), ((1, 48, 1),), 0, 11, 10),
    ((60,), ((25, 1, 34),), 0, 27, 20),
    ((9, 70), (4, 33), 1, 40, 12),
    ((13, 40), (5, 9), 1, 6, 3),
    ((13, 40), (2, 40), 0, 13, 6),
    ((7, 6, 30), (3, 6, 8), 2, 30, 12),
    ((7, 6, 30), (2, 3, 30), 1, 4, 1),
]


@pytest.mark.parametrize("dims,chunks,axis,nh,offset", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_like_pylops(dims, chunks, axis, nh, offset, dtype):
    h = np.random.default_rng(nh).standard_normal(nh)
    assert_like_pylops(Convolve1D(dims, h, offset=offset, axis=axis, dtype=dtype),
                       pylops.signalprocessing.Convolve1D(dims, h, offset=offset, axis=axis,
                                                          dtype=dtype), chunks, dtype)


def test_fused_solver_matches_pylops(scheduler):
    """CGLS on a trace-by-trace deconvolution, chunked across traces and time."""
    rng = np.random.default_rng(0)
    dims = (12, 80)
    h = pylops.utils.wavelets.ricker(np.arange(15) * 0.004, f0=25)[0]
    x = rng.standard_normal(dims)
    Op = Convolve1D(dims, h, offset=14, axis=1)
    POp = pylops.signalprocessing.Convolve1D(dims, h, offset=14, axis=1)
    y = (POp @ x.ravel()).reshape(dims)
    xo, istop, it = cgls(Op, da.from_array(y, chunks=(6, 30)), niter=15, tol=0, damp=0.1)[:3]
    xr = pylops.optimization.basic.cgls(POp, y.ravel(), niter=15, tol=0, damp=0.1)[0].ravel()
    assert it == 15
    np.testing.assert_allclose(xo.compute().ravel(), xr, rtol=1e-9, atol=1e-9 * np.abs(xr).max())


def test_one_task_per_chunk():
    dims = (8, 60)
    Op = Convolve1D(dims, np.ones(9) / 9, offset=4, axis=1)
    y = Op @ da.from_array(np.ones(dims), chunks=(4, 20))
    with dask.config.set(scheduler="sync"):
        assert np.allclose(y.compute()[:, 10:50], 1.0)
    assert Op.chunk_kernel(False) is not None


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(h=np.ones((2, 3))), NotImplementedError, "real 1-D"),
    (dict(h=np.ones(3) * 1j), NotImplementedError, "complex"),
    (dict(h=np.ones(70)), NotImplementedError, "longer than the axis"),
    (dict(h=np.ones(3), offset=3), ValueError, "offset"),
    (dict(h=np.ones(3), method="slow"), ValueError, "method"),
])
def test_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Convolve1D((4, 60), **kwargs)


def test_exported_like_pylops():
    assert pld.signalprocessing.Convolve1D is Convolve1D and pld.Convolve1D is Convolve1D
