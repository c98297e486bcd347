r"""Per-chunk kernels: how an operator acts on one chunk of its input.

Every operator writes its maths once, as a :class:`ChunkKernel` returned by
:meth:`~pylops_distributed.LinearOperator.chunk_kernel`. Applying the operator to a dask
array (one task per output chunk) and fusing it into a solver iteration (a few tasks per
chunk) both run that kernel; composite operators (sums, products, scalings, adjoints,
conjugates, stacks) combine their children's kernels into one (``_kernel_algebra``).

A kernel is a module-level function evaluated on a *box*: it gets the input block covering
the global input box ``[where.origin, where.origin + x.shape)`` and returns the output on
the global output box ``[where.start, where.stop)``::

    y = fn(x, *operand_blocks, where=where, dtype=dtype, **params)

Boxes are per axis and in global indices, so a kernel knows where its block lies (edge rows,
positions in ``iava``...). The kernel's :attr:`~ChunkKernel.region` tells, for an output box,
the input box it reads: a stencil reads its output box grown by its halo, a transpose the
permuted box, ``Pad`` the shifted box. With the output chunks (:attr:`~ChunkKernel.chunks`)
this is all the engines need to cut halos from neighbouring chunks, to fuse kernels, and to
compute a kernel on a box larger than a chunk (so that a solver can apply ``Op^H Op``
between two exchanges).

Operands are arrays the kernel reads besides its input (a diagonal, the matrix of
``MatrixMult``, per-point directions), cut to each call's box by :class:`Operand`; they are
never shipped whole into every task.

A kernel that cannot be written (a contraction the protocol does not express, two axes
needed whole at once) raises :class:`NoChunkKernel`; the operator then applies itself with
dask.array expressions (``_matvec``/``_rmatvec``) and the solvers use their plain backend.

Example: the kernel of a 1-D moving sum of three samples, zero outside the array::

    def box3(x, *, where, dtype, n):
        (b0,), (o0,), (o1,) = where.origin, where.start, where.stop
        xp = np.pad(x, (o0 - 1 < 0, o1 + 1 > n))           # zeros beyond the ends
        i = o0 - b0 + (o0 - 1 < 0)
        return (xp[i - 1:i - 1 + o1 - o0] + xp[i:i + o1 - o0] + xp[i + 1:i + 1 + o1 - o0]).astype(dtype)

    ChunkKernel(box3, (n,), (n,), name="box3", token="box3-" + str(n), params=dict(n=n), depth=(1,))
"""

import functools
import numbers
from typing import NamedTuple

import numpy as np

from pylops_distributed._blocks import bounds, box_of


class NoChunkKernel(Exception):
    """The operator has no per-chunk kernel; the message says which operator and why."""


class Where(NamedTuple):
    """Where a kernel call's blocks lie, in global indices.

    ``origin``: global index of the input block's first element, per input axis (negative,
    or beyond the axis, on the wrap-around axes of a periodic kernel); ``start``/``stop``:
    the output box, per output axis.
    """

    origin: tuple
    start: tuple
    stop: tuple


class Operand(NamedTuple):
    """An array a kernel reads, cut to each call's box.

    ``box(in_start, in_stop, out_start, out_stop) -> (start, stop)``: the operand's box for
    a call that reads the input box ``[in_start, in_stop)`` and writes the output box
    ``[out_start, out_stop)``. Build it with :func:`aligned`. ``data`` is a NumPy, CuPy,
    scipy.sparse or dask array (None inside composite kernels' parameters). ``axes`` (from
    :func:`aligned`) says which axis of the input or output each operand axis follows: an
    engine may then split a call along the operand's chunks instead of gathering them.
    """

    data: object
    box: object
    axes: tuple = None


def aligned(data, axes):
    """An :class:`Operand` whose axes follow the input's or the output's.

    Parameters
    ----------
    data : array
        The operand.
    axes : sequence
        Per axis of ``data``: ``("in", i)`` (cut like input axis ``i``, halo included),
        ``("out", j)`` (cut like output axis ``j``) or ``None`` (whole). Axes of length 1
        are broadcast (always whole).
    """
    return Operand(data, functools.partial(_aligned_box, tuple(axes), tuple(data.shape)), tuple(axes))


