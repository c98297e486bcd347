"""PyLops parity, operator algebra, solvers and utilities: PyLops' own test parametrizations.

PyLops' ``test_linearoperator.py`` (overloads, scaling, SciPy operators, ``todense``,
``tosparse``, ``eigs``/``cond``, ``conj``, ``apply_columns``, ``toreal``/``toimag``, R-linear
products, ``dims``/``dimsd`` propagation, N-D inputs and blocks of vectors, ``Op.H * Op`` and
friends, call counters), ``test_solver.py`` (``cg``, ``cgls``, ``lsqr``, the ``CG``, ``CGLS``,
``LSQR`` classes, ``dims`` set after construction, ``forceflat``),
``test_functionoperator.py``, ``test_memoizeoperator.py``, ``test_metrics.py``,
``test_estimators.py`` and ``test_describe.py``: ours against PyLops (helpers in
``test_pylops_params_basic.py``).
"""

import itertools

import dask.array as da
import numpy as np
import pylops
import pytest
from numpy.testing import assert_almost_equal, assert_array_almost_equal
from scipy.sparse.linalg import LinearOperator as SpLinearOperator
from scipy.sparse.linalg import lsqr as sp_lsqr
from test_pylops_params_basic import (CHUNKINGS, as_numpy, cflag, check_op, check_solve, chunked,
                                      chunks_for, collect, compare, dot, params, rand,
                                      solve_lsqr)
from test_pylops_params_basic import one_blas_thread  # noqa: F401 - module-wide fixture

import pylops_distributed as pld
from pylops_distributed import optimization as opt
from pylops_distributed.utils import (mae, mse, psnr, snr, trace_hutchinson, trace_hutchpp,
                                      trace_nahutchpp)

PB = pylops.optimization.basic

# ---------------------------------------------------------------------------------------------
# operator algebra (test_linearoperator.py)
# ---------------------------------------------------------------------------------------------

L1 = {"ny": 11, "nx": 11, "imag": 0, "dtype": "float64"}
L2 = {"ny": 21, "nx": 11, "imag": 0, "dtype": "float64"}
L1J = {"ny": 11, "nx": 11, "imag": 1j, "dtype": "complex128"}
L2J = {"ny": 21, "nx": 11, "imag": 1j, "dtype": "complex128"}
LALL = params([L1, L2, L1J, L2J], "ny", "nx", "dtype")


def _diag(par, dtype=None):
    return (np.arange(par["nx"], dtype=dtype) + par["imag"] * np.arange(par["nx"], dtype=dtype))


OVERLOADS = {"H": lambda D: D.H, "neg": lambda D: -D, "scaled": lambda D: 2 * D,
             "add": lambda D: D + D, "sub": lambda D: D - 2 * D, "mul": lambda D: D * D,
             "pow": lambda D: D ** 2, "T": lambda D: D.T, "conj": lambda D: D.conj(),
             "normal": lambda D: D.H * D, "rscaled": lambda D: D * (1 + 2j)}


@pytest.mark.parametrize("expr", list(OVERLOADS))
@pytest.mark.parametrize("par", params([L1, L2, L1J], "ny", "nx", "dtype"))
@collect
def test_overloads(par, expr):
    diag = _diag(par)
    make = lambda **kw: OVERLOADS[expr](pld.Diagonal(diag, dtype=par["dtype"], **kw))  # noqa
    POp = OVERLOADS[expr](pylops.Diagonal(diag, dtype=par["dtype"]))
    Op = make()
    assert isinstance(Op, pld.LinearOperator)
    assert Op.dtype == POp.dtype, (Op.dtype, POp.dtype)
    check_op(make, POp, np.result_type(par["dtype"], POp.dtype), complexflag=cflag(par))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("par", params([L1, L1J], "dtype"))
@collect
def test_scaled(par, dtype):
    diag = _diag(par, dtype)
    D, PD = pld.Diagonal(diag, dtype=dtype), pylops.Diagonal(diag, dtype=dtype)
    for f in (lambda A: 3.0 * A, lambda A: -3.0 * A, lambda A: A * 3.0, lambda A: A * -3.0):
        assert f(D).dtype == f(PD).dtype


