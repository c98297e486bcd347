"""Sliding windows and patches on CuPy chunks (run on the lent GPU)."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

from test_signal_sliding import CHUNKINGS, Sliding2D, build, compute_all  # noqa: E402


def test_cupy_chunks():
    _, POp = build("Sliding2D", "matrix", "hanning")
    cases = [(Sliding2D(pylops.MatrixMult(cp.asarray(POp.Op.A)), (25, 4), (33, 4), 9, 3), POp,
              "Sliding2D"),
             build("Patch3D", "pld_identity") + ("Patch3D",),
             build("Sliding1D", "identity") + ("Sliding1D",)]
    for Op, POp, name in cases:
        x, y = rand(Op.dims, "float64", seed=1), rand(Op.dimsd, "float64", seed=2)
        mchunks, dchunks = CHUNKINGS[name]["irregular"]
        xd = da.from_array(cp.asarray(x), chunks=mchunks, asarray=False)
        yd = da.from_array(cp.asarray(y), chunks=dchunks, asarray=False)
        with dask.config.set(scheduler="threads"):
            f, a = compute_all(Op @ xd, Op.H @ yd)
        assert isinstance(f, cp.ndarray) and isinstance(a, cp.ndarray)
        np.testing.assert_allclose(cp.asnumpy(f).ravel(), np.ravel(POp @ x.ravel()), rtol=1e-10,
                                   atol=1e-10)
        np.testing.assert_allclose(cp.asnumpy(a).ravel(), np.ravel(POp.H @ y.ravel()), rtol=1e-10,
                                   atol=1e-10)
