"""MemoizeOperator: an operator that remembers its last inputs and outputs."""

import numbers
from typing import NamedTuple

import dask.array as da
import numpy as np

from pylops_distributed._arrays import get_array_module, is_cupy
from pylops_distributed.linearoperator import LinearOperator, aslinearoperator
from pylops_distributed.stacked import StackedArray


class MemoizeOperator(LinearOperator):
    r"""Wrap ``Op`` and remember its last ``max_neval`` evaluations (PyLops' ``MemoizeOperator``).

    Applying the operator again to an input it has seen returns the output it gave then,
    without calling ``Op``.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to wrap (anything else goes through
        :func:`~pylops_distributed.aslinearoperator`).
    max_neval : int, optional
        Number of evaluations remembered (forward and adjoint together, oldest forgotten
        first); ``np.inf`` for no limit.

    Attributes
    ----------
    store : list of tuple
        The remembered ``(x, y)`` pairs, model and data, oldest first.
    neval : int
        Number of evaluations of ``Op`` (applies not answered from memory).

    Raises
    ------
    ValueError
        If ``max_neval`` is not a positive integer or ``np.inf``.

    Notes
    -----
    Dask inputs are recognised by their ``name``, the token of their graph (dask gives equal
    names to equal computations: ``da.from_array`` of equal data, the same expression of
    the same arrays), so nothing is computed to compare them and the output returned is the
    same lazy dask array as before. NumPy and CuPy inputs are compared by value with
    ``allclose``, as in PyLops (same shape and dtype required); a copy of each is kept, so
    changing an array in place after the call changes neither the memory nor the output.
    A StackedArray input is recognised by the names of its blocks.

    Forward and adjoint evaluations are remembered apart: ``rmatvec(y)`` is answered only
    from an earlier ``rmatvec`` of the same ``y``. (PyLops keeps both in one list of pairs
    and answers ``rmatvec(y)`` with the model ``x`` of an earlier ``y = matvec(x)``, which
    is :math:`\mathbf{Op}^H\mathbf{y}` only for unitary operators.)

    The memory lives in the client, so the operator has no per-chunk kernel: inside
    products and sums it is applied with dask.array expressions (which call its
    ``matvec``/``rmatvec``, and so its memory), and the solvers use their plain backend.

    See Also
    --------
    FunctionOperator

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> M = pld.MemoizeOperator(pld.Diagonal(np.arange(1.0, 5.0)), max_neval=2)
    >>> y1 = M @ da.ones(4, chunks=2)
    >>> y2 = M @ da.ones(4, chunks=2)    # same name: answered from memory
    >>> y2 is y1, M.neval
    (True, 1)
    >>> y2.compute()
    array([1., 2., 3., 4.])
    """

    def __init__(self, Op, max_neval=10):
        Op = aslinearoperator(Op)
        if not (max_neval == np.inf or (isinstance(max_neval, numbers.Integral)
                                        and not isinstance(max_neval, bool) and max_neval >= 1)):
            raise ValueError(f"MemoizeOperator: max_neval must be a positive integer or np.inf, "
                             f"got {max_neval!r}; e.g. MemoizeOperator(Op, max_neval=10)")
        self.Op, self.max_neval = Op, max_neval
        self.neval = 0
        self._entries = []
        super().__init__(Op.dims, Op.dimsd, Op.dtype, explicit=Op.explicit,
                         forceflat=Op.forceflat, chunks=Op.chunks, name=Op.name,
                         clinear=Op.clinear)
        self._stacked_input = Op._stacked_input

    @property
    def store(self):
        """The remembered ``(x, y)`` pairs (model, data), oldest first."""
        return [(e.model, e.data) for e in self._entries]

    def matvec(self, x):
        """Lazy forward ``y = Op x``, from memory when ``x`` was seen before."""
        return self._memoized(x, adjoint=False)

    def rmatvec(self, x):
        """Lazy adjoint ``x = Op^H y``, from memory when ``y`` was seen before."""
        return self._memoized(x, adjoint=True)

    def _matvec(self, x):
        return self.Op.matvec(x)

    def _rmatvec(self, x):
        return self.Op.rmatvec(x)

    def _memoized(self, x, adjoint):
        key = _key(x)
        if key is not None:
            for e in self._entries:
                if e.adjoint == adjoint and _same(e.key, key):
                    return e.model if adjoint else e.data
            if key[0] == "value":
                x = x.copy()  # ours: the output's graph reads it, and it is the key
                key = ("value", x)
        out = self._apply(x, adjoint)
        self.neval += 1
        if key is not None:
            if len(self._entries) >= self.max_neval:
                del self._entries[0]  # the oldest
            model, data = (out, x) if adjoint else (x, out)
            self._entries.append(_Entry(adjoint, key, model, data))
        return out


class _Entry(NamedTuple):
    adjoint: bool
    key: tuple
    model: object
    data: object


def _key(x):
    """What an input is recognised by: a dask name, block names, or its values."""
    if isinstance(x, da.Array):
        return ("name", x.name)
    if isinstance(x, StackedArray):
        return ("name", tuple(b.name for b in x.blocks))
    if isinstance(x, np.ndarray) or is_cupy(x):
        return ("value", x)
    return None  # not an array: the apply raises


def _same(a, b):
    if a[0] != b[0]:
        return False
    if a[0] == "name":
        return a[1] == b[1]
    a, b = a[1], b[1]
    if type(a) is not type(b) or a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(get_array_module(a).allclose(a, b))
