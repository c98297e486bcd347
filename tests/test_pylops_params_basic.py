"""PyLops parity, basic operators: PyLops' own test parametrizations, ours against PyLops.

Walks the ``par`` dictionaries of PyLops' ``pytests/`` (sizes even/odd, square/over/under
determined, real/complex, axes, kinds) for every basic operator we have, and checks on the
same inputs: forward and adjoint on dask inputs in one chunk, in several even chunks and in
several uneven chunks (plus NumPy N-D and flat inputs), output shapes and dtypes, the dot
test (:func:`pylops_distributed.utils.dottest` with PyLops' ``complexflag``) on an operator
built with several chunks, and, where PyLops' tests run a solver, our solver's answer against
PyLops' (and against the true model, to PyLops' decimals).

The helpers are in ``_pylops_params.py``.
"""

import numpy as np
import pylops
import pytest
import scipy.sparse
from _pylops_params import (BASIC, BASIC4, CPLX2, INF, REAL2, Problems, as_numpy, cflag, check_op,
                            check_solve, collect, params, rand, solve_lsqr)
from _pylops_params import one_blas_thread  # noqa: F401 - module-wide fixture

import pylops_distributed as pld


def _gmat(par, seed=10, dtype="float32"):
    rng = np.random.default_rng(seed)
    G = rng.normal(0, 10, (par["ny"], par["nx"])).astype(dtype)
    if par["imag"] != 0:
        G = G + par["imag"] * rng.normal(0, 10, (par["ny"], par["nx"])).astype(dtype)
    return G


def _ones(n, par):
    return np.ones(n) + par["imag"] * np.ones(n)


# --- Regression, LinearRegression ------------------------------------------------------------

@pytest.mark.parametrize("par", REAL2)
@collect
def test_Regression(par):
    order = 4
    t = np.arange(par["ny"], dtype=np.float64)
    mk = lambda **kw: pld.Regression(t, order=order, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Regression(t, order=order, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], par["ny"], order + 1)
    x = np.array([1.0, 2.0, 0.0, 3.0, -1.0])
    y = POp @ x
    np.testing.assert_allclose(as_numpy(Op.apply(t, x)), POp.apply(t, x), rtol=1e-9)
    solve_lsqr(Op, POp, y, np.zeros_like(x), x, 3, "lsqr(Regression)", damp=1e-10, niter=300,
               atol=0, btol=0, conlim=INF)


@pytest.mark.parametrize("par", REAL2)
@collect
def test_LinearRegression(par):
    t = np.arange(par["ny"], dtype=np.float32)
    mk = lambda **kw: pld.LinearRegression(t, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.LinearRegression(t, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], par["ny"], 2)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(as_numpy(Op.apply(t, x)), POp.apply(t, x), rtol=1e-6)
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 3, "lsqr(LinearRegression)", damp=1e-10,
               niter=300, atol=0, btol=0, conlim=INF)


# --- MatrixMult ------------------------------------------------------------------------------

@pytest.mark.parametrize("par", BASIC4)
@collect
def test_MatrixMult(par):
    G = _gmat(par)
    mk = lambda **kw: pld.MatrixMult(G, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.MatrixMult(G, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], par["ny"], par["nx"], complexflag=cflag(par))
    x = _ones(par["nx"], par)
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 4, "lsqr(MatrixMult)", damp=1e-20,
               niter=300, atol=1e-8, btol=1e-8)


def _sparse(par, seed=10):
    rng = np.random.default_rng(seed)
    G = scipy.sparse.random(par["ny"], par["nx"], density=0.75, random_state=rng).astype("float32")
    if par["imag"] != 0:
        G = G + par["imag"] * scipy.sparse.random(par["ny"], par["nx"], density=0.75,
                                                   random_state=rng).astype("float32")
    return G


@pytest.mark.parametrize("par", BASIC4)
@collect
def test_MatrixMult_sparse(par):
    G = _sparse(par)
    mk = lambda **kw: pld.MatrixMult(G, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.MatrixMult(G, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], par["ny"], par["nx"], complexflag=3)
    x = _ones(par["nx"], par)
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 4, "lsqr(MatrixMult sparse)",
               damp=1e-20, niter=300, atol=1e-8, btol=1e-8)


