"""FunctionOperator, MemoizeOperator and ToCupy against PyLops (ToCupy's GPU side:
tests/test_cupy_tocupy.py)."""

import sys
import types

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, new_tasks, rand

import pylops_distributed as pld
from pylops_distributed.kernels import NoChunkKernel
from pylops_distributed.utils import dottest


def _no_compute(*args, **kwargs):
    """A dask scheduler that fails: building graphs under it must compute nothing."""
    raise AssertionError("something was computed")


def _along0(M):
    """``M`` applied along axis 0 with NumPy-API code (lazy on dask arrays), and its adjoint."""
    def f(x):
        return np.tensordot(M, x, axes=(1, 0))

    def fc(y):
        return np.tensordot(M.conj().T, y, axes=(1, 0))

    return f, fc


def _flat(fn, shape):
    """``fn`` on flat vectors, for PyLops' twin."""
    return lambda v: np.asarray(fn(v.reshape(shape))).ravel()


def _cumsum(x):
    return np.cumsum(x, axis=-1)


def _rcumsum(y):
    return np.flip(np.cumsum(np.flip(y, -1), axis=-1), -1)


# --- FunctionOperator ------------------------------------------------------------------------

par_fun = [
    dict(dims=(4,), dimsd=(5,), chunks=2),             # 1-D, rectangular
    dict(dims=(4, 6), dimsd=(5, 6), chunks=(4, 6)),    # one chunk
    dict(dims=(4, 6), dimsd=(5, 6), chunks=(2, 3)),    # both axes
    dict(dims=(4, 6), dimsd=(5, 6), chunks=(3, 2)),    # odd along axis 0
    dict(dims=(4, 3, 2), dimsd=(5, 3, 2), chunks=(2, 2, 1)),
]


