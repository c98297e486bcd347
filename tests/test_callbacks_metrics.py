"""PyLops' MetricsCallback on our solvers: the metrics of every iterate, as numbers equal to
PyLops' (the lazy values settled at the checks)."""

import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization.callback import MetricsCallback
from pylops.optimization.cls_basic import CGLS as PCGLS
from pylops.optimization.cls_sparsity import FISTA as PFISTA

import pylops_distributed as pld
from pylops_distributed.optimization.cgls import CGLS
from pylops_distributed.optimization.sparsity import FISTA


@pytest.mark.parametrize("ours,theirs,kw", [
    (CGLS, PCGLS, dict(niter=12, tol=0, check_every=5)),
    (FISTA, PFISTA, dict(niter=7, eps=0.1, alpha=0.01)),
])
def test_metrics_like_pylops(scheduler, ours, theirs, kw):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 50))
    xt = np.zeros(50)
    xt[[3, 17, 40]] = [1.0, -2.0, 1.5]
    y = A @ xt
    cb, cbr = MetricsCallback(xt), MetricsCallback(xt)
    ours(pld.MatrixMult(da.from_array(A, chunks=(10, 50))), callbacks=[cb]).solve(
        da.from_array(y, chunks=10), **kw)
    theirs(pylops.MatrixMult(A), callbacks=[cbr]).solve(
        y, **{k: v for k, v in kw.items() if k != "check_every"})
    for name in ("mae", "mse", "snr", "psnr"):
        assert all(isinstance(v, float) for v in cb.metrics[name])
        np.testing.assert_allclose(cb.metrics[name], cbr.metrics[name], rtol=1e-9)
