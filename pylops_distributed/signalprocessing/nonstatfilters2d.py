"""NonStationaryFilters2D: estimation of 2-D filters varying over an image (the model is the
filter bank)."""

from pylops_distributed.signalprocessing._nonstationary import ENGINES, NonStationaryFiltersBase


class NonStationaryFilters2D(NonStationaryFiltersBase):
    r"""Non-stationary 2-D filters convolved with a fixed image ``inp``: the model is the bank
    of filters on a regular grid of positions, bilinearly interpolated in between, the data
    the convolution (PyLops' ``NonStationaryFilters2D``).

    Parameters
    ----------
    inp : array-like
        Fixed real 2-D input (NumPy, CuPy or dask).
    hshape : tuple of int
        Shape of the filters (odd lengths), each centred on its middle.
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
        Chunks of the data, also used to wrap NumPy/CuPy data; default: ``inp``'s chunks for
        a dask ``inp``, else dask's ``"auto"``.

    Raises
    ------
    ValueError
        If ``inp`` is not 2-D, ``engine`` is unknown, a filter length is even, or the
        positions are irregular, fewer than two per axis or outside the image.
    NotImplementedError
        If ``inp`` is complex (PyLops' adjoint would not conjugate it).

    Notes
    -----
    The model, of shape ``(len(ihx), len(ihz), *hshape)``, is small: it is always one chunk
    (a chunked model is first rechunked). The forward is one task per data chunk, reading
    the whole filter bank and ``inp`` on the chunk and ``hshape[k] // 2`` samples around it.
    The adjoint is one task per data chunk, each giving the filters' part from that chunk
    (``inp`` read with the same halo), summed into the one model chunk.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.nonstatfilters2d import NonStationaryFilters2D
    >>> inp = np.random.default_rng(0).standard_normal((12, 14))
    >>> hs = np.random.default_rng(1).standard_normal((2, 3, 3, 5))
    >>> grid = dict(ihx=(3, 8), ihz=(2, 6, 10))
    >>> Op = NonStationaryFilters2D(inp, (3, 5), **grid, chunks=(6, 7))
    >>> y = Op @ da.from_array(hs)
    >>> Pop = pylops.signalprocessing.NonStationaryFilters2D(inp, (3, 5), **grid)
    >>> np.allclose(y.compute().ravel(), Pop @ hs.ravel())
    True
    >>> np.allclose((Op.H @ y).compute().ravel(), Pop.H @ Pop @ hs.ravel())
    True
    """

    def __init__(self, inp, hshape, ihx, ihz, engine="numpy", num_threads_per_blocks=(32, 32),
                 dtype="float64", name="C", chunks=None):
        if engine not in ENGINES:
            raise ValueError(f"NonStationaryFilters2D: engine={engine!r} must be one of {ENGINES}")
        self.engine, self.num_threads_per_blocks = engine, num_threads_per_blocks
        super().__init__(inp, hshape, (ihx, ihz), dtype, name, chunks)
