"""ToCupy: moves the chunks of an array to the GPU (forward) and back (adjoint)."""

import dask.array as da
import numpy as np

from pylops_distributed._arrays import result_dtype
from pylops_distributed.linearoperator import LinearOperator


class ToCupy(LinearOperator):
    r"""Convert to CuPy: NumPy chunks to CuPy chunks in forward, back to NumPy in adjoint
    (PyLops' ``ToCupy``).

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The operator is the identity on the numbers; it changes where they live. Forward maps
    each chunk with ``cupy.asarray``, adjoint with ``cupy.asnumpy``: one task per chunk, the
    chunks kept, the output's ``_meta`` a CuPy (forward) or NumPy (adjoint) array, and
    nothing computed until asked. Use it to chain operators of which only some act on CuPy
    chunks, e.g. ``GPUOp @ ToCupy(dims)`` on NumPy data.

    Outputs have the dtype ``result_type(dtype, input dtype)``, as every operator here
    (PyLops keeps the input's dtype). The operator has no per-chunk kernel: kernels keep
    the chunks' array module, which this operator changes; inside products and sums it is
    applied with dask.array expressions. Without CuPy, as PyLops' ``ToCupy``, both
    directions return the input unchanged (NumPy chunks).

    See Also
    --------
    pylops_distributed.utils.dottest : ``backend="cupy"`` for operators with CuPy chunks.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.ToCupy((4, 6))
    >>> Op
    <24x24 ToCupy('C') dims=(4, 6) dimsd=(4, 6) dtype=float64 chunks=auto>

    ``Op @ da.ones((4, 6), chunks=2)`` then has one ``cupy.asarray`` task per chunk (with
    CuPy installed; without it, the input unchanged).
    """

    def __init__(self, dims, dtype="float64", name="C", chunks=None):
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _matvec(self, x):
        cupy = _cupy()
        dtype = result_dtype(self.dtype, x.dtype)
        if cupy is None:
            return x.astype(dtype)
        return da.map_blocks(_to_cupy, x, out_dtype=dtype, dtype=dtype, token="tocupy",
                             meta=cupy.empty((0,) * x.ndim, dtype=dtype))

    def _rmatvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype)
        if _cupy() is None:
            return x.astype(dtype)
        return da.map_blocks(_to_numpy, x, out_dtype=dtype, dtype=dtype, token="tonumpy",
                             meta=np.empty((0,) * x.ndim, dtype=dtype))


def _cupy():
    """The CuPy module, or None where it is not installed."""
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def _to_cupy(block, out_dtype):
    """One chunk on the GPU (a no-op for a CuPy chunk of ``out_dtype``)."""
    import cupy

    return cupy.asarray(block, dtype=out_dtype)


def _to_numpy(block, out_dtype):
    """One chunk in host memory (a no-op for a NumPy chunk of ``out_dtype``)."""
    import cupy

    return cupy.asnumpy(block).astype(out_dtype, copy=False)
