"""BlockDiag: operators on the diagonal of a block matrix, each on its own model block."""

import dask.array as da
import numpy as np

from pylops_distributed.basicoperators._stacks import as_operators, common_dims
from pylops_distributed.linearoperator import LinearOperator, _fit
from pylops_distributed.stacked import StackedArray, split_input


class BlockDiag(LinearOperator):
    r"""Block-diagonal operator :math:`\mathrm{diag}(\mathbf{A}_1, \mathbf{A}_2, \dots)`.

    Parameters
    ----------
    ops : list of LinearOperator
        Distributed or PyLops operators.
    nproc, inoutengine, parallel_kind : optional
        Accepted for PyLops compatibility.
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`.
    dtype : str, optional
        Operator dtype (default: the operators' common result type).
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    As in PyLops, when all operators share ``dims`` (and ``dimsd``) the model has
    shape ``(nops, *dims)`` and the data ``(nops, *dimsd)``; otherwise both are
    flat. Inputs may also be a :class:`~pylops_distributed.StackedArray` with one
    block per operator, which gives a StackedArray back (no stacking task). Each
    block is only touched by its own operator: the task count is the sum of theirs.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.BlockDiag([pld.Identity(2), 3 * pld.Identity(2)])
    >>> (Op @ da.ones(4, chunks=2)).compute()
    array([1., 1., 3., 3.])
    """

    def __init__(self, ops, nproc=1, forceflat=None, inoutengine=None, parallel_kind="multiproc",
                 dtype=None, chunks=None):
        self.ops = as_operators(ops, "BlockDiag")
        n = len(self.ops)
        in_common, out_common = common_dims(self.ops, "dims"), common_dims(self.ops, "dimsd")
        if in_common is not None and out_common is not None:
            dims, dimsd = (n, *in_common), (n, *out_common)
        else:
            dims, dimsd = sum(op.shape[1] for op in self.ops), sum(op.shape[0] for op in self.ops)
        dtype = np.result_type(*[op.dtype for op in self.ops]) if dtype is None else dtype
        super().__init__(dims, dimsd, dtype, forceflat=forceflat, chunks=chunks)
        self._stacked_input = (True, True)

    def _apply_blocks(self, x, adjoint):
        shapes = [op.dimsd if adjoint else op.dims for op in self.ops]
        if isinstance(x, da.Array) and x.ndim > 1:  # (nops, *dims): one slab per operator
            blocks = [x[i] for i in range(len(self.ops))]
        else:
            blocks = split_input(x, shapes)
        outs = [(op.rmatvec if adjoint else op.matvec)(b) for op, b in zip(self.ops, blocks)]
        outs = [_fit(out, op.dims if adjoint else op.dimsd) for op, out in zip(self.ops, outs)]
        if isinstance(x, da.Array) and x.ndim > 1:
            return da.stack(outs)
        return StackedArray(outs) if isinstance(x, StackedArray) else StackedArray(outs).ravel()

    def _matvec(self, x):
        return self._apply_blocks(x, False)

    def _rmatvec(self, y):
        return self._apply_blocks(y, True)
