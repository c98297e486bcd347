"""Applying chunk kernels to dask arrays: the one place that builds operator graphs.

:func:`apply_terms` turns kernels (:mod:`pylops_distributed.kernels`) into a dict of tasks
(dask's documented custom-graph spec, through ``HighLevelGraph.from_collections``):

- **one task per output chunk**, which gets the input chunk at its own block index as a
  direct dependency (so the scheduler runs it where that chunk lives) plus the thin pieces of
  other chunks its kernel reads (one small slicing task per piece, shared by every task that
  needs it);
- kernels marked ``additive`` whose input box spans several chunks (contractions over a
  chunked axis) get one task per piece and a sum, instead of gathering the axis;
- kernels marked ``split`` compute the inside of a chunk straight from the chunk and only
  its rims from small windows with the halo (no chunk-sized copy, which would double the
  memory traffic of a bandwidth-bound stencil);
- operands are cut like the input: in-memory ones by slicing here (each task carries its
  slice), dask ones by the same pieces.

Task names are ``<kernel name>-<hash of the kernel token and the inputs>``: equal for the
same operator applied to the same input, distinct otherwise.
"""

import operator
import uuid

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from pylops_distributed._arrays import get_array_module, is_cupy, meta_like
from pylops_distributed._blocks import (assemble, block_ids, bounds, box_of, chunk_shape, is_whole,
                                        pieces, slice_wrapped)
from pylops_distributed._held import held_operand
from pylops_distributed.kernels import Where


def new_token():
    """A fresh identity for an operator instance, used to name its tasks deterministically."""
    return uuid.uuid4().hex


def rechunk_whole(kernel, x):
    """``x`` rechunked as ``kernel`` wants its input (its whole axes merged into one chunk,
    ``MatrixMult``'s aligned with its matrix): one visible rechunk, or ``x`` as it is."""
    chunks = tuple(tuple(c) for c in kernel.in_chunks(x.chunks))
    return x if chunks == x.chunks else x.rechunk(chunks)


def apply_kernel(kernel, x):
    """``kernel`` applied to the dask array ``x``: one task per output chunk."""
    x = rechunk_whole(kernel, x)
    return apply_terms([(kernel, x)], kernel.chunks(x.chunks), kernel.out_dtype(x.dtype))


class _Block:
    """Static part of a block task (an opaque object: dask does not look inside)."""

    __slots__ = ("terms", "shape", "dtype", "start", "stop", "cupy")

    def __init__(self, terms, shape, dtype, start, stop, cupy=False):
        self.terms, self.shape, self.dtype = terms, shape, dtype
        self.start, self.stop = start, stop
        self.cupy = cupy  # the chunks' module, for a block that gets no input piece


class _Term:
    """One kernel's inputs in a block task: the layout of its input block and operands."""

    __slots__ = ("kernel", "origin", "shape", "xparts", "home", "ops", "partials")

    def __init__(self, kernel, origin, shape):
        self.kernel, self.origin, self.shape = kernel, origin, shape
        self.xparts, self.ops, self.partials, self.home = [], [], 0, None


