"""Signal-processing operators, under PyLops 2.x names and parameters.

    Convolve1D          Convolution with a compact 1-D filter along an axis, exact across chunks.
    Smoothing1D         Moving average along an axis (zero padded), exact across chunks.
    Smoothing2D         Moving average over two axes (zero padded), exact across chunks.
"""

from pylops_distributed.signalprocessing.convolve1d import Convolve1D
from pylops_distributed.signalprocessing.smoothing1d import Smoothing1D
from pylops_distributed.signalprocessing.smoothing2d import Smoothing2D

__all__ = [name for name in dir() if name[0].isupper()]
