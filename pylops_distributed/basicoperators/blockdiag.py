"""BlockDiag: operators on the diagonal of a block matrix, each on its own model block."""

import functools

import dask.array as da
import numpy as np

from pylops_distributed.basicoperators._stacks import (as_operators, common_dims, stack_clinear,
                                                       stack_kernels)
from pylops_distributed._arrays import get_array_module
from pylops_distributed._blocks import box_intersection
from pylops_distributed.kernels import ChunkKernel, NoChunkKernel, Operand, StackKernel, Where, cut
from pylops_distributed.linearoperator import LinearOperator, _fit
from pylops_distributed.stacked import StackedArray, split_input


class BlockDiag(LinearOperator):
    r"""Block-diagonal operator :math:`\mathrm{diag}(\mathbf{A}_1, \mathbf{A}_2, \dots)`.

    Parameters
    ----------
    ops : list of LinearOperator
        Distributed or PyLops operators.
    nproc, inoutengine, parallel_kind : optional
        Accepted for PyLops compatibility.
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`. As in PyLops, set to ``True``
        when the operators' ``dims`` or ``dimsd`` differ.
    dtype : str, optional
        Operator dtype (default: the operators' common result type).
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    clinear : bool
        ``True`` only if every operator is complex-linear (as in PyLops).

    Notes
    -----
    As in PyLops, each side is shaped on its own: when all operators share ``dims``
    the model has shape ``(nops, *dims)``, else it is flat (``sum`` of the sizes); the
    same for the data with ``dimsd``. Both forms, or a
    :class:`~pylops_distributed.StackedArray` with one block per operator, are accepted
    as input. When both sides have the ``(nops, ...)`` form, chunk the model along axis 0
    to spread the operators over the workers (a chunk holding several operators applies
    each to its slab): one task per chunk, a StackedArray input is stacked into that form
    first. Otherwise each block is only touched by its own operator (a ``(nops, ...)``
    input is cut into its slabs): one task per chunk of each block, and the outputs are
    flat (``forceflat=True``).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.BlockDiag([pld.Identity(2), 3 * pld.Identity(2)])
    >>> (Op @ da.ones(4, chunks=2)).compute()
    array([1., 1., 3., 3.])
    """

    def __init__(self, ops, nproc=1, forceflat=None, inoutengine=None, parallel_kind="multiproc",
                 dtype=None, chunks=None):
        ops = list(ops)
        self.ops = as_operators(ops, "BlockDiag")
        n = len(self.ops)
        in_common, out_common = common_dims(self.ops, "dims"), common_dims(self.ops, "dimsd")
        # each side as in PyLops: (nops, *shared shape), or flat and forceflat=True
        dims = (n, *in_common) if in_common is not None else sum(op.shape[1] for op in self.ops)
        dimsd = (n, *out_common) if out_common is not None else sum(op.shape[0] for op in self.ops)
        self._slabs = in_common is not None and out_common is not None
        if not self._slabs:
            forceflat = True
        dtype = np.result_type(*[op.dtype for op in self.ops]) if dtype is None else dtype
        super().__init__(dims, dimsd, dtype, forceflat=forceflat, chunks=chunks,
                         clinear=stack_clinear(ops + self.ops))
        # the side(s) in the slab form (nops, *shape), when the other one is not
        self._slab_side = (None if self._slabs else
                           (self.dims if in_common is not None else None,
                            self.dimsd if out_common is not None else None))
        self._stacked_input = (not self._slabs, not self._slabs)

    def _kernel(self, adjoint):
        if not self._slabs:
            n = len(self.ops)
            return stack_kernels([[op if i == j else None for j, op in enumerate(self.ops)]
                                  for i in range(n)], adjoint, "BlockDiag")
        kernels = []
        for op in self.ops:
            k = op.chunk_kernel(adjoint)
            if isinstance(k, StackKernel):
                raise NoChunkKernel("BlockDiag: a block is itself a stack")
            kernels.append(k)
        k0 = kernels[0]
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        stripped = tuple(k.stripped() for k in kernels)
        operands = [Operand(op.data, functools.partial(_slab_box, i, op.box))
                    for i, k in enumerate(kernels) for op in k.operands]
        return ChunkKernel(
            _slabs_fn, dims_in, dims_out, name="blockdiag",
            token="blockdiag-" + "-".join(k.token for k in kernels),
            params=dict(kernels=stripped, boxes=tuple(Operand(None, op.box) for op in operands)),
            out_dtype=functools.partial(_dtype, tuple(k.out_dtype for k in kernels)),
            region=functools.partial(_slabs_region, stripped),
            chunks=functools.partial(_slabs_chunks, k0.chunks), axes=(0,) + tuple(
                None if a is None else a + 1 for a in k0.axes),
            operands=operands, whole=[a + 1 for a in frozenset().union(*[k.whole for k in kernels])],
            additive=all(k.additive for k in kernels), corners=any(k.corners for k in kernels),
            pointwise=all(k.pointwise for k in kernels))

    def _apply(self, x, adjoint):
        if self._slabs and isinstance(x, StackedArray) and len(x.blocks) == len(self.ops):
            shape = (self.dimsd if adjoint else self.dims)[1:]
            x = da.stack([_fit(b, shape) for b in x.blocks])
        elif self._slab_side is not None and not isinstance(x, StackedArray):
            slab = self._slab_side[adjoint]
            if slab is not None and tuple(getattr(x, "shape", ())) == slab:
                # a (nops, *shape) input on a side that has one: one block per operator
                x = self._wrap(x, f"{self.label}.{'rmatvec' if adjoint else 'matvec'}")
                x = StackedArray(x[i] for i in range(slab[0]))
        return super()._apply(x, adjoint)

    def _apply_blocks(self, x, adjoint):  # used when an operator has no kernel
        shapes = [op.dimsd if adjoint else op.dims for op in self.ops]
        if isinstance(x, da.Array) and x.ndim > 1:  # (nops, *dims): one slab per operator
            blocks = [x[i] for i in range(len(self.ops))]
        else:
            blocks = split_input(x, shapes)
        outs = [(op.rmatvec if adjoint else op.matvec)(b) for op, b in zip(self.ops, blocks)]
        slabs = isinstance(x, da.Array) and x.ndim > 1
        # in slabs, a block that is itself a stack gives its StackedArray flat
        outs = [_fit(out.ravel() if slabs and isinstance(out, StackedArray) else out,
                     op.dims if adjoint else op.dimsd) for op, out in zip(self.ops, outs)]
        if slabs:
            return da.stack(outs)
        return StackedArray(outs) if isinstance(x, StackedArray) else StackedArray(outs).ravel()

    def _matvec(self, x):
        return self._apply_blocks(x, False)

    def _rmatvec(self, y):
        return self._apply_blocks(y, True)


