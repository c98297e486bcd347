"""Compositions PyLops accepts: Rolls after sums and products, stacks inside stacks, stacks
in sums, and the solvers on them, against PyLops (threads and the process cluster)."""

import logging

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import assert_like_pylops, rand

import pylops_distributed as pld
from pylops_distributed.optimization import cgls


def _roll_cases(M, dims, d):
    """Rolls after sums and products of pointwise kernels (boxes wrapping around)."""
    n = dims[1]
    R = M.Roll(dims, axis=1, shift=2)
    D = M.Diagonal(d, dims=dims, axis=1)
    S = M.Roll(dims, axis=1, shift=-3) + M.Diagonal(rand(dims[0], "float64", 9), dims=dims, axis=0)
    return {
        "roll@(I+I)": R @ (M.Identity(dims) + M.Identity(dims)),
        "roll@(I@D)": R @ (M.Identity(dims) @ D),
        "roll@(D@D)": R @ (D @ D),
        "roll@(roll+D)": R @ (M.Roll(dims, axis=1, shift=1) + D),
        "(roll+D).T@(roll+D)": S.T @ S,
        "roll@roll@D": M.Roll(dims, axis=1, shift=n - 1) @ R @ D,
    }


@pytest.mark.parametrize("case", ["roll@(I+I)", "roll@(I@D)", "roll@(D@D)", "roll@(roll+D)",
                                  "(roll+D).T@(roll+D)", "roll@roll@D"])
@pytest.mark.parametrize("chunks", [(4, 11), (2, 4), (3, (5, 1, 5))])
def test_rolls_after_sums_and_products(case, chunks, scheduler):
    dims = (4, 11)
    d = rand(dims[1], "float64", 3)
    Op, POp = _roll_cases(pld, dims, d)[case], _roll_cases(pylops, dims, d)[case]
    assert_like_pylops(Op, POp, chunks, "float64")


@pytest.mark.parametrize("chunks", [(4, 3), (2, 3)])
def test_normal_operator_of_a_stencil_plus_roll(chunks, scheduler):
    """``Op.H @ Op`` for ``Op = FirstDerivative + Roll``: the product's middle box wraps
    around, which the derivative cannot compute (it was clipped: error 0.7); the product is
    then applied in two steps."""
    from pylops.optimization.leastsquares import normal_equations_inversion as pylops_ne

    from pylops_distributed.optimization.leastsquares import normal_equations_inversion

    d = (4, 3)

    def make(M):
        return M.FirstDerivative(d, axis=0) + M.Roll(d, axis=0, shift=1)

    Op, POp = make(pld), make(pylops)
    assert_like_pylops(Op.H @ Op, POp.H @ POp, chunks, "float64")
    xt = rand(d, "float64", 0)
    y = POp @ xt.ravel()
    ref = pylops_ne(POp, y, [], epsI=0.1, engine="pylops", niter=5, tol=0)[0]
    x = normal_equations_inversion(Op, da.from_array(y.reshape(d), chunks=chunks), [], epsI=0.1,
                                   engine="pylops", niter=5, tol=0)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref.ravel(), rtol=1e-9)


def _nested(M, dims, dtype="float64"):
    n = int(np.prod(dims))
    I, F = M.Identity(dims, dtype=dtype), M.FirstDerivative(dims, axis=0, dtype=dtype)
    L = M.Laplacian(dims, dtype=dtype)

    def eye(m):
        return M.Identity(m, dtype=dtype)

    return {
        "vstack(vstack, I)": M.VStack([M.VStack([I, 2.0 * F]), L]),
        "vstack(hstack, I)": M.VStack([M.HStack([I, 2.0 * F]), eye(2 * n)]),
        "hstack(vstack, vstack)": M.HStack([M.VStack([I, F]), M.VStack([L, I])]),
        "blockdiag(I, block)": M.BlockDiag([eye(n), M.Block([[I, F], [L, I]])]),
        "block + I": M.Block([[I, F], [F, 2.0 * I]]) + eye(2 * n),
        "I + blockdiag": eye(2 * n) + M.BlockDiag([eye(5), 2.0 * eye(2 * n - 5)]),
    }


NESTED = ["vstack(vstack, I)", "vstack(hstack, I)", "hstack(vstack, vstack)",
          "blockdiag(I, block)", "block + I", "I + blockdiag"]