@pytest.mark.parametrize("p", par_fun)
@pytest.mark.parametrize("dtype", DTYPES)
def test_function_like_pylops(p, dtype):
    M = rand((p["dimsd"][0], p["dims"][0]), dtype, seed=3)
    f, fc = _along0(M)
    seen = []

    def f_seen(x):
        seen.append(type(x))
        return f(x)

    Op = pld.FunctionOperator(f_seen, fc, p["dimsd"], p["dims"], dtype=dtype)
    POp = pylops.FunctionOperator(_flat(f, p["dims"]), _flat(fc, p["dimsd"]),
                                  int(np.prod(p["dimsd"])), int(np.prod(p["dims"])), dtype=dtype)
    assert (Op.dims, Op.dimsd, Op.shape, Op.dtype) == (p["dims"], p["dimsd"], POp.shape, POp.dtype)
    assert_like_pylops(Op, POp, p["chunks"], dtype)
    assert seen and all(t is np.ndarray for t in seen)  # f got the whole input, in memory
    # NumPy-API code stays lazy
    with dask.config.set(scheduler=_no_compute):
        y = Op @ da.from_array(rand(p["dims"], dtype), chunks=p["chunks"])
        Op.H @ y
    # flat in-memory input, flat output, as in PyLops
    x = rand(p["dims"], dtype, seed=4)
    yf = Op @ x.ravel()
    assert yf.shape == (Op.shape[0],)
    np.testing.assert_allclose(yf.compute(), POp @ x.ravel(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("chunks", [(3, 7), (3, 2), (1, 3)])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_function_square_cumsum_like_pylops(chunks, dtype):
    # a running sum across chunks (dask's cumsum), square: FunctionOperator(f, fc, n)
    Op = pld.FunctionOperator(_cumsum, _rcumsum, (3, 7), dtype=dtype)
    POp = pylops.FunctionOperator(_flat(_cumsum, (3, 7)), _flat(_rcumsum, (3, 7)), 21, dtype=dtype)
    assert Op.dims == Op.dimsd == (3, 7)
    assert_like_pylops(Op, POp, chunks, dtype)


def test_function_no_adjoint_like_pylops():
    M = rand((5, 4), "float64", seed=3)
    f, _ = _along0(M)
    double = lambda v: 2 * v  # noqa: E731
    pairs = [  # the forms without fc, as in PyLops
        (pld.FunctionOperator(double, 4), pylops.FunctionOperator(double, 4)),
        (pld.FunctionOperator(f, 5, 4), pylops.FunctionOperator(f, 5, 4)),
        (pld.FunctionOperator(double, None, 4), pylops.FunctionOperator(double, None, 4)),
    ]
    for Op, POp in pairs:
        assert Op.shape == POp.shape and Op.fc is None
        x = rand(Op.shape[1], "float64", seed=1)
        np.testing.assert_allclose((Op @ da.from_array(x, chunks=3)).compute(), POp @ x)
        y = np.ones(Op.shape[0])
        with pytest.raises(NotImplementedError, match="Adjoint not implemented"):
            POp.rmatvec(y)
        for apply in (Op.rmatvec, Op.H.matvec, (3 * Op).rmatvec):
            with pytest.raises(NotImplementedError,
                               match=r"FunctionOperator\('F'\): Adjoint not implemented \(built "
                                     r"without fc\); pass the adjoint function, e.g. "
                                     r"FunctionOperator\(f, fc, "):
                apply(da.from_array(y, chunks=2))


def test_function_runs_on_the_whole_input_in_one_task():
    # f and fc see the input in memory (as PyLops' do), in one task; building computes nothing
    Op = pld.FunctionOperator(lambda x: 2 * np.asarray(x), lambda y: 2 * np.asarray(y), (4, 6))
    x = rand((4, 6), "float64")
    xd = da.from_array(x, chunks=(2, 3))
    with dask.config.set(scheduler=_no_compute):
        y = Op @ xd
    assert isinstance(y, da.Array) and y.chunks == ((4,), (6,)) and y.shape == (4, 6)
    np.testing.assert_array_equal(y.compute(), 2 * x)
    S = pld.FunctionOperator(lambda x: np.asarray(x).sum(axis=1), (4,), (4, 6))
    ys = S @ xd
    assert ys.shape == (4,)
    np.testing.assert_allclose(ys.compute(), x.sum(axis=1))


def test_function_in_products_has_no_kernel():
    M = rand((5, 4), "complex128", seed=3)
    f, fc = _along0(M)
    Op = pld.FunctionOperator(f, fc, (5, 6), (4, 6), dtype="complex128")
    d = rand((5, 6), "complex128", seed=5)
    P = pld.Diagonal(d, dtype="complex128") @ Op
    for op in (Op, P):
        with pytest.raises(NoChunkKernel, match="FunctionOperator"):
            op.chunk_kernel()
    POp = pylops.Diagonal(d.ravel(), dtype="complex128") @ pylops.FunctionOperator(
        _flat(f, (4, 6)), _flat(fc, (5, 6)), 30, 24, dtype="complex128")
    assert_like_pylops(P, POp, (2, 3), "complex128")


def test_function_bad_calls():
    f = lambda v: v  # noqa: E731
    calls = r"call as FunctionOperator\(f, n\), FunctionOperator\(f, n, m\)"
    with pytest.raises(TypeError, match=r"FunctionOperator: got 0 positional arguments after f; " + calls):
        pld.FunctionOperator(f)
    with pytest.raises(TypeError, match=r"got 4 positional arguments after f"):
        pld.FunctionOperator(f, f, 3, 4, 5)
    with pytest.raises(TypeError, match=r"FunctionOperator: f must be callable, got int"):
        pld.FunctionOperator(3, 4)
    with pytest.raises(TypeError, match=r"FunctionOperator: fc must be callable or None, got str"):
        pld.FunctionOperator(f, "g", 4, 4)
    with pytest.raises(TypeError, match=r"FunctionOperator: n must be an int or a tuple of ints, "
                                        r"got 2\.5"):
        pld.FunctionOperator(f, 2.5)
    with pytest.raises(TypeError, match=r"FunctionOperator: m must be an int or a tuple of ints, "
                                        r"got \(\)"):
        pld.FunctionOperator(f, f, 3, ())
    with pytest.raises(TypeError, match="dims"):  # PyLops ignores unknown keywords; we do not
        pld.FunctionOperator(f, 3, dims=3)


def test_function_bad_results():
    x = da.ones(4, chunks=2)
    with pytest.raises(ValueError, match=r"FunctionOperator\('F'\): f returned an array of shape "
                                         r"\(3,\); expected shape \(4,\) \(or 4 elements\)"):
        (pld.FunctionOperator(lambda v: v[:3], 4) @ x).compute()
    with pytest.raises(TypeError, match=r"FunctionOperator\('F'\): fc returned list; expected a "
                                        r"NumPy or CuPy array"):
        (pld.FunctionOperator(lambda v: v, lambda v: [1.0] * 4, 4).H @ x).compute()


# --- MemoizeOperator -------------------------------------------------------------------------

def _counted(monkeypatch, Op, method):
    """Record the inputs of ``Op.<method>`` (an instance attribute shadows the method)."""
    calls = []
    bound = getattr(Op, method)

    def counting(x):
        calls.append(x)
        return bound(x)

    monkeypatch.setattr(Op, method, counting)
    return calls


@pytest.mark.parametrize("chunks", [(4, 3), (2, 2), (3, 1)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_memoize_like_pylops(chunks, dtype):
    A = rand((5, 4), dtype, seed=3)
    Op = pld.MatrixMult(A, otherdims=3, dtype=dtype)
    M = pld.MemoizeOperator(Op)
    POp = pylops.MemoizeOperator(pylops.MatrixMult(A, otherdims=3, dtype=dtype))
    assert (M.dims, M.dimsd, M.shape, M.dtype) == (Op.dims, Op.dimsd, POp.shape, np.dtype(dtype))
    assert_like_pylops(M, POp, chunks, dtype)
    assert M.neval >= 2 and M.max_neval == 10


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_memoize_evals_like_pylops(dtype):
    # PyLops' own sequence (in-memory inputs, compared by value)
    A = rand((11, 11), dtype, seed=3)
    M = pld.MemoizeOperator(pld.MatrixMult(A, dtype=dtype), max_neval=2)
    PM = pylops.MemoizeOperator(pylops.MatrixMult(A, dtype=dtype), max_neval=2)
    inputs = [np.ones(11), np.ones(11), np.ones(11), np.full(11, 2.0), np.full(11, 3.0), np.ones(11)]
    for x, neval in zip(inputs, [1, 1, 1, 2, 3, 4]):
        y, py = M @ x, PM @ x
        assert (M.neval, PM.neval) == (neval, neval)
        np.testing.assert_allclose(y.compute(), py, rtol=1e-5)


def test_memoize_dask_inputs_by_name(monkeypatch):
    A = rand((5, 4), "float64", seed=3)
    Op = pld.MatrixMult(A)
    calls = _counted(monkeypatch, Op, "matvec")
    M = pld.MemoizeOperator(Op, max_neval=5)
    x = rand(4, "float64", seed=1)
    with dask.config.set(scheduler=_no_compute):  # comparing names computes nothing
        y1 = M @ da.from_array(x, chunks=2)
        y2 = M @ da.from_array(x, chunks=2)  # equal data and chunks: equal name
        assert y2 is y1 and len(calls) == 1 and M.neval == 1
        y3 = M @ da.from_array(x, chunks=3)  # other chunks, other name: evaluated
        y4 = M @ (da.from_array(x, chunks=2) * 1.0)
        assert len(calls) == 3 and M.neval == 3
        y5 = M @ (da.from_array(x, chunks=2) * 1.0)  # the same expression again
        assert y5 is y4 and len(calls) == 3
    for y in (y1, y3, y4):
        np.testing.assert_allclose(y.compute(), A @ x)


def test_memoize_adjoint_remembered_apart(monkeypatch):
    A = rand((5, 4), "complex128", seed=3)
    Op = pld.MatrixMult(A, dtype="complex128")
    fcalls, rcalls = _counted(monkeypatch, Op, "matvec"), _counted(monkeypatch, Op, "rmatvec")
    M = pld.MemoizeOperator(Op)
    x = rand(4, "complex128", seed=1)
    y = M @ da.from_array(x, chunks=2)
    # rmatvec(y) is Op^H y, not the x that gave y (which PyLops' shared store returns)
    xa = M.rmatvec(y)
    assert (len(fcalls), len(rcalls)) == (1, 1)
    np.testing.assert_allclose(xa.compute(), A.conj().T @ (A @ x))
    assert not np.allclose(xa.compute(), x)
    assert M.rmatvec(y) is xa and (M.H @ y) is xa and len(rcalls) == 1
    # and the pair (Op^H y, y) does not answer a forward of Op^H y
    M @ xa
    assert len(fcalls) == 2 and M.neval == 3


def test_memoize_store_and_eviction():
    A = rand((5, 4), "float64", seed=3)
    M = pld.MemoizeOperator(pld.MatrixMult(A), max_neval=2)
    xs = [da.from_array(rand(4, "float64", seed=s), chunks=2) for s in range(3)]
    ys = [M @ x for x in xs]
    assert M.neval == 3 and len(M.store) == 2
    assert [m.name for m, _ in M.store] == [xs[1].name, xs[2].name]  # the oldest forgotten
    assert M.store[1][1] is ys[2]
    assert (M @ xs[2]) is ys[2] and M.neval == 3
    assert (M @ xs[0]) is not ys[0] and M.neval == 4  # forgotten: evaluated again
    xa = M.H @ ys[2]
    assert M.store[-1][0] is xa and M.store[-1][1] is ys[2]  # (model, data) pairs
    # no limit
    Mi = pld.MemoizeOperator(pld.MatrixMult(A), max_neval=np.inf)
    xs = [da.from_array(rand(4, "float64", seed=s), chunks=2) for s in range(15)]
    first = [Mi @ x for x in xs]
    assert all((Mi @ x) is y for x, y in zip(xs, first)) and Mi.neval == 15 and len(Mi.store) == 15


def test_memoize_numpy_inputs_by_value():
    A = rand((5, 4), "float64", seed=3)
    M = pld.MemoizeOperator(pld.MatrixMult(A, otherdims=3))
    x = rand((4, 3), "float64", seed=1)
    x0 = x.copy()
    y1 = M @ x
    x *= 2  # changed in place after the call: neither the memory nor y1 changes
    y2 = M @ x
    assert M.neval == 2 and y2 is not y1
    np.testing.assert_allclose(y1.compute(), A @ x0)
    np.testing.assert_allclose(y2.compute(), A @ x)
    assert (M @ (x + 1e-12)) is y2 and M.neval == 2  # allclose, as in PyLops
    assert (M @ x.copy()) is y2
    yf = M @ x.ravel()  # same values, other shape (and output shape): evaluated
    assert yf.shape == (15,) and M.neval == 3
    y32 = M @ x.astype("float32")  # other dtype: evaluated
    assert M.neval == 4 and y32.dtype == np.float64
    yc = M.H @ rand((5, 3), "float64", seed=2)
    assert yc.shape == (4, 3) and M.neval == 5


def test_memoize_inside_stack_evaluates_once(monkeypatch):
    # PyLops' use: real and imaginary parts of one complex operator, one evaluation
    A = rand((5, 4), "complex128", seed=3)
    Op = pld.MatrixMult(A, dtype="complex128")
    calls = _counted(monkeypatch, Op, "matvec")
    M = pld.MemoizeOperator(Op)
    S = pld.VStack([pld.Real(5) @ M, pld.Imag(5) @ M])
    for op in (M, S):
        with pytest.raises(NoChunkKernel):
            op.chunk_kernel()
    x = rand(4, "float64", seed=1)
    y = S @ da.from_array(x, chunks=2)
    assert len(calls) == 1 and M.neval == 1
    np.testing.assert_allclose(y.compute(), np.concatenate([(A @ x).real, (A @ x).imag]))


def test_memoize_pylops_operator_and_bad_max_neval():
    A = rand((5, 4), "float64", seed=3)
    M = pld.MemoizeOperator(pylops.MatrixMult(A), max_neval=1)
    assert isinstance(M.Op, pld.FromPyLops)
    x = rand(4, "float64", seed=1)
    np.testing.assert_allclose((M @ da.from_array(x, chunks=2)).compute(), A @ x)
    for bad in (0, -1, 2.5, True, None):
        with pytest.raises(ValueError, match=r"MemoizeOperator: max_neval must be a positive "
                                             r"integer or np.inf, got .*; e.g. MemoizeOperator\(Op, "
                                             r"max_neval=10\)"):
            pld.MemoizeOperator(pld.MatrixMult(A), max_neval=bad)
    with pytest.raises(TypeError, match="expected a pylops_distributed, PyLops"):
        pld.MemoizeOperator("A")


# --- ToCupy (CPU side) -----------------------------------------------------------------------

def _numpy_as_cupy():
    """A stand-in for the cupy module whose arrays are NumPy arrays: ToCupy's graph checked
    without a GPU (its arrays are plain NumPy, so dask's CuPy dispatch is never touched)."""
    mod = types.ModuleType("cupy")
    mod.asarray, mod.asnumpy, mod.empty = np.asarray, np.asarray, np.empty
    return mod


def test_tocupy_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails, installed or not
    Op = pld.ToCupy((4, 6), dtype="float32")  # building needs no CuPy
    assert (Op.dims, Op.dimsd, Op.shape, Op.dtype, Op.name) == ((4, 6), (4, 6), (24, 24),
                                                                 np.float32, "C")
    POp = pylops.ToCupy((4, 6), dtype="float32")
    assert (POp.dims, POp.dimsd, POp.shape) == (Op.dims, Op.dimsd, Op.shape)
    x = da.from_array(np.arange(24.0).reshape(4, 6), chunks=2)
    for apply in (Op.matvec, Op.rmatvec, Op.H.matvec):  # as PyLops: the input unchanged
        y = apply(x)
        assert isinstance(y._meta, np.ndarray) and y.chunks == x.chunks and y.dtype == np.float64
        np.testing.assert_array_equal(y.compute(), np.arange(24.0).reshape(4, 6))
    np.testing.assert_array_equal((2 * Op).matvec(x).compute().ravel(), POp @ (2 * np.arange(24.0)))


par_cupy = [
    dict(dims=(11,), chunks=4),
    dict(dims=(6, 7), chunks=(2, 3)),
    dict(dims=(4, 3, 5), chunks=(4, 2, 2)),
]


@pytest.mark.parametrize("p", par_cupy)
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_tocupy_graph(p, dtype, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _numpy_as_cupy())
    Op = pld.ToCupy(p["dims"], dtype="float32")
    x = rand(p["dims"], dtype, seed=1)
    xd = da.from_array(x, chunks=p["chunks"]).persist(scheduler="sync")
    with dask.config.set(scheduler=_no_compute):
        fwd, adj = Op @ xd, Op.H @ xd
    want = np.result_type("float32", dtype)
    for out, prefix in ((fwd, "tocupy-"), (adj, "tonumpy-")):
        assert out.name.startswith(prefix)
        assert out.chunks == xd.chunks and out.dtype == want
        assert new_tasks(out, xd) == xd.npartitions  # one task per chunk
    assert (Op @ xd).name == fwd.name  # deterministic keys
    f, a = dask.compute(fwd, adj, scheduler="sync")
    assert f.dtype == a.dtype == want
    np.testing.assert_array_equal(f, x.astype(want))
    np.testing.assert_array_equal(a, x.astype(want))
    yf = Op @ x.ravel()  # flat in, flat out
    assert yf.shape == (x.size,)
    np.testing.assert_array_equal(yf.compute(scheduler="sync"), x.ravel().astype(want))
    with dask.config.set(scheduler="sync"):
        assert dottest(Op, complexflag=3 if np.dtype(dtype).kind == "c" else 0)
