"""PyLops parity, FunctionOperator, MemoizeOperator and utilities: PyLops' own test parametrizations.

PyLops' ``test_functionoperator.py``, ``test_memoizeoperator.py``, ``test_metrics.py``,
``test_estimators.py`` and ``test_describe.py``: ours against PyLops (helpers in
``_pylops_params.py``).
"""

import itertools

import numpy as np
import pylops
import pytest
from numpy.testing import assert_almost_equal, assert_array_almost_equal
from _pylops_params import as_numpy, cflag, chunked, collect, compare, dot, params, solve_lsqr
from _pylops_params import one_blas_thread  # noqa: F401 - module-wide fixture

import pylops_distributed as pld
from pylops_distributed.utils import (mae, mse, psnr, snr, trace_hutchinson, trace_hutchpp,
                                      trace_nahutchpp)


# ---------------------------------------------------------------------------------------------
# FunctionOperator, MemoizeOperator (test_functionoperator.py, test_memoizeoperator.py)
# ---------------------------------------------------------------------------------------------

FPARS = [{"nr": nr, "nc": nc, "imag": 0 if dt.startswith("float") else 1j, "dtype": dt,
          "rtol": 1e-3 if dt in ("float32", "complex64") else 1e-6}
         for nr, nc, dt in itertools.product((11, 21), (11, 21),
                                   ("float32", "float64", "complex64", "complex128"))]
FUNC_PARS = params(FPARS, "nr", "nc", "dtype")


def _fmat(par):
    rng = np.random.default_rng(10)
    return (rng.normal(0, 1, (par["nr"], par["nc"]))
            + rng.normal(0, 1, (par["nr"], par["nc"])) * par["imag"]).astype(par["dtype"])


def _function_op(lib, par, G, adjoint=True):
    fwd = lambda x: G @ x  # noqa: E731 - works on NumPy and dask arrays alike
    adj = lambda y: np.conj(G.T) @ y  # noqa: E731
    fs = (fwd, adj) if adjoint else (fwd,)
    shape = (par["nr"],) if par["nr"] == par["nc"] else (par["nr"], par["nc"])
    return lib.FunctionOperator(*fs, *shape, dtype=par["dtype"])


@pytest.mark.parametrize("par", FUNC_PARS)
@collect
def test_FunctionOperator(par):
    G = _fmat(par)
    Fop, PFop = _function_op(pld, par, G), _function_op(pylops, par, G)
    dot(Fop, par["nr"], par["nc"], complexflag=cflag(par), rtol=par["rtol"])
    compare(Fop, PFop, dtype=par["dtype"])
    x = (np.ones(par["nc"]) + np.ones(par["nc"]) * par["imag"]).astype(par["dtype"])
    y = (np.ones(par["nr"]) + np.ones(par["nr"]) * par["imag"]).astype(par["dtype"])
    np.testing.assert_array_equal(as_numpy(Fop @ x), G @ x)
    np.testing.assert_array_equal(as_numpy(Fop.H @ y), np.conj(G.T) @ y)
    if par["nc"] <= par["nr"]:
        solve_lsqr(Fop, PFop, G @ x, np.zeros_like(x), x, 4, "lsqr(FunctionOperator)", damp=0,
                   niter=100, atol=1e-8, btol=1e-8)


@pytest.mark.parametrize("par", FUNC_PARS)
@collect
def test_FunctionOperator_NoAdjoint(par):
    G = _fmat(par)
    Fop = _function_op(pld, par, G, adjoint=False)
    x = (np.ones(par["nc"]) + np.ones(par["nc"]) * par["imag"]).astype(par["dtype"])
    y = (np.ones(par["nr"]) + np.ones(par["nr"]) * par["imag"]).astype(par["dtype"])
    np.testing.assert_array_equal(as_numpy(Fop @ x), G @ x)
    with pytest.raises(NotImplementedError):
        as_numpy(Fop.H @ y)


M1 = {"ny": 11, "nx": 11, "imag": 0, "dtype": "float32"}
M1J = {"ny": 11, "nx": 11, "imag": 1j, "dtype": "complex64"}


