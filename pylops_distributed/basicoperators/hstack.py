"""HStack: operators stacked horizontally, each applied to its own block of the model."""

import numpy as np

from pylops_distributed.basicoperators._stacks import (as_operators, shared_or_flat, stack_clinear,
                                                       stack_kernels)
from pylops_distributed.basicoperators.vstack import sum_blocks
from pylops_distributed.linearoperator import LinearOperator, _fit
from pylops_distributed.stacked import StackedArray, split_input


class HStack(LinearOperator):
    r"""Horizontal stack :math:`[\mathbf{A}_1, \mathbf{A}_2, \dots]`: the outputs are summed.

    Parameters
    ----------
    ops : list of LinearOperator
        Distributed or PyLops operators with the same number of rows.
    nproc, inoutengine, parallel_kind : optional
        Accepted for PyLops compatibility.
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`. As in PyLops, set to ``True``
        when the operators' ``dimsd`` differ (the data is then flat).
    dtype : str, optional
        Operator dtype (default: the operators' common result type).
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    clinear : bool
        ``True`` only if every operator is complex-linear (as in PyLops).

    Notes
    -----
    The data has the operators' shared ``dimsd`` (flat when they differ). The model is a
    :class:`~pylops_distributed.StackedArray` with one block per operator (or a flat
    array, cut into blocks). The adjoint returns a StackedArray
    for an N-D data array and a flat array for a flat one, as PyLops does. Forward: one
    task per data chunk applies every operator to its model block and sums them.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.HStack([pld.Identity(3), 2 * pld.Identity(3)])
    >>> (Op @ da.arange(6.0, chunks=3)).compute()
    array([ 6.,  9., 12.])
    """

    def __init__(self, ops, nproc=1, forceflat=None, inoutengine=None, parallel_kind="multiproc",
                 dtype=None, chunks=None):
        ops = list(ops)
        self.ops = as_operators(ops, "HStack")
        nrows = {op.shape[0] for op in self.ops}
        if len(nrows) > 1:
            raise ValueError("HStack: operators must have the same number of rows, got shapes "
                             f"{[op.shape for op in self.ops]}")
        dimsd, forceflat = shared_or_flat(self.ops, "dimsd", forceflat)
        dtype = np.result_type(*[op.dtype for op in self.ops]) if dtype is None else dtype
        super().__init__(sum(op.shape[1] for op in self.ops), dimsd, dtype, forceflat=forceflat,
                         chunks=chunks, clinear=stack_clinear(ops + self.ops))
        self._stacked_input = (True, all(op._stacked_input[1] for op in self.ops))

    def _kernel(self, adjoint):
        return stack_kernels([list(self.ops)], adjoint, "HStack")

    def _matvec(self, x):  # used when an operator has no kernel
        blocks = split_input(x, [op.dims for op in self.ops])
        return sum_blocks([op.matvec(b) for op, b in zip(self.ops, blocks)], self.dimsd)

    def _rmatvec(self, y):
        return StackedArray(_fit(op.rmatvec(_fit(y, op.dimsd)), op.dims) for op in self.ops)
