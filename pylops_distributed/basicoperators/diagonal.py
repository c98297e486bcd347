"""Diagonal: element-wise multiplication by a vector, broadcast along an axis."""

import functools

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dims, is_array, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, aligned
from pylops_distributed.linearoperator import LinearOperator


class Diagonal(LinearOperator):
    r"""Element-wise multiplication :math:`\mathbf{y} = \mathrm{diag}(\mathbf{d})\,\mathbf{x}`.

    Parameters
    ----------
    diag : numpy.ndarray, cupy.ndarray or dask.array.Array
        The diagonal. Without ``dims`` it has the model's shape; with ``dims`` it is
        1-D of length ``dims[axis]`` and is broadcast along the other axes.
    dims : int or tuple of int, optional
        Model shape (default ``diag.shape``).
    axis : int, optional
        Axis of ``dims`` that a 1-D ``diag`` runs along.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    One multiplication task per chunk (a pointwise kernel): each task gets the slice of
    ``diag`` under its chunk (cut from an in-memory ``diag`` when the graph is built, or
    taken from the chunks of a dask ``diag``, with a thin slicing task where its chunks
    and the input's do not line up).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> D = pld.Diagonal(np.array([1.0, 2.0, 3.0]), dims=(3, 2), axis=0)
    >>> (D @ da.ones((3, 2), chunks=1)).compute()
    array([[1., 1.],
           [2., 2.],
           [3., 3.]])
    """

    def __init__(self, diag, dims=None, axis=-1, dtype="float64", name="D", chunks=None):
        if not is_array(diag):
            raise TypeError(f"Diagonal: diag must be a NumPy, CuPy or dask array, got {type(diag).__name__}")
        dims = tuple(diag.shape) if dims is None else as_dims(dims)
        if dims != tuple(diag.shape):
            axis = normalize_axis(axis, len(dims), "Diagonal")
            if diag.size != dims[axis]:
                raise ValueError(f"Diagonal: diag of size {diag.size} does not match "
                                 f"dims[{axis}] = {dims[axis]} of dims {dims}")
            shape = [1] * len(dims)
            shape[axis] = dims[axis]
            diag = diag.reshape(shape)
        self.diag, self.axis = diag, axis
        self._diagc = diag.conj() if np.iscomplexobj(np.empty(0, diag.dtype)) else diag
        self._token = new_token()
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        d = self._diagc if adjoint else self.diag
        return ChunkKernel(_diag_kernel, self.dims, self.dims, name="diagonal",
                           token=f"{self._token}-{int(adjoint)}", pointwise=True,
                           operands=[aligned(d, [("in", a) for a in range(len(self.dims))])],
                           out_dtype=functools.partial(_dtype, self.dtype, d.dtype))

    def matrix(self):
        """The diagonal as a dense matrix (small operators only)."""
        d = self.diag.compute() if isinstance(self.diag, da.Array) else self.diag
        return np.diag(np.broadcast_to(d, self.dims).ravel())


def _dtype(op_dtype, d_dtype, dtype):
    return np.result_type(op_dtype, d_dtype, dtype)


def _diag_kernel(x, d, *, where, dtype):
    """``x * d`` on one block (``d``'s block broadcast along its length-1 axes)."""
    return (x * d).astype(dtype, copy=False)