@pytest.mark.parametrize("case", NESTED)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_stacks_inside_stacks_equal_pylops(case, dtype, scheduler):
    dims = (6, 5)
    Op, POp = _nested(pld, dims, dtype)[case], _nested(pylops, dims, dtype)[case]
    x = rand(Op.shape[1], dtype, 1)
    y = rand(Op.shape[0], dtype, 2)
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for flat in (da.from_array(x, chunks=7), da.from_array(x, chunks=-1)):
        out = Op @ flat
        assert out.shape == (Op.shape[0],)
        np.testing.assert_allclose(np.asarray(out.compute()).ravel(), (POp @ x).ravel(), rtol=rtol,
                                   atol=rtol)
    out = Op @ da.from_array(x, chunks=7)
    back = Op.H @ out  # the forward's (possibly stacked) output as the adjoint's input
    np.testing.assert_allclose(np.asarray(back.compute()).ravel(), (POp.H @ (POp @ x)).ravel(),
                               rtol=rtol, atol=10 * rtol)
    np.testing.assert_allclose(np.asarray((Op.H @ da.from_array(y, chunks=9)).compute()).ravel(),
                               (POp.H @ y).ravel(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("case", ["vstack(vstack, I)", "hstack(vstack, vstack)", "blockdiag(I, block)"])
def test_cgls_on_stacks_inside_stacks_is_fused_and_equals_pylops(case, scheduler, caplog):
    dims = (6, 5)
    Op, POp = _nested(pld, dims)[case], _nested(pylops, dims)[case]
    y = rand(POp.shape[0], "float64", 4)
    ref = pylops.optimization.basic.cgls(POp, y, x0=np.zeros(POp.shape[1]), niter=8, tol=0)[0]
    with caplog.at_level(logging.WARNING, logger="pylops_distributed"):
        x = cgls(Op, da.from_array(y, chunks=30), niter=8, tol=0)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref.ravel(), rtol=1e-9, atol=1e-12)
    assert not [r for r in caplog.records if "plain" in r.getMessage()]


def test_regularized_inversion_of_a_vstack_equals_pylops(scheduler):
    from pylops.optimization.leastsquares import regularized_inversion as pylops_reg

    from pylops_distributed.optimization.leastsquares import regularized_inversion

    dims = (6, 5)
    xt = rand(dims, "float64", 0)
    Op = pld.VStack([pld.Identity(dims), pld.FirstDerivative(dims, axis=1)])
    POp = pylops.VStack([pylops.Identity(dims), pylops.FirstDerivative(dims, axis=1)])
    ref = pylops_reg(POp, POp @ xt.ravel(), [pylops.Laplacian(dims)], epsRs=[0.3],
                     engine="pylops", niter=10, tol=0)[0]
    for y in (Op @ da.from_array(xt, chunks=(3, 5)), da.from_array(POp @ xt.ravel(), chunks=20)):
        x = regularized_inversion(Op, y, [pld.Laplacian(dims)], epsRs=[0.3], engine="pylops",
                                  niter=10, tol=0)[0]
        np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref.ravel(), rtol=1e-9)


@pytest.mark.parametrize("chunks", [(1, 6), (1, 3), (2, 2)])
def test_blockdiag_slabs_with_a_chunked_matrix(chunks, scheduler):
    A = rand((6, 6), "float64", 0)
    Op = pld.BlockDiag([pld.Identity(6), pld.MatrixMult(da.from_array(A, chunks=(3, 3)))])
    POp = pylops.BlockDiag([pylops.Identity(6), pylops.MatrixMult(A)])
    assert_like_pylops(Op, POp, chunks, "float64")


@pytest.mark.parametrize("kind", ["full", "half", "trapezoidal"])
def test_causal_integration_keeps_float32(kind):
    x = rand(8, "float32", 0)
    for sampling in (1.0, np.float64(0.5)):
        P = pylops.CausalIntegration(8, sampling=sampling, kind=kind, dtype="float32")
        O = pld.CausalIntegration(8, sampling=sampling, kind=kind, dtype="float32")
        y, z = O @ da.from_array(x, chunks=4), O.H @ da.from_array(x, chunks=4)
        assert y.dtype == y.compute().dtype == (P @ x).dtype
        assert z.dtype == z.compute().dtype == (P.H @ x).dtype
        np.testing.assert_allclose(y.compute(), P @ x, rtol=1e-5)


@pytest.mark.parametrize("kind,dims,kw", [("FFT", (7, 13), dict(axis=1, nfft=20)),
                                          ("FFT2D", (9, 8), {}), ("FFTND", (6, 8, 9), {})])