def _aligned_box(axes, shape, istart, istop, ostart, ostop):
    start, stop = [], []
    for ax, n in zip(axes, shape):
        if ax is None or n == 1:
            start.append(0)
            stop.append(n)
        else:
            lo, hi = (istart, istop) if ax[0] == "in" else (ostart, ostop)
            start.append(lo[ax[1]])
            stop.append(hi[ax[1]])
    return tuple(start), tuple(stop)


# --- regions and chunks of the common kinds -----------------------------------------------------

def halo_region(depth, dims, start, stop):
    """Input box of a shape-keeping kernel with a halo ``depth = ((lo, hi), ...)``, clipped to
    the array (no halo beyond its ends)."""
    return (tuple(max(s - lo, 0) for s, (lo, _) in zip(start, depth)),
            tuple(min(e + hi, n) for e, (_, hi), n in zip(stop, depth, dims)))


def follow_chunks(axes, dims_out, chunks):
    """Output chunks that follow the input's chunks along ``axes`` (output axis -> input
    axis), where the lengths agree; other output axes are one chunk."""
    out = []
    for k, n in enumerate(dims_out):
        a = axes[k]
        out.append(chunks[a] if a is not None and sum(chunks[a]) == n else (n,))
    return tuple(out)


def whole_axis_region(axis, n, start, stop):
    """Input box of an output box for a kernel that reads ``axis`` (of length ``n``) whole and
    the other axes as the output's."""
    istart, istop = list(start), list(stop)
    istart[axis], istop[axis] = 0, n
    return tuple(istart), tuple(istop)


def one_chunk_along(axis, n, chunks):
    """``chunks`` with ``axis`` one chunk of length ``n`` (the output of a whole-axis kernel)."""
    return tuple((n,) if a == axis else tuple(c) for a, c in enumerate(chunks))


def merge_whole(whole, chunks):
    """``chunks`` with the axes in ``whole`` made one chunk."""
    return tuple((sum(c),) if a in whole else tuple(c) for a, c in enumerate(chunks))


def _then_merge(first, whole, chunks):
    return merge_whole(whole, first(chunks))


def as_depth(depth, ndim):
    """``int``, per-axis ints or ``(lo, hi)`` pairs -> tuple of ``(lo, hi)``."""
    if depth is None:
        return ((0, 0),) * ndim
    if isinstance(depth, numbers.Integral):
        return ((int(depth), int(depth)),) * ndim
    out = []
    for d in depth:
        out.append((int(d), int(d)) if isinstance(d, numbers.Integral) else (int(d[0]), int(d[1])))
    return tuple(out)


def _promote(op_dtype, dtype):
    return np.result_type(op_dtype, dtype)


def place(part, part_start, start, stop, dtype):
    """``part`` (covering a box from ``part_start``) inside a zero array on ``[start, stop)``;
    ``part`` itself when it covers exactly that box (additive kernels on a piece)."""
    shape = tuple(b - a for a, b in zip(start, stop))
    if tuple(part_start) == tuple(start) and tuple(part.shape) == shape:
        return part if part.dtype == dtype else part.astype(dtype)
    out = _array_module(part).zeros(shape, dtype=dtype)
    lo = [max(a, p) for a, p in zip(start, part_start)]
    hi = [min(b, p + n) for b, p, n in zip(stop, part_start, part.shape)]
    if all(a < b for a, b in zip(lo, hi)):
        out[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))] = \
            part[tuple(slice(a - p, b - p) for a, b, p in zip(lo, hi, part_start))]
    return out


# --- the kernel ------------------------------------------------------------------------------

