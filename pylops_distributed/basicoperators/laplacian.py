"""Laplacian: weighted sum of second derivatives along several axes, in one fused pass."""

from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed._stencils import StencilOperator, check_kind, derivative_stencils, sum_plans


class Laplacian(StencilOperator):
    r"""Laplacian :math:`\sum_a w_a \, \partial^2_a` (PyLops' ``Laplacian``).

    Parameters
    ----------
    dims : tuple of int
        Model (and data) shape.
    axes : tuple of int, optional
        Axes along which the second derivatives are taken.
    weights : tuple of float, optional
        Weight of each axis' second derivative.
    sampling : tuple of float, optional
        Sampling step of each axis.
    edge : bool, optional
        One-sided stencils at the ends (centred kind only).
    kind : {"centered", "forward", "backward"}, optional
        Stencil of the second derivatives.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Raises
    ------
    ValueError
        If ``axes``, ``weights`` and ``sampling`` differ in length, or for an unknown ``kind``.

    Notes
    -----
    .. math::
        y = \sum_{a \in \text{axes}} \frac{w_a}{\Delta_a^2} D^2_a x

    with :math:`D^2_a` the stencil of :class:`SecondDerivative`. Unlike PyLops (a sum of
    operators, one pass and temporaries per axis) this is **one fused pass**: each chunk
    exchanges a halo only along the axes in ``axes`` that are chunked, and a single task
    per chunk computes every term into the output.

    See Also
    --------
    SecondDerivative, Gradient

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> L = pld.Laplacian((4, 4))
    >>> x = da.zeros((4, 4), chunks=2); x[1, 1] = 1.0
    >>> (L @ x).compute()[:3, :3]
    array([[ 0.,  0.,  0.],
           [ 0., -4.,  1.],
           [ 0.,  1.,  0.]])
    """

    def __init__(self, dims, axes=(-2, -1), weights=(1.0, 1.0), sampling=(1.0, 1.0), edge=False,
                 kind="centered", dtype="float64", name="L", chunks=None):
        dims = as_dims(dims)
        axes = tuple(normalize_axis(ax, len(dims), "Laplacian") for ax in axes)
        if not len(axes) == len(weights) == len(sampling):
            raise ValueError(f"Laplacian: axes {axes}, weights {tuple(weights)} and sampling "
                             f"{tuple(sampling)} have different lengths; give one value per axis, "
                             "e.g. Laplacian(dims, axes=(0, 1), weights=(1, 1), sampling=(1, 1))")
        check_kind("Laplacian", kind)
        self.axes, self.weights, self.sampling = axes, tuple(weights), tuple(sampling)
        self.edge, self.kind = edge, kind
        fwd, adj = [], []
        for ax, w, s in zip(axes, weights, sampling):
            f, a = derivative_stencils("second", dims[ax], kind, 3, edge,
                                       opname="Laplacian")
            fwd.append((ax, f, w / s ** 2))
            adj.append((ax, a, w.conjugate() / s ** 2))
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)
        self._setup(*sum_plans(fwd, adj, len(dims)))
