"""Shift: fractional shift along an axis, through the Fourier domain."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed.signalprocessing._pylops_build import pylops_shift


class Shift(AlongAxes):
    r"""Shift by ``shift`` (in units of ``sampling``) along ``axis`` (PyLops' ``Shift``).

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    shift : float or numpy.ndarray
        Shift; an array gives one shift per index of the other axes (shape ``dims`` without
        ``axis``).
    axis : int, optional
        Axis shifted.
    nfft : int, optional
        FFT length.
    sampling : float, optional
        Sampling step of ``axis``.
    real : bool, optional
        Real model (one-sided FFT).
    engine : str, optional
        FFT engine (as PyLops; CuPy chunks use ``cupy.fft``).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to the FFT calls.

    Notes
    -----
    :math:`\mathbf{y} = \mathbf{F}^{-1}\,\mathrm{diag}(e^{-j2\pi f t_s})\,\mathbf{F}\mathbf{x}`.
    One task per chunk with ``axis`` whole (PyLops' operator on the block, an array of
    shifts cut to the block); the other axes keep their chunks, no exchange. An input chunked
    along ``axis`` is first rechunked to one chunk there (one visible step).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((4, 50))
    >>> shifts = np.array([0.5, 1.0, -2.3, 4.0])
    >>> Op = pld.signalprocessing.Shift((4, 50), shifts, axis=1, real=True, dtype="float64")
    >>> y = Op @ da.from_array(x, chunks=(2, 50))
    >>> POp = pylops.signalprocessing.Shift((4, 50), shifts, axis=1, real=True, dtype="float64")
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, dims, shift, axis=-1, nfft=None, sampling=1.0, real=False,
                 engine="numpy", dtype="complex128", name="S", chunks=None, **kwargs_fft):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "Shift")
        self.shift = shift
        shift = np.asarray(shift)
        operands = ()
        kwargs = dict(axis=self.axis, nfft=nfft, sampling=sampling, real=real, engine=engine,
                      dtype=dtype, **kwargs_fft)
        if shift.size > 1:
            want = tuple(n for a, n in enumerate(dims) if a != self.axis)
            if shift.shape != want:
                raise ValueError(f"Shift: an array of shifts must have the shape of dims without "
                                 f"axis {self.axis}, {want}; got {shift.shape}")
            operands = ((shift, tuple(a for a in range(len(dims)) if a != self.axis)),)
        else:
            kwargs["shift"] = shift.item()
        build = functools.partial(pylops_shift, **kwargs)
        full = build(dims, *[a for a, _ in operands], xp=np)
        self._setup(dims, build, [self.axis], dtype=full.dtype, name=name, chunks=chunks,
                    operands=operands, clinear=bool(getattr(full, "clinear", True)), full=full)
