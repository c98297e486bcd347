"""ConvolveND: convolution with a compact N-D filter along some axes, exact across chunks."""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis, result_dtype
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator

_METHODS = ("fft", "direct", "auto")


def window(a, a_start, start, stop):
    """``a`` (covering a global box from ``a_start``) on the global box ``[start, stop)``:
    a view where ``a`` covers it, else a new array with zeros where ``a`` has nothing."""
    lo = [max(s, o) for s, o in zip(start, a_start)]
    hi = [min(e, o + n) for e, o, n in zip(stop, a_start, a.shape)]
    src = tuple(slice(p - o, q - o) for p, q, o in zip(lo, hi, a_start))
    if tuple(lo) == tuple(start) and tuple(hi) == tuple(stop):
        return a[src]
    out = get_array_module(a).zeros(tuple(e - s for s, e in zip(start, stop)), dtype=a.dtype)
    if all(p < q for p, q in zip(lo, hi)):
        out[tuple(slice(p - s, q - s) for p, q, s in zip(lo, hi, start))] = a[src]
    return out


def as_numpy(a):
    """A NumPy copy of a NumPy, CuPy or array-like ``a`` (filters are kept on the host)."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def _signal_module(xp):
    if xp is np:
        import scipy.signal

        return scipy.signal
    import cupyx.scipy.signal

    return cupyx.scipy.signal


def convolve_kernel(x, *, where, dtype, h, centre, method):
    """The chunk kernel: ``y[i] = sum_k h[k] x[i + centre - k]`` (per axis, zero outside the
    array) on the output box, from the full convolution of the block (the output box and
    the filter's reach) with ``h``."""
    xp = get_array_module(x)
    h = xp.asarray(h)
    x = x.astype(np.result_type(x.dtype, h.dtype), copy=False)
    h = h.astype(x.dtype, copy=False)
    axes = tuple(a for a, n in enumerate(h.shape) if n > 1)
    if not axes:  # a single tap
        full = x * h
    elif method == "fft" and xp is np:
        full = _fft_convolve(x, h, axes)
    elif method == "fft":
        full = _signal_module(xp).fftconvolve(x, h, mode="full", axes=axes)
    else:
        full = _signal_module(xp).convolve(x, h, mode="full", method=method)
    # sample m of the full convolution is output index origin - centre + m
    y = window(full, [o - c for o, c in zip(where.origin, centre)], where.start, where.stop)
    return y.astype(dtype, copy=False)


#: Largest filter spectrum (bytes) kept in a process' cache.
SPECTRUM_CACHE_BYTES = 64 * 2**20


def _fft_convolve(x, h, axes):
    """Full convolution of ``x`` with ``h`` along ``axes`` through FFTs (as SciPy's
    ``fftconvolve``), the filter's spectrum cached per padded shape: chunks of one shape
    then cost two FFTs instead of three."""
    import scipy.fft

    real = x.dtype.kind != "c"
    size = [x.shape[a] + h.shape[a] - 1 for a in axes]
    fshape = tuple(scipy.fft.next_fast_len(n, real) for n in size)
    key = (h.tobytes(), h.shape, h.dtype.str, fshape, axes, real)
    small = int(np.prod(fshape)) * x.dtype.itemsize <= SPECTRUM_CACHE_BYTES  # about its size
    spectrum = (_filter_spectrum if small else _filter_spectrum.__wrapped__)(*key)
    if real:
        forward, inverse = scipy.fft.rfftn, scipy.fft.irfftn
    else:
        forward, inverse = scipy.fft.fftn, scipy.fft.ifftn
    X = forward(x, fshape, axes=axes)
    X *= spectrum
    full = inverse(X, fshape, axes=axes, overwrite_x=True)
    return full[tuple(slice(0, size[axes.index(a)]) if a in axes else slice(None)
                      for a in range(x.ndim))]


@functools.lru_cache(maxsize=4)
def _filter_spectrum(data, shape, dtype, fshape, axes, real):
    import scipy.fft

    h = np.frombuffer(data, dtype=dtype).reshape(shape)
    spectrum = (scipy.fft.rfftn if real else scipy.fft.fftn)(h, fshape, axes=axes)
    spectrum.flags.writeable = False  # shared by every later call (and thread)
    return spectrum


def _trimmed(h, centre):
    """``h`` without its all-zero border planes, and the centre moved accordingly."""
    nonzero = np.nonzero(h)
    if nonzero[0].size == 0:
        return np.zeros((1,) * h.ndim, dtype=h.dtype), (0,) * h.ndim
    lo = [int(n.min()) for n in nonzero]
    hi = [int(n.max()) + 1 for n in nonzero]
    h = h[tuple(slice(a, b) for a, b in zip(lo, hi))]
    return np.ascontiguousarray(h), tuple(c - a for c, a in zip(centre, lo))


def _reach(h, centre):
    """Halo ``((lo, hi), ...)`` of ``y[i] = sum_k h[k] x[i + centre - k]``."""
    return tuple((max(n - 1 - c, 0), max(c, 0)) for n, c in zip(h.shape, centre))


class ConvolveND(LinearOperator):
    r"""Convolution with a compact N-D filter ``h`` along ``axes`` (PyLops' ``ConvolveND``).

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    h : array-like
        Filter (real or complex), one axis per axis in ``axes``, or one per axis of ``dims``
        (then applied along every axis whatever ``axes``, as in PyLops).
    offset : tuple of int, optional
        Index of the centre of the filter, per filter axis, in ``[0, h.shape[k] - 1]``
        (default: zeros).
    axes : tuple of int, optional
        Axes along which to convolve (``None``: all). The other axes are a batch: each of
        their indices is convolved independently.
    method : {"fft", "direct", "auto"}, optional
        How each chunk is convolved (SciPy's ``fftconvolve`` or ``convolve``); every method
        gives PyLops' result. ``None`` is taken as ``"fft"``.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If ``h`` has more axes than ``dims``, or not one per axis in ``axes``; if ``axes``
        repeats an axis; if ``offset`` does not have one index per filter axis or points
        outside the filter; if ``method`` is unknown.

    Notes
    -----
    .. math::
        y[\mathbf{i}] = \sum_{\mathbf{k}} h[\mathbf{k}]\, x[\mathbf{i} + \mathbf{o} - \mathbf{k}]

    with :math:`\mathbf{o}` the ``offset`` and :math:`x` zero outside the array (PyLops'
    ``mode="same"``); the adjoint is the correlation with :math:`h` (conjugated). The filter
    is PyLops' own (its padding and its placement along ``axes`` included), with its
    all-zero border removed. One task per chunk: the chunk and a halo of the filter's reach
    from its neighbours (``h.shape[k] - 1 - offset[k]`` samples before and ``offset[k]``
    after along each convolved axis for the forward, mirrored for the adjoint; none along
    the batch axes), convolved through FFTs (``method="fft"``: NumPy chunks as SciPy's
    ``fftconvolve`` with the filter's spectrum cached per padded chunk shape in each process,
    up to ``SPECTRUM_CACHE_BYTES`` each; CuPy chunks with CuPy's ``fftconvolve``) and cut to
    the chunk. Chunks may be smaller than the filter, along any axis.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.convolvend import ConvolveND
    >>> h = np.arange(1.0, 13.0).reshape(3, 2, 2)
    >>> x = np.random.default_rng(0).standard_normal((10, 4, 12))
    >>> Op = ConvolveND((10, 4, 12), h, offset=(1, 0, 1), axes=(0, 1, 2))
    >>> y = Op @ da.from_array(x, chunks=(4, 2, 5))
    >>> Pop = pylops.signalprocessing.ConvolveND((10, 4, 12), h, offset=(1, 0, 1), axes=(0, 1, 2))
    >>> np.allclose(y.compute().ravel(), Pop @ x.ravel())
    True
    """

    def __init__(self, dims, h, offset=None, axes=(-2, -1), method="fft", dtype="float64",
                 name="C", chunks=None):
        import pylops

        dims = as_dims(dims)
        opname = type(self).__name__
        h = as_numpy(h)
        if not 1 <= h.ndim <= len(dims) or h.size == 0:
            raise ValueError(f"{opname}: the filter has shape {h.shape}; it needs between 1 and "
                             f"{len(dims)} (non-empty) axes for dims={dims}")
        axes = tuple(range(len(dims))) if axes is None else tuple(
            normalize_axis(a, len(dims), opname) for a in np.atleast_1d(axes))
        if len(set(axes)) != len(axes):
            raise ValueError(f"{opname}: axes={axes} repeats an axis")
        if h.ndim != len(dims) and len(axes) != h.ndim:
            raise ValueError(f"{opname}: a filter of {h.ndim} axes (shape {h.shape}) needs "
                             f"{h.ndim} axes, got axes={axes}")
        offset = (0,) * h.ndim if offset is None else tuple(int(o) for o in np.atleast_1d(offset))
        if len(offset) != h.ndim or not all(0 <= o < n for o, n in zip(offset, h.shape)):
            raise ValueError(f"{opname}: offset={offset} needs one index per filter axis, each "
                             f"in [0, n - 1] for the filter of shape {h.shape}")
        method = "fft" if method is None else method
        if method not in _METHODS:
            raise ValueError(f"{opname}: method={method!r} must be one of {_METHODS}")
        self.h, self.offset, self.axes, self.method = h, offset, axes, method
        # PyLops' own filter: padded so that its centre is the offset, laid along ``axes``
        full = np.asarray(pylops.signalprocessing.ConvolveND(
            dims, h, offset=offset, axes=axes, method=method, dtype=dtype).h)
        forward = _trimmed(full, tuple((n - 1) // 2 for n in full.shape))
        hr = forward[0][(slice(None, None, -1),) * full.ndim].conj()
        adjoint = (np.ascontiguousarray(hr),
                   tuple(n - 1 - c for n, c in zip(forward[0].shape, forward[1])))
        self._filters = (forward, adjoint)
        self._token = new_token()
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        h, centre = self._filters[adjoint]
        return ChunkKernel(
            convolve_kernel, self.dims, self.dims,
            name=type(self).__name__.lower() + ("-adjoint" if adjoint else ""),
            token=f"{self._token}-{int(adjoint)}",
            params=dict(h=h, centre=centre, method=self.method),
            out_dtype=functools.partial(result_dtype, self.dtype, h.dtype),
            depth=_reach(h, centre))
