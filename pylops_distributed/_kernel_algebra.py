"""Kernels of composite operators: ``alpha * Op`` (:func:`scale`), ``conj(Op)``
(:func:`conj`), ``A + B`` (:func:`add`) and ``A @ B`` (:func:`chain`), each one
:class:`~pylops_distributed.kernels.ChunkKernel` made of its children's.

A composite kernel's function calls its children's on the boxes they read: a sum evaluates
each term on the union of their input boxes, a product evaluates ``B`` on the box ``A``
reads and ``A`` on that. Products after a periodic kernel (a ``Roll``) compute boxes that
wrap around; :func:`_can_wrap` says which kernels can, the others raise
:class:`~pylops_distributed.kernels.NoChunkKernel` (the product is then applied in two
steps).
"""

import functools

import numpy as np
from dask.base import tokenize

from pylops_distributed._blocks import box_intersection
from pylops_distributed.kernels import (ChunkKernel, NoChunkKernel, Operand, StackKernel, Where,
                                        _array_module, _promote, _then_merge, as_stack, cut)


class _Shape:
    """What a composite's ``fn`` needs of its own operands (their boxes), picklable and small."""

    def __init__(self, operands):
        self.operands = tuple(Operand(None, op.box) for op in operands)

    def operand_boxes(self, istart, istop, ostart, ostop):
        return [op.box(istart, istop, ostart, ostop) for op in self.operands]


def _cut_operands(blocks, have, kernel, istart, istop, ostart, ostop):
    want = kernel.operand_boxes(istart, istop, ostart, ostop)
    return [cut(b, h[0], w[0], w[1]) for b, h, w in zip(blocks, have, want)]


def _scaled_fn(x, *ops, where, dtype, kernel, alpha, out=None):
    y = kernel(x, *ops, where=where, dtype=dtype, out=out)
    y *= alpha
    return y


def _conj_fn(x, *ops, where, dtype, kernel):
    return kernel(x.conj(), *ops, where=where, dtype=dtype).conj()


def _chain_dtype(first, second, dtype):
    return second(first(dtype))


def scale(kernel, alpha):
    """Kernel of ``alpha * Op``."""
    if isinstance(kernel, StackKernel):
        return StackKernel(kernel.n_in, [[(j, scale(k, alpha)) for j, k in row]
                                         for row in kernel.terms])
    # a Python number promotes as NumPy's arithmetic does (-1 * float32 stays float32)
    out_dtype = functools.partial(_chain_dtype, kernel.out_dtype,
                                  functools.partial(_promote, alpha))
    return kernel.replace(fn=_scaled_fn, params=dict(kernel=kernel.stripped(), alpha=alpha),
                          token=tokenize("scale", kernel.token, alpha), out_dtype=out_dtype,
                          name=kernel.name)


def conj(kernel):
    """Kernel of ``conj(Op) x = conj(Op conj(x))``."""
    if isinstance(kernel, StackKernel):
        return StackKernel(kernel.n_in, [[(j, conj(k)) for j, k in row] for row in kernel.terms])
    return kernel.replace(fn=_conj_fn, params=dict(kernel=kernel.stripped()), split=False,
                          token=tokenize("conj", kernel.token))


def _union(boxes):
    ndim = len(boxes[0][0])
    return (tuple(min(b[0][a] for b in boxes) for a in range(ndim)),
            tuple(max(b[1][a] for b in boxes) for a in range(ndim)))


def _sum_region(kernels, start, stop):
    return _union([k.in_box(start, stop) for k in kernels])