class ChunkKernel:
    r"""How an operator acts on one chunk (see the module notes).

    Parameters
    ----------
    fn : callable
        Module-level function ``fn(x, *operands, where, dtype, **params)`` returning the output
        on ``where``'s output box (with ``split=True`` it also takes ``out=``).
    dims_in, dims_out : tuple of int
        Shapes of the input and output arrays.
    name : str
        Task name prefix (shown on the dashboard).
    token : str
        Identity of the kernel: equal tokens mean equal maths (task keys are built from it).
    params : dict, optional
        Keyword arguments of ``fn`` (picklable: they travel in tasks).
    dtype : numpy.dtype, optional
        Operator dtype; the output dtype is ``result_type(dtype, input dtype)`` unless
        ``out_dtype`` is given.
    out_dtype : callable, optional
        Input dtype -> output dtype.
    depth : int or sequence, optional
        Halo of a shape-keeping kernel, per input axis: ``lo``/``hi`` samples read beyond the
        output box (the default region). ``0`` by default.
    region : callable, optional
        ``region(start, stop) -> (in_start, in_stop)``: the input box read to produce an output
        box. Non-periodic kernels clip it to the input array.
    chunks : callable, optional
        Input chunks -> output chunks (default: follow the input along ``axes``).
    axes : tuple, optional
        Per output axis, the input axis it follows (or None): used for the default chunks and
        to carry whole-axis needs through products. Default: the identity for equal ranks.
    operands : sequence of Operand, optional
        Arrays read besides the input, passed to ``fn`` after ``x``, cut to each call's box.
    whole : iterable of int, optional
        Input axes the kernel reads whole whatever the output box: applies rechunk them to one
        chunk first (one visible step) rather than gathering pieces in every task.
    in_chunks : callable, optional
        Input chunks -> the chunks the input is rechunked to before an apply (default: the
        ``whole`` axes merged). ``MatrixMult`` aligns its input with the blocks of its matrix.
    additive : bool, optional
        The kernel may be called on any piece of its input box (the rest taken as zero), and
        then returns that piece's contribution to the whole output box (zeros where it has
        none, see :func:`place`): the output is the sum over the pieces. Contractions over a
        chunked axis (a ``MatrixMult`` along a chunked axis, ``Sum``) are computed that way,
        without gathering the axis.
    corners : bool, optional
        False for cross-shaped stencils (sums of 1-D stencils along axes), which never read
        input from chunks diagonal to their own: those are not exchanged (zero-filled).
    split : bool, optional
        ``fn`` accepts ``out=`` and any output box inside the input block: the engines may
        compute a chunk's inside straight from the chunk and only its rims from small windows.
    pointwise : bool, optional
        Each output element reads only the input element at the same index.
    periodic : iterable of int, optional
        Input axes on which the region wraps around (``Roll``).
    """

    def __init__(self, fn, dims_in, dims_out, *, name, token, params=None, dtype=None,
                 out_dtype=None, depth=None, region=None, chunks=None, axes=None, operands=(),
                 whole=(), in_chunks=None, additive=False, corners=True, split=False,
                 pointwise=False, periodic=()):
        self.fn = fn
        self.dims_in, self.dims_out = tuple(dims_in), tuple(dims_out)
        self.name, self.token = name, str(token)
        self.params = dict(params or {})
        if out_dtype is None:
            out_dtype = functools.partial(_promote, np.dtype(dtype or "float64"))
        self.out_dtype = out_dtype
        if axes is None:
            same = len(self.dims_in) == len(self.dims_out)
            axes = tuple(range(len(self.dims_out))) if same else (None,) * len(self.dims_out)
        self.axes = tuple(axes)
        if region is None:
            region = functools.partial(halo_region, as_depth(depth, len(self.dims_in)), self.dims_in)
        self.region = region
        self.chunks = chunks or functools.partial(follow_chunks, self.axes, self.dims_out)
        self.operands = tuple(operands)
        self.whole = frozenset(whole)
        self.in_chunks = in_chunks or functools.partial(merge_whole, self.whole)
        self.additive, self.corners, self.split = bool(additive), bool(corners), bool(split)
        self.pointwise = bool(pointwise)
        self.periodic = frozenset(periodic)

    def __repr__(self):
        return f"<ChunkKernel {self.name} {self.dims_in} -> {self.dims_out}>"

    def __call__(self, x, *operands, where, dtype, out=None):
        """Evaluate on one block (operand blocks already cut to this call's box)."""
        if _array_module(x) is not np:
            # a worker thread's first CUDA library call (cuFFT) fails unless a runtime call
            # has made the chunk's device current in that thread first
            import cupy

            cupy.cuda.runtime.setDevice(x.device.id)
        if out is not None:
            return self.fn(x, *operands, where=where, dtype=dtype, out=out, **self.params)
        return self.fn(x, *operands, where=where, dtype=dtype, **self.params)

    def in_box(self, start, stop):
        """Input box read for the output box ``[start, stop)`` (pointwise: the box, even wrapped)."""
        if self.pointwise:
            return tuple(start), tuple(stop)
        return self.region(tuple(start), tuple(stop))

    def operand_boxes(self, istart, istop, ostart, ostop):
        """Each operand's box for a call reading ``[istart, istop)`` and writing ``[ostart, ostop)``."""
        return [op.box(istart, istop, ostart, ostop) for op in self.operands]

    def depth(self, chunks):
        """Halo ``((lo, hi), ...)`` per input axis that chunks of the output need beyond the
        input chunk at the same block index (for docs and tests; engines use :meth:`in_box`)."""
        out_chunks = self.chunks(chunks)
        if len(out_chunks) != len(chunks):
            return None
        ib, ob = bounds(chunks), bounds(out_chunks)
        lo, hi = [0] * len(chunks), [0] * len(chunks)
        for bid in np.ndindex(*[len(c) for c in out_chunks]):
            ostart, ostop = box_of(ob, bid)
            if bid and any(b >= len(c) for b, c in zip(bid, chunks)):
                continue
            cstart, cstop = box_of(ib, bid)
            istart, istop = self.in_box(ostart, ostop)
            for a in range(len(chunks)):
                lo[a] = max(lo[a], cstart[a] - istart[a])
                hi[a] = max(hi[a], istop[a] - cstop[a])
        return tuple(zip(lo, hi))

    def stripped(self):
        """The kernel without its operands' data, to travel inside a composite's parameters."""
        if all(op.data is None for op in self.operands):
            return self
        new = object.__new__(ChunkKernel)
        new.__dict__.update(self.__dict__)
        new.operands = tuple(Operand(None, op.box, op.axes) for op in self.operands)
        return new

    def replace(self, **changes):
        """A copy with some attributes changed."""
        new = object.__new__(ChunkKernel)
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new