@pytest.mark.parametrize("par", CPLX2)
@collect
def test_MatrixMult_complexcast(par):
    G = _sparse(par)
    Op, POp = pld.MatrixMult(G, dtype="float32"), pylops.MatrixMult(G, dtype="float32")
    assert POp.dtype == np.complex64
    assert Op.dtype == POp.dtype


@pytest.mark.parametrize("par", BASIC4)
@collect
def test_MatrixMult_repeated(par):
    G = _gmat(par)
    mk = lambda **kw: pld.MatrixMult(G, otherdims=5, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.MatrixMult(G, otherdims=5, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], par["ny"] * 5, par["nx"] * 5, complexflag=3)
    x = (np.ones((par["nx"], 5)) + par["imag"] * np.ones((par["nx"], 5))).ravel()
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 4, "lsqr(MatrixMult otherdims=5)",
               damp=1e-20, niter=300, atol=1e-8, btol=1e-8)


# --- Identity, Zero --------------------------------------------------------------------------

@pytest.mark.parametrize("inplace", [True, False], ids=["inplace", "noinplace"])
@pytest.mark.parametrize("par", BASIC)
@collect
def test_Identity(par, inplace):
    mk = lambda **kw: pld.Identity(par["ny"], par["nx"], dtype=par["dtype"],  # noqa: E731
                                   inplace=inplace, **kw)
    POp = pylops.Identity(par["ny"], par["nx"], dtype=par["dtype"], inplace=inplace)
    Op = check_op(mk, POp, par["dtype"], par["ny"], par["nx"], complexflag=cflag(par))
    x = _ones(par["nx"], par)
    y = as_numpy(Op @ x)
    x1 = as_numpy(Op.H @ y)
    n = min(par["ny"], par["nx"])
    np.testing.assert_array_equal(y[:n], x[:n])
    np.testing.assert_array_equal(x1[:n], x[:n])
    x[0] = 10  # the computed output is not a view of the input
    assert y[0] != x[0]


