"""The real or imaginary part of an operator's outputs (``Op.toreal()``, ``Op.toimag()``)."""

import numpy as np

from pylops_distributed import _kernel_algebra, kernels
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import NoChunkKernel, StackKernel
from pylops_distributed.linearoperator import LinearOperator


class RealImagPart(LinearOperator):
    """Real (``real=True``) or imaginary part of an operator's forward (``forw``) and/or
    adjoint (``adj``) outputs, as PyLops' ``toreal``/``toimag`` (the adjoint's imaginary
    part negated). A pointwise kernel chained after the operator's.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> Op = pld.Diagonal(np.array([1 + 2j, 3 - 1j])).toimag()
    >>> (Op @ np.ones(2)).compute()
    array([ 2., -1.])
    """

    def __init__(self, A, forw, adj, real):
        self.A, self.forw, self.adj, self.real = A, bool(forw), bool(adj), bool(real)
        super().__init__(A.dims, A.dimsd, np.real(np.ones(1, A.dtype)).dtype, chunks=A.chunks,
                         forceflat=A.forceflat, clinear=False)
        self._stacked_input = A._stacked_input
        self._token = new_token()

    label = property(lambda self: f"{self.A.label}.{'toreal' if self.real else 'toimag'}()")

    def _part(self, y, adjoint):
        if not (self.adj if adjoint else self.forw):
            return y
        return y.real if self.real else (-y.imag if adjoint else y.imag)

    def _matvec(self, x):
        return self._part(self.A.matvec(x), False)

    def _rmatvec(self, x):
        return self._part(self.A.rmatvec(x), True)

    def _kernel(self, adjoint):
        k = self.A.chunk_kernel(adjoint)
        if isinstance(k, StackKernel) or not (self.adj if adjoint else self.forw):
            raise NoChunkKernel(f"{self.label}: no kernel for this part")
        part = kernels.ChunkKernel(
            _part_of, k.dims_out, k.dims_out, name="realimag", pointwise=True,
            token=f"{self._token}-{int(adjoint)}",
            params=dict(real=self.real, sign=-1 if adjoint and not self.real else 1),
            out_dtype=_real_dtype)
        return _kernel_algebra.chain(part, k)


def _real_dtype(dtype):
    return np.real(np.ones(1, dtype)).dtype


def _part_of(x, *, where, dtype, real, sign):
    """Real part, or ``sign`` times the imaginary part, of one chunk."""
    part = x.real if real else x.imag
    return (part if sign == 1 else -part).astype(dtype, copy=True)

