"""Chunk geometry: boxes of chunks, and the pieces of chunks a global box is made of.

Shared by the dask.array executor (:mod:`._graph`) and the solvers' fused engine, which both
ask the same question: which parts of which chunks make up the input box a kernel reads.
Boxes are ``(start, stop)`` tuples of global indices per axis; coordinates outside
``[0, n)`` wrap around (only periodic kernels produce them).
"""

import bisect
import itertools

import numpy as np


def bounds(chunks):
    """Chunk boundaries per axis: ``(0, c0, c0 + c1, ..., n)``."""
    return tuple(tuple(np.concatenate([[0], np.cumsum(c, dtype=np.int64)]).tolist()) for c in chunks)


def box_slices(start, stop):
    """The slices of the box ``[start, stop)``."""
    return tuple(slice(a, b) for a, b in zip(start, stop))


def box_of(bnds, bid):
    """Global box of block ``bid``."""
    return (tuple(b[i] for b, i in zip(bnds, bid)), tuple(b[i + 1] for b, i in zip(bnds, bid)))


def block_ids(chunks):
    """Every block index, in C order."""
    return list(itertools.product(*[range(len(c)) for c in chunks]))


def _segments(a, b, bnd):
    """``[a, b)`` along one axis as ``(block, local start, local stop, offset in [a, b))``."""
    n = bnd[-1]
    out = []
    if n == 0 or a >= b:
        return out
    pos = a
    while pos < b:
        p = pos % n
        k = bisect.bisect_right(bnd, p) - 1
        while bnd[k + 1] == bnd[k]:  # skip empty chunks
            k += 1
        step = min(b - pos, bnd[k + 1] - p)
        out.append((k, p - bnd[k], p - bnd[k] + step, pos - a))
        pos += step
    return out


def pieces(start, stop, bnds, home=None):
    """The pieces of chunks that make up the box ``[start, stop)``.

    Returns a list of ``(bid, src, dst)``: block index, slices into that chunk and slices
    into the box. With ``home`` (a block index), pieces from blocks that differ from it
    along two axes or more (corners) are left out: cross-shaped stencils never read them.
    """
    per_axis = [_segments(a, b, bnd) for a, b, bnd in zip(start, stop, bnds)]
    out = []
    for combo in itertools.product(*per_axis):
        bid = tuple(s[0] for s in combo)
        if home is not None and sum(b != h for b, h in zip(bid, home)) > 1:
            continue
        src = tuple(slice(s[1], s[2]) for s in combo)
        dst = tuple(slice(s[3], s[3] + s[2] - s[1]) for s in combo)
        out.append((bid, src, dst))
    return out


def is_whole(src, chunk_shape):
    """Whether slices ``src`` cover a whole chunk of shape ``chunk_shape``."""
    return all(s.start == 0 and s.stop == n for s, n in zip(src, chunk_shape))


def chunk_shape(bnds, bid):
    return tuple(b[i + 1] - b[i] for b, i in zip(bnds, bid))


def aligned(a):
    """``a``, or an aligned copy: arrays received from another worker may be unaligned, and
    NumPy then multiplies matrices without BLAS (10x slower, seen on a 2-process cluster)."""
    flags = getattr(a, "flags", None)
    if isinstance(a, np.ndarray) and flags is not None and not flags.aligned:
        return a.copy()
    return a


def assemble(xp, shape, dtype, parts, empty=None):
    """One array of ``shape`` from ``(array, dst slices)`` parts (zeros where none), in a
    buffer from ``empty(shape, dtype)`` if given.

    A single part covering the whole box is returned as is (no copy)."""
    if len(parts) == 1:
        a, dst = parts[0]
        if tuple(a.shape) == tuple(shape) and a.dtype == dtype:
            return aligned(a)
    fill = sum(int(np.prod(a.shape)) for a, _ in parts) < int(np.prod(shape))
    if empty is not None:
        buf = empty(tuple(shape), dtype)
        if fill:
            buf[...] = 0
    else:
        buf = (xp.zeros if fill else xp.empty)(tuple(shape), dtype=dtype)
    for a, dst in parts:
        buf[dst] = a
    return buf


def tiled_view(shape, dtype, parts):
    """A read-only view of ``shape`` over ``(array, dst slices)`` parts that tile it and are
    themselves neighbouring views of one NumPy buffer (the chunks of ``da.from_array``), else
    ``None``: read-only blocks (operands) made of such chunks need no copy."""
    arrays = [a for a, _ in parts]
    if (len(parts) < 2 or not all(type(a) is np.ndarray and a.dtype == dtype for a in arrays)
            or sum(a.size for a in arrays) != int(np.prod(shape))):
        return None
    root = {id(_root(a)) for a in arrays}
    strides = {a.strides for a in arrays}
    if len(root) != 1 or len(strides) != 1:
        return None
    (strides,) = strides
    origin = next((a for a, dst in parts if all(d.start == 0 for d in dst)), None)
    if origin is None:
        return None
    base = origin.__array_interface__["data"][0]
    for a, dst in parts:
        want = base + sum(d.start * st for d, st in zip(dst, strides))
        if a.__array_interface__["data"][0] != want:
            return None
    return np.lib.stride_tricks.as_strided(origin, tuple(shape), strides, writeable=False)


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def slice_wrapped(a, start, stop):
    """``a[start:stop]`` per axis, coordinates wrapping around the axes (periodic kernels)."""
    if all(0 <= s and e <= n for s, e, n in zip(start, stop, a.shape)):
        return a[tuple(slice(s, e) for s, e in zip(start, stop))]
    idx = np.ix_(*[np.arange(s, e) % n for s, e, n in zip(start, stop, a.shape)])
    return a[idx]


def box_inside(b, h):
    """Whether box ``b`` (``(start, stop)``) lies in box ``h``."""
    return all(a >= c for a, c in zip(b[0], h[0])) and all(a <= c for a, c in zip(b[1], h[1]))


def box_intersection(a, b):
    """The part of box ``a`` inside box ``b`` (empty along an axis where ``start >= stop``)."""
    return (tuple(max(x, y) for x, y in zip(a[0], b[0])), tuple(min(x, y) for x, y in zip(a[1], b[1])))


def box_hull(a, b):
    """The smallest box holding boxes ``a`` and ``b``."""
    return (tuple(min(x, y) for x, y in zip(a[0], b[0])), tuple(max(x, y) for x, y in zip(a[1], b[1])))
