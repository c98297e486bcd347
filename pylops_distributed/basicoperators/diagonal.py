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
        self._shape = tuple(dims)  # the diagonal's shape against the model's axes
        if dims != tuple(diag.shape):
            axis = normalize_axis(axis, len(dims), "Diagonal")
            if diag.size != dims[axis]:
                raise ValueError(f"Diagonal: diag of size {diag.size} does not match "
                                 f"dims[{axis}] = {dims[axis]} of dims {dims}")
            # kept 1-D (no reshape layer in the user's graph): each kernel call reshapes its block
            diag = diag.reshape(-1) if diag.ndim != 1 else diag
            self._shape = tuple(n if a == axis else 1 for a, n in enumerate(dims))
        self.diag, self.axis = diag, axis
        self._diagc = diag.conj() if np.iscomplexobj(np.empty(0, diag.dtype)) else diag
        self._token = new_token()
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        d = self._diagc if adjoint else self.diag
        if self._shape == tuple(d.shape):
            axes, along = [("in", a) for a in range(len(self.dims))], None
        else:
            axes, along = [("in", self.axis)], (self.axis, len(self.dims))
        return ChunkKernel(_diag_kernel, self.dims, self.dims, name="diagonal",
                           token=f"{self._token}-{int(adjoint)}", pointwise=True,
                           params=dict(along=along), operands=[aligned(d, axes)],
                           out_dtype=functools.partial(_dtype, self.dtype, d.dtype))

    def matrix(self):
        """The diagonal as a dense matrix (small operators only)."""
        d = self.diag.compute() if isinstance(self.diag, da.Array) else self.diag
        return np.diag(np.broadcast_to(d.reshape(self._shape), self.dims).ravel())


def _dtype(op_dtype, d_dtype, dtype):
    return np.result_type(op_dtype, d_dtype, dtype)


def _diag_kernel(x, d, *, where, dtype, along):
    """``x * d`` on one block; ``along=(axis, ndim)``: ``d`` is 1-D, broadcast along the
    other axes (else ``d``'s block broadcasts along its length-1 axes)."""
    if along is not None:
        axis, ndim = along
        d = d.reshape(tuple(-1 if a == axis else 1 for a in range(ndim)))
    return (x * d).astype(dtype, copy=False)
