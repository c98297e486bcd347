"""Graph construction helpers: the one place that decides how tasks are named and built.

Operators build their graphs only through these functions (which use dask's public
``map_blocks``/``blockwise``), so a change of dask internals touches this module alone.
"""

import functools
import itertools
import operator
import threading
import uuid

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from pylops_distributed._arrays import get_array_module, meta_like


def new_token():
    """A fresh identity for an operator instance, used to name its tasks deterministically."""
    return uuid.uuid4().hex


def map_chunks(kernel, x, *args, prefix, token, dtype, chunks=None, drop_axis=None,
               new_axis=None, **kwargs):
    """One task per chunk of ``x``: ``kernel(chunk, *args, **kwargs)``.

    Tasks are named ``prefix-<hash>`` (readable on the dashboard, identical for the
    same operator applied to the same input, so nothing is computed twice), ``meta``
    keeps the chunk type (NumPy or CuPy) and ``dtype`` is passed explicitly.
    """
    ndim = x.ndim if chunks is None else len(chunks)
    name = f"{prefix}-{tokenize(token, x.name, args, kwargs)}"
    return da.map_blocks(kernel, x, *args, name=name, dtype=dtype, chunks=chunks,
                         meta=meta_like(x, dtype, ndim), drop_axis=drop_axis,
                         new_axis=new_axis, **kwargs)


# --- halo exchange (stencil operators) -------------------------------------------------------

def coerce_depth(depth, ndim, opname="operator"):
    """``{axis: int or (left, right)}`` (or one int for every axis) -> tuple of ``(left, right)``.

    Raises
    ------
    ValueError
        For a negative depth or an axis out of range, echoing the bad value.
    """
    if isinstance(depth, int):
        depth = {ax: depth for ax in range(ndim)}
    out = [(0, 0)] * ndim
    for ax, d in dict(depth).items():
        if not -ndim <= int(ax) < ndim:
            raise ValueError(f"{opname}: halo depth given for axis {ax}, but the array has {ndim} axes")
        lr = (int(d), int(d)) if isinstance(d, int) else tuple(int(v) for v in d)
        if len(lr) != 2 or min(lr) < 0:
            raise ValueError(f"{opname}: halo depth {d!r} for axis {ax} must be an int >= 0 or a "
                             "(left, right) pair, e.g. depth={0: 1} or depth={0: (0, 2)}")
        out[int(ax) % ndim] = lr
    return tuple(out)


def merge_small_chunks(chunks, size):
    """Merge every chunk shorter than ``size`` into a neighbour; other chunks are kept.

    >>> merge_small_chunks((1, 5, 5, 1), 2)
    (6, 6)
    """
    out = []
    acc = 0
    for c in chunks:
        acc += c
        if acc >= size:
            out.append(acc)
            acc = 0
    if acc:
        if out:
            out[-1] += acc
        else:
            out.append(acc)
    return tuple(out)


def halo_chunks(x, depth):
    """Chunks of ``x`` with every chunk along an axis with a halo at least as long as the halo.

    Only the chunks that are too short are merged with a neighbour (an axis shorter than
    its halo becomes one chunk); ``x.chunks`` is returned unchanged when nothing is too short.
    """
    new = []
    for c, (lo, hi) in zip(x.chunks, depth):
        need = max(lo, hi)
        new.append(c if len(c) == 1 or min(c) >= need else merge_small_chunks(c, need))
    return tuple(new)


def _block_where(starts, depth, bid):
    """``((b0, c0, c1, n), ...)`` per axis for block ``bid``; ``starts`` are the chunk
    boundaries per axis (``(0, c_0, c_0 + c_1, ..., n)``)."""
    return tuple((st[k] - (lo if k > 0 else 0), st[k], st[k + 1], st[-1])
                 for st, (lo, _), k in zip(starts, depth, bid))


