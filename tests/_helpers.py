"""Test helpers: random inputs and the comparison of an operator with its PyLops twin."""

import itertools

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
        state = np.random.get_state()  # dottest draws from NumPy's global generator: a
        np.random.seed(7)  # fixed draw, whatever ran before (float32 can cancel unluckily)
        try:
            assert dottest(Op, complexflag=cflag, rtol=max(rtol, 1e-6) * 10)
        finally:
            np.random.set_state(state)


def new_tasks(y, *inputs):
    """Tasks that computing ``y`` adds on top of the graphs of ``inputs`` (e.g. persisted arrays)."""
    known = set().union(*[dict(v.__dask_graph__()) for v in inputs])
    return len(set(dict(y.__dask_graph__())) - known)


def _cut_wrapped(a, start, stop):
    """``a`` on the global box ``[start, stop)``, coordinates wrapping around the axes."""
    idx = np.ix_(*[np.arange(s, e) % n if n else np.arange(0) for s, e, n in zip(start, stop, a.shape)])
    return a[idx]


def _computed(a):
    return a.compute() if isinstance(a, da.Array) else np.asarray(a)


def check_kernel_boxes(Op, POp, adjoint, dtype, boxes, seed=5):
    """``Op``'s kernel (or its adjoint's) evaluated straight on the output ``boxes`` equals
    PyLops' ``POp`` there.

    Each call gets the input box its region asks for (wrapped on periodic axes, inside the
    array otherwise) and the operands cut by their boxes; the result must have the box's
    shape and the kernel's output dtype, be a new array (no memory shared with the input or
    an operand) and leave the input untouched. An additive kernel is also evaluated on the
    pieces of its input box cut in two along every axis, and the pieces' results must add up.
    """
    from pylops_distributed.kernels import Where

    k = Op.chunk_kernel(adjoint)
    x = rand(k.dims_in, dtype, seed=seed)
    ref = np.asarray((POp.H if adjoint else POp) @ x.ravel()).reshape(k.dims_out)
    out_dtype = k.out_dtype(np.dtype(dtype))
    rtol = max(RTOL[np.dtype(dtype).name], RTOL.get(np.dtype(out_dtype).name, 1e-4))
    operands = [_computed(op.data) for op in k.operands]

    def call(istart, istop, start, stop):
        if not k.periodic:
            assert all(0 <= a <= b <= n for a, b, n in zip(istart, istop, k.dims_in)), (istart, istop)
        xb = _cut_wrapped(x, istart, istop)
        before = xb.copy()
        ops = [_cut_wrapped(d, *b) for d, b in zip(operands, k.operand_boxes(istart, istop, start, stop))]
        y = k(xb, *ops, where=Where(tuple(istart), tuple(start), tuple(stop)), dtype=out_dtype)
        assert y.shape == tuple(b - a for a, b in zip(start, stop)), (y.shape, start, stop)
        assert y.dtype == out_dtype, (y.dtype, out_dtype)
        assert not any(np.shares_memory(y, a) for a in [xb] + ops), "the kernel returned a view"
        np.testing.assert_array_equal(xb, before)
        return y

    for start, stop in boxes:
        want = ref[tuple(slice(a, b) for a, b in zip(start, stop))]
        istart, istop = k.in_box(start, stop)
        y = call(istart, istop, start, stop)
        np.testing.assert_allclose(y, want, rtol=rtol, atol=rtol * max(1.0, float(np.abs(ref).max())))
        if k.additive:
            halves = [((a, (a + b) // 2), ((a + b) // 2, b)) for a, b in zip(istart, istop)]
            total = 0
            for combo in itertools.product(*halves):
                total = total + call(tuple(c[0] for c in combo), tuple(c[1] for c in combo), start, stop)
            np.testing.assert_allclose(total, want, rtol=rtol, atol=rtol * max(1.0, float(np.abs(ref).max())))
