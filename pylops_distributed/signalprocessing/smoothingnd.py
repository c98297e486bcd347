"""SmoothingND: moving average over an N-D window, exact across chunks."""

import numpy as np

from pylops_distributed.signalprocessing.convolvend import ConvolveND


class SmoothingND(ConvolveND):
    r"""Moving average over a window of ``nsmooth`` samples along ``axes`` (PyLops'
    ``pylops.SmoothingND``).

    Parameters
    ----------
    nsmooth : tuple of int
        Window length per axis in ``axes`` (or per axis of ``dims``: then the window runs
        along every axis whatever ``axes``, as in PyLops); even lengths are made odd
        (``+1``, so 0 gives 1), as in PyLops.
    dims : tuple of int
        Model (and data) shape.
    axes : tuple of int, optional
        Axes to smooth along; the others are a batch.
    dtype : str, optional
        Operator dtype (and the window's).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If a length is negative, and as :class:`ConvolveND`.

    Notes
    -----
    .. math::
        y[\mathbf{i}] = \frac{1}{\prod_k n_k} \sum_{|\mathbf{j}_k| \le (n_k - 1)/2}
        x[\mathbf{i} + \mathbf{j}]

    with :math:`x` zero outside the array: a symmetric operator, its own adjoint. It is
    :class:`ConvolveND` with a box filter centred on its middle: one task per chunk, with a
    halo of ``(nsmooth[k] - 1) / 2`` samples on both sides along each smoothed axis.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.smoothingnd import SmoothingND
    >>> x = np.random.default_rng(0).standard_normal((8, 9, 10))
    >>> Op = SmoothingND((3, 5), (8, 9, 10), axes=(0, 2))
    >>> y = Op @ da.from_array(x, chunks=(4, 9, 3))
    >>> Pop = pylops.SmoothingND((3, 5), (8, 9, 10), axes=(0, 2))
    >>> np.allclose(y.compute().ravel(), Pop @ x.ravel())
    True
    """

    def __init__(self, nsmooth, dims, axes=(-2, -1), dtype="float64", name="S", chunks=None):
        nsmooth = [int(n) for n in np.atleast_1d(nsmooth)]
        if not nsmooth or min(nsmooth) < 0:
            raise ValueError(f"SmoothingND: nsmooth={tuple(nsmooth)} must be lengths >= 0, e.g. "
                             "SmoothingND((5, 3), dims)")
        nsmooth = [n + 1 if n % 2 == 0 else n for n in nsmooth]
        self.nsmooth = tuple(nsmooth)
        h = np.ones(nsmooth, dtype=dtype) / float(np.prod(nsmooth))
        super().__init__(dims, h, offset=[(n - 1) // 2 for n in nsmooth], axes=axes,
                         dtype=dtype, name=name, chunks=chunks)
