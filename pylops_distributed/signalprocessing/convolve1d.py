"""Convolve1D: convolution with a compact 1-D filter along an axis, exact across chunks."""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis
from pylops_distributed._stencils import (TEMPLATE_N, Stencil1D, StencilOperator, reach,
                                          sum_kernel)

#: Filter length from which NumPy chunks are convolved through FFTs (SciPy's ``fftconvolve``
#: on the chunk and its halo) rather than tap by tap.
FFT_TAPS = 24


def convolve_kernel(x, *, where, dtype, terms, taps, out=None):
    """The chunk kernel: ``sum_kernel``'s result, through an FFT for long filters on NumPy
    chunks. The operator is Toeplitz with zero outside the array, so the rows of the output
    box are those of the full convolution of the block with the reversed ``taps``
    (``(offset, coefficient)`` of every row, read away from the edges)."""
    axis = terms[0][0]
    if get_array_module(x) is not np or len(taps) < FFT_TAPS:
        return sum_kernel(x, where=where, dtype=dtype, terms=terms, out=out)
    from scipy.signal import fftconvolve

    lo, hi = -taps[0][0], taps[-1][0]
    dense = np.zeros(lo + hi + 1)
    for o, c in taps:
        dense[o + lo] = c
    taps = dense
    shape = [1] * x.ndim
    shape[axis] = taps.size
    o0 = where.origin[axis]
    box = tuple(slice(a - o, b - o) if ax != axis else slice(None)
                for ax, (a, b, o) in enumerate(zip(where.start, where.stop, where.origin)))
    full = fftconvolve(x[box], taps[::-1].reshape(shape), mode="full", axes=axis)
    rows = [slice(None)] * x.ndim
    rows[axis] = slice(where.start[axis] + hi - o0, where.stop[axis] + hi - o0)
    y = full[tuple(rows)]
    if out is None:
        return y.astype(dtype, copy=False)
    out[...] = y
    return out


@functools.lru_cache(maxsize=64)
def _convolution_stencils(h, offset, n):
    """(forward, adjoint) stencils of PyLops' ``Convolve1D(n, h, offset)``, read from PyLops'
    own operator on a template axis long enough for the edge rows and the interior."""
    M = _matrix(h, offset, min(n, max(TEMPLATE_N, 4 * len(h) + 1)))
    return Stencil1D.from_matrix(M).resized(n), Stencil1D.from_matrix(M.T).resized(n)


@functools.lru_cache(maxsize=64)
def _toeplitz_taps(h, offset):
    """(forward, adjoint) taps of every row away from the edges (whatever the axis length)."""
    M = _matrix(h, offset, max(TEMPLATE_N, 4 * len(h) + 1))
    return Stencil1D.from_matrix(M).taps, Stencil1D.from_matrix(M.T).taps


def _matrix(h, offset, m):
    import pylops

    return pylops.signalprocessing.Convolve1D(m, np.array(h), offset=offset).todense()


class Convolve1D(StencilOperator):
    r"""Convolution with a compact 1-D filter ``h`` along ``axis`` (PyLops' ``Convolve1D``).

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    h : array-like
        Real 1-D filter, no longer than the axis.
    offset : int, optional
        Index of the centre of the filter.
    axis : int, optional
        Axis along which to convolve.
    method : str, optional
        Accepted for PyLops compatibility (``"direct"``, ``"fft"``, ``"overlapadd"``): the
        convolution is direct here, which gives the same result.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    .. math::
        y[i] = \sum_k h[k]\, x[i - k + c]

    with ``c`` the centre given by ``offset`` (as PyLops, ``mode="same"``) and :math:`x` zero
    outside the array; the adjoint is the correlation with ``h``. One task per chunk, with a
    halo of about ``len(h)`` samples along ``axis`` exchanged with the neighbouring chunks
    (any chunking, including along ``axis``; chunks shorter than the halo are merged with a
    neighbour). NumPy chunks run a compiled kernel (Numba), or an FFT of the chunk and its halo
    for filters of ``FFT_TAPS`` samples or more; CuPy chunks a generated CUDA kernel.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> h = np.array([1.0, -2.0, 0.5])
    >>> x = np.random.default_rng(0).standard_normal((6, 50))
    >>> Op = pld.signalprocessing.Convolve1D((6, 50), h, offset=1, axis=1)
    >>> y = Op @ da.from_array(x, chunks=(3, 20))
    >>> Pop = pylops.signalprocessing.Convolve1D((6, 50), h, offset=1, axis=1)
    >>> np.allclose(y.compute().ravel(), Pop @ x.ravel())
    True
    """

    _promote_input = True  # as PyLops' convolutions

    def __init__(self, dims, h, offset=0, axis=-1, method=None, dtype="float64", name="C",
                 chunks=None):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "Convolve1D")
        h = np.asarray(h)
        if h.ndim != 1 or np.iscomplexobj(h):
            raise NotImplementedError(
                f"Convolve1D: only real 1-D filters are supported here (got a "
                f"{'complex ' if np.iscomplexobj(h) else ''}filter of shape {h.shape}); wrap "
                "PyLops' operator with pylops_distributed.FromPyLops for the others")
        if len(h) > dims[self.axis]:
            raise NotImplementedError(
                f"Convolve1D: a filter of {len(h)} samples is longer than the axis "
                f"({dims[self.axis]}); wrap PyLops' operator with FromPyLops")
        if not 0 <= int(offset) <= len(h) - 1:
            raise ValueError(f"Convolve1D: offset={offset} must be in [0, len(h) - 1 = {len(h) - 1}]")
        if method not in (None, "direct", "fft", "overlapadd"):
            raise ValueError(f"Convolve1D: method={method!r} must be direct, fft or overlapadd")
        self.h, self.offset, self.nh, self.method = h, int(offset), len(h), method
        key = tuple(h.astype(float).tolist())
        fwd, adj = _convolution_stencils(key, self.offset, dims[self.axis])
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)
        self._setup(*[dict(kernel=convolve_kernel, depth=reach(terms, len(dims)), split=True,
                           kwargs=dict(terms=terms, taps=taps))
                      for terms, taps in zip((((self.axis, fwd, 1.0),), ((self.axis, adj, 1.0),)),
                                             _toeplitz_taps(key, self.offset))])
