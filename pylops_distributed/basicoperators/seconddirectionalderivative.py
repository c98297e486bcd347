"""SecondDirectionalDerivative: :math:`-D_v^H D_v`, fused into one task per chunk."""

from pylops_distributed._arrays import as_dims
from pylops_distributed._stencils import StencilOperator, chain_kernel, chain_reach
from pylops_distributed.basicoperators.firstdirectionalderivative import (
    directional_terms, point_directions, promotions)


class SecondDirectionalDerivative(StencilOperator):
    r"""Second directional derivative :math:`-D_\mathbf{v}^H D_\mathbf{v}` (PyLops'
    ``SecondDirectionalDerivative``).

    Parameters
    ----------
    dims : tuple of int
        Model (and data) shape.
    v : array
        One direction, of shape ``(ndims,)``, or one per point, of shape ``(ndims, *dims)``.
    sampling : float or tuple of float, optional
        Sampling step of every axis.
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
    With :math:`D_\mathbf{v}` the :class:`FirstDirectionalDerivative`,
    :math:`y = -D_\mathbf{v}^H D_\mathbf{v} x`: self-adjoint. Both stencil passes run in the
    same task per chunk (the halo is the sum of the two reaches; the inner pass is computed
    on the chunk grown by the outer pass' reach), not as two chained operators.

    See Also
    --------
    FirstDirectionalDerivative, Laplacian
    """

    def __init__(self, dims, v, sampling=1.0, edge=False, kind="centered", dtype="float64",
                 name="S", chunks=None):
        dims = as_dims(dims)
        fwd, adj, constant, self.sampling = directional_terms(
            "SecondDirectionalDerivative", dims, v, sampling, edge, kind)
        self.v, self.edge, self.kind = v, edge, kind
        neg_adj = [(ax, st, -scale) for ax, st, scale in adj]
        if constant:
            stages = ((tuple(fwd), None), (tuple(neg_adj), None))
        else:
            stages = ((tuple(fwd), "wout"), (tuple(neg_adj), "win"))
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)
        weights = None if constant else point_directions(v, self.dtype)
        # PyLops: the operator's dtype, complex with a complex v
        promote = promotions(v)[1]
        plan = dict(kernel=chain_kernel, corners=True, depth=chain_reach(stages, len(dims)),
                    weights=weights, promote=promote, kwargs=dict(stages=stages))
        self._setup(plan, plan)
