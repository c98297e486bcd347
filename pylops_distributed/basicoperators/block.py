"""Block: a block matrix of operators, built as a VStack of HStacks."""

from pylops_distributed.basicoperators._stacks import stack_kernels
from pylops_distributed.basicoperators.hstack import HStack
from pylops_distributed.basicoperators.vstack import VStack


class Block(VStack):
    r"""Block matrix :math:`[[\mathbf{A}_{11}, \mathbf{A}_{12}], [\mathbf{A}_{21}, \mathbf{A}_{22}]]`.

    Parameters
    ----------
    ops : list of lists of LinearOperator
        Rows of distributed or PyLops operators; operators in a row share their
        number of rows, operators in a column their number of columns.
    nproc, parallel_kind : optional
        Accepted for PyLops compatibility.
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`.
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
    Model and data are flat or :class:`~pylops_distributed.StackedArray` (one
    block per column / row of operators), as in PyLops (``dims`` and ``dimsd`` 1-D).

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> I = pld.Identity(2)
    >>> Op = pld.Block([[I, 2 * I], [3 * I, 4 * I]])
    >>> (Op @ da.ones(4, chunks=2)).compute()
    array([3., 3., 7., 7.])
    """

    def __init__(self, ops, nproc=1, forceflat=None, parallel_kind="multiproc", dtype=None, chunks=None):
        rows = [list(row) for row in ops]
        if not rows or len({len(row) for row in rows}) != 1:
            raise ValueError(f"Block: ops must be a non-empty list of rows of equal length, got row "
                             f"lengths {[len(row) for row in rows]}")
        hstacks = []
        for i, row in enumerate(rows):
            try:
                hstacks.append(HStack(row, dtype=dtype))
            except ValueError as err:  # name the block row the user wrote
                raise ValueError(f"Block: row {i}: {err}") from None
        if len({h.shape[1] for h in hstacks}) > 1:
            raise ValueError(f"Block: expected rows of the same number of columns, got "
                             f"{[h.shape[1] for h in hstacks]} (row shapes "
                             f"{[h.shape for h in hstacks]}); the operators in a block column "
                             "must have the same number of columns")
        super().__init__(hstacks, forceflat=forceflat, dtype=dtype, chunks=chunks)

    def _kernel(self, adjoint):
        return stack_kernels([row.ops for row in self.ops], adjoint, "Block")
