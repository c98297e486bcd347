"""Signal-processing operators, under PyLops 2.x names and parameters.

    Convolve1D          Convolution with a compact 1-D filter along an axis, exact across chunks.
    Smoothing1D         Moving average along an axis (zero padded), exact across chunks.
    Smoothing2D         Moving average over two axes (zero padded), exact across chunks.
    FFT                 1-D Fourier transform along an axis.
    FFT2D               2-D Fourier transform (pencil scheme over chunked axes).
    FFTND               N-D Fourier transform (pencil scheme over chunked axes).
    DCT                 Discrete cosine transform over some axes.
    DWT                 1-D wavelet transform along an axis (PyWavelets).
    DWT2D               2-D wavelet transform (PyWavelets).
    DWTND               N-D wavelet transform (PyWavelets).
    Shift               Fractional shift along an axis (one shift or one per trace).
    Interp              Interpolation at fractional positions along an axis.
    InterpCubicSpline   Cubic-spline interpolation along an axis.
    Bilinear            Bilinear interpolation at points of the first two axes.
"""

from pylops_distributed.signalprocessing.bilinear import Bilinear
from pylops_distributed.signalprocessing.convolve1d import Convolve1D
from pylops_distributed.signalprocessing.dct import DCT
from pylops_distributed.signalprocessing.dwt import DWT
from pylops_distributed.signalprocessing.dwt2d import DWT2D
from pylops_distributed.signalprocessing.dwtnd import DWTND
from pylops_distributed.signalprocessing.fft import FFT
from pylops_distributed.signalprocessing.fft2d import FFT2D
from pylops_distributed.signalprocessing.fftnd import FFTND
from pylops_distributed.signalprocessing.interp import Interp
from pylops_distributed.signalprocessing.interpcubicspline import InterpCubicSpline
from pylops_distributed.signalprocessing.shift import Shift
from pylops_distributed.signalprocessing.smoothing1d import Smoothing1D
from pylops_distributed.signalprocessing.smoothing2d import Smoothing2D

__all__ = [name for name in dir() if name[0].isupper()]