class _SpDiag(SpLinearOperator):
    def __init__(self, d):
        self.d = d
        super().__init__(d.dtype, (len(d), len(d)))

    def _matvec(self, x):
        return x * self.d

    def _rmatvec(self, x):
        return x * self.d


@pytest.mark.parametrize("how", ["add", "mul"])
@pytest.mark.parametrize("par", params([L1, L1J], "dtype"))
@collect
def test_scipyop(par, how):
    """Sums and products with SciPy LinearOperators give our operators."""
    D, S = pld.Diagonal(np.ones(5)), _SpDiag(2 * np.ones(5))
    Op = D + S if how == "add" else D * S
    assert isinstance(Op, pld.LinearOperator)
    x = rand(5, par["dtype"], 0)
    np.testing.assert_allclose(as_numpy(Op @ chunked(x)), (3 if how == "add" else 2) * x)
    np.testing.assert_allclose(as_numpy(Op.H @ chunked(x)), (3 if how == "add" else 2) * x)
    W = pld.aslinearoperator(S)  # as pylops.aslinearoperator(S)
    np.testing.assert_allclose(as_numpy(W @ chunked(x)), pylops.aslinearoperator(S) @ x)


@pytest.mark.parametrize("par", params([L1, L1J], "dtype"))
@collect
def test_dense(par):
    diag = _diag(par)
    Op = pld.Diagonal(diag, dtype=par["dtype"], chunks=4)
    np.testing.assert_array_equal(Op.todense(), np.diag(diag))
    np.testing.assert_array_equal(Op.todense(backend="numpy"), np.diag(diag))


@pytest.mark.parametrize("par", params([L1, L1J], "dtype"))
@collect
def test_dense_skinny(par):
    diag = _diag(par)
    Op = pld.HStack([pld.Diagonal(diag, dtype=par["dtype"]),
                     pld.Zero(par["nx"], 3, dtype=par["dtype"])])
    ref = np.hstack((np.diag(diag), np.zeros((par["nx"], 3))))
    np.testing.assert_array_equal(Op.todense(backend="numpy"), ref)


@pytest.mark.parametrize("par", params([L1, L2, L1J], "ny", "nx", "dtype"))
@collect
def test_sparse(par):
    diag = _diag(par)
    S = pld.Diagonal(diag, dtype=par["dtype"]).tosparse()
    np.testing.assert_array_equal(S.toarray(), np.diag(diag))


def _eig_diag(par):
    return np.arange(par["nx"], 0, -1) + par["imag"] * np.arange(par["nx"], 0, -1)


@pytest.mark.parametrize("par", params([L1, L2, L1J], "ny", "nx", "dtype"))
@collect
def test_eigs_explicit(par):
    diag = _eig_diag(par)
    Op = pld.MatrixMult(np.vstack((np.diag(diag), np.zeros((par["ny"] - par["nx"], par["nx"])))))
    eigs = Op.eigs()
    assert_array_almost_equal(diag[: eigs.size], eigs, decimal=3)
    assert_array_almost_equal(np.real(Op.cond()), par["nx"], decimal=3)


@pytest.mark.parametrize("par", params([L1, L2, L1J], "ny", "nx", "dtype"))
@collect
def test_eigs_implicit(par):
    diag = _eig_diag(par)
    Op = pld.Diagonal(diag, dtype=par["dtype"])
    if par["ny"] > par["nx"]:
        Op = pld.VStack([Op, pld.Zero(par["ny"] - par["nx"], par["nx"])])
    eigs = Op.eigs()
    assert_array_almost_equal(diag[: eigs.size], eigs, decimal=3)
    assert_array_almost_equal(np.real(Op.cond()), par["nx"], decimal=3)


@pytest.mark.parametrize("par", LALL)
@collect
def test_conj(par):
    M = 1j * np.ones((par["ny"], par["nx"]))
    Opc = pld.MatrixMult(M, dtype=np.complex128).conj()
    x = np.arange(par["nx"]) + par["imag"] * np.arange(par["nx"])
    y = as_numpy(Opc * x)
    assert_array_almost_equal(y, M.conj() @ x)
    assert_array_almost_equal(as_numpy(Opc.H * y), M.T @ y)
    check_op(lambda **kw: pld.MatrixMult(M, dtype=np.complex128, **kw).conj(),
             pylops.MatrixMult(M, dtype=np.complex128).conj(), "complex128", complexflag=3)


