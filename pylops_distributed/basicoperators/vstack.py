"""VStack: operators stacked vertically, all applied to the same model."""

import numpy as np

from pylops_distributed.basicoperators._stacks import (as_operators, shared_or_flat, stack_clinear,
                                                       stack_kernels)
from pylops_distributed.linearoperator import LinearOperator, _fit
from pylops_distributed.stacked import StackedArray, split_input


class VStack(LinearOperator):
    r"""Vertical stack :math:`[\mathbf{A}_1; \mathbf{A}_2; \dots]`: every operator sees the same model.

    Parameters
    ----------
    ops : list of LinearOperator
        Distributed or PyLops operators with the same number of columns (PyLops
        ones are wrapped with :class:`~pylops_distributed.FromPyLops`).
    nproc, inoutengine, parallel_kind : optional
        Accepted for PyLops compatibility; dask schedules the blocks in parallel.
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`. As in PyLops, set to ``True``
        when the operators' ``dims`` differ (the model is then flat).
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
    The model has the operators' shared ``dims`` (flat when they differ), the data is
    flat. The forward returns a :class:`~pylops_distributed.StackedArray` (one block per
    operator, each with its own shape and chunks) for an N-D model, and a flat
    concatenated dask array for a flat model, as PyLops does. The adjoint takes
    either and sums the blocks' adjoints. The operators' kernels make one
    :class:`~pylops_distributed.kernels.StackKernel`: the forward is one task per chunk
    of each data block, the adjoint one task per model chunk that applies every
    operator's adjoint to its data block and sums them.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.VStack([pld.Identity(4), pld.Diagonal(np.arange(4.0))])
    >>> y = Op @ da.ones(4, chunks=2)
    >>> y.compute()
    array([1., 1., 1., 1., 0., 1., 2., 3.])
    >>> (Op.H @ y).compute()
    array([ 1.,  2.,  5., 10.])
    """

    def __init__(self, ops, nproc=1, forceflat=None, inoutengine=None, parallel_kind="multiproc",
                 dtype=None, chunks=None):
        ops = list(ops)
        self.ops = as_operators(ops, "VStack")
        ncols = {op.shape[1] for op in self.ops}
        if len(ncols) > 1:
            raise ValueError("VStack: operators must have the same number of columns, got shapes "
                             f"{[op.shape for op in self.ops]}")
        dims, forceflat = shared_or_flat(self.ops, "dims", forceflat)
        dtype = np.result_type(*[op.dtype for op in self.ops]) if dtype is None else dtype
        super().__init__(dims, sum(op.shape[0] for op in self.ops), dtype, forceflat=forceflat,
                         chunks=chunks, clinear=stack_clinear(ops + self.ops))
        self._stacked_input = (all(op._stacked_input[0] for op in self.ops), True)

    def _kernel(self, adjoint):
        return stack_kernels([[op] for op in self.ops], adjoint, "VStack")

    def _matvec(self, x):  # used when an operator has no kernel
        return StackedArray(_fit(op.matvec(_fit(x, op.dims)), op.dimsd) for op in self.ops)

    def _rmatvec(self, y):
        blocks = split_input(y, [op.dimsd for op in self.ops])
        outs = [op.rmatvec(b) for op, b in zip(self.ops, blocks)]
        return sum_blocks(outs, self.dims)


def sum_blocks(outs, dims):
    """Sum operator outputs (dask arrays or StackedArrays) reshaped to ``dims``."""
    total = _fit(outs[0], dims)
    for out in outs[1:]:
        total = total + _fit(out, dims)
    return total
