"""FFT2D: 2-D Fourier transform over two axes of an N-D array."""

from pylops_distributed.signalprocessing.fftnd import FFTND


class FFT2D(FFTND):
    r"""Two-dimensional Fourier transform over ``axes`` (PyLops' ``FFT2D``).

    Parameters
    ----------
    dims : tuple of int
        Model shape (two axes or more).
    axes : tuple of int, optional
        The two axes transformed.
    nffts : int or tuple of int, optional
        FFT lengths per axis (default: ``dims`` along ``axes``).
    sampling : float or tuple of float, optional
        Sampling steps per axis (for the frequency axes ``f1``, ``f2``).
    norm : {"ortho", "none", "1/n"}, optional
        Normalisation (as PyLops).
    real : bool, optional
        Real model: one-sided transform along the last of ``axes``.
    ifftshift_before, fftshift_after : bool or tuple of bool, optional
        Shifts per axis, before the transform and after it.
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
    As :class:`FFTND`: no exchange on chunks whose ``axes`` are whole; chunked ``axes`` of an
    input chunked nowhere else go through the pencil scheme (one all-to-all rechunk when one
    of the two axes is chunked, two when both are; the output is chunked along the other
    axis); with other axes chunked too, ``axes`` are rechunked whole (one step).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((64, 32))
    >>> Op = pld.signalprocessing.FFT2D((64, 32))
    >>> y = Op @ da.from_array(x, chunks=(16, 32))   # rows, then one rechunk, then columns
    >>> y.chunks
    ((64,), (8, 8, 8, 8))
    >>> POp = pylops.signalprocessing.FFT2D((64, 32))
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    _kind = "FFT2D"

    def __init__(self, dims, axes=(-2, -1), nffts=None, sampling=1.0, norm="ortho", real=False,
                 ifftshift_before=False, fftshift_after=False, engine="numpy",
                 dtype="complex128", name="F", chunks=None, **kwargs_fft):
        self._fft_init(dims, dict(axes=axes, nffts=nffts, sampling=sampling, norm=norm,
                                  real=real, ifftshift_before=ifftshift_before,
                                  fftshift_after=fftshift_after, dtype=dtype, **kwargs_fft),
                       engine, name, chunks)
