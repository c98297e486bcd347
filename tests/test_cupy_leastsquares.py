"""The least-squares wrappers on CuPy chunks (run on the lent GPU): PyLops/NumPy's answers, CuPy
estimates."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization import leastsquares as pls

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.optimization import leastsquares as ls  # noqa: E402


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_wrappers_on_cupy_like_pylops(dtype):
    dims = (24, 18)
    rng = np.random.default_rng(0)
    xt = (rng.standard_normal(dims) + (1j * rng.standard_normal(dims)
                                       if dtype.startswith("complex") else 0)).astype(dtype)
    POp, PReg = pylops.Smoothing2D((3, 3), dims, dtype=dtype), pylops.Laplacian(dims, dtype=dtype)
    Op, Reg = pld.Smoothing2D((3, 3), dims, dtype=dtype), pld.Laplacian(dims, dtype=dtype)
    y = (POp @ xt.ravel()).reshape(dims)
    yg = da.from_array(cp.asarray(y), chunks=(6, 18), asarray=False)
    rtol = 1e-3 if dtype == "float32" else 1e-8
    kw = dict(engine="pylops", niter=10, tol=0)
    with dask.config.set(scheduler="threads"):
        cases = [
            (ls.normal_equations_inversion(Op, yg, [Reg], epsRs=[0.3], epsI=0.1, **kw)[0],
             pls.normal_equations_inversion(POp, y.ravel(), [PReg], epsRs=[0.3], epsI=0.1, **kw)[0]),
            (ls.regularized_inversion(Op, yg, [Reg], epsRs=[0.3], **kw)[0],
             pls.regularized_inversion(POp, y.ravel(), [PReg], epsRs=[0.3], **kw)[0]),
            (ls.preconditioned_inversion(Op, yg, pld.Smoothing2D((3, 3), dims, dtype=dtype), **kw)[0],
             pls.preconditioned_inversion(POp, y.ravel(), pylops.Smoothing2D((3, 3), dims, dtype=dtype),
                                          **kw)[0]),
        ]
        for ours, ref in cases:
            assert isinstance(ours._meta, cp.ndarray)
            got = ours.compute()
            assert isinstance(got, cp.ndarray)
            np.testing.assert_allclose(cp.asnumpy(got).ravel(), np.ravel(ref), rtol=rtol,
                                       atol=rtol * np.abs(ref).max())
