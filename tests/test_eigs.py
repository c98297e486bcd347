"""power_iteration against PyLops' and the true largest eigenvalue; checks only every
``check_every`` iterations."""

import math

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from dask.callbacks import Callback
from pylops.optimization.eigs import power_iteration as pylops_power_iteration

import pylops_distributed as pld
from pylops_distributed.optimization.eigs import power_iteration


def _hermitian(n, dtype, seed=10):
    rng = np.random.default_rng(seed)
    A = rng.normal(0, 1, (n, n))
    if np.dtype(dtype).kind == "c":
        A = A + 1j * rng.normal(0, 1, (n, n))
    return (A @ A.conj().T).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_largest_eigenvalue_like_pylops(scheduler, dtype):
    A = _hermitian(30, dtype)
    true = np.abs(np.linalg.eigvalsh(A.astype(np.complex128))).max()
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, 30)), dtype=dtype)
    np.random.seed(5)
    maxeig, b, it = power_iteration(Op, niter=300, tol=1e-7, dtype=dtype)
    np.random.seed(5)
    ref = pylops_power_iteration(pylops.MatrixMult(A, dtype=dtype), niter=300, tol=1e-7,
                                 dtype=dtype)[0]
    rtol = 1e-3 if dtype in ("float32", "complex64") else 1e-5
    assert abs(maxeig - ref) < rtol * abs(ref) and abs(abs(maxeig) - true) < rtol * true
    assert it < 300 and b.shape == (30,)
    b = b.compute()
    assert abs(np.linalg.norm(b) - 1) < 1e-4
    # b is the eigenvector: A b = lambda b
    np.testing.assert_allclose(A @ b, maxeig * b, atol=10 * rtol * true)


def test_stencil_operator_and_niter_reached():
    """A chunked stencil operator; without convergence, niter iterations are made and the
    result is the last estimate, as in PyLops."""
    dims = (20, 30)
    Op = pld.Laplacian(dims, chunks=(10, 30))
    with dask.config.set(scheduler="threads"):
        maxeig, b, it = power_iteration(Op, niter=25, tol=0, dtype="float64")
    assert it == 25 and b.shape == (600,)
    ref = pylops_power_iteration(pylops.Laplacian(dims), niter=500, tol=1e-10, dtype="float64")[0]
    assert maxeig < 0 and abs(maxeig) <= abs(ref) * (1 + 1e-6) and abs(maxeig) > 0.5 * abs(ref)


class _Runs(Callback):
    """Counts the graphs the local scheduler runs."""

    def __init__(self):
        super().__init__()
        self.runs = 0

    def _start(self, dsk):
        self.runs += 1


@pytest.mark.parametrize("check_every", [1, 5, 10])
def test_graphs_run_only_at_checks(check_every):
    A = _hermitian(24, "float64")
    Op = pld.MatrixMult(da.from_array(A, chunks=(8, 24)))
    with dask.config.set(scheduler="threads"), _Runs() as runs:
        _, _, it = power_iteration(Op, niter=20, tol=0, dtype="float64", check_every=check_every)
    assert it == 20
    # a persist of the iterates and a gather of the (persisted) values per check
    assert runs.runs <= 2 * math.ceil(20 / check_every)


@pytest.mark.parametrize("kwargs,match", [
    (dict(niter=0), "niter"), (dict(check_every=0), "check_every"),
    (dict(backend="jax"), "backend"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        power_iteration(pld.Identity(4), **kwargs)
    with pytest.raises(ValueError, match="square"):
        power_iteration(pld.MatrixMult(np.ones((3, 4))))


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("diag", [[3.0, 1.0, 2.0, 0.5], [-3.0, 1.0, 2.0, 0.5]])
def test_same_start_and_stop_as_pylops(dtype, diag):
    """np.random.seed gives PyLops' start vector, and PyLops' stopping test as written (a
    negative estimate never passes it): same estimate, vector and iteration count."""
    with dask.config.set(scheduler="threads"):
        np.random.seed(0)
        maxeig, b, it = power_iteration(pld.Diagonal(np.array(diag, dtype=dtype)), niter=200,
                                        tol=1e-6, dtype=dtype, check_every=7)
        b = b.compute()
    np.random.seed(0)
    ref, bref, itref = pylops_power_iteration(pylops.Diagonal(np.array(diag, dtype=dtype)),
                                              niter=200, tol=1e-6, dtype=dtype)
    assert it == itref
    np.testing.assert_allclose(maxeig, ref, rtol=1e-12)
    np.testing.assert_allclose(b, bref, rtol=1e-10, atol=1e-12)
