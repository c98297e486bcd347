"""Diagonal: element-wise multiplication by a vector, broadcast along an axis."""

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dims, is_array, normalize_axis, result_dtype
from pylops_distributed._graph import map_chunks, new_token
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
    One multiplication task per chunk: an in-memory ``diag`` is sliced inside each
    task; a dask ``diag`` whose chunks differ from the input's is aligned by dask
    (rechunked).

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

    def _multiply(self, d, x):
        dtype = result_dtype(self.dtype, d.dtype, x.dtype)
        if isinstance(d, da.Array):
            return (x * d).astype(dtype, copy=False)
        # in-memory diag: each task multiplies its chunk by the matching slice (no rechunk)
        return map_chunks(_multiply_chunk, x, d, dtype, prefix="diagonal", token=self._token,
                          dtype=dtype)

    def _matvec(self, x):
        return self._multiply(self.diag, x)

    def _rmatvec(self, x):
        return self._multiply(self._diagc, x)

    def matrix(self):
        """The diagonal as a dense matrix (small operators only)."""
        d = self.diag.compute() if isinstance(self.diag, da.Array) else self.diag
        return np.diag(np.broadcast_to(d, self.dims).ravel())


def _multiply_chunk(chunk, d, dtype, block_info=None):
    loc = block_info[0]["array-location"]
    piece = d[tuple(slice(None) if n == 1 else slice(a, b) for n, (a, b) in zip(d.shape, loc))]
    return (chunk * piece).astype(dtype, copy=False)
