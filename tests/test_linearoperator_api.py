"""LinearOperator API members PyLops has: matrices and SciPy operators as operators, dims set
after construction, todense/tosparse, eigs/cond, trace, toreal/toimag, apply_columns and the
apply counters, each against PyLops."""

import logging

import dask.array as da
import numpy as np
import pylops
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.sparse.linalg import aslinearoperator as scipy_aslinearoperator

import pylops_distributed as pld
from pylops_distributed.optimization import cg, lsqr
from pylops_distributed.utils import dottest


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _c(a):
    return a.compute() if hasattr(a, "compute") else a


# --- matrices and SciPy operators -------------------------------------------------------------

@pytest.mark.parametrize("kind", ["numpy", "dask", "sparse"])
def test_stacks_take_raw_matrices_as_pylops_does(rng, kind):
    A = rng.standard_normal((6, 5))
    block = {"numpy": A, "dask": da.from_array(A, chunks=3), "sparse": sp.csr_matrix(A)}[kind]
    D = rng.standard_normal(5)
    ours = pld.VStack([block, pld.Diagonal(D)])
    ref = pylops.VStack([pylops.MatrixMult(A), pylops.Diagonal(D)])
    x = rng.standard_normal(5)
    y = rng.standard_normal(11)
    assert_allclose(_c(ours @ x), ref @ x, rtol=1e-12)
    assert_allclose(_c(ours.H @ y), ref.H @ y, rtol=1e-12)
    H = pld.HStack([block.T if kind != "dask" else block.T, pld.Identity(5)])
    assert_allclose(_c(H @ rng.standard_normal(11)).shape, (5,))


def test_sum_and_product_with_scipy_operators(rng):
    A = rng.standard_normal((5, 5))
    S = scipy_aslinearoperator(A)
    d = rng.standard_normal(5)
    x = rng.standard_normal(5)
    ours_sum = pld.Diagonal(d) + S
    ours_prod = pld.Diagonal(d) * S
    assert_allclose(_c(ours_sum @ x), d * x + A @ x, rtol=1e-12)
    assert_allclose(_c(ours_prod @ x), d * (A @ x), rtol=1e-12)
    assert_allclose(_c(ours_prod.H @ x), A.T @ (d * x), rtol=1e-12)
    assert dottest(ours_prod, 5, 5)


def test_unsupported_object_is_a_clear_error():
    with pytest.raises(TypeError, match="2-D matrix, got str"):
        pld.aslinearoperator("not an operator")


# --- dims set after construction -----------------------------------------------------------------

def test_dims_set_after_construction_reshapes_like_pylops(rng, caplog):
    nx, ny = 4, 5
    A = rng.standard_normal((nx * ny, nx * ny))
    A = A @ A.T + nx * ny * np.eye(nx * ny)
    ours, ref = pld.MatrixMult(A), pylops.MatrixMult(A)
    ours.dims = ours.dimsd = (nx, ny)
    ref.dims = ref.dimsd = (nx, ny)
    x = rng.standard_normal((nx, ny))
    assert (ours @ x).shape == (nx, ny)
    assert_allclose(_c(ours @ x), ref @ x, rtol=1e-12)
    assert_allclose(_c(ours.H @ x), ref.H @ x, rtol=1e-12)
    assert_allclose(_c(ours @ x.ravel()), (ref @ x.ravel()), rtol=1e-12)
    y = ref @ x
    with caplog.at_level(logging.INFO, logger="pylops_distributed"):
        xcg = cg(ours, da.from_array(y, chunks=(2, ny)), niter=40, tol=0)[0]
    xref = pylops.optimization.basic.cg(ref, y, niter=40, tol=0)[0]
    assert xcg.shape == (nx, ny)
    assert_allclose(_c(xcg), xref, rtol=1e-8, atol=1e-10)


def test_dims_of_another_size_are_refused():
    Op = pld.Identity(12)
    with pytest.raises(ValueError, match="the size must stay 12"):
        Op.dims = (5, 2)
    assert Op.dims == (12,)


# --- dense, sparse, eigenvalues, trace ------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 6), (8, 5), (4, 7)])
def test_todense_and_tosparse_match_pylops(rng, shape):
    A = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    ours = pld.MatrixMult(da.from_array(A, chunks=2), dtype="complex128") * 2.0
    ref = pylops.MatrixMult(A, dtype="complex128") * 2.0
    dense = ours.todense(backend="numpy")
    assert isinstance(dense, np.ndarray) and dense.shape == shape
    assert_allclose(dense, ref.todense(), rtol=1e-12)
    assert_allclose(ours.tosparse().toarray(), ref.tosparse().toarray(), rtol=1e-12)
    with pytest.raises(ValueError, match="backend must be"):
        ours.todense(backend="jax")


def test_todense_of_a_stencil_matches_pylops():
    ours, ref = pld.Laplacian((5, 4)), pylops.Laplacian((5, 4))
    assert_allclose(ours.todense(), ref.todense(), atol=1e-12)


