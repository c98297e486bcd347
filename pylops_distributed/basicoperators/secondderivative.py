"""SecondDerivative: second derivative along an axis, exact across chunk boundaries."""

from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed._stencils import StencilOperator, check_kind, derivative_stencils, sum_plans


class SecondDerivative(StencilOperator):
    r"""Second derivative along ``axis`` by finite differences (PyLops' ``SecondDerivative``).

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    axis : int, optional
        Axis along which the derivative is taken.
    sampling : float, optional
        Sampling step :math:`\Delta x`.
    kind : {"centered", "forward", "backward"}, optional
        Stencil.
    edge : bool, optional
        One-sided stencils at the two ends (centred kind only, as in PyLops).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or an ``axis`` out of range.

    Notes
    -----
    Centred stencil :math:`y_i = (x_{i+1} - 2x_i + x_{i-1}) / \Delta x^2` (forward and
    backward: the same three points shifted by one sample); ends as in PyLops.

    One task per chunk with a halo of 1 sample along ``axis`` (2 with ``edge=True``, whose
    end rows reach two samples, and on the one side the forward/backward stencils reach);
    see :class:`FirstDerivative` for the chunking rules and kernels.

    See Also
    --------
    FirstDerivative, Laplacian

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> D2 = pld.SecondDerivative(5)
    >>> (D2 @ da.arange(5.0, chunks=2) ** 2).compute()
    array([0., 2., 2., 2., 0.])
    """

    def __init__(self, dims, axis=-1, sampling=1.0, kind="centered", edge=False,
                 dtype="float64", name="S", chunks=None):
        dims = as_dims(dims)
        self.axis = normalize_axis(axis, len(dims), "SecondDerivative")
        check_kind("SecondDerivative", kind)
        self.sampling, self.kind, self.edge = sampling, kind, edge
        fwd, adj = derivative_stencils("second", dims[self.axis], kind, 3, edge,
                                       opname="SecondDerivative")
        scale = 1.0 / sampling ** 2
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)
        self._setup(*sum_plans([(self.axis, fwd, scale)], [(self.axis, adj, scale)], len(dims)))