def apply_terms(terms, out_chunks, dtype, prefix=None):
    """``sum(kernel(x) for kernel, x in terms)`` on output chunks ``out_chunks``.

    Parameters
    ----------
    terms : list of (ChunkKernel, dask.array.Array)
        Kernels and their inputs (each input's whole axes already merged).
    out_chunks : tuple of tuple of int
        Chunks of the output.
    dtype : numpy.dtype
        Output dtype.
    prefix : str, optional
        Task name prefix (default: the first kernel's name).
    """
    dtype = np.dtype(dtype)
    first = terms[0][1]
    prefix = (prefix or terms[0][0].name).lower()
    token = tokenize([(k.token, x.name) for k, x in terms], out_chunks, dtype)
    name = f"{prefix}-{token}"
    piece_name = f"{prefix}-piece-{token}"
    part_name = f"{prefix}-partial-{token}"
    dsk, deps = {}, {x.name: x for _, x in terms}
    for k, _ in terms:  # lazy operands: the same futures in every graph (distributed)
        for op in k.operands:
            if isinstance(op.data, da.Array):
                deps.setdefault(op.data.name, held_operand(op.data))
    obnds = bounds(out_chunks)
    gpu = is_cupy(first)
    for bid in block_ids(out_chunks):
        ostart, ostop = box_of(obnds, bid)
        block = _Block([], tuple(b - a for a, b in zip(ostart, ostop)), dtype, ostart, ostop, gpu)
        args = []
        for t, (k, x) in enumerate(terms):
            istart, istop = k.in_box(ostart, ostop)
            xb = bounds(x.chunks)
            home = _home(k, bid, x.chunks, ostart, ostop)
            ps = pieces(istart, istop, xb, None if k.corners or home is None else home)
            ishape = tuple(b - a for a, b in zip(istart, istop))
            if k.additive and len(ps) > 1:
                # one partial result per piece of the input box, summed by a tree whose
                # last level is the block task
                term = _Term(k.stripped(), istart, ishape)
                keys = []
                for i, (sbid, src, dst) in enumerate(ps):
                    pstart = tuple(a + d.start for a, d in zip(istart, dst))
                    pstop = tuple(a + d.stop for a, d in zip(istart, dst))
                    pterm = _Term(k.stripped(), pstart, tuple(b - a for a, b in zip(pstart, pstop)))
                    pterm.xparts = [tuple(slice(0, s.stop - s.start) for s in dst)]
                    pkey = (part_name, t, i) + bid
                    pblock = _Block([pterm], block.shape, dtype, ostart, ostop, gpu)
                    pargs = [_piece_key(dsk, piece_name, x, xb, sbid, src)]
                    pargs += _operand_args(dsk, piece_name, pterm, k, pstart, pstop, ostart, ostop, deps)
                    dsk[pkey] = (_run_block, pblock) + tuple(pargs)
                    keys.append(pkey)
                level = 0
                while len(keys) > SUM_EVERY:
                    keys = [_sum_task(dsk, (f"{prefix}-sum-{token}", t, level, j) + bid,
                                      keys[j * SUM_EVERY:(j + 1) * SUM_EVERY])
                            for j in range(-(-len(keys) // SUM_EVERY))]
                    level += 1
                args += keys
                term.partials = len(keys)
                block.terms.append(term)
                continue
            term = _Term(k.stripped(), istart, ishape)  # operands travel cut, as arguments
            for sbid, src, dst in ps:
                if home is not None and sbid == home:
                    term.home = len(term.xparts)
                term.xparts.append(dst)
                args.append(_piece_key(dsk, piece_name, x, xb, sbid, src))
            args += _operand_args(dsk, piece_name, term, k, istart, istop, ostart, ostop, deps)
            block.terms.append(term)
        dsk[(name,) + bid] = (_run_block, block) + tuple(args)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=list(deps.values()))
    return da.Array(graph, name, tuple(out_chunks), dtype=dtype,
                    meta=meta_like(first, dtype, len(out_chunks)))


def _home(kernel, bid, chunks, ostart, ostop):
    """The input block at the output block's index (through the kernel's axes) when it lies
    exactly under the output box ``[ostart, ostop)``, else None."""
    home = [None] * len(chunks)
    for k, a in enumerate(kernel.axes):
        if a is not None:
            home[a] = bid[k]
    for a, c in enumerate(chunks):
        if home[a] is None and len(c) == 1:
            home[a] = 0
    if any(h is None or h >= len(c) for h, c in zip(home, chunks)):
        return None
    hstart, hstop = box_of(bounds(chunks), home)
    for k, a in enumerate(kernel.axes):
        if a is not None and (hstart[a], hstop[a]) != (ostart[k], ostop[k]):
            return None
    return tuple(home)


def array_from_tasks(name, dsk, chunks, dtype, meta):
    """A dask array whose chunk ``(name, *bid)`` is the task ``dsk[(name, *bid)]`` (tasks may
    hold futures or in-memory values: the solvers' states)."""
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[])
    return da.Array(graph, name, tuple(chunks), dtype=dtype, meta=meta)


def _piece_key(dsk, piece_name, x, xb, sbid, src):
    """Key of chunk ``sbid`` of ``x``, or of a (shared) slicing task for a part of it."""
    if is_whole(src, chunk_shape(xb, sbid)):
        return (x.name,) + sbid
    key = (piece_name, x.name, tokenize(src)) + sbid
    if key not in dsk:
        dsk[key] = (operator.getitem, (x.name,) + sbid, src)
    return key


def _operand_args(dsk, piece_name, term, kernel, istart, istop, ostart, ostop, deps):
    """Operand blocks of one call: in-memory slices (literals) or dask pieces (keys)."""
    args = []
    for op, (start, stop) in zip(kernel.operands, kernel.operand_boxes(istart, istop, ostart, ostop)):
        data = op.data
        if isinstance(data, da.Array):
            data = deps.setdefault(data.name, data)
            ps = pieces(start, stop, bounds(data.chunks))
            term.ops.append(("dask", tuple(b - a for a, b in zip(start, stop)), len(ps),
                             [dst for _, _, dst in ps], data.dtype))
            args += [_piece_key(dsk, piece_name, data, bounds(data.chunks), sbid, src)
                     for sbid, src, _ in ps]
        else:
            term.ops.append(("literal",))
            args.append(_Literal(slice_wrapped(data, start, stop)))
    return args


class _Literal:
    """An in-memory operand slice carried by a task (opaque to dask)."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v


#: Partial results of an additive kernel summed by a tree of this many per task.
SUM_EVERY = 8


def _sum_task(dsk, key, parts):
    dsk[key] = (_sum_parts,) + tuple(parts)
    return key


def _sum_parts(*parts):
    out = parts[0].copy()
    for part in parts[1:]:
        out = _add(out, part)
    return out


def _run_block(block, *args):
    """Assemble each term's input block and operands, run the kernels, sum the terms."""
    pos = 0
    out = None
    for term in block.terms:
        if term.partials:  # each partial result is this task's alone: summed in place
            for part in args[pos:pos + term.partials]:
                out = part.copy() if out is None else _add(out, part)
            pos += term.partials
            continue
        got = args[pos:pos + len(term.xparts)]
        pos += len(term.xparts)
        ops = []
        for spec in term.ops:
            if spec[0] == "literal":
                ops.append(args[pos].v)
                pos += 1
            else:
                _, shape, m, dsts, dtype = spec
                parts = list(zip(args[pos:pos + m], dsts))
                pos += m
                if not parts:  # an empty box (e.g. a block of BlockDiag outside this call)
                    ops.append(np.empty(shape, dtype))
                    continue
                ops.append(assemble(get_array_module(parts[0][0]), shape, dtype, parts))
        xp = get_array_module(got[0]) if got else _module(block.cupy)
        ops = [_like(o, xp) for o in ops]
        if 0 in block.shape:
            part = xp.empty(block.shape, dtype=block.dtype)
        elif term.kernel.split and term.home is not None and len(got) > 1 and not ops:
            part = _split_eval(term, got, block)
        else:
            if got:
                x = assemble(xp, term.shape, got[0].dtype, list(zip(got, term.xparts)))
            else:  # an empty input box (e.g. no sample selected there)
                x = xp.zeros(term.shape, dtype=block.dtype)
            part = term.kernel(x, *ops, where=Where(term.origin, block.start, block.stop),
                               dtype=block.dtype)
        out = part if out is None else _add(out, part)
    if out.dtype != block.dtype:
        out = out.astype(block.dtype)
    return out


def _module(cupy):
    if cupy:
        import cupy

        return cupy
    return np


def _add(a, b):
    try:
        a += b
        return a
    except (TypeError, ValueError):  # read-only or a narrower dtype
        return a + b


def _like(a, xp):
    """NumPy operand blocks as CuPy for CuPy chunks."""
    if xp is not np and isinstance(a, np.ndarray):
        return xp.asarray(a)
    return a


def _split_eval(term, got, block):
    """Run a ``split`` kernel on a chunk and the pieces of its neighbours without assembling
    the haloed block: the inside of the chunk from the chunk itself (a view), each rim from
    a small window, all written into one output."""
    core = got[term.home]
    kernel = term.kernel
    xp = get_array_module(core)
    ndim = len(block.start)
    origin = term.origin
    cdst = term.xparts[term.home]
    c0 = tuple(o + d.start for o, d in zip(origin, cdst))
    c1 = tuple(o + d.stop for o, d in zip(origin, cdst))
    sources = [(tuple(o + d.start for o, d in zip(origin, dst)), a)
               for a, dst in zip(got, term.xparts)]
    out = xp.empty(block.shape, dtype=block.dtype)
    # the inside: output rows whose whole input box lies in the chunk
    cuts = []
    for k in range(ndim):
        lo = block.start[k]
        while lo < block.stop[k] and kernel.in_box(_one(block.start, k, lo), _one(block.stop, k, lo + 1))[0][k] < c0[k]:
            lo += 1
        hi = block.stop[k]
        while hi > lo and kernel.in_box(_one(block.start, k, hi - 1), _one(block.stop, k, hi))[1][k] > c1[k]:
            hi -= 1
        cuts.append((lo, hi))
    regions = [(tuple(a for a, _ in cuts), tuple(b for _, b in cuts))]
    for k in range(ndim):
        for r0, r1 in ((block.start[k], cuts[k][0]), (cuts[k][1], block.stop[k])):
            if r0 < r1:
                s = [cuts[j][0] if j < k else block.start[j] for j in range(ndim)]
                e = [cuts[j][1] if j < k else block.stop[j] for j in range(ndim)]
                s[k], e[k] = r0, r1
                regions.append((tuple(s), tuple(e)))
    for r0, r1 in regions:
        if any(a >= b for a, b in zip(r0, r1)):
            continue
        w0, w1 = kernel.in_box(r0, r1)
        if all(c0[k] <= w0[k] and w1[k] <= c1[k] for k in range(ndim)):
            window = core[tuple(slice(a - c, b - c) for a, b, c in zip(w0, w1, c0))]
        else:
            window = _window(xp, core.dtype, w0, w1, sources)
        sub = tuple(slice(a - s, b - s) for a, b, s in zip(r0, r1, block.start))
        kernel(window, where=Where(w0, r0, r1), dtype=block.dtype, out=out[sub])
    return out


def _one(base, k, v):
    return tuple(v if j == k else b for j, b in enumerate(base))


def _window(xp, dtype, w0, w1, sources):
    """The global window ``[w0, w1)`` from ``(start, array)`` sources (zeros where none)."""
    buf = xp.zeros(tuple(b - a for a, b in zip(w0, w1)), dtype=dtype)
    for start, arr in sources:
        lo = [max(a, s) for a, s in zip(w0, start)]
        hi = [min(b, s + n) for b, s, n in zip(w1, start, arr.shape)]
        if all(a < b for a, b in zip(lo, hi)):
            buf[tuple(slice(a - w, b - w) for a, b, w in zip(lo, hi, w0))] = \
                arr[tuple(slice(a - s, b - s) for a, b, s in zip(lo, hi, start))]
    return buf

