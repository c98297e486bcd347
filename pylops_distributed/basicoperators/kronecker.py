"""Kronecker: the Kronecker product of two operators, applied as Op1 X Op2^T."""

import dask
import pylops

from pylops_distributed._arrays import as_dask, result_dtype
from pylops_distributed.frompylops import FromPyLops
from pylops_distributed.kernels import NoChunkKernel
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
        The two factors. PyLops operators are applied chunk by chunk (as
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
    (PyLops' flat ``(prod,)`` vectors are accepted and returned flat). Two stages,
    each one task per chunk: the factor whose axis has fewer chunks is applied first
    (its axis is merged into one chunk, a concatenation per chunk of the other axis),
    then the other axis is gathered by one all-to-all rechunk into ``max(a, b)``
    chunks along the first axis, where ``a, b`` are the input's chunk counts along
    the two axes, and the second factor is applied. The rechunk is about
    ``max(a, b)**2`` small slicing tasks (``a * b`` for a square chunk grid): every
    output depends on every input, so some exchange of this size cannot be avoided.

    The operator has no per-chunk kernel (:meth:`chunk_kernel` raises
    :class:`~pylops_distributed.kernels.NoChunkKernel`): an output chunk needs both axes of
    the input whole (``Op1`` along axis 0, ``Op2`` along axis 1), so it is applied in the two
    stages above, each stage the kernel of a :class:`~pylops_distributed.FromPyLops`.

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
        # Op1 along axis 0 and Op2 along axis 1, on each shape they can meet (model, data
        # or an intermediate); built once so that repeated applies give the same task names
        self._op1_model = FromPyLops(P1, dims=(M1, M2), axes=0)   # on (M1, M2) <-> (N1, M2)
        self._op1_data = FromPyLops(P1, dims=(M1, N2), axes=0)    # on (M1, N2) <-> (N1, N2)
        self._op2_model = FromPyLops(P2, dims=(M1, M2), axes=1)   # on (M1, M2) <-> (M1, N2)
        self._op2_data = FromPyLops(P2, dims=(N1, M2), axes=1)    # on (N1, M2) <-> (N1, N2)
        super().__init__((M1, M2), (N1, N2), dtype, name=name, chunks=chunks)

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

    def _kernel(self, adjoint):
        raise NoChunkKernel(f"{self.label} has no chunk kernel: each output chunk needs both axes "
                            "of the input whole (Op1 acts along axis 0, Op2 along axis 1); it is "
                            "applied in two stages with an all-to-all rechunk between them")

    def _matvec(self, x):
        return self._stages(x, False).astype(result_dtype(self.dtype, x.dtype), copy=False)

    def _rmatvec(self, x):
        return self._stages(x, True).astype(result_dtype(self.dtype, x.dtype), copy=False)


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
