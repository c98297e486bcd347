"""Test helpers: random inputs and the comparison of an operator with its PyLops twin."""

import dask.array as da
import numpy as np

from pylops_distributed import StackedArray
from pylops_distributed.stacked import compute_all
from pylops_distributed.utils import dottest

DTYPES = ["float32", "float64", "complex128"]
RTOL = {"float32": 1e-4, "float64": 1e-10, "complex64": 1e-4, "complex128": 1e-10}


def rand(shape, dtype, seed=0):
    """Random array (never zeros or ones) of ``shape`` and ``dtype``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.iscomplexobj(np.empty(0, dtype)):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def assert_like_pylops(Op, POp, chunks, dtype, rtol=None, check_dot=True):
    """Forward and adjoint of ``Op`` on ``chunks``-chunked random inputs equal PyLops' ``POp``.

    Also checks output shapes, the chunk type (``_meta``) and the dot test.
    """
    rtol = RTOL[np.dtype(dtype).name] if rtol is None else rtol
    x = rand(Op.dims, dtype, seed=1)
    y = rand(Op.dimsd, dtype, seed=2)
    xd = da.from_array(x, chunks=chunks)
    yd = da.from_array(y, chunks=chunks if len(Op.dimsd) == len(Op.dims) else "auto")
    fwd, adj = Op @ xd, Op.H @ yd
    for out, dims in ((fwd, Op.dimsd), (adj, Op.dims)):
        if isinstance(out, StackedArray):
            assert out.size == int(np.prod(dims))
        else:
            assert out.shape == tuple(dims), (out.shape, dims)
            assert isinstance(out._meta, np.ndarray)
    fwd_c, adj_c = compute_all(fwd, adj)
    atol = rtol * max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(np.asarray(fwd_c).ravel(), (POp @ x.ravel()).ravel(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(np.asarray(adj_c).ravel(), (POp.H @ y.ravel()).ravel(), rtol=rtol, atol=atol)
    if check_dot:
        cflag = 3 if np.iscomplexobj(np.empty(0, np.result_type(dtype, Op.dtype))) else 0
        assert dottest(Op, complexflag=cflag, rtol=max(rtol, 1e-6) * 10)


def new_tasks(y, *inputs):
    """Tasks that computing ``y`` adds on top of the graphs of ``inputs`` (e.g. persisted arrays)."""
    known = set().union(*[dict(v.__dask_graph__()) for v in inputs])
    return len(set(dict(y.__dask_graph__())) - known)
