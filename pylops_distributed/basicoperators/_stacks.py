"""Shared checks for the stacking operators (VStack, HStack, BlockDiag, Block)."""

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
