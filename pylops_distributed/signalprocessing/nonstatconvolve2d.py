"""NonStationaryConvolve2D: convolution with 2-D filters varying over an image, exact across
chunks."""

from pylops_distributed._arrays import as_dims
from pylops_distributed.signalprocessing._nonstationary import ENGINES, NonStationaryConvolveBase


class NonStationaryConvolve2D(NonStationaryConvolveBase):
    r"""Non-stationary 2-D convolution with filters given on a regular grid of positions and
    bilinearly interpolated in between (PyLops' ``NonStationaryConvolve2D``).

    Parameters
    ----------
    dims : tuple of int
        Model (and data) shape :math:`n_x \times n_z`.
    hs : array-like
        Real filters, shape ``(len(ihx), len(ihz), nhx, nhz)`` with odd ``nhx, nhz``, each
        centred on its middle.
    ihx, ihz : sequence of int
        Regularly sampled positions of the filters along the two axes (two or more each).
    engine : {"numpy", "numba", "cuda"}, optional
        Accepted for PyLops compatibility: chunks are computed with NumPy (CuPy for CuPy
        chunks) whatever the engine.
    num_threads_per_blocks : tuple of int, optional
        Accepted for PyLops compatibility (unused).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If ``dims`` is not 2-D, ``engine`` is unknown, the filters have an even length,
        the positions are irregular, fewer than two per axis or outside the axes, or ``hs``
        does not have a filter per position.
    NotImplementedError
        If ``hs`` is complex (PyLops' adjoint would not conjugate it).

    Notes
    -----
    .. math::
        y[j, l] = \sum_{i, k} \hat{h}_{i,k}[j - i + n_{hx} // 2, l - k + n_{hz} // 2]\, x[i, k]

    where :math:`\hat{h}_{i,k}`, the filter at input sample :math:`(i, k)`, is interpolated
    bilinearly from the four nearest given filters (the nearest ones beyond the grid), as in
    PyLops. One task per chunk, with a halo of ``nhx // 2`` and ``nhz // 2`` samples on both
    sides along the two axes (corners included); the filters are interpolated at the chunk's
    global positions, one filter tap at a time (a product of the per-axis interpolation
    weights with the grid of that tap), so any chunking gives PyLops' result.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.nonstatconvolve2d import NonStationaryConvolve2D
    >>> hs = np.random.default_rng(1).standard_normal((2, 3, 5, 3))
    >>> x = np.random.default_rng(0).standard_normal((12, 15))
    >>> grid = dict(ihx=(3, 8), ihz=(2, 7, 12))
    >>> Op = NonStationaryConvolve2D((12, 15), hs, **grid)
    >>> y = Op @ da.from_array(x, chunks=(5, 4))
    >>> Pop = pylops.signalprocessing.NonStationaryConvolve2D((12, 15), hs, **grid)
    >>> np.allclose(y.compute().ravel(), Pop @ x.ravel())
    True
    """

    def __init__(self, dims, hs, ihx, ihz, engine="numpy", num_threads_per_blocks=(32, 32),
                 dtype="float64", name="C", chunks=None):
        dims = as_dims(dims)
        if len(dims) != 2:
            raise ValueError(f"NonStationaryConvolve2D: dims must have two axes, got {dims}")
        if engine not in ENGINES:
            raise ValueError(f"NonStationaryConvolve2D: engine={engine!r} must be one of {ENGINES}")
        self.engine, self.num_threads_per_blocks = engine, num_threads_per_blocks
        super().__init__(dims, hs, (ihx, ihz), (0, 1), dtype, name, chunks)
