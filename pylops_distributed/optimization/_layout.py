"""Which rank holds which block of a solve's vectors.

The chunks a user gives say how the data is laid out: in memory, on which worker. A rank is a
task per stage, so fewer, larger ranks mean fewer tasks and fewer hops between them; the
engine therefore gives each rank a *run* of neighbouring chunks:

- with a distributed client, the chunks that live on the same worker (one rank per run of
  them along the first chunked axis, or per thread of a worker with several): nothing
  moves, and a worker runs one task a stage; but when a worker holds more than its share
  (by threads) of the chunks, the chunks are cut into even runs spread over all workers,
  each run on the worker that holds most of it (the data moves once, at the start);
- on dask's local schedulers, all of a small problem (one rank: the iterations between two
  checks then run as one task), else one run per thread.

The results go back in the user's own chunks.
"""

import math
from collections import Counter

import numpy as np

#: On a local scheduler, problems whose vectors have at most this many elements run as one
#: rank (per-task overhead, not the arithmetic, is what several ranks would add).
LOCAL_ONE_RANK = 1 << 22


def _nontrivial(numblocks):
    return tuple(n for n in numblocks if n > 1)


def merge_axis(chunks):
    """The first axis with several chunks (None if the array is one chunk)."""
    return next((a for a, c in enumerate(chunks) if len(c) > 1), None)


def runs_of(keys):
    """``[start, stop)`` of the maximal runs of equal consecutive keys."""
    out, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out.append((start, i))
            start = i
    return out


def even_runs(n, parts):
    parts = max(1, min(parts, n))
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def pick_owners(holders):
    """One worker per chunk (C order) from the workers holding a copy: the previous chunk's
    where it holds one too (longer runs, and the same layout however the copies were made)."""
    out, prev = [], None
    for h in holders:
        prev = prev if prev in h else (h[0] if h else None)
        out.append(prev)
    return out


def owner_keys(chunks, owners):
    """The worker holding most of each slab of chunks along the merge axis (``owners``: the
    worker of each chunk, in C order)."""
    numblocks = tuple(len(c) for c in chunks)
    ax = merge_axis(chunks)
    grid = np.array(owners, dtype=object).reshape(numblocks)
    keys = []
    for i in range(numblocks[ax]):
        cells = list(np.take(grid, [i], axis=ax).ravel())
        keys.append(max(sorted(set(cells), key=str), key=cells.count))
    return keys


def plan_runs(keys, threads):
    """Runs of chunk indices along the merge axis, and the worker of each run.

    Parameters
    ----------
    keys : list
        The worker holding each slab (:func:`owner_keys`).
    threads : dict
        Threads of each worker of the cluster.

    Returns
    -------
    (runs, homes)
        ``[start, stop)`` ranges and their workers (None: each run's owner decides).
    """
    n, total = len(keys), sum(threads.values())
    counts = Counter(keys)
    if all(w in threads and c <= math.ceil(n * threads[w] / total) for w, c in counts.items()):
        runs = []  # the data's own runs, cut in one per thread of their worker
        for a, b in runs_of(keys):
            runs += [(a + x, a + y) for x, y in even_runs(b - a, threads[keys[a]])]
        return runs, None
    runs, free, homes = even_runs(n, min(n, total)), dict(threads), []
    for a, b in runs:
        held = Counter(keys[a:b])
        w = min((w for w in free if free[w] > 0), key=lambda w: (-held.get(w, 0), -free[w], str(w)))
        free[w] -= 1
        homes.append(w)
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


def rank_homes(ref_chunks, owners, runs, run_homes=None):
    """The worker of each rank (coarse block, C order): its run's in ``run_homes``, else the
    one holding most of its elements."""
    numblocks = tuple(len(c) for c in ref_chunks)
    ax = merge_axis(ref_chunks)
    grid = np.array(owners, dtype=object).reshape(numblocks)
    sizes = np.ones(numblocks)
    for a, c in enumerate(ref_chunks):
        shape = [1] * len(numblocks)
        shape[a] = len(c)
        sizes = sizes * np.asarray(c, dtype=float).reshape(shape)
    homes = []
    other = [range(k) if a != ax else None for a, k in enumerate(numblocks)]
    coarse = [range(len(runs)) if a == ax else r for a, r in enumerate(other)]
    for idx in np.ndindex(*[len(r) for r in coarse]):
        if run_homes is not None:
            homes.append(run_homes[idx[ax]])
            continue
        run = runs[idx[ax]]
        weight = {}
        for i in range(*run):
            full = tuple(i if a == ax else v for a, v in enumerate(idx))
            weight[grid[full]] = weight.get(grid[full], 0) + sizes[full]
        homes.append(max(weight, key=weight.get))
    return homes


def fine_block_of(coarse_bounds, fine_bounds, fine_bid):
    """The coarse block holding fine block ``fine_bid``, and its slices in that block."""
    bid, sl = [], []
    for cb, fb, i in zip(coarse_bounds, fine_bounds, fine_bid):
        start, stop = fb[i], fb[i + 1]
        k = int(np.searchsorted(cb, start, side="right") - 1)
        bid.append(k)
        sl.append((start - cb[k], stop - cb[k]))
    return tuple(bid), tuple(sl)

