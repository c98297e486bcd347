"""Smoothing1D: moving average along an axis, exact across chunk boundaries."""

from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed._stencils import StencilOperator, box_stencil, sum_plans


class Smoothing1D(StencilOperator):
    r"""Moving average of ``nsmooth`` samples along ``axis`` (PyLops' ``Smoothing1D``).

    Parameters
    ----------
    nsmooth : int
        Length of the window; an even length is made odd (``+1``), as in PyLops.
    dims : int or tuple of int
        Model (and data) shape.
    axis : int, optional
        Axis along which to smooth.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    .. math::
        y_i = \frac{1}{n} \sum_{k=-(n-1)/2}^{(n-1)/2} x_{i+k}

    with :math:`x` zero outside the array: a symmetric operator, its own adjoint. One task
    per chunk with a halo of ``(nsmooth - 1) / 2`` samples along ``axis`` (chunks shorter than
    that are merged with a neighbour).

    See Also
    --------
    Smoothing2D
    """

    _promote_input = True  # as PyLops' convolutions

    def __init__(self, nsmooth, dims, axis=-1, dtype="float64", name="S", chunks=None):
        dims = as_dims(dims)
        nsmooth = int(nsmooth)
        if nsmooth < 0:
            raise ValueError(f"Smoothing1D: nsmooth={nsmooth} must be >= 0, e.g. Smoothing1D(5, dims)")
        if nsmooth % 2 == 0:
            nsmooth += 1
        self.nsmooth = nsmooth
        self.axis = normalize_axis(axis, len(dims), "Smoothing1D")
        st = box_stencil(nsmooth, dims[self.axis], "Smoothing1D")
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)
        self._setup(*sum_plans([(self.axis, st, 1.0)], [(self.axis, st, 1.0)], len(dims)))
