"""Bilinear: bilinear interpolation at points of the first two axes."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dims
from pylops_distributed.signalprocessing._pylops_build import on_module


def _pylops_bilinear(dims, *operands, xp, iava, dtype):
    import pylops

    return pylops.signalprocessing.Bilinear(on_module(iava, xp), dims,
                                            dtype=dtype)


class Bilinear(AlongAxes):
    r"""Bilinear interpolation at the points ``iava`` of the first two axes (PyLops'
    ``Bilinear``).

    Parameters
    ----------
    iava : numpy.ndarray
        Points, shape ``(2, npoints)``: fractional indices along axes 0 and 1.
    dims : tuple of int
        Model shape (two axes or more; the data is ``(npoints, *dims[2:])``).
    forceflat : bool, optional
        Flat outputs (as PyLops).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The data has fewer axes than the model, so no axis keeps the model's chunks: the operator
    is one task on the whole array (rechunked to one chunk first).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((10, 12))
    >>> iava = np.array([[1.5, 3.2, 8.0], [0.3, 7.7, 10.1]])
    >>> Op = pld.signalprocessing.Bilinear(iava, (10, 12))
    >>> y = Op @ da.from_array(x, chunks=5)
    >>> np.allclose(y.compute(), pylops.signalprocessing.Bilinear(iava, (10, 12)) @ x.ravel())
    True
    """

    def __init__(self, iava, dims, forceflat=None, dtype="float64", name="B", chunks=None):
        dims = as_dims(dims)
        self.iava = np.asarray(iava)
        build = functools.partial(_pylops_bilinear, iava=self.iava, dtype=dtype)
        self._setup(dims, build, None, dtype=dtype, name=name, chunks=chunks)
        self.forceflat = forceflat
