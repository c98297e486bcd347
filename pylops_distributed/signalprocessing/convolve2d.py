"""Convolve2D: convolution with a compact 2-D filter along two axes, exact across chunks."""

from pylops_distributed.signalprocessing.convolvend import ConvolveND, as_numpy


class Convolve2D(ConvolveND):
    r"""Convolution with a compact 2-D filter ``h`` along two ``axes`` (PyLops' ``Convolve2D``).

    Parameters
    ----------
    dims : tuple of int
        Model (and data) shape, two axes or more.
    h : array-like
        2-D filter (real or complex). On 2-D ``dims`` it runs along axes 0 and 1 whatever
        ``axes``, as in PyLops.
    offset : tuple of int, optional
        Index of the centre of the filter along its two axes.
    axes : tuple of int, optional
        The two axes to convolve along; the others are a batch.
    method : {"fft", "direct", "auto"}, optional
        How each chunk is convolved; every method gives PyLops' result.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If ``h`` is not 2-D, and as :class:`ConvolveND`.

    Notes
    -----
    :class:`ConvolveND` with a 2-D filter: one task per chunk, with a halo of
    ``h.shape[k] - 1 - offset[k]`` samples before and ``offset[k]`` after the chunk along
    each of the two axes (mirrored for the adjoint, the correlation), convolved with
    SciPy's ``fftconvolve`` by default.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.convolve2d import Convolve2D
    >>> h = np.outer([1.0, 2.0, 1.0], [1.0, 0.0, -1.0])
    >>> x = np.random.default_rng(0).standard_normal((30, 40))
    >>> Op = Convolve2D((30, 40), h, offset=(1, 1))
    >>> y = Op @ da.from_array(x, chunks=(10, 20))
    >>> Pop = pylops.signalprocessing.Convolve2D((30, 40), h, offset=(1, 1))
    >>> np.allclose(y.compute().ravel(), Pop @ x.ravel())
    True
    >>> np.allclose((Op.H @ y).compute().ravel(), Pop.H @ Pop @ x.ravel())
    True
    """

    def __init__(self, dims, h, offset=(0, 0), axes=(-2, -1), method="fft", dtype="float64",
                 name="C", chunks=None):
        h = as_numpy(h)
        if h.ndim != 2:
            raise ValueError(f"Convolve2D: the filter h must be 2-dimensional, got shape {h.shape}")
        super().__init__(dims, h, offset=offset, axes=axes, method=method, dtype=dtype,
                         name=name, chunks=chunks)
