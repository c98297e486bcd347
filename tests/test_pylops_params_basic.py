"""PyLops parity, basic operators: PyLops' own test parametrizations, ours against PyLops.

Walks the ``par`` dictionaries of PyLops' ``pytests/`` (sizes even/odd, square/over/under
determined, real/complex, axes, kinds) for every basic operator we have, and checks on the
same inputs: forward and adjoint on dask inputs in one chunk, in several even chunks and in
several uneven chunks (plus NumPy N-D and flat inputs), output shapes and dtypes, the dot
test (:func:`pylops_distributed.utils.dottest` with PyLops' ``complexflag``) on an operator
built with several chunks, and, where PyLops' tests run a solver, our solver's answer against
PyLops' (and against the true model, to PyLops' decimals).

The helpers here are shared by ``test_pylops_params_operators.py`` and
``test_pylops_params_linop.py``.
"""

import ctypes
import functools
import glob
import math
import os

import dask.array as da
import numpy as np
import pylops
import pytest
import scipy.sparse

import pylops_distributed as pld
from pylops_distributed import StackedArray
from pylops_distributed.optimization import lsqr
from pylops_distributed.stacked import compute_all
from pylops_distributed.utils import dottest

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _openblas_thread_controls():
    """(get, set) of the OpenBLAS thread count of NumPy's and SciPy's bundled libraries."""
    controls = []
    for mod in (np, scipy):
        site = os.path.dirname(os.path.dirname(mod.__file__))
        libdir = os.path.join(site, f"{mod.__name__}.libs")
        for path in glob.glob(os.path.join(libdir, "*openblas*.so*")):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for suffix in ("64_", "", "_64_"):
                get = f"scipy_openblas_get_num_threads{suffix}"
                set_ = f"scipy_openblas_set_num_threads{suffix}"
                if hasattr(lib, get) and hasattr(lib, set_):
                    controls.append((getattr(lib, get), getattr(lib, set_)))
                    break
    return controls


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """One OpenBLAS thread while these tests run (restored after): the solvers (PyLops' and
    ours) make many small BLAS calls, from dask's threads too, and on a 2-core machine
    OpenBLAS' own threads oversubscribe the cores (solves 10-25x slower). No-op where the
    library is not found."""
    controls = _openblas_thread_controls()
    before = [get() for get, _ in controls]
    for _, set_ in controls:
        set_(1)
    yield
    for (_, set_), n in zip(controls, before):
        set_(n)


CHUNKINGS = ("one", "several", "uneven")


