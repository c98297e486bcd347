"""NonStationaryConvolve1D: convolution with filters varying along an axis, exact across chunks."""

from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed.signalprocessing._nonstationary import NonStationaryConvolveBase


class NonStationaryConvolve1D(NonStationaryConvolveBase):
    r"""Non-stationary 1-D convolution along ``axis`` with filters given at the positions
    ``ih`` and linearly interpolated in between (PyLops' ``NonStationaryConvolve1D``).

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    hs : array-like
        Real filters, shape ``(len(ih), nh)`` with ``nh`` odd, each centred on its middle.
    ih : sequence of int
        Regularly sampled positions of the filters along ``axis`` (two or more).
    axis : int, optional
        Axis along which to convolve; the others are a batch.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If the filters have an even length, ``ih`` is irregular, has fewer than two
        positions or positions outside the axis, or ``hs`` does not have ``len(ih)`` filters.
    NotImplementedError
        If ``hs`` is complex (PyLops' adjoint would not conjugate it).

    Notes
    -----
    .. math::
        y[j] = \sum_{i} \hat{h}_i[j - i + n_h // 2]\, x[i]

    where :math:`\hat{h}_i`, the filter at input sample :math:`i`, is interpolated linearly
    between the two nearest given filters (the nearest one beyond the first and last
    positions), as in PyLops; the adjoint gathers with the same filters. One task per chunk,
    with a halo of ``nh // 2`` samples on both sides along ``axis`` (none along the batch
    axes); the filters are interpolated at the chunk's global positions, so any chunking
    (chunks smaller than the filters included) gives PyLops' result.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.nonstatconvolve1d import NonStationaryConvolve1D
    >>> hs = np.random.default_rng(1).standard_normal((3, 7))
    >>> x = np.random.default_rng(0).standard_normal((4, 40))
    >>> Op = NonStationaryConvolve1D((4, 40), hs, ih=(5, 20, 35), axis=1)
    >>> y = Op @ da.from_array(x, chunks=(2, 9))
    >>> Pop = pylops.signalprocessing.NonStationaryConvolve1D((4, 40), hs, ih=(5, 20, 35), axis=1)
    >>> np.allclose(y.compute().ravel(), Pop @ x.ravel())
    True
    """

    def __init__(self, dims, hs, ih, axis=-1, dtype="float64", name="C", chunks=None):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "NonStationaryConvolve1D")
        super().__init__(dims, hs, (ih,), (self.axis,), dtype, name, chunks)
        self.hsize = self.hshape[0]
