"""DCT: discrete cosine transform over some axes."""

import functools

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dims
from pylops_distributed.signalprocessing._pylops_build import pylops_signal


class DCT(AlongAxes):
    r"""Discrete cosine transform of ``type`` 1-4 over ``axes`` (PyLops' ``DCT``, orthonormal).

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    type : {1, 2, 3, 4}, optional
        DCT type.
    axes : tuple of int, optional
        Axes transformed (default: all).
    dtype : str, optional
        Operator dtype.
    workers : int, optional
        Threads of SciPy's DCT inside each task.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    One task per chunk with ``axes`` whole (PyLops' operator on the block, SciPy's DCT); the
    other axes keep their chunks, no exchange. An input chunked along ``axes`` is first
    rechunked to one chunk there (one visible step). PyLops computes the DCT with SciPy:
    NumPy chunks only.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((6, 40))
    >>> Op = pld.signalprocessing.DCT((6, 40), axes=[1])
    >>> y = Op @ da.from_array(x, chunks=(3, 40))
    >>> np.allclose(y.compute().ravel(), pylops.signalprocessing.DCT((6, 40), axes=[1]) @ x.ravel())
    True
    """

    cpu_only = True

    def __init__(self, dims, type=2, axes=None, dtype="float64", workers=None, name="C",
                 chunks=None):
        dims = as_dims(dims)
        self.type, self.workers = type, workers
        self.axes = None if axes is None else [int(a) % len(dims) for a in axes]
        build = functools.partial(pylops_signal, kind="DCT", type=type, axes=axes, dtype=dtype,
                                  workers=workers)
        self._setup(dims, build, self.axes, dtype=dtype, name=name, chunks=chunks)