def _uneven(n):
    """Uneven chunks along an axis of length ``n`` (one chunk when too short to split)."""
    if n <= 2:
        return (n,)
    if n <= 4:
        return (1, n - 1)
    a = max(1, n // 5)
    b = (n - a) // 2 + 1
    return (a, b, n - a - b)


def chunks_for(shape, how):
    """Dask chunks of ``shape``: ``one`` chunk, ``several`` (3 per axis, 2 per axis from 3-D
    on, to keep the task count small) or ``uneven`` ones (a small one first)."""
    if how == "one":
        return tuple(shape)
    parts = 3 if len(shape) < 3 else 2
    if how == "several":
        return tuple(max(1, math.ceil(n / parts)) for n in shape)
    if how == "uneven":
        return tuple(_uneven(n) if parts == 3 or n <= 4 else _uneven(n)[:1] + (n - _uneven(n)[0],)
                     for n in shape)
    raise ValueError(how)


def op_chunks(dims, dimsd):
    """An operator's ``chunks=`` that splits both its model and its data in several chunks."""
    if len(dims) == len(dimsd):
        parts = 3 if len(dims) < 3 else 2
        return tuple(max(1, math.ceil(n / parts)) for n in dims)
    return max(1, math.ceil(max(dims + dimsd) / 3))  # one size for both sides


def rand(shape, dtype, seed):
    """Random array of ``shape`` (complex when ``dtype`` is)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.iscomplexobj(np.empty(0, dtype)):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def tol_for(*dtypes):
    """Relative tolerance of a comparison in the lowest precision among ``dtypes``."""
    inexact = [np.dtype(d) for d in dtypes if np.issubdtype(np.dtype(d), np.inexact)]
    return 1e-4 if any(np.finfo(d).bits <= 32 for d in inexact) else 1e-9


def cflag(par):
    """PyLops' usual complexflag: 0 for real parametrizations, 3 for complex ones."""
    return 0 if par.get("imag", 0) == 0 else 3


def pid(par, *keys):
    """Readable id of a parametrization: ``key=value`` pairs."""
    keys = keys or tuple(k for k in par if k not in ("imag",))
    return "-".join(str(par[k]) if k == "dtype" else f"{k}{par[k]}" for k in keys)


def params(pars, *keys):
    return [pytest.param(p, id=pid(p, *keys)) for p in pars]


_COLLECTING = []  # the Problems of the running @collect test


class Problems:
    """Collects every mismatch of a case, so that one failure reports all of them."""

    def __init__(self, what):
        self.what, self.items = what, []

    def add(self, msg):
        self.items.append(msg)

    def check(self):
        """Raise with every problem; inside a @collect test, hand them to the test instead."""
        if not self.items:
            return
        if _COLLECTING and _COLLECTING[-1] is not self:
            _COLLECTING[-1].add(f"{self.what}:\n    " + "\n    ".join(self.items))
            self.items = []
            return
        raise AssertionError(f"{self.what}:\n  " + "\n  ".join(self.items))


def collect(fn):
    """Run a test to its end, collecting the problems of all its stages (operator checks,
    solves, plain asserts) into one failure."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        probs = Problems(fn.__name__)
        _COLLECTING.append(probs)
        try:
            fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - reported with the rest
            probs.add(f"raised {_short(err)}")
        finally:
            _COLLECTING.pop()
        probs.check()
    return wrapper


def _short(err):
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    return f"{type(err).__name__}: {' | '.join(lines[:4])[:500]}"


def _compute(outs, probs, labels):
    """Compute lazy outputs in one pass (one by one where that pass fails)."""
    try:
        return list(compute_all(*outs))
    except Exception:  # attribute the failure to the outputs that raise
        vals = []
        for out, label in zip(outs, labels):
            try:
                vals.append(compute_all(out)[0])
            except Exception as err:  # noqa: BLE001 - reported
                probs.add(f"{label}: compute raised {_short(err)}")
                vals.append(None)
        return vals


def compare(Op, POp, x=None, y=None, dtype=None, rtol=None, chunkings=CHUNKINGS, probs=None,
            nd_numpy=None):
    """Ours (``Op``) against PyLops (``POp``) on the same ``x`` (model) and ``y`` (data).

    Forward and adjoint on dask inputs in each of ``chunkings``, and on NumPy N-D and flat
    inputs; each output must be lazy, of PyLops' shape and dtype, computed to that dtype, and
    equal to PyLops' values.
    """
    own = probs is None
    probs = Problems(f"{Op!r} vs PyLops {type(POp).__name__}") if own else probs
    if nd_numpy is None:  # NumPy N-D inputs take the one-chunk path: only worth it when small
        nd_numpy = int(np.prod(Op.dims)) + int(np.prod(Op.dimsd)) < 5000
    dtype = Op.dtype if dtype is None else dtype
    x = rand(Op.dims, dtype, 1) if x is None else np.asarray(x).reshape(Op.dims)
    y = rand(Op.dimsd, dtype, 2) if y is None else np.asarray(y).reshape(Op.dimsd)
    ref = {
        "forward": np.asarray(POp @ x.reshape(POp.dims)),
        "adjoint": np.asarray(POp.H @ y.reshape(POp.dimsd)),
        "forward-flat": np.asarray(POp @ x.ravel()),
        "adjoint-flat": np.asarray(POp.H @ y.ravel()),
    }
    same = {"forward": tuple(POp.dimsd) == tuple(Op.dimsd) and tuple(POp.dims) == tuple(Op.dims)}
    same["adjoint"] = same["forward"]
    same["forward-flat"] = same["adjoint-flat"] = True
    runs = []
    for how in chunkings:
        runs.append((f"forward {how} chunk(s)", "forward",
                     lambda how=how: Op @ da.from_array(x, chunks=chunks_for(x.shape, how))))
        runs.append((f"adjoint {how} chunk(s)", "adjoint",
                     lambda how=how: Op.H @ da.from_array(y, chunks=chunks_for(y.shape, how))))
    if nd_numpy:
        runs.append(("forward numpy N-D", "forward", lambda: Op @ x))
        runs.append(("adjoint numpy N-D", "adjoint", lambda: Op.H @ y))
    runs.append(("forward numpy flat", "forward-flat", lambda: Op @ x.ravel()))
    runs.append(("adjoint numpy flat", "adjoint-flat", lambda: Op.H @ y.ravel()))
    runs.append(("forward dask flat (uneven)", "forward-flat",
                 lambda: Op @ da.from_array(x.ravel(), chunks=chunks_for((x.size,), "uneven"))))
    built = []
    for label, kind, fn in runs:
        try:
            out = fn()
        except Exception as err:  # noqa: BLE001 - reported
            probs.add(f"{label}: raised {_short(err)}")
            continue
        if not isinstance(out, (da.Array, StackedArray)):
            probs.add(f"{label}: returned {type(out).__name__}, not a lazy dask array")
            continue
        built.append((label, kind, out))
    vals = _compute([o for _, _, o in built], probs, [lab for lab, _, _ in built])
    for (label, kind, out), val in zip(built, vals):
        r = ref[kind]
        if same[kind] and tuple(out.shape) != r.shape:
            probs.add(f"{label}: shape {tuple(out.shape)} vs PyLops {r.shape}")
        elif out.size != r.size:
            probs.add(f"{label}: size {out.size} vs PyLops {r.size}")
        if np.dtype(out.dtype) != r.dtype:
            probs.add(f"{label}: dtype {out.dtype} vs PyLops {r.dtype}")
        if val is None:
            continue
        val = np.asarray(val)
        if val.dtype != np.dtype(out.dtype):
            probs.add(f"{label}: computes to dtype {val.dtype}, announced {out.dtype}")
        if val.size != r.size:
            continue
        tol = rtol if rtol is not None else tol_for(r.dtype, val.dtype, Op.dtype, POp.dtype,
                                                    x.dtype)
        scale = max(1.0, float(np.abs(r).max()) if r.size else 1.0)
        bad = ~np.isclose(val.ravel(), r.ravel(), rtol=tol, atol=tol * scale)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            probs.add(f"{label}: {int(bad.sum())}/{bad.size} values differ from PyLops "
                      f"(first at flat index {i}: {val.ravel()[i]!r} vs {r.ravel()[i]!r})")
    if own:
        probs.check()
    return probs


def dot(Op, nr=None, nc=None, complexflag=0, rtol=1e-6, probs=None):
    """Our dot test, recorded in ``probs`` (raised when ``probs`` is None)."""
    try:
        np.random.seed(10)  # as PyLops' tests: the same vectors every run
        ok = dottest(Op, nr, nc, complexflag=complexflag, rtol=rtol, raiseerror=False)
    except Exception as err:  # noqa: BLE001 - reported
        msg = f"dottest(complexflag={complexflag}) raised {_short(err)}"
    else:
        msg = None if ok else f"dottest(complexflag={complexflag}, rtol={rtol}) failed"
    if msg:
        if probs is None:
            raise AssertionError(f"{Op!r}: {msg}")
        probs.add(msg)


def check_op(make, POp, dtype, nr=None, nc=None, complexflag=0, rtol_dot=1e-6, x=None, y=None,
             rtol=None, chunkings=CHUNKINGS, nd_numpy=None):
    """One case: ``make(**kw)`` builds ours; compare it with ``POp`` (forward/adjoint in every
    chunking) and dot-test it as built with several chunks."""
    Op = make()
    probs = Problems(f"{Op!r} vs PyLops {type(POp).__name__}")
    if (Op.shape != POp.shape):
        probs.add(f"shape {Op.shape} vs PyLops {POp.shape}")
        probs.check()
    compare(Op, POp, x=x, y=y, dtype=dtype, rtol=rtol, chunkings=chunkings, probs=probs,
            nd_numpy=nd_numpy)
    try:
        OpC = make(chunks=op_chunks(Op.dims, Op.dimsd))
    except Exception as err:  # noqa: BLE001 - reported
        probs.add(f"built with chunks=: raised {_short(err)}")
    else:
        dot(OpC, nr, nc, complexflag=complexflag, rtol=rtol_dot, probs=probs)
    probs.check()
    return Op


def as_numpy(v):
    v = v.compute() if hasattr(v, "compute") else v
    return np.asarray(v)


def _close(a, b, decimal):
    try:
        np.testing.assert_array_almost_equal(np.ravel(a), np.ravel(b), decimal=decimal)
    except AssertionError as err:
        lines = [ln for ln in str(err).splitlines() if ln.strip()]
        return " | ".join(lines[1:4])
    return None


def check_solve(ours, theirs, xtrue, decimal, what):
    """Our solver's answer, to PyLops' decimals: at the true model where PyLops' answer is
    (PyLops' test passes with our inputs), else (neither converges) at PyLops' answer."""
    probs = Problems(what)
    if not isinstance(ours, (da.Array, StackedArray)):
        probs.add(f"solution is a {type(ours).__name__}, not a dask array")
    o, t = as_numpy(ours), np.asarray(theirs)
    if o.shape != t.shape:
        probs.add(f"solution shape {o.shape} vs PyLops {t.shape}")
    theirs_ok = _close(t, xtrue, decimal) is None
    ours_vs_true = _close(o, xtrue, decimal)
    if theirs_ok and ours_vs_true:
        probs.add(f"PyLops reaches the true model at decimal={decimal}, ours does not: "
                  f"{ours_vs_true}")
    elif not theirs_ok and ours_vs_true:  # neither converges: the answers must agree
        msg = _close(o, t, decimal)
        if msg:
            probs.add(f"neither reaches the true model; differs from PyLops' solution at "
                      f"decimal={decimal}: {msg}")
    probs.check()


def chunked(a, how="several"):
    a = np.asarray(a)
    return da.from_array(a, chunks=chunks_for(a.shape, how))


def solve_lsqr(Op, POp, y, x0, xtrue, decimal, what, **kw):
    """``lsqr`` with PyLops' arguments, ours on ``y`` in several chunks, against PyLops'."""
    theirs = pylops.optimization.basic.lsqr(POp, y, x0=x0, show=False, **kw)[0]
    ours = lsqr(Op, chunked(y), x0=x0, **kw)[0]
    check_solve(ours, theirs, xtrue, decimal, what)


# ---------------------------------------------------------------------------------------------
# parametrizations (PyLops' test_basicoperators.py and friends)
# ---------------------------------------------------------------------------------------------

P1 = {"ny": 11, "nx": 11, "imag": 0, "dtype": "float64"}       # square real
P2 = {"ny": 21, "nx": 11, "imag": 0, "dtype": "float64"}       # overdetermined real
P1J = {"ny": 11, "nx": 11, "imag": 1j, "dtype": "complex128"}  # square complex
P2J = {"ny": 21, "nx": 11, "imag": 1j, "dtype": "complex128"}  # overdetermined complex
P3 = {"ny": 11, "nx": 21, "imag": 0, "dtype": "float64"}       # underdetermined real
BASIC = params([P1, P2, P1J, P2J, P3], "ny", "nx", "dtype")
BASIC4 = params([P1, P2, P1J, P2J], "ny", "nx", "dtype")
REAL2 = params([P1, P2], "ny", "nx", "dtype")
CPLX2 = params([P1J, P2J], "ny", "nx", "dtype")
INF = np.inf


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
