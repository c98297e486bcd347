"""Signal-processing operators, under PyLops 2.x names and parameters.

    Convolve1D          Convolution with a compact 1-D filter along an axis, exact across chunks.
    Convolve2D          Convolution with a 2-D filter (halo exchange, FFT per chunk).
    ConvolveND          Convolution with an N-D filter (halo exchange, FFT per chunk).
    SmoothingND         Moving average over some axes (zero padded), exact across chunks.
    NonStationaryConvolve1D/2D/3D  Convolution with filters varying in space (halo exchange).
    NonStationaryFilters1D/2D      The same, as operators on the filters.
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
    Fredholm1           Batched matrix products, slice by slice (Fredholm integral).
    Radon2D, Radon3D    Radon transforms (linear, parabolic, hyperbolic), one task.
    FourierRadon2D/3D   Radon transforms in the frequency domain (CuPy too), one task.
    ChirpRadon2D/3D     Linear Radon transforms through chirp-z FFTs (CuPy too), one task.
    Seislet             Seislet transform along local slopes, one task.
    UDCT                Uniform discrete curvelet transform (curvelets), one task.
    PWSprayer2D         Plane-wave sprayer along local slopes, one task.
    PWSmoother2D        Plane-wave smoother along local slopes, one task.
    Sliding1D/2D/3D     An operator on overlapping windows (overlap exchanged between chunks).
    Patch2D, Patch3D    An operator on overlapping patches (overlap exchanged between chunks).
"""

from pylops.signalprocessing import (patch2d_design, patch3d_design, sliding1d_design,
                                     sliding2d_design, sliding3d_design)

from pylops_distributed.signalprocessing.bilinear import Bilinear
from pylops_distributed.signalprocessing.chirpradon2d import ChirpRadon2D
from pylops_distributed.signalprocessing.chirpradon3d import ChirpRadon3D
from pylops_distributed.signalprocessing.convolve1d import Convolve1D
from pylops_distributed.signalprocessing.convolve2d import Convolve2D
from pylops_distributed.signalprocessing.convolvend import ConvolveND
from pylops_distributed.signalprocessing.dct import DCT
from pylops_distributed.signalprocessing.dwt import DWT
from pylops_distributed.signalprocessing.dwt2d import DWT2D
from pylops_distributed.signalprocessing.dwtnd import DWTND
from pylops_distributed.signalprocessing.fft import FFT
from pylops_distributed.signalprocessing.fft2d import FFT2D
from pylops_distributed.signalprocessing.fftnd import FFTND
from pylops_distributed.signalprocessing.fourierradon2d import FourierRadon2D
from pylops_distributed.signalprocessing.fourierradon3d import FourierRadon3D
from pylops_distributed.signalprocessing.fredholm1 import Fredholm1
from pylops_distributed.signalprocessing.interp import Interp
from pylops_distributed.signalprocessing.interpcubicspline import InterpCubicSpline
from pylops_distributed.signalprocessing.nonstatconvolve1d import NonStationaryConvolve1D
from pylops_distributed.signalprocessing.nonstatconvolve2d import NonStationaryConvolve2D
from pylops_distributed.signalprocessing.nonstatconvolve3d import NonStationaryConvolve3D
from pylops_distributed.signalprocessing.nonstatfilters1d import NonStationaryFilters1D
from pylops_distributed.signalprocessing.nonstatfilters2d import NonStationaryFilters2D
from pylops_distributed.signalprocessing.patch2d import Patch2D
from pylops_distributed.signalprocessing.patch3d import Patch3D
from pylops_distributed.signalprocessing.pwd import PWSmoother2D, PWSprayer2D
from pylops_distributed.signalprocessing.radon2d import Radon2D
from pylops_distributed.signalprocessing.radon3d import Radon3D
from pylops_distributed.signalprocessing.seislet import Seislet
from pylops_distributed.signalprocessing.shift import Shift
from pylops_distributed.signalprocessing.sliding1d import Sliding1D
from pylops_distributed.signalprocessing.sliding2d import Sliding2D
from pylops_distributed.signalprocessing.sliding3d import Sliding3D
from pylops_distributed.signalprocessing.smoothing1d import Smoothing1D
from pylops_distributed.signalprocessing.smoothing2d import Smoothing2D
from pylops_distributed.signalprocessing.smoothingnd import SmoothingND
from pylops_distributed.signalprocessing.udct import UDCT

__all__ = [name for name in dir() if name[0].isupper() or name.endswith("_design")]
