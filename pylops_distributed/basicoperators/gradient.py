"""Gradient: first derivatives along every axis, stacked, in one fused pass."""

from pylops_distributed._arrays import as_dims
from pylops_distributed._stencils import (StencilOperator, check_kind, derivative_stencils, per_axis,
                                          reach, stack_kernel, unstack_kernel)


class Gradient(StencilOperator):
    r"""Gradient: the first derivative along every axis, stacked (PyLops' ``Gradient``).

    Parameters
    ----------
    dims : int or tuple of int
        Model shape; the data has shape ``(len(dims), *dims)``.
    sampling : float or tuple of float, optional
        Sampling step of every axis (one value for all, or one per axis).
    edge : bool, optional
        Reduced-order stencils at the ends (centred kind only).
    kind : {"centered", "forward", "backward"}, optional
        Stencil of the first derivatives.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    .. math::
        y[a] = \frac{1}{\Delta_a} D_a x, \qquad a = 0, \dots, n_\text{dims}-1

    with :math:`D_a` the stencil of :class:`FirstDerivative`. Forward: one task per chunk of
    ``x`` writes every component of the output chunk, of chunks ``((ndims,), *x.chunks)``.
    Adjoint: one task per chunk computes :math:`\sum_a D_a^H y[a] / \Delta_a`; the leading
    (component) axis of ``y`` is made one chunk if it is not. Halos only along chunked axes.

    See Also
    --------
    FirstDerivative, Laplacian, FirstDirectionalDerivative

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> G = pld.Gradient((3, 4), kind="forward")
    >>> y = G @ da.ones((3, 4), chunks=2)
    >>> y.shape, y.chunks
    ((2, 3, 4), ((2,), (2, 1), (2, 2)))
    """

    def __init__(self, dims, sampling=1.0, edge=False, kind="centered", dtype="float64", name="G",
                 chunks=None):
        dims = as_dims(dims)
        ndim = len(dims)
        check_kind("Gradient", kind)
        self.sampling = per_axis(sampling, ndim, "Gradient", "sampling")
        self.edge, self.kind = edge, kind
        fwd, adj = [], []
        for ax in range(ndim):
            f, a = derivative_stencils("first", dims[ax], kind, 3, edge,
                                       opname="Gradient")
            fwd.append((ax, f, 1.0 / self.sampling[ax]))
            adj.append((ax, a, 1.0 / self.sampling[ax]))
        super().__init__(dims, (ndim,) + dims, dtype, name=name, chunks=chunks)
        self._setup(dict(kernel=stack_kernel, depth=reach(fwd, ndim), lead=(ndim,),
                         kwargs=dict(terms=tuple(fwd))),
                    dict(kernel=unstack_kernel, depth=[(0, 0)] + reach(adj, ndim), drop=1,
                         kwargs=dict(terms=tuple(adj))))