@pytest.mark.parametrize("explicit", [True, False], ids=["explicit", "implicit"])
@pytest.mark.parametrize("par", params([L1, L2], "ny", "nx"))
@collect
def test_apply_columns(par, explicit):
    M = np.ones((par["ny"], par["nx"]))
    Mop = pld.MatrixMult(M, dtype=par["dtype"])
    Mop.explicit = explicit
    cols = np.sort(np.random.default_rng(0).permutation(par["nx"])[: par["nx"] // 2])
    C = Mop.apply_columns(cols)
    x, y = np.arange(len(cols)), np.arange(par["ny"])
    assert_array_almost_equal(as_numpy(C.matvec(x)), M[:, cols] @ x)
    assert_array_almost_equal(as_numpy(C.rmatvec(y)), M[:, cols].T @ y)


@pytest.mark.parametrize("par", LALL)
@collect
def test_realimag(par):
    rng = np.random.default_rng(0)
    M = rng.normal(0, 1, (par["ny"], par["nx"])) + 1j * rng.normal(0, 1, (par["ny"], par["nx"]))
    Op = pld.MatrixMult(M, dtype=np.complex128)
    Opr, Opi = Op.toreal(), Op.toimag()
    x = np.arange(par["nx"])
    y = as_numpy(Op * x)
    np.testing.assert_array_equal(np.real(y), as_numpy(Opr * x))
    np.testing.assert_array_equal(np.imag(y), as_numpy(Opi * x))
    y = np.arange(par["ny"]) + 1j * np.arange(par["ny"])
    x = as_numpy(Op.H * y)
    np.testing.assert_array_equal(np.real(x), as_numpy(Opr.H * y))
    np.testing.assert_array_equal(np.imag(x), -as_numpy(Opi.H * y))


@pytest.mark.parametrize("side", ["left", "right"])
@collect
def test_rlinear(side):
    par = L1J
    rng = np.random.default_rng(123)
    M = (rng.standard_normal((par["ny"], par["nx"]))
         + 1j * rng.standard_normal((par["ny"], par["nx"]))).astype(par["dtype"])

    def build(lib, **kw):
        OpM = lib.MatrixMult(M, dtype=par["dtype"], **kw)
        if side == "left":
            return lib.Real(par["ny"], dtype=par["dtype"]) * OpM
        return OpM * lib.Real(par["nx"], dtype=par["dtype"], **kw)
    Op = build(pld)
    assert Op.clinear is False
    x = rng.standard_normal(par["nx"])
    ref = np.real(M @ x) if side == "left" else M @ np.real(x)
    np.testing.assert_allclose(as_numpy(Op * x), ref)
    for flag in range(4):
        dot(build(pld, chunks=4), par["ny"], par["nx"], complexflag=flag)
    check_op(lambda **kw: build(pld, **kw), build(pylops), par["dtype"], complexflag=3)


@pytest.mark.parametrize("par", LALL)
@collect
def test_copy_dims_dimsd(par):
    dims = (par["ny"], par["nx"])
    Dy, Dx = pld.FirstDerivative(dims, axis=0), pld.FirstDerivative(dims, axis=-1)
    S = pld.Symmetrize(dims, axis=0)
    sym = (2 * par["ny"] - 1, par["nx"])
    for Op, ddims, ddimsd in ((S.H, sym, dims), (S.T, sym, dims), (-Dx, dims, dims),
                              (2 * Dx, dims, dims), (Dx * 2, dims, dims), (Dx + Dy, dims, dims),
                              (Dx - 2 * Dy, dims, dims), (S @ Dx, dims, sym),
                              (Dx ** 3, dims, dims)):
        assert (Op.dims, Op.dimsd) == (ddims, ddimsd), Op


@pytest.mark.parametrize("par", LALL)
@collect
def test_non_flattened_arrays(par):
    dims, k = (par["ny"], par["nx"]), 4
    D, S = pld.FirstDerivative(dims, axis=-1), pld.Symmetrize(dims, axis=0)
    PDv, PS = pylops.FirstDerivative(dims, axis=-1), pylops.Symmetrize(dims, axis=0)
    x_nd = np.random.default_rng(0).standard_normal(dims)
    X_nd = np.repeat(x_nd[..., None], k, axis=-1)
    X_1d = X_nd.reshape(-1, k)
    Y_D, Y_S = PDv @ X_nd, PS @ PDv @ X_nd
    np.testing.assert_allclose(as_numpy(D @ x_nd.ravel()).reshape(D.dimsd), as_numpy(D @ x_nd))
    np.testing.assert_allclose(as_numpy(S @ D @ x_nd.ravel()).reshape(S.dimsd),
                               as_numpy(S @ D @ x_nd))
    for X in (X_nd, chunked(X_nd)):
        np.testing.assert_allclose(as_numpy(D @ X), Y_D)
        np.testing.assert_allclose(as_numpy(S @ D @ X), Y_S)
    for X in (X_1d, chunked(X_1d)):
        np.testing.assert_allclose(as_numpy(D @ X).reshape((*D.dimsd, -1)), Y_D)
        np.testing.assert_allclose(as_numpy(S @ D @ X).reshape((*S.dimsd, -1)), Y_S)


def _gr(p, seed):
    return rand((p["ny"], p["nx"]), p["dtype"], seed)


MATRIX_OPS = {
    "MatrixMult": lambda lib, p: lib.MatrixMult(_gr(p, 3), dtype=p["dtype"]),
    "FirstDerivative2d": lambda lib, p: lib.FirstDerivative((p["ny"], p["nx"]), axis=0,
                                                            dtype=p["dtype"]),
    "Restriction2d": lambda lib, p: lib.Restriction((p["ny"], p["nx"]), [0, 3, 4], axis=1,
                                                    dtype=p["dtype"]),
    "VStack": lambda lib, p: lib.VStack([lib.MatrixMult(_gr(p, 3), dtype=p["dtype"]),
                                         lib.Identity(p["nx"], dtype=p["dtype"])]),
}


@pytest.mark.parametrize("name", list(MATRIX_OPS))
@pytest.mark.parametrize("par", LALL)
@collect
def test_dot_matrix(par, name):
    """``Op @ X`` / ``matmat`` / ``rmatmat`` with a block of k vectors (NumPy and chunked)."""
    Op, POp = MATRIX_OPS[name](pld, par), MATRIX_OPS[name](pylops, par)
    k = 3
    X = rand((POp.shape[1], k), par["dtype"], 1)
    Y = rand((POp.shape[0], k), par["dtype"], 2)
    for how in CHUNKINGS:
        Xd = da.from_array(X, chunks=chunks_for(X.shape, how))
        Yd = da.from_array(Y, chunks=chunks_for(Y.shape, how))
        for label, got, ref in (("Op @ X", Op @ Xd, POp @ X),
                                ("matmat", Op.matmat(Xd), POp.matmat(X)),
                                ("rmatmat", Op.rmatmat(Yd), POp.rmatmat(Y)),
                                ("Op.H @ Y", Op.H @ Yd, POp.H @ Y)):
            np.testing.assert_allclose(as_numpy(got), ref, rtol=1e-10, atol=1e-10,
                                       err_msg=f"{label}, {how} chunks")


ALGEBRA_OPS = {
    "MatrixMult": lambda lib, p, **kw: lib.MatrixMult(_gr(p, 3), dtype=p["dtype"], **kw),
    "FirstDerivative": lambda lib, p, **kw: lib.FirstDerivative((p["ny"], p["nx"]), axis=0,
                                                                dtype=p["dtype"], **kw),
    "Symmetrize": lambda lib, p, **kw: lib.Symmetrize((p["ny"], p["nx"]), axis=1,
                                                      dtype=p["dtype"], **kw),
    "Restriction": lambda lib, p, **kw: lib.Restriction((p["ny"], p["nx"]), [1, 2, 6], axis=0,
                                                        dtype=p["dtype"], **kw),
}
ALGEBRA = {"HOp": lambda A: A.H * A, "OpH": lambda A: A * A.H, "T": lambda A: A.T,
           "TH": lambda A: A.T.H, "conj": lambda A: A.conj(), "HH": lambda A: A.H.H,
           "scaledH": lambda A: ((2j if np.iscomplexobj(np.empty(0, A.dtype)) else -3.0) * A).H,
           "sum": lambda A: A + 3 * A,
           "transpose": lambda A: A.transpose(), "adjoint": lambda A: A.adjoint()}


@pytest.mark.parametrize("expr", list(ALGEBRA))
@pytest.mark.parametrize("name", list(ALGEBRA_OPS))
@pytest.mark.parametrize("par", params([L2, L2J], "dtype"))
@collect
def test_algebra(par, name, expr):
    make = lambda **kw: ALGEBRA[expr](ALGEBRA_OPS[name](pld, par, **kw))  # noqa: E731
    POp = ALGEBRA[expr](ALGEBRA_OPS[name](pylops, par))
    dtype = np.result_type(par["dtype"], POp.dtype)
    check_op(make, POp, dtype, complexflag=3 if np.iscomplexobj(np.empty(0, dtype)) else 0)


@pytest.mark.parametrize("par", params([L1, L2J], "ny", "nx", "dtype"))
@collect
def test_counts(par):
    A = np.ones((par["ny"], par["nx"])) + par["imag"] * np.ones((par["ny"], par["nx"]))
    Aop = pld.MatrixMult(A, dtype=par["dtype"])
    Aop.matvec(np.ones(par["nx"]))
    Aop.matvec(np.ones(par["nx"]))
    Aop.rmatvec(np.ones(par["ny"]))
    Aop @ np.ones(par["nx"])
    Aop.rmatmat(np.ones((par["ny"], 2)))
    Aop.matmat(np.ones((par["nx"], 2)))
    Aop.rmatmat(np.ones((par["ny"], 2)))
    counts = (Aop.matvec_count, Aop.rmatvec_count, Aop.matmat_count, Aop.rmatmat_count)
    assert counts == (3, 1, 1, 2)
    Aop.reset_count()
    assert (Aop.matvec_count, Aop.rmatvec_count, Aop.matmat_count, Aop.rmatmat_count) == (0,) * 4


# ---------------------------------------------------------------------------------------------
# solvers (test_solver.py): cg, cgls, lsqr and the CG, CGLS, LSQR classes
# ---------------------------------------------------------------------------------------------

SP = [{"ny": ny, "nx": 11, "imag": im, "x0": x0, "dtype": dt}
      for im, dt in ((0, "float64"), (1j, "complex64")) for ny in (11, 31) for x0 in (False, True)]
SPARS = params(SP, "ny", "x0", "dtype")
PREALLOC = pytest.mark.parametrize("preallocate", [False, True], ids=["noprealloc", "prealloc"])


def _solver_problem(par, square, seed=10, shape=None):
    rng = np.random.default_rng(seed)
    shape = shape or (par["ny"], par["nx"])
    A = rng.normal(0, 10, shape) + par["imag"] * rng.normal(0, 10, shape)
    if square:
        A = np.conj(A).T @ A
    n = A.shape[1]
    x0 = None
    if par["x0"]:
        x0 = rng.normal(0, 10, n) + par["imag"] * rng.normal(0, 10, n)
    return A, x0


@PREALLOC
@pytest.mark.parametrize("par", SPARS)
@collect
def test_cg(par, preallocate):
    A, x0 = _solver_problem(par, True)
    Aop, PAop = pld.MatrixMult(A, dtype=par["dtype"]), pylops.MatrixMult(A, dtype=par["dtype"])
    x = np.ones(par["nx"]) + par["imag"] * np.ones(par["nx"])
    y = PAop @ x
    theirs = PB.cg(PAop, y, x0=x0, niter=par["nx"], tol=1e-5, preallocate=preallocate)[0]
    ours = opt.cg(Aop, chunked(y), x0=x0, niter=par["nx"], tol=1e-5, preallocate=preallocate)[0]
    check_solve(ours, theirs, x, 4, "cg")


@pytest.mark.parametrize("forceflat", [None, True], ids=["ndarray", "forceflat"])
@pytest.mark.parametrize("par", SPARS)
@collect
def test_cg_dims_after_construction(par, forceflat):
    """PyLops' test_cg_ndarray / test_cg_forceflat: ``dims``/``dimsd`` set on a MatrixMult."""
    dims = (par["nx"], par["ny"])
    n = int(np.prod(dims))
    A, _ = _solver_problem(par, True, shape=(n, n))
    rng = np.random.default_rng(1)
    x0 = (rng.normal(0, 10, dims) + par["imag"] * rng.normal(0, 10, dims)) if par["x0"] else None
    x = np.ones(dims) + par["imag"] * np.ones(dims)
    ops = []
    for lib in (pylops, pld):
        Op = lib.MatrixMult(A, dtype=par["dtype"], forceflat=forceflat)
        Op.dims, Op.dimsd = dims, dims
        ops.append(Op)
    PAop, Aop = ops
    y = PAop * x
    yo = Aop * x
    assert tuple(yo.shape) == y.shape
    np.testing.assert_allclose(as_numpy(yo), y, rtol=1e-5)
    theirs = PB.cg(PAop, y, x0=x0, niter=2 * n, tol=0)[0]
    ours = opt.cg(Aop, chunked(y), x0=x0, niter=2 * n, tol=0)[0]
    assert ours.shape == (x.shape if forceflat is None else (n,))
    check_solve(ours, theirs, x if forceflat is None else x.ravel(), 4, "cg, dims set")


@PREALLOC
@pytest.mark.parametrize("par", SPARS)
@collect
def test_cgls(par, preallocate):
    A, x0 = _solver_problem(par, False)
    Aop, PAop = pld.MatrixMult(A, dtype=par["dtype"]), pylops.MatrixMult(A, dtype=par["dtype"])
    x = np.ones(par["nx"]) + par["imag"] * np.ones(par["nx"])
    y = PAop @ x
    theirs = PB.cgls(PAop, y, x0=x0, niter=par["nx"], tol=1e-5, preallocate=preallocate)[0]
    ours = opt.cgls(Aop, chunked(y), x0=x0, niter=par["nx"], tol=1e-5,
                    preallocate=preallocate)[0]
    check_solve(ours, theirs, x, 4, "cgls")


@PREALLOC
@pytest.mark.parametrize("par", SPARS)
@collect
def test_lsqr(par, preallocate):
    A, x0 = _solver_problem(par, False)
    Aop, PAop = pld.MatrixMult(A, dtype=par["dtype"]), pylops.MatrixMult(A, dtype=par["dtype"])
    x = np.ones(par["nx"]) + par["imag"] * np.ones(par["nx"])
    y = PAop @ x
    theirs = PB.lsqr(PAop, y, x0, niter=par["nx"], preallocate=preallocate)[0]
    ours = opt.lsqr(Aop, chunked(y), x0, niter=par["nx"], preallocate=preallocate)[0]
    check_solve(ours, theirs, x, 4, "lsqr")
    ysp = y - PAop @ x0 if par["x0"] else y.copy()
    xsp = sp_lsqr(PAop, ysp, iter_lim=par["nx"])[0] + (x0 if par["x0"] else 0)
    assert_array_almost_equal(as_numpy(ours), xsp, decimal=4)


SOLVER_CLASSES = {"CG": (True, dict(niter=11, tol=0)), "CGLS": (False, dict(niter=11, tol=0)),
                  "LSQR": (False, dict(niter=11, atol=0, btol=0, conlim=np.inf))}


@pytest.mark.parametrize("manual", [False, True], ids=["run", "step"])
@pytest.mark.parametrize("name", list(SOLVER_CLASSES))
@pytest.mark.parametrize("par", params([SP[1], SP[7]], "ny", "x0", "dtype"))
@collect
def test_solver_class(par, name, manual):
    """setup / run (or step) / finalize of our classes against PyLops' classes."""
    square, kw = SOLVER_CLASSES[name]
    A, x0 = _solver_problem(par, square)
    PAop = pylops.MatrixMult(A, dtype=par["dtype"])
    x = np.ones(A.shape[1]) + par["imag"] * np.ones(A.shape[1])
    y = PAop @ x
    xs = []
    for lib, Op, yy in ((PB, PAop, y), (opt, pld.MatrixMult(A, dtype=par["dtype"]), chunked(y))):
        solver = getattr(lib, name)(Op)
        xi = solver.setup(yy, x0=x0, **kw)
        if manual:
            for _ in range(kw["niter"]):
                xi = solver.step(xi)
        else:
            xi = solver.run(xi, kw["niter"])
        solver.finalize()
        assert solver.iiter == kw["niter"]
        xs.append(xi)
    check_solve(xs[1], xs[0], xs[0], 4, f"{name} class")


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
