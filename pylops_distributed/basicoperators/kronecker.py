"""Kronecker: the Kronecker product of two operators, applied as Op1 X Op2^T."""

import functools

import dask
import numpy as np
import pylops

from pylops_distributed._arrays import as_dask, is_cupy, result_dtype
from pylops_distributed._graph import new_token
from pylops_distributed.basicoperators.matrixmult import MatrixMult
from pylops_distributed.frompylops import FromPyLops
from pylops_distributed.kernels import ChunkKernel, NoChunkKernel, aligned
from pylops_distributed.linearoperator import LinearOperator, _is_pylops


class Kronecker(LinearOperator):
    r"""Kronecker product :math:`\mathbf{Op}_1 \otimes \mathbf{Op}_2`.

    With the model as a matrix :math:`\mathbf{X}` of shape ``(Op1.shape[1], Op2.shape[1])``
    (row-major, as PyLops reshapes the flat vector), the data is
    :math:`\mathbf{Y} = \mathbf{Op}_1 \mathbf{X} \mathbf{Op}_2^T` of shape
    ``(Op1.shape[0], Op2.shape[0])``; the adjoint is
    :math:`\mathbf{Op}_1^H \mathbf{Y} (\mathbf{Op}_2^H)^T`.

    Parameters
    ----------
    Op1, Op2 : pylops.LinearOperator or pylops_distributed.LinearOperator
        The two factors. Two dense in-memory matrices (``pylops.MatrixMult`` or
        :class:`~pylops_distributed.MatrixMult` of a NumPy/CuPy array, also wrapped in
        :class:`~pylops_distributed.FromPyLops`) are multiplied directly, two products a
        chunk. Other PyLops operators are applied chunk by chunk (as
        :class:`~pylops_distributed.FromPyLops`); a distributed operator that wraps a
        whole PyLops operator is unwrapped, any other distributed operator is
        evaluated inside each task on that task's columns (dask's synchronous
        scheduler, so it must not hold persisted data of a distributed cluster).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    TypeError
        If ``Op1`` or ``Op2`` is not a linear operator.

    Notes
    -----
    ``dims = (Op1.shape[1], Op2.shape[1])`` and ``dimsd = (Op1.shape[0], Op2.shape[0])``
    (PyLops' flat ``(prod,)`` vectors are accepted and returned flat).

    **Two dense matrices** :math:`\mathbf{A}` (``Op1``) and :math:`\mathbf{B}` (``Op2``):
    the operator has a chunk kernel, :math:`\mathbf{Y} = \mathbf{A}\mathbf{X}\mathbf{B}^T`
    (adjoint :math:`\mathbf{A}^H\mathbf{Y}\overline{\mathbf{B}}`) evaluated on row slabs:
    axis 1 is read whole (an input chunked along it is first rechunked to one chunk
    there, one visible step), axis 0 keeps its chunks and is contracted piece by piece
    (an ``additive`` kernel, as :class:`~pylops_distributed.MatrixMult`): the output slab
    of rows ``o`` is :math:`\sum_i \mathbf{A}_{oi}\mathbf{X}_i\mathbf{B}^T`, one task per
    pair of output and input slab and a sum, each product in the cheaper of its two
    associations. The output has as many row chunks as the input (the input's own chunks
    where the shapes agree), of dtype ``result_type(dtype, A.dtype, B.dtype, x.dtype)``
    (PyLops', whose products promote with the matrices). An input in one chunk costs two
    small matrix products, and the solvers fuse the kernel into their iterations. The
    matrices travel with the tasks.

    **Other factors** have no per-chunk kernel (:meth:`chunk_kernel` raises
    :class:`~pylops_distributed.kernels.NoChunkKernel`): an output chunk needs both axes
    of the input whole (``Op1`` along axis 0, ``Op2`` along axis 1), so the operator is
    applied in two stages, each one task per chunk and each the kernel of a
    :class:`~pylops_distributed.FromPyLops`: the factor whose axis has fewer chunks is
    applied first (its axis is merged into one chunk, a concatenation per chunk of the
    other axis), then the other axis is gathered by one all-to-all rechunk into
    ``max(a, b)`` chunks along the first axis, where ``a, b`` are the input's chunk
    counts along the two axes, and the second factor is applied. The rechunk is about
    ``max(a, b)**2`` small slicing tasks (``a * b`` for a square chunk grid): every
    output depends on every input, so some exchange of this size cannot be avoided.
    The solvers then use their plain dask.array backend (they log a warning).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> A, B = np.arange(6.0).reshape(2, 3), np.arange(8.0).reshape(4, 2)
    >>> Op = pld.Kronecker(pylops.MatrixMult(A), pylops.MatrixMult(B))
    >>> Op.dims, Op.dimsd
    ((3, 2), (2, 4))
    >>> x = np.arange(6.0)
    >>> np.allclose((Op @ x).compute(), np.kron(A, B) @ x)
    True
    """

    def __init__(self, Op1, Op2, dtype="float64", name="K", chunks=None):
        self.Op1, self.Op2 = Op1, Op2
        P1, P2 = _as_pylops(Op1, "Op1"), _as_pylops(Op2, "Op2")
        (N1, M1), (N2, M2) = P1.shape, P2.shape
        # the dense matrices, when both factors are one (None otherwise)
        A, B = _dense_matrix(Op1), _dense_matrix(Op2)
        self._matrices = (A, B) if A is not None and B is not None else None
        self._token = new_token()
        # Op1 along axis 0 and Op2 along axis 1, on each shape they can meet (model, data
        # or an intermediate); built once so that repeated applies give the same task names
        self._op1_model = FromPyLops(P1, dims=(M1, M2), axes=0)   # on (M1, M2) <-> (N1, M2)
        self._op1_data = FromPyLops(P1, dims=(M1, N2), axes=0)    # on (M1, N2) <-> (N1, N2)
        self._op2_model = FromPyLops(P2, dims=(M1, M2), axes=1)   # on (M1, M2) <-> (M1, N2)
        self._op2_data = FromPyLops(P2, dims=(N1, M2), axes=1)    # on (N1, M2) <-> (N1, N2)
        super().__init__((M1, M2), (N1, N2), dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        if self._matrices is None:
            raise NoChunkKernel(
                f"{self.label} has no chunk kernel: each output chunk needs both axes of the "
                "input whole (Op1 acts along axis 0, Op2 along axis 1); it is applied in two "
                "stages with an all-to-all rechunk between them (only two dense matrices, "
                "MatrixMult of NumPy/CuPy arrays, have a kernel)")
        A, B = self._matrices
        if adjoint:  # A^H Y conj(B) = A^H Y (B^H)^T: the forward's maths with A^H and B^H
            A, B = _herm(A), _herm(B)
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        return ChunkKernel(
            _kronecker_kernel, dims_in, dims_out, name="kronecker",
            token=f"{self._token}-{int(adjoint)}",
            out_dtype=functools.partial(_dtype, np.result_type(self.dtype, A.dtype, B.dtype)),
            region=functools.partial(_whole_box, dims_in),
            chunks=functools.partial(_slab_chunks, dims_out),
            axes=(0, None), whole=(1,), additive=True,
            operands=[aligned(A, (("out", 0), ("in", 0))), aligned(B, (("out", 1), ("in", 1)))])

    def _stages(self, x, adjoint):
        a, b = len(x.chunks[0]), len(x.chunks[1])
        nout = max(a, b)
        if a >= b:   # Op2 along axis 1 first (its b chunks merged), then Op1 along axis 0
            first, second = ((self._op2_data, self._op1_model) if adjoint
                             else (self._op2_model, self._op1_data))
            regroup = {0: -1, 1: None}
        else:        # Op1 along axis 0 first (its a chunks merged), then Op2 along axis 1
            first, second = ((self._op1_data, self._op2_model) if adjoint
                             else (self._op1_model, self._op2_data))
            regroup = {0: None, 1: -1}
        z = first.rmatvec(x) if adjoint else first.matvec(x)
        regroup = {ax: _split(z.shape[ax], nout) if c is None else c for ax, c in regroup.items()}
        z = z.rechunk(regroup)
        return second.rmatvec(z) if adjoint else second.matvec(z)

    def _matvec(self, x):
        return self._stages(x, False).astype(result_dtype(self.dtype, x.dtype), copy=False)

    def _rmatvec(self, x):
        return self._stages(x, True).astype(result_dtype(self.dtype, x.dtype), copy=False)


# --- the kernel of two dense matrices ----------------------------------------------------------

def _kronecker_kernel(x, A, B, *, where, dtype):
    """``A x B^T`` on one block: ``A`` cut to the output rows and the block's rows, ``B`` to
    the output columns and the block's columns (the block may be a piece of the input: the
    result is then that piece's contribution)."""
    (r, p), (s, q) = A.shape, B.shape
    # the cheaper association: (A x) B^T costs r p q + r q s, A (x B^T) costs p q s + r p s
    if r * q * (p + s) <= p * s * (q + r):
        y = (A @ x) @ B.T
    else:
        y = A @ (x @ B.T)
    return y if y.dtype == dtype else y.astype(dtype)


def _dtype(op_dtype, dtype):
    return np.result_type(op_dtype, dtype)


def _whole_box(dims, start, stop):
    """Every output box reads the whole input (pieces of it, the kernel being additive)."""
    return (0,) * len(dims), tuple(dims)


def _slab_chunks(dims_out, chunks):
    """Output chunks: the input's along axis 0 where the lengths agree, else as many
    near-equal row chunks; axis 1 whole."""
    rows = tuple(chunks[0])
    if sum(rows) != dims_out[0]:
        rows = _split(dims_out[0], len(rows))
    return rows, (dims_out[1],)


def _herm(A):
    """``A^H`` (a view for a real matrix, one copy made once for a complex one)."""
    return A.conj().T if A.dtype.kind == "c" else A.T


def _dense_matrix(Op):
    """The dense in-memory matrix that ``Op`` is a product with, or None."""
    if type(Op) is FromPyLops and Op.axes == tuple(range(len(Op.dims))):
        Op = Op.Op
    if type(Op) not in (pylops.MatrixMult, MatrixMult):
        return None
    A = Op.A
    dense = (isinstance(A, np.ndarray) and not isinstance(A, np.matrix)) or is_cupy(A)
    if not dense or A.ndim != 2 or tuple(Op.shape) != tuple(A.shape):  # no otherdims
        return None
    return A


# --- the two-stage path of other factors -------------------------------------------------------

def _split(n, parts):
    """``n`` samples in ``parts`` near-equal chunks (no empty chunk)."""
    parts = max(1, min(parts, n))
    return tuple(n // parts + (1 if i < n % parts else 0) for i in range(parts))


def _as_pylops(Op, what):
    """A PyLops operator acting as ``Op`` on NumPy/CuPy vectors, for per-chunk kernels."""
    if _is_pylops(Op):
        return Op
    if isinstance(Op, FromPyLops) and Op.axes == tuple(range(len(Op.dims))):  # Op on all axes
        return Op.Op
    if isinstance(Op, LinearOperator):
        return _Synchronous(Op)
    raise TypeError(f"Kronecker: {what} must be a PyLops or pylops_distributed LinearOperator, "
                    f"got {type(Op).__name__}")


class _Synchronous(pylops.LinearOperator):
    """A distributed operator run on in-memory vectors by dask's synchronous scheduler."""

    def __init__(self, Op):
        self.Op = Op
        super().__init__(dtype=Op.dtype, shape=Op.shape, name=Op.name or "D")

    def _run(self, x, adjoint):
        x = as_dask(x, x.shape, "Kronecker")
        y = self.Op.rmatvec(x) if adjoint else self.Op.matvec(x)
        return dask.compute(y, scheduler="synchronous")[0].reshape(-1)

    def _matvec(self, x):
        return self._run(x, False)

    def _rmatvec(self, x):
        return self._run(x, True)