def _dtype(out_dtypes, dtype):
    return np.result_type(*[f(dtype) for f in out_dtypes])


def _slabs_region(kernels, start, stop):
    """Slabs ``[start[0], stop[0])``, and the union of their operators' boxes on the rest."""
    boxes = [kernels[i].in_box(start[1:], stop[1:]) for i in range(start[0], stop[0])]
    if not boxes:
        return (start[0],) + tuple(start[1:]), (stop[0],) + tuple(start[1:])
    lo = tuple(min(b[0][a] for b in boxes) for a in range(len(boxes[0][0])))
    hi = tuple(max(b[1][a] for b in boxes) for a in range(len(boxes[0][0])))
    return (start[0],) + lo, (stop[0],) + hi


def _slabs_chunks(inner, chunks):
    return (tuple(chunks[0]),) + tuple(inner(chunks[1:]))


def _slab_box(i, box, istart, istop, ostart, ostop):
    """An operator's operand box in the slab form: empty unless slab ``i`` is in the call."""
    if not istart[0] <= i < istop[0]:
        s, e = box(istart[1:], istart[1:], ostart[1:], ostart[1:])
        return s, s
    return box(istart[1:], istop[1:], ostart[1:], ostop[1:])


def _slabs_fn(x, *ops, where, dtype, kernels, boxes):
    """Each slab of the block through its own operator's kernel."""
    istart = where.origin
    istop = tuple(o + n for o, n in zip(istart, x.shape))
    out = None
    pos = 0
    shape = tuple(b - a for a, b in zip(where.start, where.stop))
    for i, k in enumerate(kernels):
        n = len(k.operands)
        mine, have = ops[pos:pos + n], boxes[pos:pos + n]
        pos += n
        if not where.start[0] <= i < where.stop[0]:
            continue
        sub = k.in_box(where.start[1:], where.stop[1:])
        if k.additive:  # the block may be a piece: the part of the slab it holds
            sub = box_intersection(sub, (istart[1:], istop[1:]))
        want = k.operand_boxes(sub[0], sub[1], where.start[1:], where.stop[1:])
        got = [op.box(istart, istop, where.start, where.stop) for op in have]
        mine = [cut(b, g[0], w[0], w[1]) for b, g, w in zip(mine, got, want)]
        slab = x[i - istart[0]]
        slab = slab[tuple(slice(a - o, b - o) for a, b, o in zip(sub[0], sub[1], istart[1:]))]
        y = k(slab, *mine, where=Where(sub[0], where.start[1:], where.stop[1:]), dtype=dtype)
        if out is None:
            out = get_array_module(x).empty(shape, dtype=dtype)
        out[i - where.start[0]] = y
    return out
