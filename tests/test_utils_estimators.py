"""trace_hutchinson, trace_hutchpp, trace_nahutchpp against np.trace and pylops.utils.estimators.

The estimators are random: exact cases (Rademacher probes on diagonal operators, unit
vectors covering every index, low-rank matrices caught by the sketch) are checked to
rounding, the others against a bound of six standard deviations, for our estimator and
PyLops' alike.
"""

import dask.array as da
import numpy as np
import pylops
import pylops.utils.estimators as pylops_estimators
import pytest
from dask.callbacks import Callback

import pylops_distributed as pld
from pylops_distributed.utils import trace_hutchinson, trace_hutchpp, trace_nahutchpp

ESTIMATORS = [trace_hutchinson, trace_hutchpp, trace_nahutchpp]


class CountComputes(Callback):
    """Counts the graphs dask's local schedulers run."""

    def __init__(self):
        super().__init__()
        self.runs = 0

    def _start(self, dsk):
        self.runs += 1


def low_rank(n, rank, dtype="float64", noise=0.0, seed=0):
    """Symmetric (Hermitian) matrix of ``rank`` plus a small symmetric perturbation."""
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((n, rank))
    if np.dtype(dtype).kind == "c":
        U = U + 1j * rng.standard_normal((n, rank))
    E = rng.standard_normal((n, n))
    return (U @ U.conj().T + noise * (E + E.T)).astype(dtype)


@pytest.mark.parametrize("dims, chunks", [(30, 7), ((5, 6), (2, 4)), ((3, 4, 5), (3, 2, 5))])
@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_hutchinson_rademacher_exact_on_diagonal(dims, chunks, dtype):
    rng = np.random.default_rng(1)
    diag = rng.standard_normal(dims).astype(dtype)
    if np.dtype(dtype).kind == "c":
        diag = diag + 1j * rng.standard_normal(dims)
    Op = pld.Diagonal(da.from_array(diag, chunks=chunks), dtype=dtype, chunks=chunks)
    est = trace_hutchinson(Op, neval=7, batch_size=3)
    ref = pylops_estimators.trace_hutchinson(pylops.Diagonal(diag.ravel(), dtype=dtype), neval=7)
    assert type(est) is type(ref) is np.dtype(dtype).type
    rtol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(est, diag.sum(), rtol=rtol)
    np.testing.assert_allclose(ref, diag.sum(), rtol=rtol)


@pytest.mark.parametrize("make_op", [
    lambda A: pld.MatrixMult(A, chunks=9),
    lambda A: pld.MatrixMult(da.from_array(A, chunks=(10, 7))),
    lambda A: pylops.MatrixMult(A),
], ids=["ours", "ours-dask-matrix", "pylops"])
def test_hutchinson_unitvector_exact_with_every_index(make_op):
    A = np.random.default_rng(2).standard_normal((25, 25))
    est = trace_hutchinson(make_op(A), neval=25, batch_size=10, sampler="unitvector")
    ref = pylops_estimators.trace_hutchinson(pylops.MatrixMult(A), sampler="unitvector")
    np.testing.assert_allclose(est, np.trace(A), rtol=1e-10)
    np.testing.assert_allclose(ref, np.trace(A), rtol=1e-10)


def test_hutchinson_unitvector_subset_is_unbiased_scaling():
    """Half of the indices of a constant diagonal: m/k times the sampled sum is exact."""
    Op = pld.Diagonal(np.full(20, 3.0), chunks=6)
    assert trace_hutchinson(Op, neval=10, sampler="unitvector") == pytest.approx(60.0)


@pytest.mark.parametrize("sampler", ["rademacher", "gaussian", "rayleigh"])
def test_hutchinson_statistics_like_pylops(sampler):
    """Diagonally dominant matrix: both estimates within 6 standard deviations of the trace."""
    n, neval = 40, 120
    rng = np.random.default_rng(3)
    A = np.diag(rng.uniform(1.0, 2.0, n)) + 0.05 * rng.standard_normal((n, n))
    bound = 6 * np.sqrt(2 * np.sum(A**2) / neval)  # std of the Gaussian estimator, the largest
    est = trace_hutchinson(pld.MatrixMult(A, chunks=15), neval=neval, batch_size=50,
                           sampler=sampler)
    ref = pylops_estimators.trace_hutchinson(pylops.MatrixMult(A), neval=neval, sampler=sampler)
    assert abs(est - np.trace(A)) < bound
    if sampler != "rayleigh":  # PyLops 2.8 scales Rayleigh probes by m/|z|^2: biased (~5% here)
        assert abs(ref - np.trace(A)) < bound


def test_hutchinson_rayleigh_probes_have_norm_sqrt_m():
    """Probes of norm sqrt(m): exact on a multiple of the identity, whatever the draw."""
    Op = pld.Diagonal(np.full(30, 2.5), chunks=8)
    np.testing.assert_allclose(trace_hutchinson(Op, neval=5, sampler="rayleigh"), 75.0,
                               rtol=1e-12)


