"""Convolutions and non-stationary filters on CuPy chunks (run on the lent GPU)."""

import dask.array as da
import numpy as np
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

from test_signal_convolve import (Convolve2D, ConvolveND, NonStationaryConvolve1D,  # noqa: E402
                                  NonStationaryConvolve2D, NonStationaryFilters1D, _filter,
                                  compute_all, psp)


def test_cupy_chunks_like_pylops():
    x = rand((30, 26), "float64", seed=1)
    h, hs = _filter((5, 4)), _filter((2, 2, 3, 5), seed=2)
    grid = ((4, 20), (3, 22))
    pairs = [(Convolve2D((30, 26), h, offset=(2, 1)), psp.Convolve2D((30, 26), h, offset=(2, 1))),
             (ConvolveND((30, 26), h, offset=(2, 1), method="direct"),
              psp.ConvolveND((30, 26), h, offset=(2, 1), method="direct")),
             (NonStationaryConvolve2D((30, 26), hs, *grid),
              psp.NonStationaryConvolve2D((30, 26), hs, *grid)),
             (NonStationaryConvolve1D((30, 26), hs[0, :, 0], (3, 22), axis=1),
              psp.NonStationaryConvolve1D((30, 26), hs[0, :, 0], (3, 22), axis=1))]
    for Op, POp in pairs:
        xd = da.from_array(cp.asarray(x), chunks=(8, 9), asarray=False)
        y, z = compute_all(Op @ xd, Op.H @ xd)
        assert isinstance(y, cp.ndarray) and isinstance(z, cp.ndarray)
        np.testing.assert_allclose(cp.asnumpy(y).ravel(), POp @ x.ravel(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(cp.asnumpy(z).ravel(), POp.H @ x.ravel(), rtol=1e-10, atol=1e-10)
    inp = rand(60, "float64", seed=3)
    Op = NonStationaryFilters1D(cp.asarray(inp), 7, (10, 30, 50), chunks=(25,))
    POp = psp.NonStationaryFilters1D(inp, 7, (10, 30, 50))
    m, d = rand((3, 7), "float64", seed=4), rand(60, "float64", seed=5)
    y, z = compute_all(Op @ da.from_array(cp.asarray(m), asarray=False),
                       Op.H @ da.from_array(cp.asarray(d), chunks=25, asarray=False))
    np.testing.assert_allclose(cp.asnumpy(y), POp @ m.ravel(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(cp.asnumpy(z).ravel(), np.ravel(POp.H @ d), rtol=1e-10, atol=1e-10)