def _halo_apply(fn, where, shape, deltas, nlead, depth, *pieces):
    """Assemble each input's block from its chunk and the neighbours' slices, then run ``fn``.

    ``pieces`` holds, for each input, its chunk then one slice per entry of ``deltas``
    (neighbour offset per axis); ``nlead`` per input is the number of leading (whole) axes it
    has beyond ``x``'s; ``depth`` the halo per axis. Corners that were not exchanged are
    zero-filled (cross-shaped stencils never read them).
    """
    if (deltas and len(nlead) == 1 and getattr(getattr(fn, "func", None), "halo_split", False)
            and all(sum(v != 0 for v in d) == 1 for d in deltas)):
        return _halo_split(fn, where, deltas, depth, pieces)
    blocks = []
    off = tuple(c0 - b0 for b0, c0, _, _ in where)
    nb = len(deltas)
    for i, lead in enumerate(nlead):
        core, mine = pieces[i * (nb + 1)], pieces[i * (nb + 1) + 1:(i + 1) * (nb + 1)]
        if not deltas:
            blocks.append(core)
            continue
        buf = _scratch(core, core.shape[:lead] + shape, i)
        _put(buf, core, lead, off)
        for d, piece in zip(deltas, mine):
            start = tuple(o if v == 0 else (0 if v < 0 else o + c1 - c0)
                          for v, o, (_, c0, c1, _) in zip(d, off, where))
            _put(buf, piece, lead, start)
        _zero_corners(buf, lead, deltas, off, where)
        blocks.append(buf)
    return fn(*blocks, where=where)


_SCRATCH = threading.local()


def _halo_split(fn, where, deltas, depth, pieces):
    """Run a cross-shaped ``fn`` on the chunk without assembling its block.

    The chunk is split, per axis with a halo, into a left rim (rows that read the left
    halo), an inside and a right rim; the inside of every axis is computed straight from the
    chunk (a view, no copy) and each rim from a small window assembled from the chunk and
    the neighbours' slices. ``fn`` writes every part into one preallocated output (``out=``),
    so the chunk is read once and no chunk-sized copy is made (which would double the
    memory traffic of a bandwidth-bound stencil on a GPU).
    """
    core, slices = pieces[0], pieces[1:]
    ndim = len(where)
    c0 = [w[1] for w in where]
    c1 = [w[2] for w in where]
    lo, hi = [0] * ndim, [0] * ndim
    sources = [(tuple(c0), core)]
    for d, piece in zip(deltas, slices):
        ax = next(i for i, v in enumerate(d) if v)
        start = list(c0)
        if d[ax] < 0:
            lo[ax] = piece.shape[ax]
            start[ax] = c0[ax] - lo[ax]
        else:
            hi[ax] = piece.shape[ax]
            start[ax] = c1[ax]
        sources.append((tuple(start), piece))
    # per axis: [c0, a) left rim, [a, b) inside, [b, c1) right rim
    cuts = []
    for k in range(ndim):
        a = min(c0[k] + lo[k], c1[k])
        b = max(c1[k] - hi[k], a)
        cuts.append((a, b))
    regions = [(tuple(a for a, _ in cuts), tuple(b for _, b in cuts))]
    for k in range(ndim):
        for r0, r1 in ((c0[k], cuts[k][0]), (cuts[k][1], c1[k])):
            if r0 < r1:
                s = [cuts[j][0] if j < k else c0[j] for j in range(ndim)]
                e = [cuts[j][1] if j < k else c1[j] for j in range(ndim)]
                s[k], e[k] = r0, r1
                regions.append((tuple(s), tuple(e)))
    xp = get_array_module(core)
    out = xp.empty(tuple(b - a for a, b in zip(c0, c1)), dtype=fn.keywords["otype"])
    for r0, r1 in regions:
        if any(a >= b for a, b in zip(r0, r1)):
            continue
        # the region and the stencil's reach, within the data this task has
        w0 = tuple(max(a - depth[k][0], c0[k] - lo[k]) for k, a in enumerate(r0))
        w1 = tuple(min(b + depth[k][1], c1[k] + hi[k]) for k, b in enumerate(r1))
        if all(c0[k] <= w0[k] and w1[k] <= c1[k] for k in range(ndim)):
            window = core[tuple(slice(a - c, b - c) for a, b, c in zip(w0, w1, c0))]
        else:
            window = _assemble(xp, core.dtype, w0, w1, sources)
        sub = tuple(slice(a - c, b - c) for a, b, c in zip(r0, r1, c0))
        fn(window, where=tuple((w0[k], r0[k], r1[k], where[k][3]) for k in range(ndim)),
           out=out[sub])
    return out


