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
    (``rows[i][j]`` maps model block ``j`` to data block ``i``; None for a zero block). A block
    that is itself a stack brings its own blocks (a ``VStack`` inside a ``VStack``)."""
    mats = [[None if op is None else as_stack(op.chunk_kernel(adjoint)) for op in row]
            for row in rows]
    nr, nc = [None] * len(rows), [None] * len(rows[0])  # sub-blocks per data row / model column
    for i, row in enumerate(mats):
        for j, m in enumerate(row):
            if m is None:
                continue
            r, c = (m.n_in, m.n_out) if adjoint else (m.n_out, m.n_in)
            if nr[i] not in (None, r) or nc[j] not in (None, c):
                raise NoChunkKernel(f"{opname}: blocks sharing a model or data block are stacks "
                                    "of different numbers of blocks")
            nr[i], nc[j] = r, c
    if None in nr or None in nc:
        raise NoChunkKernel(f"{opname}: a row or column of zero blocks")
    roff, coff = np.cumsum([0] + nr), np.cumsum([0] + nc)
    # forward: output roff[i] + a reads input coff[j] + b; the adjoint the other way round
    terms = [[] for _ in range(coff[-1] if adjoint else roff[-1])]
    for i, row in enumerate(mats):
        for j, m in enumerate(row):
            if m is None:
                continue
            out0, in0 = (coff[j], roff[i]) if adjoint else (roff[i], coff[j])
            for a, sub in enumerate(m.terms):
                terms[out0 + a].extend((in0 + b, k) for b, k in sub)
    kernel = StackKernel(roff[-1] if adjoint else coff[-1], terms)
    ins, outs = {}, {}
    for i, row in enumerate(kernel.terms):
        for j, k in row:
            if ins.setdefault(j, k.dims_in) != k.dims_in or outs.setdefault(i, k.dims_out) != k.dims_out:
                raise NoChunkKernel(f"{opname}: blocks sharing a model or data block have different "
                                    f"shapes (e.g. {k.dims_in} -> {k.dims_out})")
    return kernel
