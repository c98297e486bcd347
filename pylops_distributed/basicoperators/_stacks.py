"""Shared checks for the stacking operators (VStack, HStack, BlockDiag, Block)."""

import numpy as np

from pylops_distributed.kernels import NoChunkKernel, StackKernel, as_stack
from pylops_distributed.linearoperator import aslinearoperator


def as_operators(ops, opname):
    """Convert a list of distributed or PyLops operators, with a clear error on bad items."""
    ops = list(ops)
    if not ops:
        raise ValueError(f"{opname}: needs at least one operator")
    try:
        return [aslinearoperator(op) for op in ops]
    except TypeError as err:
        raise TypeError(f"{opname}: {err}") from None


def common_dims(ops, attr):
    """The operators' shared ``dims``/``dimsd`` when all agree, else None."""
    first = getattr(ops[0], attr)
    return first if all(getattr(op, attr) == first for op in ops) else None


def shared_or_flat(ops, attr, forceflat):
    """``(shape, forceflat)`` of the side of a stack where every operator sees the same vector.

    As in PyLops: the operators' shared ``dims`` (``attr="dims"``, VStack) or ``dimsd``
    (HStack), with the user's ``forceflat``; when they differ, the flat size and
    ``forceflat=True``.
    """
    shape = common_dims(ops, attr)
    if shape is not None:
        return shape, forceflat
    return (int(np.prod(getattr(ops[0], attr))),), True


def stack_clinear(ops):
    """Whether a stack of ``ops`` (as given, before wrapping) is complex-linear: only if all
    its blocks are, as in PyLops (``Real``, ``Imag``, ``Conj`` are R-linear only)."""
    return all(bool(getattr(op, "clinear", True)) for op in ops)


def stack_kernels(rows, adjoint, opname):
    """The :class:`~pylops_distributed.kernels.StackKernel` of a block matrix of operators
    (``rows[i][j]`` maps model block ``j`` to data block ``i``; None for a zero block)."""
    nrows, ncols = len(rows), len(rows[0])
    mats = [[None if op is None else as_stack(op.chunk_kernel(adjoint)) for op in row]
            for row in rows]
    for row in mats:
        for m in row:
            if m is not None and (m.n_in, m.n_out) != (1, 1):
                raise NoChunkKernel(f"{opname}: a block is itself a stack of "
                                    f"{m.n_in} -> {m.n_out} blocks")
    if not adjoint:
        terms = [[(j, m.terms[0][0][1]) for j, m in enumerate(row) if m is not None]
                 for row in mats]
        kernel = StackKernel(ncols, terms)
    else:
        terms = [[(i, mats[i][j].terms[0][0][1]) for i in range(nrows) if mats[i][j] is not None]
                 for j in range(ncols)]
        kernel = StackKernel(nrows, terms)
    ins, outs = {}, {}
    for i, row in enumerate(kernel.terms):
        for j, k in row:
            if ins.setdefault(j, k.dims_in) != k.dims_in or outs.setdefault(i, k.dims_out) != k.dims_out:
                raise NoChunkKernel(f"{opname}: blocks sharing a model or data block have different "
                                    f"shapes (e.g. {k.dims_in} -> {k.dims_out})")
    return kernel
