"""InterpCubicSpline: cubic-spline interpolation at positions along an axis."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed.signalprocessing._pylops_build import pylops_signal


class InterpCubicSpline(AlongAxes):
    r"""Natural cubic-spline interpolation at positions ``iava`` along ``axis`` (PyLops'
    ``InterpCubicSpline``).

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    iava : array-like
        (Fractional) positions along ``axis`` of the data samples.
    bc_type : {"natural"}, optional
        Boundary condition.
    axis : int, optional
        Axis interpolated.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The spline couples the whole axis (a tridiagonal solve): one task per chunk with ``axis``
    whole (PyLops' operator on the block, LAPACK); the other axes keep their chunks, no
    exchange. An input chunked along ``axis`` is first rechunked to one chunk there (one
    visible step). PyLops solves with LAPACK: NumPy chunks only.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((5, 30))
    >>> iava = np.array([0.5, 3.2, 10.0, 20.7])
    >>> Op = pld.signalprocessing.InterpCubicSpline((5, 30), iava, axis=1)
    >>> POp = pylops.signalprocessing.InterpCubicSpline((5, 30), iava, axis=1)
    >>> y = Op @ da.from_array(x, chunks=(2, 10))
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    cpu_only = True

    def __init__(self, dims, iava, bc_type="natural", axis=-1, dtype="float64", name="S",
                 chunks=None):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "InterpCubicSpline")
        self.iava, self.bc_type = np.asarray(iava), bc_type
        build = functools.partial(pylops_signal, kind="InterpCubicSpline", iava=self.iava,
                                  bc_type=bc_type, axis=self.axis, dtype=dtype)
        self._setup(dims, build, [self.axis], dtype=dtype, name=name, chunks=chunks)
