"""Helpers of the PyLops parity modules (``test_pylops_params_*.py``): inputs in PyLops' test
parametrizations, chunkings, checks of ours against PyLops (forward, adjoint, dot test, solver
answers), and a module-wide fixture that keeps OpenBLAS to one thread.
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