@pytest.mark.parametrize("par", BASIC)
@collect
def test_Zero(par):
    mk = lambda **kw: pld.Zero(par["ny"], par["nx"], dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Zero(par["ny"], par["nx"], dtype=par["dtype"])
    check_op(mk, POp, par["dtype"], par["ny"], par["nx"])


# --- Flip, Symmetrize, Roll ------------------------------------------------------------------

def _geoms(par, ndims):
    """(dims, axis) of PyLops' 1D/2D/3D tests: (ny,), (ny, nx), (ny, nx, nx)."""
    dims = [(par["ny"],), (par["ny"], par["nx"]), (par["ny"], par["nx"], par["nx"])][ndims - 1]
    return [(dims, ax) for ax in range(ndims)]


GEOMS = [pytest.param(nd, ax, id=f"{nd}d-axis{ax}") for nd in (1, 2, 3) for ax in range(nd)]


@pytest.mark.parametrize("nd,axis", GEOMS)
@pytest.mark.parametrize("par", BASIC4)
@collect
def test_Flip(par, nd, axis):
    dims = _geoms(par, nd)[axis][0]
    mk = lambda **kw: pld.Flip(dims, axis=axis, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Flip(dims, axis=axis, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], int(np.prod(dims)), int(np.prod(dims)))
    x = rand(dims, par["dtype"], 3)
    np.testing.assert_array_equal(as_numpy(Op.H @ (Op @ x)), x)


@pytest.mark.parametrize("nd,axis", GEOMS)
@pytest.mark.parametrize("par", BASIC)
@collect
def test_Symmetrize(par, nd, axis):
    dims = _geoms(par, nd)[axis][0]
    mk = lambda **kw: pld.Symmetrize(dims, axis=axis, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Symmetrize(dims, axis=axis, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], POp.shape[0], int(np.prod(dims)))
    x = rand(dims, par["dtype"], 3).ravel()
    xinv = Op / (POp @ x)   # PyLops' test: Sop / y
    check_solve(xinv, POp / (POp @ x), x, 3, "Symmetrize / y")


@pytest.mark.parametrize("nd,axis", GEOMS)
@pytest.mark.parametrize("par", BASIC)
@collect
def test_Roll(par, nd, axis):
    dims = _geoms(par, nd)[axis][0]
    shift = {1: 2, 2: -2, 3: 3}[nd]
    mk = lambda **kw: pld.Roll(dims, axis=axis, shift=shift, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Roll(dims, axis=axis, shift=shift, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], int(np.prod(dims)), int(np.prod(dims)))
    x = rand(dims, par["dtype"], 3).ravel()
    np.testing.assert_allclose(as_numpy(Op.H @ (Op @ x)), x, rtol=1e-12)


# --- Sum -------------------------------------------------------------------------------------

@pytest.mark.parametrize("nd,axis", [g for g in GEOMS if g.values[0] > 1])
@pytest.mark.parametrize("par", BASIC)
@collect
def test_Sum(par, nd, axis):
    dims = _geoms(par, nd)[axis][0]
    mk = lambda **kw: pld.Sum(dims, axis=axis, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Sum(dims, axis=axis, dtype=par["dtype"])
    check_op(mk, POp, par["dtype"], POp.shape[0], int(np.prod(dims)))


@pytest.mark.parametrize("par", BASIC)
@collect
def test_Sum2D_forceflat(par):
    ny, nx = par["ny"], par["nx"]
    x = rand(ny * nx, par["dtype"], 4)
    expect = {True: ((ny,), (ny * nx,)), None: ((ny,), (ny, nx)), False: ((ny,), (ny, nx))}
    ops = {}
    for ff, (yshape, xshape) in expect.items():
        Op = ops[ff] = pld.Sum((ny, nx), axis=-1, forceflat=ff)
        POp = pylops.Sum((ny, nx), axis=-1, forceflat=ff)
        y = Op @ x
        xadj = Op.H @ y
        py = POp @ x
        assert (tuple(y.shape), tuple(xadj.shape)) == (py.shape, (POp.H @ py).shape) \
            == (yshape, xshape), f"forceflat={ff}"
        np.testing.assert_allclose(as_numpy(xadj).ravel(), (POp.H @ py).ravel())
    probs = Problems("forceflat of products")
    try:
        ops[True] * ops[False].H
    except ValueError:
        pass
    else:
        probs.add("Sum(forceflat=True) * Sum(forceflat=False).H did not raise ValueError")
    for a, b, want in ((True, None, True), (False, None, False), (None, None, None)):
        got = (ops[a] * ops[b].H).forceflat
        if got is not want:
            probs.add(f"(Sum(forceflat={a}) * Sum(forceflat={b}).H).forceflat is {got}, "
                      f"PyLops: {want}")
    probs.check()


# --- Real, Imag, Conj, ToCupy ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["Real", "Imag"])
@pytest.mark.parametrize("par", CPLX2)
@collect
def test_Real_Imag(par, name):
    dims = (par["ny"], par["nx"])
    mk = lambda **kw: getattr(pld, name)(dims, dtype=par["dtype"], **kw)  # noqa: E731
    POp = getattr(pylops, name)(dims, dtype=par["dtype"])
    check_op(mk, POp, par["dtype"], POp.shape[0], POp.shape[1], complexflag=3)


@pytest.mark.parametrize("par", BASIC)
@collect
def test_Conj(par):
    dims = (par["ny"], par["nx"])
    mk = lambda **kw: pld.Conj(dims, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Conj(dims, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], POp.shape[0], POp.shape[1], complexflag=cflag(par))
    x = rand(dims, par["dtype"], 5).ravel()
    y = as_numpy(Op @ x)
    np.testing.assert_array_equal(y, np.conj(x))
    np.testing.assert_array_equal(as_numpy(Op.H @ y), x)


@pytest.mark.parametrize("par", BASIC)
@collect
def test_ToCupy(par):
    Top = pld.ToCupy(par["nx"], dtype=par["dtype"])
    POp = pylops.ToCupy(par["nx"], dtype=par["dtype"])
    x = rand(par["nx"], par["dtype"], 6)
    y = Top @ x
    xadj = Top.H @ y
    np.testing.assert_array_equal(as_numpy(y), np.asarray(POp @ x))
    np.testing.assert_array_equal(as_numpy(xadj), x)


# --- Diagonal (test_diagonal.py) -------------------------------------------------------------

PD1 = {"ny": 21, "nx": 11, "nt": 20, "imag": 0, "dtype": "float32"}
PD2 = {"ny": 21, "nx": 11, "nt": 20, "imag": 1j, "dtype": "complex64"}
DIAG_PARS = params([PD1, PD2], "dtype")
DIAG_GEOMS = ([pytest.param(("nx",), 0, id="1d-nx"), pytest.param(("nt",), 0, id="1d-nt")]
              + [pytest.param(("nx", "nt"), a, id=f"2d-axis{a}") for a in range(2)]
              + [pytest.param(("ny", "nx", "nt"), a, id=f"3d-axis{a}") for a in range(3)])


@pytest.mark.parametrize("names,axis", DIAG_GEOMS)
@pytest.mark.parametrize("par", DIAG_PARS)
@collect
def test_Diagonal(par, names, axis):
    dims = tuple(par[n] for n in names)
    n = dims[axis]
    d = np.arange(n) + 1.0 + par["imag"] * (np.arange(n) + 1.0)
    kw0 = {} if len(dims) == 1 else dict(dims=dims, axis=axis)
    mk = lambda **kw: pld.Diagonal(d, dtype=par["dtype"], **kw0, **kw)  # noqa: E731
    POp = pylops.Diagonal(d, dtype=par["dtype"], **kw0)
    N = int(np.prod(dims))
    Op = check_op(mk, POp, par["dtype"], N, N, complexflag=cflag(par))
    x = np.ones(dims) + par["imag"] * np.ones(dims)
    for flat in (True, False):  # PyLops: flattened and unflattened (v2) inputs
        xx = x.ravel() if flat else x
        solve_lsqr(Op, POp, POp @ xx, np.zeros_like(xx), xx, 4,
                   f"lsqr(Diagonal, {'flat' if flat else 'N-D'})", damp=1e-20, niter=300,
                   atol=1e-8, btol=1e-8)


# --- Transpose (test_transpose.py) -----------------------------------------------------------

PT1 = {"ny": 21, "nx": 11, "nt": 20, "imag": 0, "dtype": "float64"}
PT2 = {"ny": 21, "nx": 11, "nt": 20, "imag": 1j, "dtype": "complex128"}


@pytest.mark.parametrize("nd", [2, 3], ids=["2d", "3d"])
@pytest.mark.parametrize("par", params([PT1, PT2], "dtype"))
@collect
def test_Transpose(par, nd):
    dims = (par["ny"], par["nx"]) if nd == 2 else (par["ny"], par["nx"], par["nt"])
    axes = tuple(range(nd))[::-1]
    opdtype = par["dtype"] if nd == 2 else "float64"  # PyLops' 3d case keeps the default
    mk = lambda **kw: pld.Transpose(dims, axes=axes, dtype=opdtype, **kw)  # noqa: E731
    POp = pylops.Transpose(dims, axes=axes, dtype=opdtype)
    Op = check_op(mk, POp, par["dtype"], POp.shape[0], POp.shape[1], complexflag=cflag(par))
    x = rand(dims, par["dtype"], 7)
    np.testing.assert_array_equal(as_numpy(Op @ x), x.transpose(axes))


# --- Pad (test_pad.py) -----------------------------------------------------------------------

PP1 = {"ny": 11, "nx": 11, "pad": ((0, 2), (4, 5)), "dtype": "float64"}
PP2 = {"ny": 21, "nx": 11, "pad": ((3, 1), (0, 3)), "dtype": "float64"}


@pytest.mark.parametrize("dims,pad", [pytest.param(11, (-10, 0), id="1d"),
                                      pytest.param((11, 11), ((-10, 0), (3, -5)), id="2d")])
@collect
def test_Pad_negative(dims, pad):
    with pytest.raises(ValueError):
        pylops.Pad(dims, pad)
    with pytest.raises(ValueError):
        pld.Pad(dims, pad)


@pytest.mark.parametrize("nd", [1, 2], ids=["1d", "2d"])
@pytest.mark.parametrize("par", params([PP1, PP2], "ny", "nx"))
@collect
def test_Pad(par, nd):
    dims = par["ny"] if nd == 1 else (par["ny"], par["nx"])
    pad = par["pad"][0] if nd == 1 else par["pad"]
    mk = lambda **kw: pld.Pad(dims, pad, dtype=par["dtype"], **kw)  # noqa: E731
    POp = pylops.Pad(dims, pad, dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], POp.shape[0], POp.shape[1])
    x = np.arange(POp.shape[1], dtype=par["dtype"]) + 1.0
    np.testing.assert_array_equal(as_numpy(Op.H @ (Op @ x)), x)
