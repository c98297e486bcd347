"""The copy of a solver's state kept on two workers at checks, for a solve to go back to
when a worker process dies (see :meth:`CheckedSolver._recover`)."""

import logging
import time
import uuid

import dask.array as da
import numpy as np

from pylops_distributed.optimization._checkpoint import encode, solver_numbers
from pylops_distributed.stacked import StackedArray

log = logging.getLogger("pylops_distributed.optimization")

#: Seconds the copy of the state kept for recovery may take (its chunks computed, then copied
#: to a second worker); past it the copy is given up and the one before is kept: never a hang.
SNAPSHOT_TIMEOUT = 120.0


def _kept(block):
    """A chunk of the state, as a copy kept for recovery holds it."""
    return block


class Snapshot:
    """The state at a check kept for a solve to go back to when a worker dies: each chunk of
    its vectors twice, under two keys of their own on two workers (two keys, not two replicas
    of one: the scheduler's active memory manager drops extra replicas of a key within
    seconds); its scalars and the solver's numbers in ``attrs``.

    Parameters
    ----------
    client : distributed.Client
    attrs : dict
        As :meth:`Store.load` gives them.
    blocks : dict
        ``{name: (side, stacked, [(chunks, dtype, meta, {block index: (future, future)})])}``:
        per vector, its blocks, with the futures of the two copies of each chunk.
    """

    def __init__(self, client, attrs, blocks):
        self.client, self.attrs, self.blocks = client, attrs, blocks

    def pairs(self):
        """The two copies (futures) of each chunk."""
        return [pair for _, _, parts in self.blocks.values() for *_, pairs in parts
                for pair in pairs.values()]

    def vectors(self):
        """``{name: (array or StackedArray, side)}`` from the copies still held, for
        :func:`restore_state`; raises ``CancelledError`` when both copies of a chunk are
        gone."""
        from concurrent.futures import CancelledError

        # (who_has refuses cancelled futures: those of the copies lost with a worker)
        finished = [f for pair in self.pairs() for f in pair if f.status == "finished"]
        who = self.client.who_has(finished) if finished else {}
        out = {}
        for vname, (side, stacked, parts) in self.blocks.items():
            arrays = []
            for chunks, dtype, meta, pairs in parts:
                name = f"restored-{uuid.uuid4().hex[:12]}"
                dsk = {}
                for bid, pair in pairs.items():
                    held = [f for f in pair if f.status == "finished" and who.get(f.key)]
                    if not held:
                        raise CancelledError(
                            f"both copies of a chunk of {vname!r} at iteration "
                            f"{self.attrs['iiter']} were lost")
                    dsk[(name,) + bid] = held[0]
                arrays.append(da.Array(dsk, name, chunks, dtype, meta=meta))
            out[vname] = (StackedArray(arrays) if stacked else arrays[0], side)
        return out


def snapshot(solver, client, timeout=SNAPSHOT_TIMEOUT):
    """The state at a check kept twice (each chunk copied, under two keys of their own, on
    the worker that holds it and on another one), for a solve to go back to when a worker
    dies: a :class:`Snapshot` (the scalars brought back: one round trip), or None when no
    second worker holds a copy (a single worker, a worker lost meanwhile, ``timeout``
    seconds passed: the caller keeps the copy it had)."""
    from distributed import futures_of, wait

    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if len(workers) < 2:
        return None
    vs, st = solver.vs, solver.st
    order = [[name, getattr(h, "side", None)] for name, h in st.items()]
    names = [n for n, side in order if side is None]
    values = vs.fetch(*[st[n] for n in names]) if names else []
    listing, arrays = [], []
    for n, side in order:
        if side is None:
            continue
        v = vs.to_dask(st[n], copy=False)
        blocks = list(v.blocks) if isinstance(v, StackedArray) else [v]
        listing.append((n, side, isinstance(v, StackedArray), len(blocks)))
        arrays += blocks
    kept = client.persist(arrays)  # (the state's chunks: views, nothing copied)
    chunk_futures = []
    for j, a in enumerate(kept):
        by_key = {f.key: f for f in futures_of(a)}
        chunk_futures += [((j,) + bid, by_key[(a.name,) + bid]) for bid in np.ndindex(*a.numblocks)]
    deadline = time.perf_counter() + timeout
    tag = f"snapshot-{uuid.uuid4().hex[:12]}"
    try:
        # (distributed.wait looks for a default client: the solve's one may only be dask's
        # scheduler)
        with client.as_current():
            wait([f for _, f in chunk_futures], timeout=timeout)
        who = client.who_has([f for _, f in chunk_futures])
        graphs = {}
        for i, (jb, f) in enumerate(chunk_futures):
            here = sorted(who.get(f.key) or ())
            # (a chunk already held by every worker: its second copy on another of them)
            others = [w for w in workers if w not in here] or here[1:]
            if not here or not others:
                return _given_up(solver, "no second worker for a copy")
            # one copy where the chunk is (no transfer), one on another worker
            graphs.setdefault(here[0], {})[(f"{tag}-a",) + jb] = (_kept, f)
            graphs.setdefault(others[i % len(others)], {})[(f"{tag}-b",) + jb] = (_kept, f)
        copies = {}
        for worker, dsk in graphs.items():
            keys = list(dsk)
            # loose: a worker gone meanwhile must not leave its copies waiting forever
            got = client.get(dsk, keys, sync=False, workers=[worker], allow_other_workers=True)
            copies.update(zip(keys, got))
        with client.as_current():
            wait(list(copies.values()), timeout=max(deadline - time.perf_counter(), 0.0))
    except TimeoutError:
        return _given_up(solver, f"not made in {timeout:.0f} s")
    who = client.who_has(list(copies.values()))
    pairs = {}
    for jb, _ in chunk_futures:
        one, two = copies[(f"{tag}-a",) + jb], copies[(f"{tag}-b",) + jb]
        a, b = set(who.get(one.key) or ()), set(who.get(two.key) or ())
        if not a or not b or a & b:  # a worker lost while they were made
            return _given_up(solver, "a chunk is not on two workers")
        pairs[jb] = (one, two)
    blocks, j = {}, 0
    for n, side, stacked, nblocks in listing:
        parts = []
        for a in kept[j:j + nblocks]:
            parts.append((a.chunks, a.dtype, a._meta,
                          {bid: pairs[(j,) + bid] for bid in np.ndindex(*a.numblocks)}))
            j += 1
        blocks[n] = (side, stacked, parts)
    attrs = {"order": order, "scalars": {n: encode(v) for n, v in zip(names, values)},
             "solver": solver_numbers(solver), "iiter": int(solver.iiter)}
    return Snapshot(client, attrs, blocks)


def _given_up(solver, why):
    log.warning("%s: the copy of the state at iteration %d was not kept (%s); the one before "
                "is kept", type(solver).__name__, solver.iiter, why)
    return None