def _assemble(xp, dtype, w0, w1, sources):
    """The global window ``[w0, w1)`` from ``(start, array)`` sources (zeros where none)."""
    buf = xp.zeros(tuple(b - a for a, b in zip(w0, w1)), dtype=dtype)
    for start, arr in sources:
        lo = [max(a, s) for a, s in zip(w0, start)]
        hi = [min(b, s + n) for b, s, n in zip(w1, start, arr.shape)]
        if all(a < b for a, b in zip(lo, hi)):
            buf[tuple(slice(a - w, b - w) for a, b, w in zip(lo, hi, w0))] = \
                arr[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))]
    return buf


def _scratch(a, shape, slot):
    """A block buffer for ``a``'s module and dtype, reused by the tasks of one thread.

    The assembled block only lives while its kernel runs (kernels return new arrays), so
    each worker thread keeps one buffer per input slot instead of allocating (and page
    faulting, with ``distributed``'s aggressive malloc trimming) a chunk-sized array per task.
    CuPy blocks come from CuPy's memory pool.
    """
    xp = get_array_module(a)
    if xp is not np:
        return xp.empty(shape, dtype=a.dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * a.dtype.itemsize
    bufs = getattr(_SCRATCH, "bufs", None)
    if bufs is None:
        bufs = _SCRATCH.bufs = {}
    buf = bufs.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = bufs[slot] = np.empty(max(nbytes, 1), dtype=np.uint8)
    return buf[:nbytes].view(a.dtype).reshape(shape)


def _put(buf, piece, lead, start):
    idx = (slice(None),) * lead + tuple(slice(s, s + n) for s, n in zip(start, piece.shape[lead:]))
    buf[idx] = piece


def _zero_corners(buf, lead, deltas, off, where):
    """Zero the corner regions (two or more axes outside the chunk) not in ``deltas``."""
    haloed = [ax for ax in range(len(where)) if buf.shape[lead + ax] != where[ax][2] - where[ax][1]]
    if len(haloed) < 2 or any(sum(v != 0 for v in d) > 1 for d in deltas):
        return
    for d in itertools.product((-1, 0, 1), repeat=len(haloed)):
        if sum(v != 0 for v in d) < 2:
            continue
        idx = [slice(None)] * len(where)
        for ax, dd in zip(haloed, d):
            c = where[ax][2] - where[ax][1]
            idx[ax] = slice(0, off[ax]) if dd < 0 else (slice(off[ax] + c, None) if dd > 0 else
                                                         slice(None))
        buf[(slice(None),) * lead + tuple(idx)] = 0


def map_halo(kernel, x, *others, depth, prefix, token, dtype, lead=(), drop=0, corners=True,
             **kwargs):
    """One task per chunk of ``x`` that sees its chunk plus a halo of its neighbours.

    ``kernel(block, *other_blocks, where=..., **kwargs)`` gets the chunk of ``x`` extended
    by the halo (none at the array's edges) and ``where = ((b0, c0, c1, n), ...)`` per axis
    of ``x``: global start of the block, global start and stop of the chunk proper, and the
    axis length. It returns the output chunk, of shape ``lead + chunk.shape[drop:]``.

    Parameters
    ----------
    kernel : callable
        Module-level function (picklable, deterministic task keys).
    x : dask.array.Array
        The array whose chunks define the tasks and the halos.
    *others : dask.array.Array
        Arrays aligned with ``x`` on its trailing axes (shape ``extra + x.shape``, extra
        axes unchunked); they get the same halos.
    depth : int or dict
        Halo depth per axis of ``x``: ``{axis: d}`` or ``{axis: (left, right)}``. Axes
        with one chunk need no exchange and get none.
    prefix, token : str
        Task names are ``prefix-<hash of token, inputs and kwargs>``.
    dtype : numpy.dtype
        Output dtype (``meta`` keeps the input's chunk type, NumPy or CuPy).
    lead : tuple of int, optional
        Sizes of new leading output axes (one chunk each).
    drop : int, optional
        Number of leading axes of ``x`` (one chunk each) that the output drops.
    corners : bool, optional
        Exchange the corner (diagonal-neighbour) regions too. Sums of 1-D stencils along
        axes (cross-shaped) do not need them: ``False`` saves their slices.

    Notes
    -----
    The halo exchange is dask's documented custom-graph spec (a dict of tasks, through
    ``HighLevelGraph.from_collections``): one small slicing task per neighbour slice a chunk
    needs (2 per chunked stencil axis, plus corners when asked), then **one task per chunk**
    that assembles its block (chunk and slices, into a per-thread scratch buffer, only where
    there is a halo) and runs ``kernel``; kernels marked ``halo_split`` (cross-shaped, taking
    ``out=``) skip the assembly, see :func:`_halo_split`. The chunk is a direct input of its
    task, so the scheduler runs each task where its chunk lives and only the thin slices
    travel.
    (``dask.array.map_overlap`` adds a slicing and a concatenation task per chunk; on a
    2-process cluster their placement moved whole chunks between workers, seen in the task
    stream, 2026-11.) Chunks shorter than the halo along an axis with a halo are first merged
    with a neighbour (:func:`halo_chunks`), so the output keeps ``x``'s chunks except for
    those.
    """
    depth = coerce_depth(depth, x.ndim, prefix)
    depth = tuple((0, 0) if len(c) == 1 else d for c, d in zip(x.chunks, depth))
    for i in range(drop):
        if len(x.chunks[i]) != 1:
            x = x.rechunk({i: -1})
    chunks = halo_chunks(x, depth)
    if chunks != x.chunks:
        x = x.rechunk(chunks)
    nleads = [o.ndim - x.ndim for o in others]
    others = tuple(o.rechunk(tuple((s,) for s in o.shape[:n]) + chunks)
                   if o.chunks != tuple((s,) for s in o.shape[:n]) + chunks else o
                   for o, n in zip(others, nleads))
    out_chunks = tuple((s,) for s in lead) + chunks[drop:]
    name = f"{prefix}-{tokenize(token, x.name, [o.name for o in others], depth, lead, drop, kwargs)}"
    hname = f"{prefix}-halo-{tokenize(name)}"
    haloed = [ax for ax, (lo, hi) in enumerate(depth) if lo or hi]
    deltas_all = []
    for d in itertools.product((-1, 0, 1), repeat=len(haloed)):
        nz = sum(v != 0 for v in d)
        if nz == 0 or (nz > 1 and not corners):
            continue
        if any((v < 0 and depth[ax][0] == 0) or (v > 0 and depth[ax][1] == 0)
               for v, ax in zip(d, haloed)):
            continue
        full = [0] * x.ndim
        for v, ax in zip(d, haloed):
            full[ax] = v
        deltas_all.append(tuple(full))
    fn = functools.partial(kernel, **kwargs)
    nblocks = x.numblocks
    starts = [tuple(np.concatenate([[0], np.cumsum(c)]).tolist()) for c in chunks]
    dsk = {}
    for bid in itertools.product(*[range(n) for n in nblocks]):
        where = _block_where(starts, depth, bid)
        shape = tuple(c1 - b0 + (hi if k < n - 1 else 0) for (b0, _, c1, _), (_, hi), k, n
                      in zip(where, depth, bid, nblocks))
        deltas = tuple(d for d in deltas_all
                       if all(0 <= b + v < n for b, v, n in zip(bid, d, nblocks)))
        args = []
        for arr, nl in zip((x,) + others, [0] + nleads):
            args.append((arr.name,) + (0,) * nl + bid)
            for d in deltas:
                nbid = tuple(b + v for b, v in zip(bid, d))
                sl = tuple(slice(None) if v == 0 else
                           (slice(c[b] - depth[ax][0], None) if v < 0 else slice(0, depth[ax][1]))
                           for ax, (v, c, b) in enumerate(zip(d, chunks, nbid)))
                hkey = (hname, len(args)) + bid
                dsk[hkey] = (operator.getitem, (arr.name,) + (0,) * nl + nbid,
                             (slice(None),) * nl + sl)
                args.append(hkey)
        out_bid = (0,) * len(lead) + bid[drop:]
        dsk[(name,) + out_bid] = ((_halo_apply, fn, where, shape, deltas, tuple([0] + nleads),
                                  depth) + tuple(args))
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=(x,) + others)
    return da.Array(graph, name, out_chunks, meta=meta_like(x, dtype, len(out_chunks)), dtype=dtype)
