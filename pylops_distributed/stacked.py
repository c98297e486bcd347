"""StackedArray: a vector made of several dask arrays, used by VStack, HStack and Block.

Concatenating the outputs of stacked operators into one flat array would reshape
every N-D block (a rechunk across its chunk boundaries). A StackedArray keeps each
block with its own shape and chunks, and offers the vector-space methods solvers need.
"""

import functools
import numbers

import dask
import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph

from pylops_distributed._arrays import flatten, get_array_module


class StackedArray:
    """A 1-D vector stored as a tuple of dask arrays (the blocks), each of any shape.

    Parameters
    ----------
    blocks : sequence of dask.array.Array
        The blocks, in stacking order.

    Examples
    --------
    >>> import dask.array as da
    >>> from pylops_distributed import StackedArray
    >>> v = StackedArray([da.ones((2, 3), chunks=1), da.arange(4.0, chunks=2)])
    >>> v.shape, float(v.dot(v))
    ((10,), 20.0)
    >>> v.compute()
    array([1., 1., 1., 1., 1., 1., 0., 1., 2., 3.])
    """

    __array_priority__ = 20  # so ndarray * StackedArray defers to us

    def __init__(self, blocks):
        # a stack inside a stack (VStack of VStacks) contributes its blocks
        self.blocks = tuple(c for b in blocks
                            for c in (b.blocks if isinstance(b, StackedArray) else (b,)))
        if not self.blocks:
            raise ValueError("StackedArray: needs at least one block")
        for b in self.blocks:
            if not isinstance(b, da.Array):
                raise TypeError(f"StackedArray: blocks must be dask arrays, got {type(b).__name__}")

    # --- shape and type -------------------------------------------------------------------
    @property
    def sizes(self):
        return tuple(b.size for b in self.blocks)

    @property
    def shape(self):
        return (sum(self.sizes),)

    @property
    def size(self):
        return self.shape[0]

    ndim = 1

    @property
    def dtype(self):
        return np.result_type(*[b.dtype for b in self.blocks])

    def __len__(self):
        return self.size

    def __repr__(self):
        inner = ", ".join(f"{b.shape} {b.dtype} chunks={b.chunksize}" for b in self.blocks)
        return f"StackedArray<{len(self.blocks)} blocks: {inner}>"

    # --- arithmetic ------------------------------------------------------------------------
    def _map(self, fn, other=None):
        if other is None:
            return StackedArray(fn(b) for b in self.blocks)
        if isinstance(other, StackedArray):
            if other.sizes != self.sizes:
                if other.size != self.size:
                    raise ValueError(f"StackedArray: sizes {self.sizes} and {other.sizes} differ")
                other = as_stacked(other.ravel(), self)  # the same vector cut otherwise
            return StackedArray(fn(a, b.reshape(a.shape)) for a, b in zip(self.blocks, other.blocks))
        if isinstance(other, da.Array) and other.size == self.size and other.ndim >= 1:
            return self._map(fn, as_stacked(other.reshape(-1), self))
        if isinstance(other, numbers.Number) or (hasattr(other, "ndim") and other.ndim == 0):
            return StackedArray(fn(b, other) for b in self.blocks)
        return NotImplemented

    def __add__(self, other):
        return self._map(lambda a, b: a + b, other)

    def __radd__(self, other):
        return self._map(lambda a, b: b + a, other)

    def __sub__(self, other):
        return self._map(lambda a, b: a - b, other)

    def __rsub__(self, other):
        return self._map(lambda a, b: b - a, other)

    def __mul__(self, other):
        return self._map(lambda a, b: a * b, other)

    def __rmul__(self, other):
        return self._map(lambda a, b: b * a, other)

    def __truediv__(self, other):
        return self._map(lambda a, b: a / b, other)

    def __rtruediv__(self, other):
        return self._map(lambda a, b: b / a, other)

    def __pow__(self, other):
        return self._map(lambda a, b: a ** b, other)

    def __neg__(self):
        return self._map(lambda a: -a)

    def __abs__(self):
        return self._map(abs)

    def conj(self):
        return self._map(lambda a: a.conj())

    @property
    def real(self):
        return self._map(lambda a: a.real)

    @property
    def imag(self):
        return self._map(lambda a: a.imag)

    def astype(self, dtype):
        return self._map(lambda a: a.astype(dtype))

    def vdot(self, other):
        """Lazy 0-d ``sum(conj(self) * other)`` over all blocks."""
        other = as_stacked(other, self)
        return sum(da.vdot(a, b) for a, b in zip(self.blocks, other.blocks))

    def dot(self, other):
        """Lazy 0-d ``sum(self * other)`` over all blocks (no conjugation, like ``np.dot``)."""
        other = as_stacked(other, self)
        return sum((a * b.reshape(a.shape)).sum() for a, b in zip(self.blocks, other.blocks))

    def sum(self):
        """Lazy 0-d sum of all entries."""
        return sum(b.sum() for b in self.blocks)

    def max(self):
        """Lazy 0-d largest entry."""
        return functools.reduce(da.maximum, [b.max() for b in self.blocks])

    def norm(self):
        """Lazy 0-d Euclidean norm."""
        return da.sqrt(sum((abs(b) ** 2).sum() for b in self.blocks))

    # --- conversion ------------------------------------------------------------------------
    def ravel(self):
        """One flat dask array (reshapes each block: may rechunk N-D blocks)."""
        return da.concatenate([flatten(b) for b in self.blocks])

    def split(self, shapes):
        """Blocks reshaped to ``shapes`` (same sizes)."""
        return [b.reshape(s) if b.shape != tuple(s) else b for b, s in zip(self.blocks, shapes)]

    def persist(self, **kwargs):
        return StackedArray(dask.persist(*self.blocks, **kwargs))

    def compute(self, **kwargs):
        """Compute all blocks in one pass and return them concatenated flat (NumPy or CuPy)."""
        return compute_all(self, **kwargs)[0]

    # --- dask collection protocol: dask.compute/persist and Client.compute/persist accept it ---
    def __dask_graph__(self):
        return HighLevelGraph.merge(*[b.__dask_graph__() for b in self.blocks])

    def __dask_keys__(self):
        return [b.__dask_keys__() for b in self.blocks]

    def __dask_layers__(self):
        return tuple(layer for b in self.blocks for layer in b.__dask_layers__())

    def __dask_tokenize__(self):
        return tuple(b.name for b in self.blocks)

    __dask_optimize__ = staticmethod(da.Array.__dask_optimize__)
    __dask_scheduler__ = staticmethod(da.Array.__dask_scheduler__)

    def __dask_postcompute__(self):  # see compute_all for blocks that depend on each other
        return _concat_results, (tuple(b.__dask_postcompute__() for b in self.blocks),)

    def __dask_postpersist__(self):
        return _rebuild, (tuple(b.__dask_postpersist__() for b in self.blocks),)

    def __array__(self, dtype=None, copy=None):
        out = self.compute()
        if type(out).__module__.startswith("cupy"):
            out = out.get()
        return np.asarray(out, dtype=dtype)