def _sum_fn(x, *ops, where, dtype, kernels, shape, additive, out=None):
    istart = where.origin
    istop = tuple(o + n for o, n in zip(istart, x.shape))
    have = shape.operand_boxes(istart, istop, where.start, where.stop)
    filled = False
    pos = 0
    for k in kernels:
        n = len(k.operands)
        sub = k.in_box(where.start, where.stop)
        if additive:  # the block may be a piece of the sum's box: the part this child reads
            sub = box_intersection(sub, (istart, istop))
            if any(a >= b for a, b in zip(*sub)):
                pos += n
                continue
        mine = _cut_operands(ops[pos:pos + n], have[pos:pos + n], k, sub[0], sub[1],
                             where.start, where.stop)
        pos += n
        part = k(cut(x, istart, *sub), *mine, where=Where(sub[0], where.start, where.stop),
                 dtype=dtype, out=out if (out is not None and not filled and k.split) else None)
        if not filled:
            if out is None:
                out = part
            elif part is not out:
                out[...] = part
            filled = True
        else:
            out += part
    if not filled:  # every child's piece was empty
        shape_out = tuple(b - a for a, b in zip(where.start, where.stop))
        if out is None:
            out = _array_module(x).zeros(shape_out, dtype=dtype)
        else:
            out[...] = 0
    return out


def _sum_dtype(out_dtypes, dtype):
    return np.result_type(*[f(dtype) for f in out_dtypes])


def _terms(k):
    return list(k.params["kernels"]) if k.fn is _sum_fn else [k]


def add(a, b):
    """Kernel of ``A + B`` (same input and output shapes)."""
    if isinstance(a, StackKernel) or isinstance(b, StackKernel):
        a, b = as_stack(a), as_stack(b)
        if (a.n_in, a.n_out) != (b.n_in, b.n_out):
            raise NoChunkKernel(f"a sum of stacks of {a.n_in}->{a.n_out} and "
                                f"{b.n_in}->{b.n_out} blocks")
        return StackKernel(a.n_in, [list(ra) + list(rb) for ra, rb in zip(a.terms, b.terms)])
    kernels = _terms(a) + _terms(b)
    operands = list(a.operands) + list(b.operands)
    additive = all(k.additive for k in kernels)
    return ChunkKernel(
        _sum_fn, a.dims_in, a.dims_out, name=f"{a.name}+{b.name}",
        token=tokenize("sum", *[k.token for k in kernels]),
        params=dict(kernels=tuple(k.stripped() for k in kernels), shape=_Shape(operands),
                    additive=additive),
        out_dtype=functools.partial(_sum_dtype, tuple(k.out_dtype for k in kernels)),
        region=functools.partial(_sum_region, tuple(k.stripped() for k in kernels)),
        chunks=a.chunks, axes=a.axes, operands=operands,
        whole=frozenset().union(*[k.whole for k in kernels]),
        in_chunks=functools.partial(_then_merge, a.in_chunks,
                                    frozenset().union(*[k.whole for k in kernels])),
        additive=additive,
        corners=any(k.corners for k in kernels), split=all(k.split for k in kernels),
        pointwise=all(k.pointwise for k in kernels),
        periodic=frozenset().union(*[k.periodic for k in kernels]))


def _product_region(a, b, start, stop):
    return b.in_box(*a.in_box(start, stop))


def _product_operand_box(a, box, side, istart, istop, ostart, ostop):
    mid0, mid1 = a.in_box(ostart, ostop)
    if side == "b":  # B reads the product's input box and writes the middle box
        return box(istart, istop, mid0, mid1)
    return box(mid0, mid1, ostart, ostop)


def _product_fn(x, *ops, where, dtype, a, b, shape, mid_dtype):
    istart = where.origin
    istop = tuple(o + n for o, n in zip(istart, x.shape))
    mid0, mid1 = a.in_box(where.start, where.stop)
    nb = len(b.operands)
    have = shape.operand_boxes(istart, istop, where.start, where.stop)
    # an additive B may get a piece of the product's input box (the rest taken as zero)
    sub = (istart, istop) if b.additive else b.in_box(mid0, mid1)
    ops_b = _cut_operands(ops[:nb], have[:nb], b, sub[0], sub[1], mid0, mid1)
    mid = b(cut(x, istart, *sub), *ops_b, where=Where(sub[0], mid0, mid1),
            dtype=mid_dtype(x.dtype))
    ops_a = _cut_operands(ops[nb:], have[nb:], a, mid0, mid1, where.start, where.stop)
    return a(mid, *ops_a, where=Where(mid0, where.start, where.stop), dtype=dtype)