@pytest.mark.parametrize("chunks", [-1, 3])
def test_real_fft_adjoint_is_real_as_in_pylops(kind, dims, kw, chunks):
    for dtype in ("complex64", "complex128"):
        Op = getattr(pld.signalprocessing, kind)(dims, real=True, dtype=dtype, **kw)
        POp = getattr(pylops.signalprocessing, kind)(dims, real=True, dtype=dtype, **kw)
        y = rand(POp.dimsd, dtype, 1)
        out = Op.H @ da.from_array(y, chunks=chunks)
        ref = POp.H @ y
        assert out.dtype == out.compute().dtype == ref.dtype
        np.testing.assert_allclose(out.compute(), ref, rtol=1e-4, atol=1e-5)


def test_fft_of_float32_input_in_double_precision():
    x = rand((8, 9), "float32", 0)
    Op = pld.signalprocessing.FFT((8, 9), axis=0, dtype="complex128")
    exact = np.fft.fft(x.astype(np.float64), axis=0, norm="ortho")
    out = (Op @ da.from_array(x, chunks=(8, 3))).compute()
    assert out.dtype == np.complex128
    np.testing.assert_allclose(out, exact, rtol=1e-12, atol=1e-12)


def _stack_plus_product(M):
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((2, 6)), rng.standard_normal((2, 2))
    H = M.HStack([M.Restriction((6,), [0, 1], axis=0, forceflat=True), M.MatrixMult(A)])
    Bm = da.from_array(B, chunks=(1, 1)) if M is pld else B
    return H + (M.MatrixMult(Bm) + M.Identity(2)) @ H


def test_sparse_solvers_when_a_data_block_feeds_a_contraction_and_another_term(scheduler):
    """The adjoint reads each data block through a contraction (summed across ranks) and a
    term computed whole on every rank: that block must stay in the ranks' state (ISTA and
    FISTA failed with a KeyError on the cluster)."""
    from pylops.optimization.sparsity import fista as pylops_fista
    from pylops.optimization.sparsity import ista as pylops_ista

    from pylops_distributed.optimization.sparsity import fista, ista

    Op, POp = _stack_plus_product(pld), _stack_plus_product(pylops)
    y = POp @ rand(12, "float64", 1)
    for ours, theirs in ((ista, pylops_ista), (fista, pylops_fista)):
        ref = theirs(POp, y, x0=np.zeros(12), niter=6, eps=0.1, alpha=0.01, tol=0)[0]
        x = ours(Op, da.from_array(y, chunks=-1), niter=6, eps=0.1, alpha=0.01, tol=0)[0]
        np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("chunks", [11, 7, 45])
def test_flat_data_of_a_vstack_in_any_chunks_is_fused(chunks, scheduler, caplog):
    """Flat data cut anywhere: its blocks are re-cut alike, so the solve is fused."""
    dims = (6, 5)

    def make(M):
        return M.VStack([M.Identity(dims), M.FirstDerivative(dims, axis=0), M.Laplacian(dims)])

    Op, POp = make(pld), make(pylops)
    y = rand(90, "float64", 3)
    ref = pylops.optimization.basic.cgls(POp, y, x0=np.zeros(30), niter=6, tol=0)[0]
    with caplog.at_level(logging.WARNING, logger="pylops_distributed"):
        x = cgls(Op, da.from_array(y, chunks=chunks), niter=6, tol=0)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref.ravel(), rtol=1e-9)
    assert not [r for r in caplog.records if "plain" in r.getMessage()]


def test_flat_x0_for_a_normal_operator_on_a_stacked_model(scheduler):
    from pylops_distributed.optimization import cg

    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 6))

    def make(M):
        H = M.HStack([M.Identity(4), M.MatrixMult(A)])
        return H.H @ H + 0.5 * M.Identity(10)

    Op, POp = make(pld), make(pylops)
    xt, x0 = rand(10, "float64", 1), rand(10, "float64", 2)
    b = Op @ da.from_array(xt, chunks=5)
    x = cg(Op, b, x0=da.from_array(x0, chunks=5), niter=5, tol=0)[0]
    ref = pylops.optimization.basic.cg(POp, POp @ xt, x0=x0, niter=5, tol=0)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref, rtol=1e-9)


