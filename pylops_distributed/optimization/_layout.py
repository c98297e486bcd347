"""Which rank holds which block of a solve's vectors.

The chunks a user gives say how the data is laid out: in memory, on which worker. A rank is a
task per stage, so fewer, larger ranks mean fewer tasks and fewer hops between them; the
engine therefore gives each rank a *run* of neighbouring chunks:

- with a distributed client, one run per worker thread (even runs along the first chunked
  axis), each on the worker that holds most of it: data laid out in runs (as dask places
  the chunks of a persisted array) does not move, and otherwise only what must moves, once,
  when the solve starts. The number of ranks does not depend on where the copies of the
  chunks happen to be (distributed's memory manager drops and keeps replicas as it likes),
  so repeated solves have the same tasks;
- on dask's local schedulers, all of a small problem (one rank: the iterations between two
  checks then run as one task), else one run per thread.

The results go back in the user's own chunks.
"""

from collections import Counter

import numpy as np

from pylops_distributed.stacked import StackedArray

#: On a local scheduler, problems whose vectors have at most this many elements run as one
#: rank (per-task overhead, not the arithmetic, is what several ranks would add).
LOCAL_ONE_RANK = 1 << 22


def vector_chunks(fwd, adj, ys, x0, square):
    """Chunks of the data blocks (``ys``' own, unless the adjoint's kernels need axes whole)
    and of the model blocks (the forward kernels' wish from ``x0``'s or the adjoint's output
    chunks; None when neither gives them), for the stack kernels ``fwd`` and ``adj`` (None:
    CG) of a solve."""
    data_chunks = []
    for j, yj in enumerate(ys):
        want = yj.chunks
        for row in (adj.terms if adj is not None else ()):
            for jj, k in row:
                if jj == j:
                    want = k.in_chunks(want)
        data_chunks.append(tuple(tuple(c) for c in want))
    if square:
        model_chunks = [fwd.terms[0][0][1].in_chunks(data_chunks[0])]
        return model_chunks, model_chunks
    if x0 is not None:
        xs = list(x0.blocks) if isinstance(x0, StackedArray) else [x0]
        return data_chunks, [in_chunks(fwd, i, xi.chunks) for i, xi in enumerate(xs)]
    if adj is None:
        return data_chunks, None
    model_chunks = []
    for i, row in enumerate(adj.terms):
        j, k = row[0]
        model_chunks.append(in_chunks(fwd, i, k.chunks(data_chunks[j])))
    return data_chunks, model_chunks


def in_chunks(fwd, i, chunks):
    """Model chunks as the forward kernels reading model block ``i`` want them."""
    for row in fwd.terms:
        for j, k in row:
            if j == i:
                return tuple(tuple(c) for c in k.in_chunks(chunks))
    return tuple(tuple(c) for c in chunks)


def _nontrivial(numblocks):
    return tuple(n for n in numblocks if n > 1)


def merge_axis(chunks):
    """The first axis with several chunks (None if the array is one chunk)."""
    return next((a for a, c in enumerate(chunks) if len(c) > 1), None)


def owner_axis(chunks):
    """The chunks along the axis ranks are merged on."""
    return chunks[merge_axis(chunks)]


def even_runs(n, parts):
    parts = max(1, min(parts, n))
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def slab_holders(chunks, holders):
    """Per index along the merge axis, how many of that slab's chunks each worker holds
    (``holders``: the workers holding a copy of each chunk, in C order)."""
    numblocks = tuple(len(c) for c in chunks)
    ax = merge_axis(chunks)
    grid = np.empty(numblocks, dtype=object)
    for k, idx in enumerate(np.ndindex(*numblocks)):
        grid[idx] = holders[k]
    return [Counter(w for cell in np.take(grid, [i], axis=ax).ravel() for w in cell)
            for i in range(numblocks[ax])]


