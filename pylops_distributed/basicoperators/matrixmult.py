"""MatrixMult: a dense (NumPy, CuPy, chunked dask) or sparse matrix applied along the first axis."""

import warnings

import dask.array as da
import numpy as np

from dask.base import tokenize

from pylops_distributed._arrays import as_dims, is_array, meta_like, result_dtype
from pylops_distributed._graph import map_chunks, new_token
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
    Forward: one ``A`` block times one ``x`` block per task, then a sum over the
    column blocks of ``A``. A chunked dask ``A`` never moves: the input is
    rechunked along axis 0 to its column chunks when they differ. An in-memory
    ``A`` is sliced to the input's chunks. On a distributed cluster pass a persisted dask ``A``
    (``client.persist(da.from_array(A, chunks=...))``) when you apply the operator
    many times: a NumPy ``A`` travels inside every graph.

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
        N, M = A.shape
        self.A = A
        self.otherdims = otherdims
        self._sparse = _is_sparse(A)
        self._token = new_token()
        super().__init__((M, *otherdims), (N, *otherdims), dtype, explicit=not otherdims,
                         forceflat=forceflat, name=name, chunks=chunks)

    @property
    def chunks_in(self):
        if isinstance(self.A, da.Array) and len(self.A.chunks[1]) > 1:
            return (self.A.chunks[1],)
        return None

    @property
    def chunks_out(self):
        if isinstance(self.A, da.Array) and len(self.A.chunks[0]) > 1:
            return (self.A.chunks[0],)
        return None

    def _apply_matrix(self, x, adjoint):
        A = self.A
        dtype = result_dtype(self.dtype, A.dtype, x.dtype)
        if self._sparse:
            A = A.conj().T.tocsr() if adjoint else A
            x = x.rechunk({0: -1})
            chunks = ((A.shape[0],),) + x.chunks[1:]
            return map_chunks(_sparse_chunk, x, A, prefix="matrixmult", token=self._token,
                              dtype=dtype, chunks=chunks)
        axis = 0 if adjoint else 1  # the axis of A contracted with x
        if isinstance(A, da.Array):  # never move a chunked matrix: align the vector to it
            x = x.rechunk({0: A.chunks[axis]})
        else:  # in-memory matrix: cut it like the vector's chunks (one slice a chunk)
            chunks = [A.shape[0], A.shape[1]]
            chunks[axis] = x.chunks[0]
            A = da.from_array(A, chunks=tuple(chunks), asarray=False,
                              name=f"matrixmult-A-{tokenize(self._token, chunks)}")
        a_ind, other = ("ji" if adjoint else "ij"), tuple("klmnopqrstuvw"[:x.ndim - 1])
        name = f"matrixmult-{tokenize(self._token, x.name, adjoint)}"
        meta = meta_like(x, dtype)
        if len(x.chunks[0]) == 1:  # one block along the contraction: one task per output chunk
            return da.blockwise(_matmul_block, ("i", *other), A, a_ind, x, ("j", *other),
                                adjoint=adjoint, contracted=False, concatenate=True, dtype=dtype,
                                meta=meta, name=name)
        partial = da.blockwise(_matmul_block, ("i", "j", *other), A, a_ind, x, ("j", *other),
                               adjoint=adjoint, contracted=True, dtype=dtype, meta=meta, name=name)
        return partial.sum(axis=1, dtype=dtype)

    def _matvec(self, x):
        return self._apply_matrix(x, False)

    def _rmatvec(self, x):
        return self._apply_matrix(x, True)


def _matmul_block(a, x, adjoint, contracted):
    """``a @ x`` (``a^H @ x`` for the adjoint) along x's first axis; with ``contracted`` the
    result keeps a length-1 axis 1 for the sum over blocks that follows."""
    if adjoint:
        a = a.conj().T
    y = (a @ x.reshape(x.shape[0], -1)).reshape((a.shape[0],) + x.shape[1:])
    return y[:, None] if contracted else y


def _is_sparse(A):
    mod = type(A).__module__
    return mod.startswith("scipy.sparse") or mod.startswith("cupyx.scipy.sparse")


def _sparse_chunk(chunk, A):
    out = A @ chunk.reshape(chunk.shape[0], -1)
    return out.reshape((A.shape[0],) + chunk.shape[1:])
