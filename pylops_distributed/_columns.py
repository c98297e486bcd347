"""Products with blocks of columns (``Op.matmat``, ``Op @ eye(n)``): one task per chunk of
columns, each running the operator's chunk kernel on whole columns.

A column of a small block is a small array: one kernel call on it costs microseconds, where a
dask graph per column (built, tokenized, scheduled) costs milliseconds. The matrix ``X`` is
rechunked to whole columns (its rows in one chunk); operand arrays that are dask arrays travel
to the tasks as whole-array dependencies.
"""

import dask.array as da
import numpy as np
from dask.base import tokenize

from pylops_distributed._arrays import get_array_module, meta_like
from pylops_distributed._blocks import slice_wrapped
from pylops_distributed.kernels import Where


def apply_whole(kernel, x, operands, dtype):
    """``kernel`` (a :class:`~pylops_distributed.kernels.ChunkKernel`) on the whole in-memory
    input ``x``, its operands' data given whole (in the kernel's order)."""
    ostart, ostop = (0,) * len(kernel.dims_out), tuple(kernel.dims_out)
    istart, istop = kernel.in_box(ostart, ostop)
    xin = slice_wrapped(x, istart, istop)
    ops = []
    for op, data in zip(kernel.operands, operands):
        start, stop = op.box(istart, istop, ostart, ostop)
        ops.append(data[tuple(slice(a, b) for a, b in zip(start, stop))])
    return kernel(xin, *ops, where=Where(tuple(istart), ostart, ostop), dtype=dtype)


def _columns_block(X, *operands, kernel, out_dtype):
    """One chunk of columns of ``Op X``."""
    xp = get_array_module(X)
    out = xp.empty((int(np.prod(kernel.dims_out)), X.shape[1]), dtype=out_dtype)
    for j in range(X.shape[1]):
        y = apply_whole(kernel, X[:, j].reshape(kernel.dims_in), operands, out_dtype)
        out[:, j] = y.reshape(-1)
    return out


def matmat_kernel(kernel, X):
    """``Op X`` for the dask matrix ``X`` of shape ``(prod(dims_in), k)``: one task per chunk of
    columns of ``X``."""
    X = X.rechunk({0: -1})
    dtype = np.dtype(kernel.out_dtype(X.dtype))
    args, letters = [X, "ij"], iter("abcdefghklmnopqrstuvwxyz")
    for op in kernel.operands:
        if isinstance(op.data, da.Array):  # whole, as one dependency (never aligned with X)
            args += [op.data.rechunk(-1), "".join(next(letters) for _ in range(op.data.ndim))]
        else:
            args += [op.data, None]
    name = f"{kernel.name}-matmat-{tokenize(kernel.token, X.name, dtype)}"
    rows = int(np.prod(kernel.dims_out))
    return da.blockwise(_columns_block, "ij", *args, kernel=kernel.stripped(), out_dtype=dtype, dtype=dtype,
                        adjust_chunks={"i": rows}, concatenate=True,
                        name=name, meta=meta_like(X._meta, dtype, 2))
