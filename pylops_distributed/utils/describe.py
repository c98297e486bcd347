"""describe: print an operator expression as a symbolic (sympy) formula, as PyLops does."""

import logging
import string

import pylops
import pylops.linearoperator as pylops_linop

from pylops_distributed import linearoperator as linop
from pylops_distributed.basicoperators import Block, BlockDiag, HStack, VStack
from pylops_distributed.frompylops import FromPyLops

__all__ = ["describe"]

logger = logging.getLogger(__name__)

SYMPY_MISSING = ("describe needs sympy: install it with pip install sympy, or with our extra: "
                 "pip install 'pylops_distributed[utils]'")


def _parts(Op):
    """How a composite operator is built, as ``(kind, operands)``; ``None`` for a leaf.

    Our composites and PyLops' are both recognised (by exact type, as PyLops does, so that
    subclasses such as PyLops' ``Block`` stay leaves); an unnamed :class:`FromPyLops`, or
    PyLops' plain ``LinearOperator`` wrapper, is described through the operator it wraps.
    """
    kind = type(Op)
    if kind is linop._SumLinearOperator:
        return "sum", (Op.A, Op.B)
    if kind is linop._ProductLinearOperator:
        return "product", (Op.A, Op.B)
    if kind is linop._ScaledLinearOperator:
        return "scaled", (Op.A, Op.alpha)
    if kind is linop._TransposedLinearOperator:
        return "transpose", (Op.A,)
    if kind is linop._AdjointLinearOperator:
        return "adjoint", (Op.A,)
    if kind is linop._ConjLinearOperator:
        return "conj", (Op.A,)
    if kind in (VStack, HStack, BlockDiag, pylops.VStack, pylops.HStack, pylops.BlockDiag):
        return kind.__name__.lower(), tuple(Op.ops)
    if kind is Block:
        return "block", tuple(tuple(row.ops) for row in Op.ops)
    if kind is FromPyLops or kind is pylops.LinearOperator:
        return "wrapper", (Op.Op,)
    pylops_kinds = {pylops_linop._SumLinearOperator: "sum",
                    pylops_linop._ProductLinearOperator: "product",
                    pylops_linop._ScaledLinearOperator: "scaled",
                    pylops_linop._AdjointLinearOperator: "adjoint",
                    pylops_linop._TransposedLinearOperator: "transpose",
                    pylops_linop._PowerLinearOperator: "power"}
    if kind in pylops_kinds:
        return pylops_kinds[kind], tuple(Op.args)
    return None


class _Describer:
    """Walks an operator expression, naming each distinct leaf operator once."""

    def __init__(self, sympy):
        self.sympy = sympy
        self.leaves = {}  # name -> (class name, id of the operator)

    def symbol(self, Op):
        parts = _parts(Op) if getattr(Op, "name", None) is None else None
        if parts is None:
            return self.leaf(Op)
        kind, args = parts
        sp = self.sympy
        if kind == "wrapper":
            return self.symbol(args[0])
        if kind == "scaled":
            return sp.sympify(args[1]) * self.symbol(args[0])
        if kind == "power":
            return self.symbol(args[0]) ** args[1]
        if kind in ("sum", "product"):
            left, right = self.symbol(args[0]), self.symbol(args[1])
            return left + right if kind == "sum" else left * right
        if kind in ("adjoint", "transpose", "conj"):
            inner = self.symbol(args[0])
            return {"adjoint": inner.adjoint, "transpose": lambda: inner.T,
                    "conj": inner.conjugate}[kind]()
        if kind == "block":
            return sp.BlockMatrix([[self.symbol(op) for op in row] for row in args])
        symbols = [self.symbol(op) for op in args]
        if kind == "vstack":
            return sp.BlockMatrix([[s] for s in symbols])
        if kind == "hstack":
            return sp.BlockMatrix([symbols])
        return sp.BlockDiagMatrix(*symbols)

    def leaf(self, Op):
        """The operator as a 1x1 matrix symbol named after ``Op.name``; an unnamed
        operator, or one whose name another operator holds, gets (and keeps) a free name."""
        name = getattr(Op, "name", None)
        taken = name is not None and name in self.leaves and self.leaves[name][1] != id(Op)
        if name is None or taken:
            new = self.free_name()
            if taken:
                logger.warning(f"describe: two distinct operators are named {name!r}; "
                               f"renaming the {type(Op).__name__} to {new!r}")
            name = Op.name = new
        self.leaves[name] = (type(Op).__name__, id(Op))
        return self.sympy.MatrixSymbol(name, 1, 1)

    def free_name(self):
        """The first unused name among A..Z, then A1..Z1, A2..."""
        suffix = 0
        while True:
            for letter in string.ascii_uppercase:
                name = letter + (str(suffix) if suffix else "")
                if name not in self.leaves:
                    return name
            suffix += 1


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def describe(Op):
    r"""Print an operator expression as a symbolic formula (PyLops' ``describe``).

    Each leaf operator appears as a symbol named after its ``name`` (set ``Op.name`` to
    choose it); sums, products, scalings, ``.H`` (:math:`\dagger`), ``.T``, ``.conj()``,
    ``VStack``, ``HStack``, ``Block`` and ``BlockDiag`` appear as such; a composite
    operator given a ``name`` stays one symbol. The formula is followed by ``where:`` and
    the class of every symbol.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to describe.

    Raises
    ------
    ImportError
        If ``sympy`` is not installed (``pip install 'pylops_distributed[utils]'``).

    Notes
    -----
    As in PyLops, leaf operators without a name get one (their ``name`` is set), and an
    operator whose name another operator in the expression already holds is renamed, with
    a logged warning. Unlike PyLops, the new names are the first free letters (PyLops
    draws random ones), duplicate names are also caught below ``.H``/``.T``, powers print
    as powers, and ``Block`` prints as a block matrix. PyLops operators (in expressions or
    wrapped by :class:`~pylops_distributed.FromPyLops`) are described by the same rules.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.utils.describe import describe
    >>> A = pld.MatrixMult(np.ones((3, 3)), name="A")
    >>> B = pld.Diagonal(np.ones(3), name="B")
    >>> describe(A @ B + 2 * A.H)
    2*Adjoint(A) + A*B
    where: {'A': 'MatrixMult', 'B': 'Diagonal'}
    """
    try:
        import sympy
    except ImportError as err:
        raise ImportError(SYMPY_MISSING) from err
    describer = _Describer(sympy)
    formula = describer.symbol(Op)
    where = {name: cls for name, (cls, _) in describer.leaves.items()}
    if _in_notebook():
        from IPython.display import display

        display(formula)
    else:
        print(formula)
    print("where:", where)
