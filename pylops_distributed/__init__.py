"""pylops_distributed: PyLops linear operators and solvers on Dask.

Operators build lazy dask graphs over chunked NumPy- or CuPy-backed N-D arrays;
solvers bring scalars back to the client only at convergence checks.
"""

from pylops_distributed.linearoperator import LinearOperator, aslinearoperator
from pylops_distributed.stacked import StackedArray
from pylops_distributed.frompylops import FromPyLops
from pylops_distributed.torchoperator import TorchOperator
from pylops_distributed.basicoperators import *  # noqa: F401,F403
from pylops_distributed.signalprocessing import *  # noqa: F401,F403
from pylops_distributed import (avo, basicoperators, io, optimization, signalprocessing, utils,
                                waveeqprocessing)

__version__ = "1.0.0.dev0"