@pytest.mark.parametrize("estimator, neval", [(trace_hutchpp, 30), (trace_nahutchpp, 48)])
@pytest.mark.parametrize("sampler", ["rademacher", "gaussian", "rayleigh"])
def test_hutchpp_accurate_on_low_rank_plus_small(estimator, neval, sampler):
    A = low_rank(60, 5, noise=1e-3, seed=4)
    est = estimator(pld.MatrixMult(A, chunks=25), neval=neval, sampler=sampler)
    ref = getattr(pylops_estimators, estimator.__name__)(pylops.MatrixMult(A), neval=neval,
                                                         sampler=sampler)
    np.testing.assert_allclose(est, np.trace(A), rtol=1e-2)
    np.testing.assert_allclose(ref, np.trace(A), rtol=1e-2)
    assert type(est) is type(ref)


@pytest.mark.parametrize("estimator, neval", [(trace_hutchpp, 30), (trace_nahutchpp, 48)])
def test_hutchpp_exact_on_low_rank_complex_hermitian(estimator, neval):
    """Conjugate transposes where PyLops 2.8 uses plain ones (its estimate is off here)."""
    A = low_rank(40, 4, dtype="complex128", seed=5)
    est = estimator(pld.MatrixMult(A, dtype="complex128", chunks=16), neval=neval)
    assert isinstance(est, np.complex128)
    np.testing.assert_allclose(est, np.trace(A), rtol=1e-8)


@pytest.mark.parametrize("estimator, kwargs", [
    (trace_hutchinson, dict(neval=30, sampler="unitvector")),
    (trace_hutchpp, dict(neval=24)),
    (trace_nahutchpp, dict(neval=24)),
])
def test_pylops_operator_input(estimator, kwargs):
    """A plain PyLops operator (applied with matmat, no dask): exact cases."""
    A = low_rank(30, 3, seed=6)
    with CountComputes() as counter:
        est = estimator(pylops.MatrixMult(A), **kwargs)
    np.testing.assert_allclose(est, np.trace(A), rtol=1e-8)
    assert counter.runs == 0


def test_composite_nd_and_stacked_operators():
    """N-D models, operator algebra and a StackedArray model give the dense trace."""
    F = pld.FirstDerivative((6, 7), axis=0, kind="forward", chunks=(4, 3))
    D = pld.Diagonal(np.arange(42.0).reshape(6, 7), chunks=(3, 7))
    Op = 2 * F + D.H @ D
    dense = 2 * pylops.FirstDerivative((6, 7), axis=0, kind="forward").todense() \
        + np.diag(np.arange(42.0) ** 2)
    assert trace_hutchinson(Op, neval=42, sampler="unitvector") == pytest.approx(np.trace(dense))
    A1, A2 = low_rank(8, 2, seed=7), low_rank(5, 2, seed=8)
    B = pld.BlockDiag([pld.MatrixMult(A1), pld.MatrixMult(A2)])
    assert B.model_stacked
    assert trace_hutchpp(B, neval=12) == pytest.approx(np.trace(A1) + np.trace(A2))


@pytest.mark.parametrize("estimator, kwargs, runs", [
    (trace_hutchinson, dict(neval=25, batch_size=10), 3),   # one per batch
    (trace_hutchinson, dict(neval=25, batch_size=10, sampler="unitvector"), 3),
    (trace_hutchpp, dict(neval=30), 2),                     # the sketch, then both traces
    (trace_nahutchpp, dict(neval=30), 1),                   # every product at once
])
def test_few_computes(estimator, kwargs, runs):
    A = low_rank(30, 3, seed=9)
    with CountComputes() as counter:
        estimator(pld.MatrixMult(A, chunks=10), **kwargs)
    assert counter.runs == runs


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_bad_inputs(estimator):
    with pytest.raises(ValueError, match="square operator.*\\(4, 6\\)"):
        estimator(pld.MatrixMult(np.ones((4, 6))), neval=6)
    with pytest.raises(NotImplementedError, match="sampler 'uniform' not available"):
        estimator(pld.Identity(10), neval=6, sampler="uniform")
    with pytest.raises(ValueError, match="neval must be at least 1, got 0"):
        estimator(pld.Identity(4))  # default neval: 10% of 4 columns rounds to 0


def test_too_few_evaluations():
    with pytest.raises(NotImplementedError, match="'unitvector' not available"):
        trace_hutchpp(pld.Identity(10), neval=6, sampler="unitvector")
    with pytest.raises(ValueError, match="neval must be at least 3, got 2"):
        trace_hutchpp(pld.Identity(10), neval=2)
    with pytest.raises(ValueError, match="sketches of 0, 1 and 2 probes"):
        trace_nahutchpp(pld.Identity(10), neval=3)
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'cupy', got 'jax'"):
        trace_hutchpp(pld.Identity(10), neval=6, backend="jax")
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        trace_hutchinson(pld.Identity(10), neval=3, batch_size=0)
