"""MatrixMult: a dense (NumPy, CuPy, chunked dask) or sparse matrix applied along the first axis."""

import functools
import warnings

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dims, is_array
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, aligned, place
from pylops_distributed.linearoperator import LinearOperator


class MatrixMult(LinearOperator):
    r"""Matrix multiplication :math:`\mathbf{y} = \mathbf{A}\mathbf{x}` along the first axis.

    Parameters
    ----------
    A : numpy.ndarray, cupy.ndarray, dask.array.Array or scipy.sparse matrix
        The matrix, of shape ``(N, M)``. A chunked dask array is applied block by
        block without gathering it: its row chunks become the output chunks and the
        input is rechunked along axis 0 to its column chunks (when they differ).
    otherdims : int or tuple of int, optional
        Extra trailing axes of the model: ``dims = (M, *otherdims)``, ``dimsd = (N, *otherdims)``;
        ``A`` multiplies every vector along axis 0.
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`.
    dtype : str, optional
        Operator dtype (upcast to ``A``'s complex dtype with a warning, as in PyLops).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The product contracts axis 0 of the input, which may be chunked: each task multiplies
    one block of ``A`` by one chunk of the input, and the products of the chunks along the
    contracted axis are summed (an ``additive`` kernel: no gathering of the axis). The output
    is chunked along axis 0 like the rows of a dask ``A`` (its columns in the adjoint), and in
    one chunk for an in-memory ``A``; the other axes keep the input's chunks. Each task gets
    the block of ``A`` under its chunks: an in-memory ``A`` is sliced when the graph is built
    (on a distributed cluster prefer a persisted dask ``A``,
    ``client.persist(da.from_array(A, chunks=...))``, when you apply the operator many times),
    a dask ``A`` gives its own chunks (sliced where the input's chunks do not line up).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> A = da.from_array(np.random.randn(400, 200), chunks=(100, 200))  # 4 row blocks
    >>> Op = pld.MatrixMult(A)
    >>> y = Op @ np.ones(200)                                           # chunks (100,)*4
    >>> y.chunks
    ((100, 100, 100, 100),)
    """

    def __init__(self, A, otherdims=None, forceflat=None, dtype="float64", name="M", chunks=None):
        if not (is_array(A) or _is_sparse(A)) or getattr(A, "ndim", 2) != 2:
            raise TypeError(f"MatrixMult: A must be a 2-D NumPy, CuPy, dask or sparse matrix, got "
                            f"{type(A).__name__} of shape {getattr(A, 'shape', None)}")
        if np.iscomplexobj(np.empty(0, A.dtype)) and not np.iscomplexobj(np.empty(0, dtype)):
            warnings.warn(f"MatrixMult: A is complex, dtype cast to {A.dtype}", stacklevel=2)
            dtype = A.dtype
        otherdims = () if otherdims is None else as_dims(otherdims)
        if _is_sparse(A) and getattr(A, "format", "csr") not in ("csr", "csc"):
            A = A.tocsr()  # COO, DIA, ... cannot be sliced per chunk
        N, M = A.shape
        self.A = A
        self.otherdims = otherdims
        self._sparse = _is_sparse(A)
        self._token = new_token()
        super().__init__((M, *otherdims), (N, *otherdims), dtype, explicit=not otherdims,
                         forceflat=forceflat, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        A = self.A
        n = len(self.dims)
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        in_chunks = None
        if isinstance(A, da.Array):  # never move a chunked matrix: align the input with it
            in_chunks = functools.partial(_rows_like, A.chunks[0 if adjoint else 1])
            rows_out = A.chunks[1 if adjoint else 0]
        else:
            rows_out = (dims_out[0],)
        axes = (("in", 0), ("out", 0)) if adjoint else (("out", 0), ("in", 0))
        return ChunkKernel(
            _matmul_kernel, dims_in, dims_out, name="matrixmult",
            token=f"{self._token}-{int(adjoint)}", params=dict(adjoint=adjoint),
            out_dtype=functools.partial(_dtype, self.dtype, A.dtype),
            region=functools.partial(_contract_region, dims_in[0]),
            chunks=functools.partial(_matmul_chunks, rows_out), in_chunks=in_chunks,
            axes=(None,) + tuple(range(1, n)), operands=[aligned(A, axes)], additive=True)


def _dtype(op_dtype, a_dtype, dtype):
    return np.result_type(op_dtype, a_dtype, dtype)


def _contract_region(n, start, stop):
    """Input box of a product along axis 0: the whole axis, the other axes as the output's."""
    return (0,) + tuple(start[1:]), (n,) + tuple(stop[1:])


def _matmul_chunks(rows_out, chunks):
    return (tuple(rows_out),) + tuple(chunks[1:])


def _rows_like(rows, chunks):
    return (tuple(rows),) + tuple(chunks[1:])


def _matmul_kernel(x, A, *, where, dtype, adjoint):
    """``A @ x`` (``A^H @ x``) along axis 0 of one block; ``A``'s block is cut to the output
    rows and the input rows of this block (maybe a piece of the contracted axis)."""
    if adjoint:  # (conj() copies even a real matrix)
        A = A.conj().T if A.dtype.kind == "c" else A.T
    if x.ndim == 1:  # a matrix-vector product (BLAS gemv), not a product with one column
        y = A @ x
    else:
        y = A @ x.reshape(x.shape[0], -1)
        y = y.reshape((y.shape[0],) + x.shape[1:])
    return place(y, (where.start[0],) + tuple(where.origin[1:]), where.start, where.stop, dtype)


def _is_sparse(A):
    mod = type(A).__module__
    return mod.startswith("scipy.sparse") or mod.startswith("cupyx.scipy.sparse")
