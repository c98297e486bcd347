"""Transpose ... Kronecker on CuPy chunks (run on the lent GPU): PyLops' numbers, CuPy chunks out."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

import pylops_distributed as pld  # noqa: E402


def on_gpu(x, chunks):
    return da.from_array(cp.asarray(x), chunks=chunks, asarray=False)


def check(Op, POp, chunks, dtype, rtol=1e-5, dot=True):
    x, y = rand(Op.dims, dtype, 1), rand(Op.dimsd, dtype, 2)
    fwd = Op @ on_gpu(x, chunks)
    adj = Op.H @ on_gpu(y, chunks if len(Op.dimsd) == len(Op.dims) else "auto")
    assert isinstance(fwd._meta, cp.ndarray) and isinstance(adj._meta, cp.ndarray), "chunks left the GPU"
    f, a = dask.compute(fwd, adj, scheduler="threads")
    assert isinstance(f, cp.ndarray) and isinstance(a, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(f).ravel(), (POp @ x.ravel()).ravel(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(cp.asnumpy(a).ravel(), (POp.H @ y.ravel()).ravel(), rtol=rtol, atol=rtol)
    if dot:
        cflag = 3 if np.iscomplexobj(np.empty(0, np.result_type(dtype, Op.dtype))) else 0
        assert pld.utils.dottest(Op, complexflag=cflag, rtol=1e-4, backend="cupy")


def _pair(name, *args, **kw):
    """The distributed operator and its PyLops twin, built with the same arguments."""
    return getattr(pld, name)(*args, **kw), getattr(pylops, name)(*args, **kw)


CASES = [
    lambda dt: (*_pair("Transpose", (4, 5, 3), (2, 0, 1), dtype=dt), (2, 3, 3)),
    lambda dt: (*_pair("Flip", (6, 7), axis=1, dtype=dt), (3, 3)),
    lambda dt: (*_pair("Roll", (6, 7), axis=1, shift=3, dtype=dt), (3, 3)),
    lambda dt: (*_pair("Symmetrize", (6, 7), axis=1, dtype=dt), (3, 3)),
    lambda dt: (*_pair("Sum", (6, 7), axis=0, dtype=dt), (2, 3)),
    lambda dt: (*_pair("Pad", (6, 7), ((1, 2), (0, 3)), dtype=dt), (4, 3)),
    lambda dt: (pld.Restriction((6, 9), [8, 0, 3, 3], axis=1, dtype=dt),
                pylops.MatrixMult(pylops.Restriction((6, 9), [8, 0, 3, 3], axis=1).todense(), dtype=dt),
                (3, 4)),
    lambda dt: (*_pair("CausalIntegration", (6, 7), axis=1, kind="trapezoidal", dtype=dt), (3, 3)),
    lambda dt: (*_pair("CausalIntegration", (6, 7), axis=0, kind="half", removefirst=True, dtype=dt), (6, 3)),
    # the PyLops factors must hold CuPy data to act on CuPy chunks (as in PyLops)
    lambda dt: (pld.Kronecker(pylops.MatrixMult(cp.arange(15.0).reshape(3, 5), dtype=dt),
                              pylops.FirstDerivative(9, dtype=dt), dtype=dt),
                pylops.Kronecker(pylops.MatrixMult(np.arange(15.0).reshape(3, 5), dtype=dt),
                                 pylops.FirstDerivative(9, dtype=dt), dtype=dt),
                (2, 4)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_cupy_like_pylops(case, dtype):
    Op, POp, chunks = CASES[case](dtype)
    check(Op, POp, chunks, dtype)


@pytest.mark.parametrize("cls", ["Real", "Imag", "Conj"])
def test_cupy_complex_parts(cls):
    check(getattr(pld, cls)((6, 7)), getattr(pylops, cls)((6, 7)), (3, 4), "complex128", dot=False)


def test_cupy_regression():
    t = np.linspace(0.0, 1.0, 20)
    Op = pld.Regression(cp.asarray(t), 2, chunks=6)
    check(Op, pylops.Regression(t, 2), (6,), "float64")