def test_eigs_and_cond_match_pylops(rng):
    A = rng.standard_normal((20, 20))
    A = A @ A.T + np.eye(20)
    ours, ref = pld.MatrixMult(A), pylops.MatrixMult(A)
    assert_allclose(ours.eigs(), ref.eigs(), rtol=1e-8)
    assert_allclose(ours.eigs(neigs=3, symmetric=True), ref.eigs(neigs=3, symmetric=True), rtol=1e-6)
    assert_allclose(ours.cond(), ref.cond(), rtol=1e-5)
    # an implicit operator: ARPACK through our products
    D = rng.uniform(1, 5, 30)
    ours, ref = pld.Diagonal(D), pylops.Diagonal(D)
    assert_allclose(ours.eigs(neigs=4, symmetric=True), ref.eigs(neigs=4, symmetric=True), rtol=1e-6)
    # rectangular: singular values
    B = rng.standard_normal((12, 6))
    assert_allclose(pld.MatrixMult(B).eigs(), np.sort(np.linalg.svd(B, compute_uv=False))[::-1],
                    rtol=1e-8)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trace_explicit_and_estimated(rng, dtype):
    n = 60
    A = rng.standard_normal((n, n)).astype(dtype)
    ours = pld.MatrixMult(A, dtype=dtype)
    true = np.trace(A)
    explicit = ours.trace()
    assert np.asarray(explicit).dtype == np.dtype(dtype)
    assert_allclose(explicit, true, rtol=1e-5)
    exact = ours.trace(neval=10 * n, batch_size=n + 1, method="hutchinson", sampler="unitvector")
    assert np.asarray(exact).dtype == np.dtype(dtype)
    assert_allclose(exact, true, rtol=1e-4, atol=1e-4)
    hpp = ours.trace(neval=10 * n, method="hutch++")
    assert_allclose(hpp, true, rtol=1e-4, atol=1e-3)
    with pytest.raises(NotImplementedError, match="method='exact' not available"):
        ours.trace(method="exact")
    with pytest.raises(ValueError, match="must be square"):
        pld.MatrixMult(A[:, :10]).trace()


# --- toreal, toimag, apply_columns, counters ---------------------------------------------------

@pytest.mark.parametrize("forw,adj", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("part", ["toreal", "toimag"])
def test_real_and_imag_parts_match_pylops(rng, part, forw, adj):
    A = rng.standard_normal((7, 5)) + 1j * rng.standard_normal((7, 5))
    ours = getattr(pld.MatrixMult(da.from_array(A, chunks=(3, 5)), dtype="complex128"), part)(forw, adj)
    ref = getattr(pylops.MatrixMult(A, dtype="complex128"), part)(forw, adj)
    x = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    y = rng.standard_normal(7) + 1j * rng.standard_normal(7)
    assert_allclose(_c(ours @ x), ref @ x, rtol=1e-12)
    assert_allclose(_c(ours.H @ y), ref.H @ y, rtol=1e-12)
    assert ours.dtype == ref.dtype and not ours.clinear


def test_real_part_keeps_the_solvers_fast_path(rng):
    A = rng.standard_normal((40, 10)) + 1j * rng.standard_normal((40, 10))
    ours = pld.MatrixMult(da.from_array(A, chunks=(10, 10)), dtype="complex128").toreal()
    ref = pylops.MatrixMult(A, dtype="complex128").toreal()
    y = ref @ rng.standard_normal(10)
    x = lsqr(ours, da.from_array(y, chunks=10), niter=20, atol=0, btol=0, conlim=0)[0]
    xref = pylops.optimization.basic.lsqr(ref, y, niter=20, atol=0, btol=0, conlim=0)[0]
    assert_allclose(_c(x).real, xref.real, rtol=1e-6, atol=1e-9)


def test_apply_columns_matches_pylops(rng):
    A = rng.standard_normal((8, 10))
    cols = [1, 4, 7, 9]
    ours, ref = pld.MatrixMult(A).apply_columns(cols), pylops.MatrixMult(A).apply_columns(cols)
    x, y = rng.standard_normal(4), rng.standard_normal(8)
    assert ours.shape == ref.shape == (8, 4)
    assert_allclose(_c(ours @ x), ref @ x, rtol=1e-12)
    assert_allclose(_c(ours.H @ y), ref.rmatvec(y), rtol=1e-12)  # (PyLops' .H of it fails)
    lap = pld.Laplacian((4, 5)).apply_columns([0, 3, 19])
    assert_allclose(_c(lap @ np.ones(3)), pylops.Laplacian((4, 5)).apply_columns([0, 3, 19]) @ np.ones(3),
                    atol=1e-12)


def test_counters_count_applies_and_reset():
    Op = pld.Identity(4)
    assert (Op.matvec_count, Op.rmatvec_count) == (0, 0)
    Op @ np.ones(4)
    Op.matvec(np.ones(4))
    Op.H @ np.ones(4)
    Op.rmatvec(np.ones(4))
    Op.matmat(np.ones((4, 3)))
    assert Op.matvec_count >= 2 and Op.rmatvec_count >= 1 and Op.matmat_count == 1
    Op.reset_count()
    assert (Op.matvec_count, Op.rmatvec_count, Op.matmat_count, Op.rmatmat_count) == (0, 0, 0, 0)
