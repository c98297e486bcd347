"""NonStationaryConvolve3D: convolution with 3-D filters varying over a volume, exact across
chunks."""

from pylops_distributed._arrays import as_dims
from pylops_distributed.signalprocessing._nonstationary import ENGINES, NonStationaryConvolveBase


class NonStationaryConvolve3D(NonStationaryConvolveBase):
    r"""Non-stationary 3-D convolution with filters given on a regular grid of positions and
    trilinearly interpolated in between (PyLops' ``NonStationaryConvolve3D``).

    Parameters
    ----------
    dims : tuple of int
        Model (and data) shape :math:`n_x \times n_y \times n_z`.
    hs : array-like
        Real filters, shape ``(len(ihx), len(ihy), len(ihz), nhx, nhy, nhz)`` with odd
        filter lengths, each centred on its middle.
    ihx, ihy, ihz : sequence of int
        Regularly sampled positions of the filters along the three axes (two or more each).
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
        If ``dims`` is not 3-D, ``engine`` is unknown, the filters have an even length,
        the positions are irregular, fewer than two per axis or outside the axes, or ``hs``
        does not have a filter per position.
    NotImplementedError
        If ``hs`` is complex (PyLops' adjoint would not conjugate it).

    Notes
    -----
    The 3-D analogue of :class:`NonStationaryConvolve2D`: one task per chunk, with a halo of
    ``nh // 2`` samples on both sides along each axis (corners included), the filters
    interpolated at the chunk's global positions, so any chunking gives PyLops' result.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.nonstatconvolve3d import NonStationaryConvolve3D
    >>> hs = np.random.default_rng(1).standard_normal((2, 2, 2, 3, 3, 5))
    >>> x = np.random.default_rng(0).standard_normal((6, 7, 8))
    >>> Op = NonStationaryConvolve3D((6, 7, 8), hs, ihx=(1, 4), ihy=(2, 5), ihz=(1, 6))
    >>> y = Op @ da.from_array(x, chunks=(3, 4, 5))
    >>> Pop = pylops.signalprocessing.NonStationaryConvolve3D((6, 7, 8), hs, ihx=(1, 4),
    ...                                                       ihy=(2, 5), ihz=(1, 6))
    >>> np.allclose(y.compute().ravel(), Pop @ x.ravel())
    True
    """

    def __init__(self, dims, hs, ihx, ihy, ihz, engine="numpy", num_threads_per_blocks=(2, 16, 16),
                 dtype="float64", name="C", chunks=None):
        dims = as_dims(dims)
        if len(dims) != 3:
            raise ValueError(f"NonStationaryConvolve3D: dims must have three axes, got {dims}")
        if engine not in ENGINES:
            raise ValueError(f"NonStationaryConvolve3D: engine={engine!r} must be one of {ENGINES}")
        self.engine, self.num_threads_per_blocks = engine, num_threads_per_blocks
        super().__init__(dims, hs, (ihx, ihy, ihz), (0, 1, 2), dtype, name, chunks)