@pytest.mark.parametrize("par", params([M1, M1J], "dtype"))
@collect
def test_memoize_evals(par):
    rng = np.random.default_rng(0)
    A = (rng.normal(0, 10, (11, 11)) + par["imag"] * rng.normal(0, 10, (11, 11))).astype(
        par["dtype"])
    Amemop = pld.MemoizeOperator(pld.MatrixMult(A, dtype=par["dtype"]), max_neval=2)
    expected = [(np.ones, 1), (np.ones, 1), (np.ones, 1), (lambda n: np.full(n, 2), 2),
                (lambda n: np.full(n, 3), 3), (np.ones, 4)]
    for make, neval in expected:
        xv = make(par["nx"])
        np.testing.assert_allclose(as_numpy(Amemop * xv), A @ xv, rtol=1e-5)
        assert Amemop.neval == neval


@collect
def test_memoize_evals_2():
    par = M1J
    rng = np.random.default_rng(0)
    A = (rng.normal(0, 10, (11, 11)) + 1j * rng.normal(0, 10, (11, 11))).astype(par["dtype"])
    Aop = pld.MatrixMult(A, dtype=par["dtype"])
    x = np.ones(par["nx"], dtype="float32")
    y = as_numpy(Aop * x)
    assert_array_almost_equal(as_numpy(Aop.toreal(forw=False, adj=True).div(y)), x, decimal=4)
    Amop = pld.MemoizeOperator(Aop, max_neval=10)
    Aop2 = pld.VStack([Amop.toreal(), Amop.toimag()])
    assert_array_almost_equal(as_numpy(Aop2.div(np.concatenate([np.real(y), np.imag(y)]))), x,
                              decimal=4)


# ---------------------------------------------------------------------------------------------
# utils: metrics, estimators, describe (test_metrics.py, test_estimators.py, test_describe.py)
# ---------------------------------------------------------------------------------------------

METRIC_INPUTS = [pytest.param(lambda a: a, id="numpy"), pytest.param(chunked, id="dask")]