def test_hstack_of_vstacks_with_different_row_splits(scheduler):
    """Both columns give 24 rows, cut 12 + 12 and 11 + 13: the sum re-cuts the second."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((12, 12)), rng.standard_normal((11, 13))

    def make(M):
        return M.HStack([M.VStack([M.Identity(12), M.MatrixMult(A)]),
                         M.VStack([M.MatrixMult(B), M.Identity(13)])])

    assert_like_pylops(make(pld), make(pylops), 25, "float64")


def test_product_through_shapes_that_neither_merge_nor_split(scheduler):
    """``(2, 30) <- (4, 3, 5)``: dask's reshape cannot, the product goes through flat."""
    def make(M):
        return M.Diagonal(np.arange(60.0).reshape(2, 30)) @ M.Identity((4, 3, 5))

    for chunks in [(2, 3, 5), (4, 1, 5)]:
        assert_like_pylops(make(pld), make(pylops), chunks, "float64")


def test_float32_stack_with_a_scaled_block_stays_float32():
    def make(M):
        return M.VStack([M.Identity(12, dtype="float32"), 2.0 * M.Identity(12, dtype="float32")])

    Op, POp = make(pld), make(pylops)
    y = rand(24, "float32", 0)
    out = Op.H @ da.from_array(y, chunks=12)
    assert out.dtype == out.compute().dtype == (POp.H @ y).dtype == np.float32


@pytest.mark.parametrize("x0chunks", [6, 12, (1, 6)])
def test_flat_or_chunked_x0_for_a_blockdiag_model(x0chunks, scheduler):
    rng = np.random.default_rng(1)
    M1 = rng.standard_normal((6, 6))

    def make(M):
        return M.BlockDiag([M.Diagonal(rng_diag), M.VStack([M.MatrixMult(M1), M.Identity(6)])])

    rng_diag = rng.standard_normal(6) + 2
    Op, POp = make(pld), make(pylops)
    y, x0 = rand(Op.shape[0], "float64", 2), rand(12, "float64", 3)
    x0d = da.from_array(x0.reshape(2, 6) if isinstance(x0chunks, tuple) else x0, chunks=x0chunks)
    x = cgls(Op, da.from_array(y, chunks=6), x0=x0d, niter=6, tol=0)[0]
    ref = pylops.optimization.basic.cgls(POp, y, x0=x0, niter=6, tol=0)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref.ravel(), rtol=1e-9)


def test_stacked_arrays_cut_differently_add_up():
    a = pld.StackedArray([da.arange(3.0, chunks=2), da.arange(3.0, 6.0, chunks=3)])
    b = pld.StackedArray([da.ones(2, chunks=2), da.ones(4, chunks=2)])
    out = a + b
    assert out.sizes == (3, 3)
    np.testing.assert_allclose(out.compute(), np.arange(6.0) + 1)
    np.testing.assert_allclose((a + da.ones(6, chunks=4)).compute(), np.arange(6.0) + 1)


def test_plain_backend_solve_over_many_steps_on_a_cluster(scheduler, caplog):
    """The stacks below are not fused (blocks sharing the model are stacks of different
    lengths): CG runs on persisted dask.array steps. Lazy scalars once embedded optimised
    graphs in the next step's, whose fused keys grew into truncated names told apart by a
    4-digit hash; different tasks of two steps then shared a key (relative errors 1e-3 to 5
    on the cluster, from run to run)."""
    from pylops_distributed.optimization import cg

    rng = np.random.default_rng(0)
    A = rng.standard_normal((42, 4))

    def make(M):
        Op = M.HStack([M.VStack([M.Flip(21), M.CausalIntegration(21, kind="half")]),
                       M.MatrixMult(A)])
        return Op.H @ Op + 50.0 * M.Identity(25)

    Op, POp = make(pld), make(pylops)
    xt, x0 = rand(25, "float64", 1), rand(25, "float64", 2)
    y = Op @ da.from_array(xt, chunks=((13, 9, 3),))
    with caplog.at_level(logging.INFO):
        x = cg(Op, y, x0=da.from_array(x0, chunks=((13, 9, 3),)), niter=10, tol=0)[0]
    assert [r for r in caplog.records if "plain" in r.getMessage()]
    ref = pylops.optimization.basic.cg(POp, POp @ xt, x0=x0, niter=10, tol=0)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), ref, rtol=1e-8)


def test_stacked_array_elementwise_and_reductions():
    a = pld.StackedArray([da.from_array(np.array([-1.0, 2.0]), chunks=1),
                          da.from_array(np.array([[3.0], [-4.0]]), chunks=1)])
    ref = np.array([-1.0, 2.0, 3.0, -4.0])
    np.testing.assert_allclose(abs(a).compute(), abs(ref))
    np.testing.assert_allclose((a ** 2).compute(), ref ** 2)
    np.testing.assert_allclose((1.0 / a).compute(), 1.0 / ref)
    assert float(a.sum()) == ref.sum() and float(a.max()) == ref.max()
