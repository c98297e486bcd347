"""DWT: 1-D discrete wavelet transform along an axis (PyWavelets)."""

import functools

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed.signalprocessing._pylops_build import pylops_signal


class DWT(AlongAxes):
    r"""1-D discrete wavelet transform along ``axis`` (PyLops' ``DWT``, PyWavelets).

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    axis : int, optional
        Axis transformed (padded to the next power of 2, as PyLops).
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
    One task per chunk with ``axis`` whole (PyLops' operator on the block); the other axes
    keep their chunks, no exchange. An input chunked along ``axis`` is first rechunked to one
    chunk there (one visible step). Needs the extra ``signal`` (PyWavelets). PyWavelets runs
    on NumPy only: CuPy chunks raise ``TypeError``.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((6, 32))
    >>> Op = pld.signalprocessing.DWT((6, 32), axis=1, wavelet="db2", level=2)
    >>> y = Op @ da.from_array(x, chunks=(2, 32))
    >>> POp = pylops.signalprocessing.DWT((6, 32), axis=1, wavelet="db2", level=2)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    cpu_only = True

    def __init__(self, dims, axis=-1, wavelet="haar", level=1, dtype="float64", name="D",
                 chunks=None):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "DWT")
        self.wavelet, self.level = wavelet, level
        build = functools.partial(pylops_signal, kind="DWT", axis=axis, wavelet=wavelet,
                                  level=level, dtype=dtype)
        self._setup(dims, build, [self.axis], dtype=dtype, name=name, chunks=chunks)
