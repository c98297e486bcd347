"""Basic operators, under PyLops 2.x names and parameters.

    MatrixMult          Dense (NumPy/CuPy/dask) or sparse matrix along the first axis.
    Identity            Identity, zero-padding or truncating when shapes differ.
    Zero                Zero operator.
    Diagonal            Element-wise multiplication, broadcast along an axis.
    VStack              Vertical stack of operators (StackedArray output).
    HStack              Horizontal stack of operators (StackedArray input).
    Block               Block matrix of operators.
    BlockDiag           Block-diagonal operator.
    FirstDerivative     First derivative along an axis (halo exchange across chunks).
    SecondDerivative    Second derivative along an axis (halo exchange across chunks).
    Laplacian           Weighted sum of second derivatives, one fused pass.
    Gradient            First derivatives along every axis, stacked, one fused pass.
    FirstDirectionalDerivative   Derivative along a direction (constant or per point).
    SecondDirectionalDerivative  -D_v^H D_v, one fused pass.
    Transpose           Permutation of the axes of an N-D model.
    Flip                Reversal along an axis.
    Roll                Circular shift along an axis.
    Symmetrize          Reversed copy prepended along an axis.
    Sum                 Sum along an axis (the axis is dropped).
    Pad                 Zero-padding at both ends of every axis.
    Restriction         Samples at given indices along an axis.
    CausalIntegration   Running integral along an axis (full, half, trapezoidal).
    Regression          Polynomial of given order evaluated along a t-axis.
    LinearRegression    Straight line evaluated along a t-axis.
    Real                Real part (R-linear).
    Imag                Imaginary part (R-linear).
    Conj                Complex conjugate (R-linear).
    Kronecker           Kronecker product of two operators, Op1 X Op2^T.
    Spread              Spreading along a table of curves (one task on the whole array).
    FunctionOperator    Operator from a forward and an adjoint function of the whole array.
    MemoizeOperator     Wrapper that remembers an operator's last inputs and outputs.
    ToCupy              NumPy chunks to CuPy chunks (forward) and back (adjoint).
"""

from pylops_distributed.basicoperators.matrixmult import MatrixMult
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.basicoperators.zero import Zero
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.basicoperators.vstack import VStack
from pylops_distributed.basicoperators.hstack import HStack
from pylops_distributed.basicoperators.block import Block
from pylops_distributed.basicoperators.blockdiag import BlockDiag
# --- more basic operators ---
from pylops_distributed.basicoperators.transpose import Transpose
from pylops_distributed.basicoperators.flip import Flip
from pylops_distributed.basicoperators.roll import Roll
from pylops_distributed.basicoperators.symmetrize import Symmetrize
from pylops_distributed.basicoperators.sum import Sum
from pylops_distributed.basicoperators.pad import Pad
from pylops_distributed.basicoperators.restriction import Restriction
from pylops_distributed.basicoperators.causalintegration import CausalIntegration
from pylops_distributed.basicoperators.regression import Regression
from pylops_distributed.basicoperators.linearregression import LinearRegression
from pylops_distributed.basicoperators.real import Real
from pylops_distributed.basicoperators.imag import Imag
from pylops_distributed.basicoperators.conj import Conj
from pylops_distributed.basicoperators.kronecker import Kronecker
from pylops_distributed.basicoperators.spread import Spread
from pylops_distributed.basicoperators.functionoperator import FunctionOperator
from pylops_distributed.basicoperators.memoizeoperator import MemoizeOperator
from pylops_distributed.basicoperators.tocupy import ToCupy
# --- derivatives ---
from pylops_distributed.basicoperators.firstderivative import FirstDerivative
from pylops_distributed.basicoperators.secondderivative import SecondDerivative
from pylops_distributed.basicoperators.laplacian import Laplacian
from pylops_distributed.basicoperators.gradient import Gradient
from pylops_distributed.basicoperators.firstdirectionalderivative import FirstDirectionalDerivative
from pylops_distributed.basicoperators.seconddirectionalderivative import SecondDirectionalDerivative

__all__ = [name for name in dir() if name[0].isupper()]
