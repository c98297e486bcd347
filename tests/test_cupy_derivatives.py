"""Stencil operators on CuPy chunks (run on the lent GPU: ``pytest -m gpu``)."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.kernels import ChunkKernel, Where  # noqa: E402
from pylops_distributed.signalprocessing import Smoothing1D, Smoothing2D  # noqa: E402

RTOL = {"float32": 1e-4, "float64": 1e-10, "complex64": 1e-4, "complex128": 1e-10}


def _rand(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.iscomplexobj(np.empty(0, dtype)):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _ops(dims, dtype):
    nd = len(dims)
    v = _rand((nd,) + dims, "float64", 7)
    yield (pld.FirstDerivative(dims, axis=0, order=5, edge=True, dtype=dtype),
           pylops.FirstDerivative(dims, axis=0, order=5, edge=True, dtype=dtype))
    yield (pld.FirstDerivative(dims, axis=-1, kind="backward", dtype=dtype),
           pylops.FirstDerivative(dims, axis=-1, kind="backward", dtype=dtype))
    yield (pld.SecondDerivative(dims, axis=1, edge=True, sampling=0.5, dtype=dtype),
           pylops.SecondDerivative(dims, axis=1, edge=True, sampling=0.5, dtype=dtype))
    kw = dict(axes=tuple(range(nd)), weights=(1.0, 2.0, 3.0, 4.0)[:nd],
              sampling=(1.0, 0.5, 2.0, 1.5)[:nd], dtype=dtype)
    yield pld.Laplacian(dims, **kw), pylops.Laplacian(dims, **kw)
    yield (pld.Gradient(dims, kind="forward", dtype=dtype),
           pylops.Gradient(dims, kind="forward", dtype=dtype))
    yield (pld.FirstDirectionalDerivative(dims, v, dtype=dtype),
           pylops.FirstDirectionalDerivative(dims, v, dtype=dtype))
    yield (pld.SecondDirectionalDerivative(dims, v.reshape(nd, -1)[:, 0].copy(), dtype=dtype),
           pylops.SecondDirectionalDerivative(dims, v.reshape(nd, -1)[:, 0].copy(), dtype=dtype))
    yield Smoothing1D(5, dims, axis=0, dtype=dtype), pylops.Smoothing1D(5, dims, axis=0, dtype=dtype)
    yield Smoothing2D((3, 5), dims, dtype=dtype), pylops.Smoothing2D((3, 5), dims, dtype=dtype)


@pytest.mark.parametrize("dims,chunks", [((20, 30), (7, 30)), ((12, 10, 16), (5, 10, 6)),
                                         ((6, 7, 8, 9), (3, 7, 4, 9))])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_like_pylops_on_cupy(dims, chunks, dtype):
    rtol = RTOL[dtype]
    x, y = _rand(dims, dtype, 1), None
    with dask.config.set(scheduler="threads"):
        for Op, POp in _ops(dims, dtype):
            y = _rand(Op.dimsd, dtype, 2)
            xd = da.from_array(cupy.asarray(x), chunks=chunks, asarray=False)
            yd = da.from_array(cupy.asarray(y), chunks=((Op.dimsd[0],) + chunks) if
                               len(Op.dimsd) > len(dims) else chunks, asarray=False)
            fwd, adj = Op @ xd, Op.H @ yd
            assert isinstance(fwd._meta, cupy.ndarray) and isinstance(adj._meta, cupy.ndarray)
            fwd, adj = dask.compute(fwd, adj)
            assert isinstance(fwd, cupy.ndarray) and isinstance(adj, cupy.ndarray)
            np.testing.assert_allclose(cupy.asnumpy(fwd).ravel(), POp @ x.ravel(), rtol=rtol,
                                       atol=rtol * 10, err_msg=Op.label)
            np.testing.assert_allclose(cupy.asnumpy(adj).ravel(), POp.H @ y.ravel(), rtol=rtol,
                                       atol=rtol * 10, err_msg=Op.label + ".H")


def _call(kernel, x, start, stop, xp):
    """The kernel on the output box [start, stop), from the input box it reads (public protocol)."""
    istart, istop = kernel.in_box(start, stop)
    xb = xp.asarray(x[tuple(slice(a, b) for a, b in zip(istart, istop))])
    ops = [xp.asarray(op.data[tuple(slice(a, b) for a, b in zip(*box))])
           for op, box in zip(kernel.operands, kernel.operand_boxes(istart, istop, start, stop))]
    return kernel(xb, *ops, where=Where(istart, start, stop), dtype=kernel.out_dtype(xb.dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_raw_kernel_equals_numpy_kernel(dtype):
    """Each operator's chunk kernel on CuPy (CUDA raw kernels) equals it on NumPy (Numba),
    on a box inside the array and at its edges."""
    dims = (33, 40, 50)
    for Op, _ in _ops(dims, dtype):
        for adj in (False, True):
            kernel = Op.chunk_kernel(adj)
            assert isinstance(kernel, ChunkKernel)
            x = _rand(kernel.dims_in, dtype, 3)
            extra = len(kernel.dims_out) - len(dims)  # Gradient's axis of components
            start, stop = (0,) * extra + (3, 0, 10), kernel.dims_out[:extra] + (20, 40, 50)
            ref = _call(kernel, x, start, stop, np)
            got = _call(kernel, x, start, stop, cupy)
            assert isinstance(got, cupy.ndarray) and got.dtype == ref.dtype
            np.testing.assert_allclose(cupy.asnumpy(got), ref, rtol=RTOL[dtype], atol=RTOL[dtype],
                                       err_msg=f"{Op.label} adjoint={adj}")


def test_raw_kernel_non_contiguous():
    x = cupy.asarray(_rand((30, 40), "float64", 4)).T  # Fortran-ordered chunk
    kernel = pld.Laplacian((40, 30)).chunk_kernel(False)
    got = kernel(x, where=Where((0, 0), (0, 0), (40, 30)), dtype=np.dtype("float64"))
    np.testing.assert_allclose(cupy.asnumpy(got).ravel(),
                               pylops.Laplacian((40, 30)) @ cupy.asnumpy(x).ravel(), rtol=1e-10)


def test_dottest_cupy():
    from pylops_distributed.utils import dottest

    for Op in (pld.Laplacian((20, 30), dtype="complex128", chunks=(7, 10)),
               pld.Gradient((20, 30))):  # chunks= would also wrap the 3-D data: core issue
        with dask.config.set(scheduler="threads"):
            assert dottest(Op, complexflag=3 if Op.dtype.kind == "c" else 0, backend="cupy")
