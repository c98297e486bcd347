"""Regression: polynomial regression, coefficients to curve values along a t-axis."""

import numbers

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dask, get_array_module, is_array, result_dtype
from pylops_distributed._graph import new_token
from pylops_distributed.linearoperator import LinearOperator


class Regression(LinearOperator):
    r"""Polynomial regression :math:`y_i = \sum_{n=0}^{\text{order}} x_n t_i^n`.

    Forward maps the ``order + 1`` coefficients to the curve at the points of
    ``taxis``; adjoint maps curve values to :math:`x_n = \sum_i \overline{t_i^n}\, y_i`.

    Parameters
    ----------
    taxis : numpy.ndarray, cupy.ndarray or dask.array.Array
        1-D points :math:`t_i` (``N`` of them): the data has shape ``(N,)``.
    order : int
        Order of the polynomial; the model has shape ``(order + 1,)``.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks of ``taxis`` when it is a NumPy/CuPy array (default ``"auto"``): they
        are the chunks of the forward output. Also used to wrap NumPy/CuPy inputs.

    Raises
    ------
    TypeError
        If ``taxis`` is not an array or ``order`` not an integer.
    ValueError
        If ``taxis`` is not 1-D or ``order`` is negative.

    Notes
    -----
    Forward: one task per chunk of ``taxis`` (every task gets the tiny coefficient
    vector). Adjoint: one task per chunk of the data (a partial sum of
    ``order + 1`` values) followed by dask's tree reduction; ``taxis`` is rechunked
    to the data's chunks when they differ. PyLops' adjoint uses :math:`t^n`
    without conjugation; it is the same for a real ``taxis``. Complex coefficients
    are accepted here (PyLops' forward rejects them for a real ``taxis``).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Regression(np.arange(5.0), order=2, chunks=2)
    >>> (Op @ np.array([1.0, 0.0, 1.0])).compute()          # 1 + t^2
    array([ 1.,  2.,  5., 10., 17.])
    >>> (Op.H @ da.ones(5, chunks=2)).compute()
    array([ 5., 10., 30.])
    """

    def __init__(self, taxis, order, dtype="float64", name="R", chunks=None):
        if not is_array(taxis):
            raise TypeError(f"{type(self).__name__}: taxis must be a NumPy, CuPy or dask array, "
                            f"got {type(taxis).__name__}")
        if taxis.ndim != 1:
            raise ValueError(f"{type(self).__name__}: taxis must be 1-D, got shape {taxis.shape}")
        if not isinstance(order, numbers.Integral) or isinstance(order, bool):
            raise TypeError(f"{type(self).__name__}: order must be an integer, got {order!r}")
        if order < 0:
            raise ValueError(f"{type(self).__name__}: order must be >= 0, got {order}")
        self.taxis = taxis
        self.order = int(order)
        self._token = new_token()
        self._t = as_dask(taxis, chunks, type(self).__name__)
        if not isinstance(taxis, da.Array):
            self._t = da.from_array(taxis, chunks=self._t.chunks, asarray=False,
                                    name=f"regression-taxis-{self._token}")
        super().__init__(self.order + 1, taxis.shape[0], dtype, name=name, chunks=chunks)

    def _forward(self, t, x):
        dtype = result_dtype(self.dtype, t.dtype, x.dtype)
        x = x.rechunk(-1)
        return da.blockwise(_polyval, "i", t, "i", x, "j", order=self.order, dtype=dtype,
                            concatenate=True, meta=_meta(t, x, dtype),
                            name=f"regression-{self._token}-{x.name}-{t.name}")

    def _matvec(self, x):
        return self._forward(self._t, x)

    def _rmatvec(self, x):
        dtype = result_dtype(self.dtype, self._t.dtype, x.dtype)
        t = self._t if self._t.chunks == x.chunks else self._t.rechunk(x.chunks)
        parts = da.blockwise(_poly_adjoint, "ij", t, "i", x, "i", order=self.order, dtype=dtype,
                             new_axes={"j": self.order + 1}, adjust_chunks={"i": 1},
                             meta=_meta(t, x, dtype, ndim=2),
                             name=f"regression-adjoint-{self._token}-{x.name}-{t.name}")
        return parts.sum(axis=0, dtype=dtype)

    def apply(self, t, x):
        """Lazy values of the polynomial with coefficients ``x`` at the points ``t``."""
        t = as_dask(t, self.chunks, f"{self.label}.apply")
        x = as_dask(x, None, f"{self.label}.apply")
        if x.shape != self.dims:
            raise ValueError(f"{self.label}.apply: expected coefficients of shape {self.dims}, got {x.shape}")
        return self._forward(t, x)


def _meta(t, x, dtype, ndim=1):
    return get_array_module(x if type(x._meta).__module__.startswith("cupy") else t).empty(
        (0,) * ndim, dtype=dtype)


def _polyval(t, x, order):
    """``sum_n x[n] t**n`` on one chunk of ``t`` (Horner)."""
    xp = get_array_module(t)
    x = xp.asarray(x)
    y = xp.zeros(t.shape, dtype=np.result_type(t.dtype, x.dtype))
    for n in range(order, -1, -1):
        y = y * t + x[n]
    return y


def _poly_adjoint(t, y, order):
    """``[sum_i conj(t_i)**n y_i for n in 0..order]`` of one chunk, shape ``(1, order + 1)``."""
    xp = get_array_module(y)
    t = xp.asarray(t).conj()
    out = xp.empty((1, order + 1), dtype=np.result_type(t.dtype, y.dtype))
    p = y.astype(out.dtype, copy=True)
    for n in range(order + 1):
        out[0, n] = p.sum()
        p = p * t
    return out
