"""Regression: polynomial regression, coefficients to curve values along a t-axis."""

import functools
import numbers

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dask, get_array_module, is_array, result_dtype
from pylops_distributed._graph import apply_kernel, new_token
from pylops_distributed.kernels import ChunkKernel, aligned, place
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
    Forward: one task per chunk of ``taxis``, whose chunks the output takes (every task
    gets the tiny coefficient vector and its chunk of ``taxis``). Adjoint: one task per
    chunk of the data, each a partial sum of ``order + 1`` values over its chunk (an
    additive kernel: the data is never gathered), and one task adding them up; each task
    gets the piece of ``taxis`` under its data chunk (a thin slicing task where the chunks
    of ``taxis`` and of the data do not line up, nothing is rechunked). PyLops' adjoint uses
    :math:`t^n` without conjugation; it is the same for a real ``taxis``. Complex
    coefficients are accepted here (PyLops' forward rejects them for a real ``taxis``).

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

    def _kernel(self, adjoint):
        if adjoint:
            return ChunkKernel(
                _poly_adjoint_kernel, self.dimsd, self.dims, name="regression-adjoint",
                token=f"{self._token}-1", params=dict(order=self.order), additive=True,
                out_dtype=functools.partial(result_dtype, self.dtype, self._t.dtype),
                region=functools.partial(_whole_region, self.dimsd[0]), axes=(None,),
                chunks=functools.partial(_fixed_chunks, ((self.order + 1,),)),
                operands=[aligned(self._t, [("in", 0)])])
        return self._forward_kernel(self._t, f"{self._token}-0")

    def _forward_kernel(self, t, token):
        """Kernel of the polynomial with coefficients ``x`` evaluated at the points ``t``."""
        return ChunkKernel(
            _polyval_kernel, self.dims, t.shape, name="regression", token=token,
            params=dict(order=self.order), axes=(None,),
            out_dtype=functools.partial(_forward_dtype, self.dtype, t.dtype),
            region=functools.partial(_whole_region, self.order + 1),
            chunks=functools.partial(_fixed_chunks, t.chunks),
            operands=[aligned(t, [("out", 0)])])

    def apply(self, t, x):
        """Lazy values of the polynomial with coefficients ``x`` at the points ``t``."""
        t = as_dask(t, self.chunks, f"{self.label}.apply")
        if t.ndim != 1:
            raise ValueError(f"{self.label}.apply: t must be 1-D, got shape {t.shape}")
        x = as_dask(x, None, f"{self.label}.apply")
        if x.shape != self.dims:
            raise ValueError(f"{self.label}.apply: expected coefficients of shape {self.dims}, got {x.shape}")
        return apply_kernel(self._forward_kernel(t, f"{self._token}-apply-{t.name}"), x)


def _forward_dtype(op_dtype, t_dtype, in_dtype):
    """The forward's dtype as PyLops': the points' (a real float ``taxis``) unless the result
    is complex (PyLops fails there) or the points are integers."""
    out = result_dtype(op_dtype, t_dtype, in_dtype)
    return np.dtype(t_dtype) if np.dtype(t_dtype).kind == "f" and out.kind != "c" else out


def _whole_region(n, start, stop):
    """Input box of any output box: the whole (1-D) input."""
    return (0,), (n,)


def _fixed_chunks(chunks, in_chunks):
    return tuple(tuple(c) for c in chunks)


def _polyval_kernel(x, t, *, where, dtype, order):
    """``sum_n x[n] t**n`` on the output box (``t``: its points), from all the coefficients."""
    return _polyval(t, x, order).astype(dtype, copy=False)


def _poly_adjoint_kernel(y, t, *, where, dtype, order):
    """``[sum_i conj(t_i)**n y_i for n in 0..order]`` over this piece of the data (``t``: its
    points), on the output box of coefficients."""
    part = _poly_adjoint(t, y, order)[0]
    return place(part, (0,), where.start, where.stop, dtype)


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