def chain(a, b):
    """Kernel of ``A @ B`` (``B`` applied first). Halo depths add up."""
    if isinstance(a, StackKernel) or isinstance(b, StackKernel):
        a, b = as_stack(a), as_stack(b)
        if a.n_in != b.n_out:
            raise NoChunkKernel(f"a product of stacks of {a.n_in} and {b.n_out} blocks")
        rows = []
        for row in a.terms:
            acc = {}
            for j, ka in row:
                for k, kb in b.terms[j]:
                    term = chain(ka, kb)
                    acc[k] = term if k not in acc else add(acc[k], term)
            rows.append(sorted(acc.items()))
        return StackKernel(b.n_in, rows)
    if tuple(a.dims_in) != tuple(b.dims_out):
        raise NoChunkKernel(f"{a.name} @ {b.name}: the middle shapes differ ({b.dims_out} "
                            f"and {a.dims_in}); reshaping between them has no chunk kernel")
    if a.periodic and not _can_wrap(b, a.periodic):
        raise NoChunkKernel(f"{a.name} (periodic) after {b.name}: the middle box would wrap around")
    sa, sb = a.stripped(), b.stripped()
    operands = ([Operand(op.data, functools.partial(_product_operand_box, sa, op.box, "b"))
                 for op in b.operands]
                + [Operand(op.data, functools.partial(_product_operand_box, sa, op.box, "a"))
                   for op in a.operands])
    whole = set(b.whole)
    for m in a.whole:
        if m < len(b.axes) and b.axes[m] is not None:
            whole.add(b.axes[m])
    axes = tuple(None if m is None or m >= len(b.axes) else b.axes[m] for m in a.axes)
    # a periodic A reads a wrapped box: so does the product, through B's axes
    periodic = set(b.periodic) | ({b.axes[m] for m in a.periodic if m < len(b.axes)} - {None})
    return ChunkKernel(
        _product_fn, b.dims_in, a.dims_out, name=f"{a.name}@{b.name}",
        token=tokenize("chain", a.token, b.token),
        params=dict(a=sa, b=sb, shape=_Shape(operands), mid_dtype=b.out_dtype),
        out_dtype=functools.partial(_chain_dtype, b.out_dtype, a.out_dtype),
        region=functools.partial(_product_region, sa, sb),
        chunks=functools.partial(_chain_chunks, a.chunks, b.chunks),
        axes=axes, operands=operands, whole=whole,
        in_chunks=functools.partial(_then_merge, b.in_chunks, frozenset(whole)),
        additive=b.additive, pointwise=a.pointwise and b.pointwise, periodic=periodic)


def _parts(k):
    """The kernels a composite kernel is made of (none for a plain one)."""
    if k.fn in (_scaled_fn, _conj_fn):
        return (k.params["kernel"],)
    if k.fn is _sum_fn:
        return tuple(k.params["kernels"])
    return (k.params["a"], k.params["b"]) if k.fn is _product_fn else ()


def _can_wrap(k, axes):
    """Whether ``k`` computes output boxes that wrap around along ``axes`` (those of a
    periodic kernel after it): pointwise, or periodic there, in every term and factor."""
    def keeps(kernel):  # the output axes are the input's there
        return all(m < len(kernel.axes) and kernel.axes[m] == m for m in axes)

    if k.pointwise:
        return True
    if _parts(k):
        return ((k.fn is not _product_fn or keeps(k.params["a"]))
                and all(_can_wrap(c, axes) for c in _parts(k)))
    return keeps(k) and set(axes) <= k.periodic


def _chain_chunks(a_chunks, b_chunks, chunks):
    return a_chunks(b_chunks(chunks))


def mixes_periodic(k):
    """Whether ``k`` sums or multiplies a periodic kernel (boxes wrapping around) and others."""
    kids = _parts(k)
    return len({bool(c.periodic) for c in kids}) > 1 or any(mixes_periodic(c) for c in kids)
