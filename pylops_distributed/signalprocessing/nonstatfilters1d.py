"""NonStationaryFilters1D: estimation of filters varying along a signal (the model is the
filter bank)."""

from pylops_distributed.signalprocessing._nonstationary import NonStationaryFiltersBase


class NonStationaryFilters1D(NonStationaryFiltersBase):
    r"""Non-stationary 1-D filters convolved with a fixed signal ``inp``: the model is the bank
    of filters at the positions ``ih``, linearly interpolated in between, the data the
    convolution (PyLops' ``NonStationaryFilters1D``).

    Parameters
    ----------
    inp : array-like
        Fixed real 1-D input signal (NumPy, CuPy or dask).
    hsize : int
        Length of the filters (odd), each centred on its middle.
    ih : sequence of int
        Regularly sampled positions of the filters along the signal (two or more).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks of the data (the signal axis), also used to wrap NumPy/CuPy data; default:
        ``inp``'s chunks for a dask ``inp``, else dask's ``"auto"``.

    Raises
    ------
    ValueError
        If ``inp`` is not 1-D, ``hsize`` is even, or ``ih`` is irregular, has fewer than two
        positions or positions outside the signal.
    NotImplementedError
        If ``inp`` is complex (PyLops' adjoint would not conjugate it).

    Notes
    -----
    The model, of shape ``(len(ih), hsize)``, is small: it is always one chunk (a chunked
    model is first rechunked). The forward is one task per data chunk, reading the whole
    filter bank and ``inp`` on the chunk and ``hsize // 2`` samples on each side. The adjoint
    is one task per data chunk, each giving the filters' part from that chunk (``inp`` read
    with the same halo), summed into the one model chunk.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.nonstatfilters1d import NonStationaryFilters1D
    >>> inp = np.random.default_rng(0).standard_normal(50)
    >>> hs = np.random.default_rng(1).standard_normal((3, 9))
    >>> Op = NonStationaryFilters1D(inp, 9, ih=(10, 25, 40), chunks=(20,))
    >>> y = Op @ da.from_array(hs)
    >>> Pop = pylops.signalprocessing.NonStationaryFilters1D(inp, 9, ih=(10, 25, 40))
    >>> y.chunks, np.allclose(y.compute(), Pop @ hs.ravel())
    (((20, 20, 10),), True)
    >>> np.allclose((Op.H @ y).compute().ravel(), Pop.H @ Pop @ hs.ravel())
    True
    """

    def __init__(self, inp, hsize, ih, dtype="float64", name="C", chunks=None):
        super().__init__(inp, (int(hsize),), (ih,), dtype, name, chunks)
        self.hsize = int(hsize)
