"""ToCupy on the GPU (run on the lent GPU): NumPy chunks to CuPy and back, lazily, one task
per chunk, as PyLops' ToCupy does for whole arrays."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import new_tasks, rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

import pylops_distributed as pld  # noqa: E402

par = [
    dict(dims=(11,), chunks=4),
    dict(dims=(6, 7), chunks=(2, 3)),
    dict(dims=(4, 3, 5), chunks=(4, 2, 2)),
]


@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_tocupy_like_pylops(p, dtype):
    Op, POp = pld.ToCupy(p["dims"], dtype=dtype), pylops.ToCupy(p["dims"], dtype=dtype)
    x = rand(p["dims"], dtype, seed=1)
    # forward: NumPy chunks in, CuPy chunks out
    xd = da.from_array(x, chunks=p["chunks"]).persist(scheduler="threads")
    y = Op @ xd
    assert isinstance(y._meta, cp.ndarray), "forward output's chunks are not CuPy"
    assert y.dtype == np.dtype(dtype) and y.chunks == xd.chunks
    assert new_tasks(y, xd) == xd.npartitions  # one cupy.asarray task per chunk
    yc = y.compute(scheduler="threads")
    ref = POp @ x.ravel()
    assert isinstance(yc, cp.ndarray) and isinstance(ref, cp.ndarray)
    cp.testing.assert_array_equal(yc.ravel(), ref)
    # adjoint: CuPy chunks in, NumPy chunks out
    yd = da.from_array(cp.asarray(x), chunks=p["chunks"], asarray=False).persist(scheduler="threads")
    xa = Op.H @ yd
    assert type(xa._meta) is np.ndarray, "adjoint output's chunks are not NumPy"
    assert xa.dtype == np.dtype(dtype) and xa.chunks == yd.chunks
    assert new_tasks(xa, yd) == yd.npartitions
    xac = xa.compute(scheduler="threads")
    pref = POp.H @ cp.asarray(x).ravel()
    assert type(xac) is np.ndarray and type(pref) is np.ndarray
    np.testing.assert_array_equal(xac.ravel(), pref)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_tocupy_dottest(dtype):
    Op = pld.ToCupy((6, 7), dtype=dtype, chunks=(2, 3))
    cflag = 3 if np.dtype(dtype).kind == "c" else 0
    assert pld.utils.dottest(Op, complexflag=cflag, rtol=1e-5, backend="cupy")


def test_tocupy_already_there():
    # forward of CuPy chunks stays CuPy, adjoint of NumPy chunks stays NumPy; dtypes promote
    Op = pld.ToCupy((6, 7), dtype="float64")
    x = rand((6, 7), "float32", seed=2)
    fwd = Op @ da.from_array(cp.asarray(x), chunks=(3, 7), asarray=False)
    adj = Op.H @ da.from_array(x, chunks=(3, 7))
    assert isinstance(fwd._meta, cp.ndarray) and type(adj._meta) is np.ndarray
    assert fwd.dtype == adj.dtype == np.float64
    f, a = fwd.compute(scheduler="threads"), adj.compute(scheduler="threads")
    assert isinstance(f, cp.ndarray) and type(a) is np.ndarray
    np.testing.assert_array_equal(cp.asnumpy(f), x.astype("float64"))
    np.testing.assert_array_equal(a, x.astype("float64"))


def test_tocupy_chain_with_gpu_operator():
    # NumPy data, an operator that acts on CuPy chunks, NumPy result: C^H G C
    dims = (6, 7)
    d = rand(dims, "complex128", seed=3)
    G = pld.Diagonal(cp.asarray(d), dtype="complex128")
    C = pld.ToCupy(dims, dtype="complex128")
    x = rand(dims, "complex128", seed=4)
    xd = da.from_array(x, chunks=(3, 4))
    mid = (G @ C) @ xd
    assert isinstance(mid._meta, cp.ndarray)
    Op = C.H @ G @ C
    y = Op @ xd
    assert type(y._meta) is np.ndarray and y.chunks == xd.chunks
    yc = y.compute(scheduler="threads")
    assert type(yc) is np.ndarray
    np.testing.assert_allclose(yc, d * x, rtol=1e-12)
    xa = (Op.H @ xd).compute(scheduler="threads")
    assert type(xa) is np.ndarray
    np.testing.assert_allclose(xa, d.conj() * x, rtol=1e-12)
    assert pld.utils.dottest(Op, complexflag=3, rtol=1e-10)
