"""Communicators of the collective solver path: NCCL between GPUs, Gloo between CPU processes.

A collective solve runs one long task per worker (:mod:`._collective`); the tasks exchange
halos and sum their dot products through a communicator instead of the scheduler:

- :class:`NcclComm` for CuPy chunks (``cupy.cuda.nccl``: NVLink/PCIe between the GPUs of a
  node, InfiniBand between nodes), started from a unique id made on the first rank;
- :class:`GlooComm` for NumPy chunks (``torch.distributed``'s Gloo process group, over TCP),
  started from a key-value store served by the first rank.

Both offer the two operations the solvers need: :meth:`allreduce` (a sum of a few float64
numbers, the same on every rank afterwards) and :meth:`exchange` (point-to-point sends and
receives of array pieces, all in flight at once).
"""

import datetime
import socket

import numpy as np

#: Rendezvous objects made by :func:`rendezvous` on the first rank's worker, by token (the
#: first rank's task takes its store from here: it must outlive the call that made it).
_HELD = {}
#: The communicators open in this process, by token: later solves on the same workers reuse
#: them (starting NCCL costs far more than a solve's exchanges).
_OPEN = {}


def is_open(token):
    """Whether this process holds the communicator ``token`` (a worker restarted does not)."""
    return any(key[0] == token for key in _OPEN)


def opened(token, rank):
    return _OPEN[(token, rank)]


def forget(token):
    """Close and drop this process's communicator ``token`` (after a failed solve: a Gloo or
    NCCL group that saw an error is not used again)."""
    for key in [k for k in _OPEN if k[0] == token]:
        try:
            _OPEN.pop(key).close()
        except Exception:  # already broken: nothing more to release
            pass


def rendezvous(token, kind, timeout):
    """Run on the first rank's worker before the ranks start: what the ranks need to meet
    (NCCL: the unique id; Gloo: the address of a store served from this process)."""
    if kind == "nccl":
        from cupy.cuda import nccl

        return nccl.get_unique_id()
    import torch.distributed as dist

    host = _own_host()
    store = dist.TCPStore(host, 0, None, True, timeout=datetime.timedelta(seconds=timeout),
                          wait_for_workers=False)
    _HELD[token] = store
    return host, store.port


def _own_host():
    """This worker's address for the other ranks (the address its dask server listens on)."""
    try:
        from distributed import get_worker
        from distributed.comm.addressing import get_address_host

        return get_address_host(get_worker().address)
    except ValueError:  # not in a worker (tests calling the ranks by hand)
        return socket.gethostbyname("localhost")


def connect(token, kind, meeting, rank, size, timeout):
    """The communicator of ``rank`` among ``size`` ranks, kept open under ``token``."""
    if kind == "nccl":
        comm = NcclComm(meeting, rank, size)
    else:
        comm = GlooComm(token, meeting, rank, size, timeout)
    _OPEN[(token, rank)] = comm
    return comm


class GlooComm:
    """Ranks of NumPy chunks, joined by a Gloo process group (operations time out after
    ``timeout`` seconds: a lost rank ends the others' waits with an error)."""

    def __init__(self, token, meeting, rank, size, timeout):
        import torch.distributed as dist

        host, port = meeting
        delta = datetime.timedelta(seconds=timeout)
        store = _HELD.pop(token, None) if rank == 0 else None
        if store is None:
            store = dist.TCPStore(host, port, None, False, timeout=delta)
        self._store = store
        self.rank, self.size = rank, size
        self._pg = dist.ProcessGroupGloo(dist.PrefixStore(token, store), rank, size, delta)

    def allreduce(self, values):
        """The sum over the ranks of a float64 NumPy vector."""
        import torch

        t = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64).copy())
        self._pg.allreduce([t]).wait()
        return t.numpy()

    def exchange(self, sends, recvs):
        """Send ``sends[r]`` to rank ``r`` and receive arrays of ``recvs[r] = (shape, dtype)``
        from rank ``r``, all at once; returns the received arrays by rank."""
        import torch

        tag = 0
        work, out = [], {}
        for r, a in sends.items():
            a = np.ascontiguousarray(a)
            work.append(self._pg.send([torch.from_numpy(a.reshape(-1).view(np.uint8))], r, tag))
        for r, (shape, dtype) in recvs.items():
            out[r] = np.empty(shape, dtype)
            work.append(self._pg.recv([torch.from_numpy(out[r].reshape(-1).view(np.uint8))],
                                      r, tag))
        for w in work:
            w.wait()
        return out

    def close(self):
        self._pg = self._store = None


class NcclComm:
    """Ranks of CuPy chunks (one GPU each), joined by an NCCL communicator. NCCL has no
    timeout: a lost rank leaves the others waiting on the GPU (restart the workers)."""

    def __init__(self, uid, rank, size):
        import cupy
        from cupy.cuda import nccl

        self._nccl, self._cp = nccl, cupy
        self.rank, self.size = rank, size
        self._comm = nccl.NcclCommunicator(size, uid, rank)

    def allreduce(self, values):
        cp, nccl = self._cp, self._nccl
        buf = cp.asarray(values, dtype=cp.float64)
        stream = cp.cuda.get_current_stream().ptr
        self._comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, nccl.NCCL_FLOAT64,
                             nccl.NCCL_SUM, stream)
        return buf.get()

    def exchange(self, sends, recvs):
        cp, nccl = self._cp, self._nccl
        stream = cp.cuda.get_current_stream().ptr
        out = {r: cp.empty(shape, dtype) for r, (shape, dtype) in recvs.items()}
        kept = []
        nccl.groupStart()
        for r, a in sends.items():
            a = cp.ascontiguousarray(a)
            kept.append(a)
            self._comm.send(a.data.ptr, a.nbytes, nccl.NCCL_UINT8, r, stream)
        for r, b in out.items():
            self._comm.recv(b.data.ptr, b.nbytes, nccl.NCCL_UINT8, r, stream)
        nccl.groupEnd()
        return out

    def close(self):
        self._comm.destroy()
        self._comm = None