@pytest.mark.parametrize("wrap", METRIC_INPUTS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@collect
def test_metrics(dtype, wrap):
    nx = 11
    one, zero = np.ones(nx, dtype), np.zeros(nx, dtype)
    assert float(mae(wrap(one), wrap(one))) == 0.0
    assert float(mae(wrap(one), wrap(zero))) == 1.0
    assert float(mse(wrap(one), wrap(one))) == 0.0
    assert float(mse(wrap(one), wrap(zero))) == 1.0
    xr = np.random.default_rng(0).normal(0, 1, nx).astype(dtype)
    assert float(snr(wrap(xr), wrap(xr))) == np.inf
    assert float(snr(wrap(xr), wrap(zero))) == 0.0
    assert float(psnr(wrap(one), wrap(one), xmax=1.0, xmin=0.0)) == np.inf
    assert float(psnr(wrap(one), wrap(zero), xmax=1.0, xmin=0.0)) == 0.0
    xc = xr + np.random.default_rng(1).normal(0, 0.1, nx).astype(dtype)
    um = pylops.utils.metrics
    for ours, theirs in ((mae, um.mae), (mse, um.mse), (snr, um.snr)):
        np.testing.assert_allclose(float(ours(wrap(xr), wrap(xc))), float(theirs(xr, xc)),
                                   rtol=1e-5)
    np.testing.assert_allclose(float(psnr(wrap(xr), wrap(xc), xmax=3.0)),
                               float(um.psnr(xr, xc, xmax=3.0)), rtol=1e-5)


SAMPLERS = ["gaussian", "rayleigh", "rademacher", "unitvector"]
DTYPES = ["float32", "float64"]
NTRACE = 100
HUTCHINSON = [pytest.param(d, s, id=f"{d}-{s}") for d in DTYPES for s in SAMPLERS]
HUTCHPP = [pytest.param(d, s, id=f"{d}-{s}") for d in DTYPES for s in SAMPLERS[:-1]]
# Our estimators apply a distributed operator once per probe (a graph each), PyLops operators
# once per batch (matmat): PyLops' parametrizations (n=100, 10n probes) run on a PyLops
# MatrixMult (the estimator's maths); one case per estimator runs on our MatrixMult, smaller,
# with enough probes for an exact answer.
NSMALL = 24


def _trace_ops(dtype, n=NTRACE):
    A = np.random.default_rng(10).standard_normal((n, n)).astype(dtype)
    return A, pylops.MatrixMult(A, dtype=dtype), pld.MatrixMult(A, dtype=dtype, chunks=n // 2)


def _check_trace(est, true, dtype, decimal):
    assert np.asarray(est).dtype == np.dtype(dtype)
    assert_almost_equal(true, est, decimal=decimal)


@collect
@pytest.mark.parametrize("dtype,sampler", HUTCHINSON)
def test_trace_hutchinson(dtype, sampler):
    A, PAop, _ = _trace_ops(dtype)
    est = trace_hutchinson(PAop, neval=10 * NTRACE, batch_size=NTRACE + 1, sampler=sampler)
    _check_trace(est, np.trace(A), dtype, 5 if sampler == "unitvector" else -1)


@collect
@pytest.mark.parametrize("dtype,sampler", HUTCHPP)
def test_trace_hutchpp(dtype, sampler):
    A, PAop, _ = _trace_ops(dtype)
    _check_trace(trace_hutchpp(PAop, neval=10 * NTRACE, sampler=sampler), np.trace(A), dtype, 5)


@collect
@pytest.mark.parametrize("dtype,sampler", HUTCHPP)
def test_trace_nahutchpp(dtype, sampler):
    A, PAop, _ = _trace_ops(dtype)
    _check_trace(trace_nahutchpp(PAop, neval=10 * NTRACE, sampler=sampler), np.trace(A), dtype,
                 -1)


EXACT = {"hutchinson": dict(neval=NSMALL, sampler="unitvector"),
         "hutch++": dict(neval=3 * NSMALL, sampler="gaussian"),
         "na-hutch++": dict(neval=6 * NSMALL, sampler="rademacher")}
ESTIMATORS = {"hutchinson": trace_hutchinson, "hutch++": trace_hutchpp,
              "na-hutch++": trace_nahutchpp}


@collect
@pytest.mark.parametrize("method", list(EXACT))
@pytest.mark.parametrize("dtype", DTYPES)
def test_trace_estimators_distributed(dtype, method):
    """Our estimators on our operator, with probes enough for the exact trace."""
    A, _, Aop = _trace_ops(dtype, NSMALL)
    _check_trace(ESTIMATORS[method](Aop, **EXACT[method]), np.trace(A), dtype, 3)


@collect
@pytest.mark.parametrize("method", ["explicit"] + list(EXACT))
@pytest.mark.parametrize("dtype", DTYPES)
def test_LinearOperator_trace(dtype, method):
    """PyLops' ``Op.trace(neval=, method=, backend=, **kwargs)`` on our operator."""
    A, _, Aop = _trace_ops(dtype, NSMALL)
    if method == "explicit":
        _check_trace(Aop.trace(backend="numpy"), np.trace(A), dtype, 3)
        _check_trace(Aop.trace(method="explicit"), np.trace(A), dtype, 3)
        return
    _check_trace(Aop.trace(method=method, backend="numpy", **EXACT[method]), np.trace(A), dtype,
                 3)


@collect
def test_describe():
    pytest.importorskip("sympy")
    from pylops_distributed.utils.describe import describe
    A = pld.MatrixMult(np.ones((10, 5)))
    A.name = "A"
    B = pld.Diagonal(np.ones(5))
    B.name = "A"
    C = pld.MatrixMult(np.ones((10, 5)))
    C.name = "C"
    D = A + C
    F = (A + C) * B + A
    G = pld.HStack((A * B, C * B))
    for Op in (A, A.T, A.H, 3 * A, D, D * B, F, G, pld.BlockDiag((F, G))):
        describe(Op)
