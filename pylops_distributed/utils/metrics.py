"""Error metrics between a reference and a comparison array (PyLops' ``pylops.utils.metrics``).

Each metric builds its reductions lazily and brings them back with one ``dask.compute``;
NumPy inputs pass through the same code without dask.
"""

import dask
import dask.array as da
import numpy as np

from pylops_distributed.stacked import StackedArray

__all__ = ["mae", "mse", "snr", "psnr"]


def _as_pair(xref, xcmp, metric):
    """Both arrays with a common shape (flattened when the shapes differ), checked for size.

    Raises
    ------
    ValueError
        If the two arrays do not hold the same number of elements.
    """
    xref, xcmp = _as_array(xref), _as_array(xcmp)
    if xref.size != xcmp.size:
        raise ValueError(f"{metric}: xref and xcmp must have the same size, got shapes "
                         f"{xref.shape} ({xref.size} elements) and {xcmp.shape} "
                         f"({xcmp.size} elements)")
    if xref.shape != xcmp.shape:  # same elements, different layout: compare flat, as PyLops
        xref, xcmp = xref.reshape(-1), xcmp.reshape(-1)
    return xref, xcmp


def _as_array(x):
    if isinstance(x, StackedArray):
        return x.ravel()
    if isinstance(x, da.Array) or hasattr(x, "__array_function__"):  # dask, NumPy, CuPy
        return x
    return np.asarray(x)


def _mean_square(x):
    """Lazy (for dask) mean of ``|x|^2``."""
    return (abs(x) ** 2).mean()


def mae(xref, xcmp):
    r"""Mean Absolute Error (MAE) between two arrays.

    Parameters
    ----------
    xref : numpy.ndarray or dask.array.Array
        Reference array (any shape).
    xcmp : numpy.ndarray or dask.array.Array
        Comparison array, with as many elements as ``xref``.

    Returns
    -------
    mae : float
        :math:`\operatorname{mean}|x_{ref} - x_{cmp}|`.

    Raises
    ------
    ValueError
        If the two arrays have different sizes (before anything is computed).

    Examples
    --------
    >>> import dask.array as da
    >>> from pylops_distributed.utils import mae
    >>> float(mae(da.arange(4.0, chunks=3), da.zeros(4, chunks=2)))
    1.5
    """
    xref, xcmp = _as_pair(xref, xcmp, "mae")
    (value,) = dask.compute(abs(xref - xcmp).mean())
    return value


def mse(xref, xcmp):
    r"""Mean Square Error (MSE) between two arrays.

    Parameters
    ----------
    xref : numpy.ndarray or dask.array.Array
        Reference array (any shape).
    xcmp : numpy.ndarray or dask.array.Array
        Comparison array, with as many elements as ``xref``.

    Returns
    -------
    mse : float
        :math:`\operatorname{mean}|x_{ref} - x_{cmp}|^2`.

    Raises
    ------
    ValueError
        If the two arrays have different sizes (before anything is computed).

    Examples
    --------
    >>> import dask.array as da
    >>> from pylops_distributed.utils import mse
    >>> float(mse(da.arange(4.0, chunks=3), da.zeros(4, chunks=2)))
    3.5
    """
    xref, xcmp = _as_pair(xref, xcmp, "mse")
    (value,) = dask.compute(_mean_square(xref - xcmp))
    return value


def snr(xref, xcmp):
    r"""Signal to Noise Ratio (SNR) of ``xcmp`` with respect to ``xref``, in dB.

    Parameters
    ----------
    xref : numpy.ndarray or dask.array.Array
        Reference array (any shape).
    xcmp : numpy.ndarray or dask.array.Array
        Comparison array, with as many elements as ``xref``.

    Returns
    -------
    snr : float
        :math:`10\log_{10}(\operatorname{mean}|x_{ref}|^2 / \mathrm{MSE})`.

    Raises
    ------
    ValueError
        If the two arrays have different sizes (before anything is computed).

    Examples
    --------
    >>> import dask.array as da
    >>> from pylops_distributed.utils import snr
    >>> x = da.full(8, 10.0, chunks=3)
    >>> float(snr(x, x + 1.0))
    20.0
    """
    xref, xcmp = _as_pair(xref, xcmp, "snr")
    signal, error = dask.compute(_mean_square(xref), _mean_square(xref - xcmp))
    return 10.0 * np.log10(signal / error)


def psnr(xref, xcmp, xmax=None, xmin=0.0):
    r"""Peak Signal to Noise Ratio (PSNR) of ``xcmp`` with respect to ``xref``, in dB.

    Parameters
    ----------
    xref : numpy.ndarray or dask.array.Array
        Reference array (any shape).
    xcmp : numpy.ndarray or dask.array.Array
        Comparison array, with as many elements as ``xref``.
    xmax : float, optional
        Maximum value of the range; ``None`` uses the maximum of ``xref``.
    xmin : float, optional
        Minimum value of the range; ``None`` uses the minimum of ``xref`` (``0`` by default,
        as in PyLops).

    Returns
    -------
    psnr : float
        :math:`10\log_{10}((x_{max} - x_{min})^2 / \mathrm{MSE})`.

    Raises
    ------
    ValueError
        If the two arrays have different sizes (before anything is computed).

    Examples
    --------
    >>> import dask.array as da
    >>> from pylops_distributed.utils import psnr
    >>> x = da.arange(11.0, chunks=4)
    >>> float(psnr(x, x + 1.0))
    20.0
    """
    xref, xcmp = _as_pair(xref, xcmp, "psnr")
    xmax = xref.max() if xmax is None else xmax
    xmin = xref.min() if xmin is None else xmin
    xmax, xmin, error = dask.compute(xmax, xmin, _mean_square(xref - xcmp))
    return 10.0 * np.log10((xmax - xmin) ** 2 / error)
