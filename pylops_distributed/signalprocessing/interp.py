"""Interp: interpolation at (fractional) positions along an axis."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed.signalprocessing._pylops_build import on_module


class _Interp(AlongAxes):
    """The operator returned by :func:`Interp`."""

    def __init__(self, dims, iava, axis, kind, tol, dtype, name, chunks):
        self.iava, self.axis, self.kind, self.tol = iava, axis, kind, tol
        build = functools.partial(_pylops_interp, iava=iava, axis=axis, kind=kind, tol=tol,
                                  dtype=dtype)
        self._setup(dims, build, [axis], dtype=dtype, name=name, chunks=chunks)


def _pylops_interp(dims, *operands, xp, iava, axis, kind, tol, dtype):
    import pylops

    return pylops.signalprocessing.Interp(dims, on_module(iava, xp), axis=axis, kind=kind,
                                          tol=tol, dtype=dtype)[0]


def Interp(dims, iava, axis=-1, kind="linear", tol=None, dtype="float64", name="I", chunks=None):
    r"""Interpolation at positions ``iava`` along ``axis`` (PyLops' ``Interp``).

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    iava : array-like
        (Fractional) positions along ``axis`` of the data samples.
    axis : int, optional
        Axis interpolated.
    kind : {"linear", "nearest", "sinc", "cubic_spline"}, optional
        Interpolation kind.
    tol : float, optional
        With ``kind="sinc"``: interpolation weights below ``tol`` are set to zero and the
        matrix is sparse (as PyLops); ``None`` keeps them all.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Returns
    -------
    Op : LinearOperator
        The interpolation operator.
    iava : numpy.ndarray
        The positions used (as PyLops: rounded for ``"nearest"``, moved off the last sample).

    Notes
    -----
    One task per chunk with ``axis`` whole (PyLops' operator on the block); the other axes
    keep their chunks, no exchange. An input chunked along ``axis`` is first rechunked to one
    chunk there (one visible step); the output is one chunk along ``axis``.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((5, 30))
    >>> iava = np.array([0.5, 3.2, 10.0, 20.7])
    >>> Op, iav = pld.signalprocessing.Interp((5, 30), iava, axis=1)
    >>> POp, piav = pylops.signalprocessing.Interp((5, 30), iava, axis=1)
    >>> y = Op @ da.from_array(x, chunks=(2, 30))
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel()) and np.array_equal(iav, piav)
    True
    """
    import pylops

    dims = as_dims(dims)
    axis = normalize_axis(axis, len(dims), "Interp")
    _, iava_used = pylops.signalprocessing.Interp(dims, np.array(iava, dtype=float), axis=axis, kind=kind,
                                                  tol=tol, dtype=dtype)
    return _Interp(dims, np.asarray(iava_used), axis, kind, tol, dtype, name, chunks), iava_used