def plan_runs(slabs, threads):
    """Even runs of slabs, one per worker thread, and the worker of each run.

    Parameters
    ----------
    slabs : list of Counter
        Per slab, the chunks each worker holds (:func:`slab_holders`).
    threads : dict
        Threads of each worker of the cluster.

    Returns
    -------
    (runs, homes)
        ``[start, stop)`` ranges and their workers: the pairs of run and worker that share the
        most chunks first, each worker taking as many runs as it has threads.
    """
    runs = even_runs(len(slabs), min(len(slabs), sum(threads.values())))
    held = [sum((slabs[i] for i in range(a, b)), Counter()) for a, b in runs]
    free, homes = dict(threads), [None] * len(runs)
    pairs = sorted(((-held[k].get(w, 0), k, str(w), w) for k in range(len(runs)) for w in threads))
    for _, k, _, w in pairs:
        if homes[k] is None and free[w] > 0:
            homes[k], free[w] = w, free[w] - 1
    return runs, homes


def coarsen(chunks_list, runs):
    """Coarser chunks for every vector block with the reference's block grid.

    Parameters
    ----------
    chunks_list : list
        Chunks of the vector blocks (the first is the reference; blocks in one chunk are
        replicated and left alone).
    runs : list
        ``[start, stop)`` chunk-index ranges along the merge axis (:func:`plan_runs`,
        :func:`even_runs`).

    Returns
    -------
    The new chunks list, or None when nothing merges.
    """
    ref = chunks_list[0]
    ax = merge_axis(ref)
    if ax is None:
        return None
    numblocks = tuple(len(c) for c in ref)
    if len(runs) == numblocks[ax]:
        return None
    out = []
    for chunks in chunks_list:
        nb = tuple(len(c) for c in chunks)
        if int(np.prod(nb)) == 1:
            out.append(chunks)
            continue
        if _nontrivial(nb) != _nontrivial(numblocks):
            return None  # another grid (a transpose, say): keep the chunks as they are
        # the axis of this block that corresponds to the reference's merge axis
        pos = [a for a, k in enumerate(numblocks) if k > 1].index(ax)
        cax = [a for a, k in enumerate(nb) if k > 1][pos]
        c = chunks[cax]
        merged = tuple(int(sum(c[a:b])) for a, b in runs)
        out.append(tuple(merged if a == cax else tuple(ch) for a, ch in enumerate(chunks)))
    return out


def rank_homes(ref_chunks, runs, run_homes):
    """The worker of each rank (coarse block, C order): its run's."""
    ax = merge_axis(ref_chunks)
    coarse = [len(runs) if a == ax else len(c) for a, c in enumerate(ref_chunks)]
    return [run_homes[idx[ax]] for idx in np.ndindex(*coarse)]


def apply_runs(fine, ref, runs, run_homes):
    """The ranks' blocks of every vector block (``fine``: the user's chunks, ``ref`` the block
    whose chunks ``runs`` group) and, with ``run_homes``, each rank's worker (else None)."""
    order = [ref] + [i for i in range(len(fine)) if i != ref]
    n = len(owner_axis(fine[ref]))
    res = coarsen([fine[i] for i in order], runs)
    new = list(fine)
    if res is not None:
        for i, ch in zip(order, res):
            new[i] = ch
    elif len(runs) != n and run_homes is not None:  # not merged (other grids): a rank a chunk
        run_homes = [run_homes[k] for k, (a, b) in enumerate(runs) for _ in range(a, b)]
        runs = [(i, i + 1) for i in range(n)]
    if run_homes is None:
        return new, None
    return new, rank_homes(fine[ref], runs, run_homes)


def fine_block_of(coarse_bounds, fine_bounds, fine_bid):
    """The coarse block holding fine block ``fine_bid``, and its slices in that block."""
    bid, sl = [], []
    for cb, fb, i in zip(coarse_bounds, fine_bounds, fine_bid):
        start, stop = fb[i], fb[i + 1]
        k = int(np.searchsorted(cb, start, side="right") - 1)
        bid.append(k)
        sl.append((start - cb[k], stop - cb[k]))
    return tuple(bid), tuple(sl)

