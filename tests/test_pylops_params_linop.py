"""PyLops parity, operator algebra and solvers: PyLops' own test parametrizations.

PyLops' ``test_linearoperator.py`` (overloads, scaling, SciPy operators, ``todense``,
``tosparse``, ``eigs``/``cond``, ``conj``, ``apply_columns``, ``toreal``/``toimag``, R-linear
products, ``dims``/``dimsd`` propagation, N-D inputs and blocks of vectors, ``Op.H * Op`` and
friends, call counters), ``test_solver.py`` (``cg``, ``cgls``, ``lsqr``, the ``CG``, ``CGLS``,
``LSQR`` classes, ``dims`` set after construction, ``forceflat``): ours against PyLops
(helpers in ``_pylops_params.py``).
"""

import dask.array as da
import numpy as np
import pylops
import pytest
from numpy.testing import assert_array_almost_equal
from scipy.sparse.linalg import LinearOperator as SpLinearOperator
from scipy.sparse.linalg import lsqr as sp_lsqr
from _pylops_params import (CHUNKINGS, as_numpy, cflag, check_op, check_solve, chunked, chunks_for,
                            collect, dot, params, rand)
from _pylops_params import one_blas_thread  # noqa: F401 - module-wide fixture

import pylops_distributed as pld
from pylops_distributed import optimization as opt

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
