"""DWTND: N-D discrete wavelet transform over two axes (PyWavelets)."""

import functools

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed.signalprocessing._pylops_build import pylops_signal


class DWTND(AlongAxes):
    r"""N-D discrete wavelet transform over ``axes`` (PyLops' ``DWTND``, PyWavelets).

    Parameters
    ----------
    dims : tuple of int
        Model shape.
    axes : tuple of int, optional
        Axes transformed (each padded to the next power of 2, as PyLops).
    wavelet : str, optional
        PyWavelets wavelet name.
    level : int, optional
        Number of scales.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    One task per chunk with ``axes`` whole (PyLops' operator on the block); the other axes
    keep their chunks, no exchange. An input chunked along ``axes`` is first rechunked to one
    chunk there (one visible step). Needs the extra ``signal`` (PyWavelets); NumPy chunks
    only (CuPy chunks raise ``TypeError``).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((4, 16, 32))
    >>> Op = pld.signalprocessing.DWTND((4, 16, 32), wavelet="haar", level=2)
    >>> y = Op @ da.from_array(x, chunks=(2, 8, 16))      # rechunked whole (one step)
    >>> POp = pylops.signalprocessing.DWTND((4, 16, 32), wavelet="haar", level=2)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    cpu_only = True

    def __init__(self, dims, axes=(-3, -2, -1), wavelet="haar", level=1, dtype="float64", name="D",
                 chunks=None):
        dims = as_dims(dims)
        self.axes = tuple(normalize_axis(a, len(dims), "DWTND") for a in axes)
        self.wavelet, self.level = wavelet, level
        build = functools.partial(pylops_signal, kind="DWTND", axes=axes, wavelet=wavelet,
                                  level=level, dtype=dtype)
        self._setup(dims, build, self.axes, dtype=dtype, name=name, chunks=chunks)
