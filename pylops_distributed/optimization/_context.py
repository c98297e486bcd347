"""Worker side of the fused engine, before the stages: a rank's first state (the user's
blocks, :func:`load`) and its static context (operand blocks, :func:`make_context`), plus the
:class:`Box` that carries plans and specs through graphs untouched.
"""

import numpy as np

from pylops_distributed._blocks import aligned, assemble, tiled_view
from pylops_distributed.optimization._recycle import ChunkState


class Box:
    """An opaque holder for static task arguments (dask does not look inside it)."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


def unbox(b):
    return b.v if isinstance(b, Box) else b


def xp_of(name):
    if name == "cupy":
        import cupy

        return cupy
    return np


def load(token, spec, *pieces):
    """A rank's first state: its blocks of the user's arrays (cast to the solve's dtype)."""
    values, pos = {}, 0
    for key, shape, dtype, dsts in unbox(spec):
        parts = list(zip(pieces[pos:pos + len(dsts)], dsts))
        pos += len(dsts)
        xp = xp_of(type(parts[0][0]).__module__.split(".")[0]) if parts else np
        a = assemble(xp, shape, parts[0][0].dtype if parts else dtype, parts)
        values[key] = a.astype(dtype, copy=True)  # the state owns its (aligned) arrays
    return ChunkState(token, values=values)


class Context:
    """A rank's static data: operand blocks (cut once, for every call of the solve)."""

    def __init__(self, xp, operands):
        self.xp, self.operands = xp, operands
        self.calls = {}  # (apply, term, boxes) -> how the kernel is called there
        self.settled = False

    def settle(self, values):
        """The chunks' array module, from the rank's state (a dask ``meta`` may say NumPy for
        CuPy chunks); in-memory operands follow it, converted once."""
        if not self.settled:
            arr = next((v for v in values.values() if getattr(v, "ndim", 0) > 0), None)
            xp = self.xp if arr is None else xp_of(type(arr).__module__.split(".")[0])
            if xp is not self.xp:
                self.xp = xp
                for key, entry in self.operands.items():
                    if isinstance(entry, Pieces):
                        entry.parts = [(p0, _like_xp(a, xp)) for p0, a in entry.parts]
                        entry.found = {}
                    else:
                        self.operands[key] = (_like_xp(entry[0], xp), entry[1])
                self.calls = {}
            self.settled = True
        return self.xp


class Pieces:
    """An operand block kept in the chunks it came in (``[(global start, array)]``): a call is
    split along them (see ``_Rank._calls``) rather than the chunks copied into one block."""

    def __init__(self, parts):
        self.parts = parts
        self.found = {}  # box -> find's answer (the same boxes come back every iteration)

    def find(self, start, stop):
        """The piece holding the box, else the cut positions inside it, per operand axis."""
        box = (start, stop)
        if box not in self.found:
            self.found[box] = self._find(start, stop)
        return self.found[box]

    def _find(self, start, stop):
        for p0, a in self.parts:
            if all(p <= s and e <= p + n for p, s, e, n in zip(p0, start, stop, a.shape)):
                return (a, p0), None
        cuts = [set() for _ in start]
        for p0, a in self.parts:
            for ax, (p, n) in enumerate(zip(p0, a.shape)):
                for c in (p, p + n):
                    if start[ax] < c < stop[ax]:
                        cuts[ax].add(c)
        return None, cuts

    def whole(self, xp):
        """The pieces in one block: ``(array, start)``."""
        start = tuple(min(p[a] for p, _ in self.parts) for a in range(len(self.parts[0][0])))
        stop = tuple(max(p[a] + x.shape[a] for p, x in self.parts) for a in range(len(start)))
        parts = [(x, tuple(slice(a - s, a - s + n) for a, s, n in zip(p, start, x.shape)))
                 for p, x in self.parts]
        return assemble(xp, tuple(b - a for a, b in zip(start, stop)), parts[0][0].dtype, parts), start


def make_context(xp_name, spec, *pieces):
    """Each operand block ``spec = [(key, start, shape, dsts, literal, split)]``: assembled, or
    kept in its chunks (``split``)."""
    xp = xp_of(xp_name)
    ops, pos = {}, 0
    for key, start, shape, dsts, literal, split in unbox(spec):
        if literal is not None:
            ops[key] = (_like_xp(aligned(literal), xp), start)
            continue
        parts = list(zip(pieces[pos:pos + len(dsts)], dsts))
        pos += len(dsts)
        view = tiled_view(shape, parts[0][0].dtype, parts)
        if view is not None:  # neighbouring views of one buffer: one block, no copy
            ops[key] = (_like_xp(view, xp), start)
            continue
        if split and len(parts) > 1:
            ops[key] = Pieces([(tuple(a + d.start for a, d in zip(start, dst)), _like_xp(aligned(p), xp))
                               for p, dst in parts])
            continue
        a = assemble(xp_of(type(parts[0][0]).__module__.split(".")[0]), shape, parts[0][0].dtype,
                     parts)
        ops[key] = (_like_xp(a, xp), start)
    return Context(xp, ops)


def _like_xp(a, xp):
    return xp.asarray(a) if xp is not np and isinstance(a, np.ndarray) else a


