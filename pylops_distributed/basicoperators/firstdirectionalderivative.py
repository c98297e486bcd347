"""FirstDirectionalDerivative: derivative along a direction (one, or one per point)."""

import numpy as np

from pylops_distributed._arrays import as_dims
from pylops_distributed._stencils import (StencilOperator, check_kind, derivative_stencils, per_axis,
                                          reach, sum_plans, weighted_kernel)


def directional_terms(opname, dims, v, sampling, edge, kind):
    """Forward and adjoint terms of :math:`\\sum_a v_a D_a / \\Delta_a` and whether ``v``
    varies per point (then the terms carry ``1/Delta_a`` and ``v`` is applied in the kernel)."""
    ndim = len(dims)
    check_kind(opname, kind)
    sampling = per_axis(sampling, ndim, opname, "sampling")
    vshape = tuple(np.shape(v))
    if vshape not in ((ndim,), (ndim,) + dims):
        raise ValueError(f"{opname}: v has shape {vshape}, expected ({ndim},) (one direction) "
                         f"or {(ndim,) + dims} (one direction per point)")
    constant = vshape == (ndim,)
    fwd, adj = [], []
    for ax in range(ndim):
        f, a = derivative_stencils("first", dims[ax], kind, 3, edge, opname)
        s = 1.0 / sampling[ax]
        if constant:
            va = np.asarray(v)[ax].item()
            fwd.append((ax, f, va * s))
            adj.append((ax, a, va.conjugate() * s))
        else:
            fwd.append((ax, f, s))
            adj.append((ax, a, s))
    return fwd, adj, constant, sampling


def promotions(v):
    """Output promotions (forward, adjoint) from the directions, as PyLops: its
    FirstDirectionalDerivative multiplies by ``v`` last (the forward takes ``v``'s dtype) and
    its adjoint ends in the operator's dtype; a complex ``v`` makes both complex."""
    vdtype = np.asarray(v).dtype if not hasattr(v, "dtype") else v.dtype
    complex_v = np.iscomplexobj(np.empty(0, vdtype))
    return (vdtype,), ((vdtype,) if complex_v else ())


def point_directions(v, dtype):
    """Per-point directions in the operator's precision: PyLops' SecondDirectionalDerivative
    returns the operator's dtype (its FirstDirectionalDerivative promotes with ``v``'s)."""
    real = np.empty(0, dtype).real.dtype
    target = np.result_type(real, np.complex64) if np.iscomplexobj(np.empty(0, v.dtype)) else real
    return v if v.dtype == target else v.astype(target)


class FirstDirectionalDerivative(StencilOperator):
    r"""First directional derivative :math:`\mathbf{v} \cdot \nabla x` (PyLops'
    ``FirstDirectionalDerivative``).

    Parameters
    ----------
    dims : tuple of int
        Model (and data) shape.
    v : array
        One direction, of shape ``(ndims,)``, or one per point, of shape ``(ndims, *dims)``
        (NumPy, CuPy or dask).
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
    .. math::
        y = \sum_a v_a \frac{1}{\Delta_a} D_a x, \qquad
        x = \sum_a \frac{1}{\Delta_a} D_a^H (\bar v_a y)

    One fused task per chunk (a constant ``v`` becomes the weights of a stencil sum, like
    :class:`Laplacian`); a per-point ``v`` is chunked like the input and shares its halo.

    See Also
    --------
    Gradient, SecondDirectionalDerivative
    """

    def __init__(self, dims, v, sampling=1.0, edge=False, kind="centered", dtype="float64",
                 name="F", chunks=None):
        dims = as_dims(dims)
        fwd, adj, constant, self.sampling = directional_terms(
            "FirstDirectionalDerivative", dims, v, sampling, edge, kind)
        self.v, self.edge, self.kind = v, edge, kind
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)
        if constant:
            plans = sum_plans(fwd, adj, len(dims))
        else:
            plans = (dict(kernel=weighted_kernel, depth=reach(fwd, len(dims)), weights=v,
                          kwargs=dict(terms=tuple(fwd), adjoint=False)),
                     dict(kernel=weighted_kernel, depth=reach(adj, len(dims)), weights=v,
                          kwargs=dict(terms=tuple(adj), adjoint=True)))
        for plan, promote in zip(plans, promotions(v)):
            plan["promote"] = promote
        self._setup(*plans)
