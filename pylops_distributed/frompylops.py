"""FromPyLops: any PyLops operator applied chunk by chunk over the axes it does not act on."""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module, normalize_axis
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator


class FromPyLops(LinearOperator):
    r"""Apply a PyLops operator along some axes of an N-D array, independently on every chunk.

    ``Op`` acts on the sub-array spanned by ``axes``; every index of the other axes
    is an independent copy (a block-diagonal operator). Each chunk of the input is
    one task. The axes in ``axes`` must each be a single chunk: an input chunked along
    them is first rechunked to one chunk there (one visible step; the operator needs the
    whole axis), the other axes keep their chunks.

    Parameters
    ----------
    Op : pylops.LinearOperator
        Operator acting on arrays of shape ``[dims[a] for a in axes]``.
    dims : tuple of int, optional
        Shape of the model. Default: ``Op.dims`` (the whole operator in one task).
    axes : int or tuple of int, optional
        Axes of ``dims`` that ``Op`` acts on, in ``Op``'s axis order. Default: all.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    name : str, optional
        Name of the operator.

    Raises
    ------
    ValueError
        If ``Op``'s size does not match ``dims`` along ``axes``.

    Notes
    -----
    Inside a task the batch axes are moved behind ``axes`` and ``Op.matmat`` is
    called once on a ``(prod(Op.dims), nbatch)`` matrix. PyLops loops over the
    columns for operators without a native ``matmat``: for large batches prefer a
    native distributed operator where one exists.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> F = pylops.FirstDerivative(50, sampling=0.5)
    >>> Op = pld.FromPyLops(F, dims=(50, 1000), axes=0)   # derivative of each column
    >>> x = da.random.random((50, 1000), chunks=(50, 250))
    >>> y = Op @ x                                        # 4 tasks, one per chunk
    >>> np.allclose(y.compute(), (pylops.FirstDerivative((50, 1000), axis=0, sampling=0.5) @ x.compute()))
    True
    """

    def __init__(self, Op, dims=None, axes=None, chunks=None, name=None):
        dims = as_dims(Op.dims if dims is None else dims)
        axes = tuple(range(len(dims))) if axes is None else as_dims(axes)
        axes = tuple(normalize_axis(a, len(dims), "FromPyLops") for a in axes)
        in_shape = tuple(dims[a] for a in axes)
        if int(np.prod(in_shape)) != Op.shape[1]:
            raise ValueError(f"FromPyLops: {type(Op).__name__} has {Op.shape[1]} columns but dims "
                             f"{dims} along axes {axes} hold {in_shape} = {int(np.prod(in_shape))}")
        opdimsd = as_dims(getattr(Op, "dimsd", Op.shape[0]))
        if len(opdimsd) == len(axes):
            out_shape = opdimsd
        elif len(axes) == 1:
            out_shape = (Op.shape[0],)
        else:
            raise ValueError(f"FromPyLops: {type(Op).__name__}.dimsd={opdimsd} does not map onto "
                             f"the {len(axes)} axes {axes}")
        dimsd = list(dims)
        for a, n in zip(axes, out_shape):
            dimsd[a] = n
        self.Op, self.axes = Op, axes
        self._shapes = (in_shape, out_shape)
        self._token = new_token()
        super().__init__(dims, dimsd, Op.dtype, chunks=chunks, name=name,
                         forceflat=getattr(Op, "forceflat", None) if dims == as_dims(Op.dims) else None,
                         clinear=bool(getattr(Op, "clinear", True)))

    def _kernel(self, adjoint):
        shape_in, shape_out = self._shapes[::-1] if adjoint else self._shapes
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        return ChunkKernel(
            _pylops_kernel, dims_in, dims_out, dtype=self.dtype, whole=self.axes,
            name=f"frompylops-{type(self.Op).__name__.lower()}",
            token=f"{self._token}-{int(adjoint)}",
            params=dict(Op=self.Op, axes=self.axes, adjoint=adjoint, shape_in=shape_in,
                        shape_out=shape_out),
            region=functools.partial(_whole_region, self.axes, dims_in))


def _whole_region(axes, dims, start, stop):
    """Input box of a kernel reading ``axes`` whole and the other axes element by element."""
    return (tuple(0 if a in axes else s for a, s in enumerate(start)),
            tuple(dims[a] if a in axes else e for a, e in enumerate(stop)))


def _pylops_kernel(x, *, where, dtype, Op, axes, adjoint, shape_in, shape_out):
    """``Op`` (or its adjoint) along ``axes`` of one block, cut to the output box."""
    y = _pylops_chunk(x, Op, axes, adjoint, shape_in, shape_out)
    cut = tuple(slice(s, e) if a in axes else slice(None)
                for a, (s, e) in enumerate(zip(where.start, where.stop)))
    y = y[cut]
    # a new array, never a view of the input (PyLops' identity-like operators return x)
    return y.astype(dtype, copy=bool(get_array_module(y).may_share_memory(y, x)))


def _pylops_chunk(chunk, Op, axes, adjoint, shape_in, shape_out):
    """Apply ``Op`` (or its adjoint) along ``axes`` of one chunk, all batch columns at once."""
    nax = len(axes)
    front = tuple(range(nax))
    xp = get_array_module(chunk)
    moved = xp.moveaxis(chunk, axes, front)
    batch = moved.shape[nax:]
    X = moved.reshape(int(np.prod(shape_in)), -1)
    if xp.iscomplexobj(X) and not np.iscomplexobj(np.empty(0, Op.dtype)):
        # real PyLops operators reject complex input: apply to both parts
        Y = _apply_columns(Op, X.real, adjoint) + 1j * _apply_columns(Op, X.imag, adjoint)
    else:
        Y = _apply_columns(Op, X, adjoint)
    Y = Y.reshape(tuple(shape_out) + batch)
    return xp.moveaxis(Y, front, axes)


def _apply_columns(Op, X, adjoint):
    if X.shape[1] == 1:
        return (Op.rmatvec if adjoint else Op.matvec)(X[:, 0])[:, None]
    return (Op.rmatmat if adjoint else Op.matmat)(X)
