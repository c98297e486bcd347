"""FFT: 1-D Fourier transform along an axis of an N-D array."""

from pylops_distributed.signalprocessing.fftnd import FFTND


class FFT(FFTND):
    r"""One-dimensional Fourier transform along ``axis`` (PyLops' ``FFT``).

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    axis : int, optional
        Axis transformed.
    nfft : int, optional
        FFT length (default ``dims[axis]``).
    sampling : float, optional
        Sampling step (for the frequency axis ``f``).
    norm : {"ortho", "none", "1/n"}, optional
        Normalisation (as PyLops).
    real : bool, optional
        Real model: one-sided transform.
    ifftshift_before, fftshift_after : bool, optional
        Shifts before the transform and after it.
    engine : str, optional
        Accepted for PyLops compatibility; NumPy chunks run ``scipy.fft``, CuPy chunks
        ``cupy.fft`` (``"mkl_fft"`` is honoured).
    dtype : str, optional
        Operator dtype (complex).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to the FFT calls, as in PyLops.

    Notes
    -----
    One task per chunk with ``axis`` whole, PyLops' own operator on the block; the other axes
    keep their chunks (no exchange). An input chunked along ``axis`` is first rechunked to
    one chunk there (one visible step); the output is one chunk along ``axis``.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((10, 64))
    >>> Op = pld.signalprocessing.FFT((10, 64), axis=1, real=True)
    >>> y = Op @ da.from_array(x, chunks=(5, 64))        # 2 tasks, no exchange
    >>> POp = pylops.signalprocessing.FFT((10, 64), axis=1, real=True)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    _kind = "FFT"

    def __init__(self, dims, axis=-1, nfft=None, sampling=1.0, norm="ortho", real=False,
                 ifftshift_before=False, fftshift_after=False, engine="numpy",
                 dtype="complex128", name="F", chunks=None, **kwargs_fft):
        self._fft_init(dims, dict(axis=axis, nfft=nfft, sampling=sampling, norm=norm, real=real,
                                  ifftshift_before=ifftshift_before,
                                  fftshift_after=fftshift_after, dtype=dtype, **kwargs_fft),
                       engine, name, chunks)