class StackKernel:
    """The kernels of a stack of operators: output ``i`` is ``sum(K(x[j]) for j, K in terms[i])``.

    ``VStack`` has one input and a term per output, ``HStack`` one output, ``BlockDiag`` the
    diagonal terms, ``Block`` any. Inputs and outputs are the blocks of a
    :class:`~pylops_distributed.StackedArray`.
    """

    def __init__(self, n_in, terms):
        self.n_in = int(n_in)
        self.terms = tuple(tuple((int(j), k) for j, k in row) for row in terms)

    @property
    def n_out(self):
        return len(self.terms)

    def __repr__(self):
        return f"<StackKernel {self.n_in} -> {self.n_out}>"


# --- composition -----------------------------------------------------------------------------

def cut(a, have_start, want_start, want_stop):
    """The part of ``a`` (covering a box from ``have_start``) on ``[want_start, want_stop)``."""
    idx = tuple(slice(w0 - h0, w1 - h0) for h0, w0, w1 in zip(have_start, want_start, want_stop))
    if all(s.start == 0 and s.stop == n for s, n in zip(idx, a.shape)):
        return a
    return a[idx]


def _array_module(x):
    if type(x).__module__.split(".")[0] == "cupy":
        import cupy

        return cupy
    return np


def as_stack(k):
    """A single kernel as a 1 x 1 :class:`StackKernel`."""
    return k if isinstance(k, StackKernel) else StackKernel(1, [[(0, k)]])


def dask_operands(*stacks):
    """The dask arrays among the operands of the kernels of :class:`StackKernel` ``stacks``
    (None entries skipped)."""
    return [op.data for s in stacks if s is not None for row in s.terms for _, k in row
            for op in k.operands if hasattr(op.data, "dask")]
