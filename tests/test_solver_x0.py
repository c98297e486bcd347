"""CG, CGLS and LSQR started from an x0, against PyLops (fused and plain backends)."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from numpy.testing import assert_allclose

import pylops_distributed as pld
from pylops_distributed.optimization import cg, cgls, lsqr


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_solvers_from_x0_match_pylops(fused, dtype):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((12, 12)) + (1j * rng.standard_normal((12, 12)) if dtype == "complex128" else 0)
    A = A @ A.conj().T + 12 * np.eye(12)
    y = A @ np.ones(12)
    x0 = np.full(12, 0.1, dtype=dtype)
    Op, POp = pld.MatrixMult(A, dtype=dtype), pylops.MatrixMult(A, dtype=dtype)
    yd, x0d = da.from_array(y, chunks=4), da.from_array(x0, chunks=4)
    with dask.config.set({"pylops_distributed.fused": fused, "scheduler": "threads"}):
        ours = [cg(Op, yd, x0=x0d, niter=6, tol=0)[0], cgls(Op, yd, x0=x0d, niter=6, tol=0)[0],
                lsqr(Op, yd, x0=x0d, niter=6, atol=0, btol=0, conlim=0)[0]]
    ref = [pylops.optimization.basic.cg(POp, y, x0=x0, niter=6, tol=0)[0],
           pylops.optimization.basic.cgls(POp, y, x0=x0, niter=6, tol=0)[0],
           pylops.optimization.basic.lsqr(POp, y, x0=x0, niter=6, atol=0, btol=0, conlim=0)[0]]
    for a, b in zip(ours, ref):
        assert_allclose(a.compute(), b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda M: M.Gradient((6, 5), edge=True, kind="backward"),
    lambda M: M.VStack([M.FirstDerivative((6, 5), axis=0)]),
], ids=["gradient", "vstack"])
@pytest.mark.parametrize("xchunks", [(3, 3), (2, 2), (2, 5)])
def test_model_in_a_grid_of_blocks_beside_data_in_one_chunk(make, xchunks, scheduler):
    """x0 cut along both axes and the data in one chunk (held by every rank): a stencil's
    output box is then the whole data, which reads every block of the model, diagonal
    neighbours included (they were skipped: CGLS 50x off on the cluster)."""
    Op, POp = make(pld), make(pylops)
    rng = np.random.default_rng(0)
    xt, x0 = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    y = POp @ xt.ravel()
    yd = da.from_array(y.reshape(Op.dimsd), chunks=-1)
    x0d = da.from_array(x0, chunks=xchunks)
    ours = [cgls(Op, yd, x0=x0d, niter=8, tol=0)[0],
            lsqr(Op, yd, x0=x0d, niter=8, atol=0, btol=0, conlim=0)[0]]
    ref = [pylops.optimization.basic.cgls(POp, y, x0=x0.ravel(), niter=8, tol=0)[0],
           pylops.optimization.basic.lsqr(POp, y, x0=x0.ravel(), niter=8, atol=0, btol=0,
                                          conlim=0)[0]]
    for a, b in zip(ours, ref):
        assert_allclose(np.asarray(a.compute()).ravel(), b.ravel(), rtol=1e-9, atol=1e-12)


def test_lsqr_with_x0_and_data_in_unrelated_chunks(scheduler):
    """The plain backend holds vectors in different pieces: element-wise steps re-cut them
    (on a cluster the graph failed on the scheduler, reported as a lost worker)."""
    dims = (4, 3, 5)
    rng = np.random.default_rng(0)
    xt, x0 = rng.standard_normal(dims), rng.standard_normal(dims)
    Op = pld.Restriction(dims, [1, 2, 3, 4], axis=2, forceflat=True)
    POp = pylops.Restriction(dims, [1, 2, 3, 4], axis=2, forceflat=True)
    y = POp @ xt.ravel()
    x = lsqr(Op, da.from_array(y.reshape(Op.dimsd), chunks=(2, 2, 2)),
             x0=da.from_array(x0, chunks=(4, 3, 2)), damp=0.1, atol=0, btol=0, niter=10)[0]
    ref = pylops.optimization.basic.lsqr(POp, y, x0=x0.ravel(), damp=0.1, atol=0, btol=0,
                                         niter=10)[0]
    assert_allclose(np.asarray(x.compute()).ravel(), ref.ravel(), rtol=1e-9)


@pytest.mark.parametrize("niter", [1, 3])
def test_cgls_from_x0_with_damping_follows_pylops_setup(niter, scheduler):
    """PyLops' CGLS setup subtracts ``damp * x0`` (not squared, as its steps do) from the
    first residual, and so its first cost: the same iterates and costs here."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 10)) / 4 + np.eye(20, 10)
    y, x0 = rng.standard_normal(20), rng.standard_normal(10)
    ref = pylops.optimization.basic.cgls(pylops.MatrixMult(A), y, x0=x0, niter=niter,
                                         damp=2.0, tol=0)
    out = cgls(pld.MatrixMult(A), da.from_array(y, chunks=10), x0=da.from_array(x0, chunks=5),
               niter=niter, damp=2.0, tol=0, check_every=1)
    assert_allclose(np.asarray(out[0].compute()), ref[0], rtol=1e-12)
    for got, want in zip(out[3:], ref[3:]):  # r1norm, r2norm and the costs
        assert_allclose(got, want, rtol=1e-12)
