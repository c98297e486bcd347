"""Basic operators, under PyLops 2.x names and parameters.

    MatrixMult          Dense (NumPy/CuPy/dask) or sparse matrix along the first axis.
    Identity            Identity, zero-padding or truncating when shapes differ.
    Zero                Zero operator.
    Diagonal            Element-wise multiplication, broadcast along an axis.
    VStack              Vertical stack of operators (StackedArray output).
    HStack              Horizontal stack of operators (StackedArray input).
    Block               Block matrix of operators.
    BlockDiag           Block-diagonal operator.
"""

from pylops_distributed.basicoperators.matrixmult import MatrixMult
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.basicoperators.zero import Zero
from pylops_distributed.basicoperators.diagonal import Diagonal
# --- more basic operators ---
# --- derivatives ---

__all__ = [name for name in dir() if name[0].isupper()]