def _concat(parts):
    xp = get_array_module(parts[0])
    return xp.concatenate([xp.asarray(p).ravel() for p in parts])


def _concat_results(results, finalizers):
    return _concat([fn(r, *args) for r, (fn, args) in zip(results, finalizers)])


def compute_all(*collections, **kwargs):
    """``dask.compute`` that also takes StackedArrays (returned concatenated flat), in one pass.

    Unlike ``dask.compute(stacked)``, this also works when one block is computed
    from another (e.g. ``VStack([Op, 2 * Op])``), which dask's finalize step of a
    single collection does not support.
    """
    flat, spans = [], []
    for c in collections:
        blocks = c.blocks if isinstance(c, StackedArray) else (c,)
        spans.append((len(flat), len(blocks), isinstance(c, StackedArray)))
        flat.extend(blocks)
    results = dask.compute(*flat, **kwargs)
    return tuple(_concat(results[i:i + n]) if stacked else results[i] for i, n, stacked in spans)


def _rebuild(dsk, rebuilders, rename=None):
    return StackedArray(fn(dsk, *args, rename=rename) for fn, args in rebuilders)


def as_stacked(x, like):
    """Split a flat array ``x`` into a StackedArray with ``like``'s block shapes."""
    if isinstance(x, StackedArray):
        return x
    return StackedArray(split_flat(x, [b.shape for b in like.blocks]))


def split_flat(x, shapes):
    """Cut a flat dask array into pieces of ``shapes`` (slices are free where chunks allow)."""
    pieces, start = [], 0
    for s in shapes:
        n = int(np.prod(s))
        piece = x[start:start + n]
        pieces.append(piece.reshape(s) if len(s) != 1 else piece)
        start += n
    return pieces


def split_input(x, shapes):
    """Blocks of shapes ``shapes`` from a StackedArray (same block sizes) or a flat dask array."""
    sizes = tuple(int(np.prod(s)) for s in shapes)
    if isinstance(x, StackedArray):
        if x.sizes == sizes:
            return x.split(shapes)
        groups = _group(x, sizes)
        if groups is not None:  # the data of stacks inside a stack: one group per block
            return [g if isinstance(g, StackedArray) else g.reshape(s) for g, s in zip(groups, shapes)]
        x = x.ravel()
    return split_flat(x.reshape(-1), shapes)


def _group(x, sizes):
    """``x``'s blocks in consecutive groups of ``sizes`` (a StackedArray for a group of
    several blocks, the block itself for one), or None when block edges do not fall there."""
    groups, i = [], 0
    for n in sizes:
        members, total = [], 0
        while total < n and i < len(x.blocks):
            members.append(x.blocks[i])
            total += x.blocks[i].size
            i += 1
        if total != n or not members:
            return None
        groups.append(members[0] if len(members) == 1 else StackedArray(members))
    return groups
