"""Checkpoints of a solve: the solver's state written at checks, and resumed from.

A checkpoint is a folder (local path or fsspec URL) holding one zarr group per saved check,
``it-<iteration>/``, and a file ``LATEST`` naming the newest complete one. A group holds
every vector of the solver's state as zarr arrays (``<name>/<block>``), written by the
workers chunk by chunk (the client never gathers a vector), and in its attributes the
state's scalars, the solver's own numbers (iteration count, cost history, ...) and a
fingerprint of the problem. ``LATEST`` is replaced (write then rename) only once a group is
complete, so a writer killed at any moment leaves the previous checkpoint to resume from;
older groups are then removed, but on a local disk the one before the latest, kept as
``spare/`` for the next save to write over in place (removed at the end of the solve).

The copy of the state kept on two workers for recovery from a lost worker is in
:mod:`._snapshot`.
"""

import importlib.util
import logging
import math
import numbers
import os
import threading

import dask
import dask.array as da
import numpy as np

from pylops_distributed.linearoperator import LinearOperator
from pylops_distributed.optimization._runner import Runner, Unsupported
from pylops_distributed.stacked import StackedArray

log = logging.getLogger("pylops_distributed.optimization")

#: Attributes of a solver never saved: the problem, the machinery, the call's own options.
#: A solver's ``run_attributes`` (the machinery of its run: saves, copies kept for recovery,
#: progress bar) are neither saved nor restored either.
_NOT_SAVED = {"niter", "progress", "checkpoint", "checkpoint_every", "check_every", "tstart",
              "tend", "telapsed", "callbacks", "callback", "iiter", "_checked", "_converged"}
FORMAT = 1


def check_checkpoint(name, checkpoint, checkpoint_every):
    """Raise ``TypeError`` for a ``checkpoint`` that is not a path or URL (None is), and
    ``ValueError`` for a ``checkpoint_every`` that is not an integer >= 1 (``name``: the
    solver, for the message)."""
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"{name}: checkpoint must be a folder path or URL (str or "
                        f"os.PathLike), got {type(checkpoint).__name__}")
    if (isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, numbers.Integral)
            or checkpoint_every < 1):
        raise ValueError(f"{name}: checkpoint_every must be an integer >= 1, got "
                         f"{checkpoint_every!r}")


def encode(v):
    """JSON form of a solver attribute (exact for floats and complex), or raise TypeError."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, numbers.Complex):
        return {"complex": [encode(v.real), encode(v.imag)]}
    if isinstance(v, np.ndarray) and v.size <= 100000 and v.dtype.kind in "biufc":
        return {"array": [encode(e) for e in v.ravel().tolist()], "dtype": v.dtype.str,
                "shape": list(v.shape)}
    if isinstance(v, (list, tuple)):
        return {"list" if isinstance(v, list) else "tuple": [encode(e) for e in v]}
    raise TypeError(type(v).__name__)


def decode(v):
    if not isinstance(v, dict):
        return v
    if "float" in v:
        return float(v["float"])
    if "complex" in v:
        re, im = (decode(e) for e in v["complex"])
        return complex(re, im)
    if "array" in v:
        vals = [decode(e) for e in v["array"]]
        return np.array(vals, dtype=np.dtype(v["dtype"])).reshape(v["shape"])
    if "list" in v:
        return [decode(e) for e in v["list"]]
    return tuple(decode(e) for e in v["tuple"])


def _not_saved(solver):
    return _NOT_SAVED.union(getattr(solver, "run_attributes", ()))


def solver_numbers(solver):
    """The solver's own numbers (iteration count, costs, step lengths, ...) to save: not the
    machinery of the run (``run_attributes``), which a restore must leave as it is."""
    out = {}
    skip = _not_saved(solver)
    for name, value in vars(solver).items():
        if name in skip:
            continue
        try:
            out[name] = encode(value)
        except TypeError:
            continue  # the problem, the space, the state handles: rebuilt by setup
    return out


def describe(Op, depth=0):
    """A description of an operator that two runs of the same script agree on: classes,
    shapes, dtypes, parameters, and a checksum of small NumPy parameters (dask arrays by
    shape and chunks: their contents are the data fingerprint's job)."""
    parts = [type(Op).__name__, str(getattr(Op, "shape", "")), str(getattr(Op, "dtype", "")),
             str(getattr(Op, "dims", "")), str(getattr(Op, "dimsd", ""))]
    if depth > 6:
        return "|".join(parts)
    for name, v in sorted(vars(Op).items()):
        if name.startswith("_") and name not in ("_dims", "_dimsd"):
            continue
        if isinstance(v, LinearOperator) or hasattr(v, "matvec"):
            parts.append(f"{name}=({describe(v, depth + 1)})")
        elif isinstance(v, (list, tuple)) and v and all(hasattr(e, "matvec") for e in v):
            parts.append(f"{name}=[" + ";".join(describe(e, depth + 1) for e in v) + "]")
        elif isinstance(v, (numbers.Number, str, bool)) or v is None:
            parts.append(f"{name}={v!r}")
        elif isinstance(v, tuple) and all(isinstance(e, (numbers.Number, str)) for e in v):
            parts.append(f"{name}={v!r}")
        elif isinstance(v, np.ndarray):
            check = (repr(complex(np.sum(v.astype(complex) * np.arange(1, v.size + 1)
                                         .reshape(v.shape))))
                     if v.size <= 10**7 and v.dtype.kind in "biufc" else "")
            parts.append(f"{name}=ndarray{v.shape}{v.dtype}{check}")
        elif isinstance(v, da.Array):
            parts.append(f"{name}=dask{v.shape}{v.dtype}{v.chunks}")
    return "|".join(parts)


def fingerprint(solver, norms):
    """What must match for a checkpoint to be resumed: solver, operator, data (their squared
    norms, ``norms``: ``y2`` and ``x02``) and the parameters the steps use."""
    params = {p: encode(getattr(solver, p, None)) for p in solver.step_params}
    return {"solver": type(solver).__name__, "operator": describe(solver.Op),
            "y": [list(solver.y.shape), str(solver.y.dtype)],
            "x0": None if solver.x0 is None else [list(solver.x0.shape), str(solver.x0.dtype)],
            "norms": {k: encode(v) for k, v in sorted(norms.items())}, "params": params}


def mismatch(saved, now):
    """The first difference between two fingerprints, in words, or None."""
    for key in ("solver", "operator", "y", "x0"):
        if saved.get(key) != now.get(key):
            return f"{key}: saved {saved.get(key)!r}, now {now.get(key)!r}"
    for key, v in now["params"].items():  # numbers found by setup (a step length) may wobble
        a, b = decode(saved["params"].get(key)), decode(v)
        same = (math.isclose(a, b, rel_tol=1e-8) if isinstance(a, numbers.Number)
                and isinstance(b, numbers.Number) else _same(a, b))
        if not same:
            return f"{key}: saved {a!r}, now {b!r}"
    for key, v in now["norms"].items():
        a, b = decode(saved["norms"].get(key)), decode(v)
        if a is None or not math.isclose(abs(a), abs(b), rel_tol=1e-10, abs_tol=1e-300):
            return f"squared norm of {key[:-1]}: saved {a!r}, now {b!r}"
    return None


def _same(a, b):
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b))) and np.shape(a) == np.shape(b)
    except (TypeError, ValueError):
        return a == b


class Store:
    """A checkpoint folder (local path or fsspec URL)."""

    def __init__(self, path):
        import fsspec

        if importlib.util.find_spec("zarr") is None:
            raise ImportError("checkpoint= writes zarr stores: install zarr (the extra 'io': "
                              "pip install 'pylops_distributed[io]')")
        self.url = str(path).rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url)

    def _path(self, *names):
        return "/".join((self.root,) + names)

    def latest(self):
        """The newest complete group's name, or None."""
        try:
            name = self.fs.cat_file(self._path("LATEST")).decode().strip()
        except FileNotFoundError:
            return None
        return name or None

    def load(self):
        """(attributes, {name: (array or StackedArray, side)}) of the newest group, or None."""
        name = self.latest()
        if name is None:
            return None
        import zarr

        group = zarr.open_group(self._url(name), mode="r")
        attrs = dict(group.attrs)
        vectors = {}
        for vname, side, nblocks, stacked in attrs["vectors"]:
            blocks = [da.from_zarr(self._url(name), component=f"{vname}/{k}")
                      for k in range(nblocks)]
            vectors[vname] = (StackedArray(blocks) if stacked else blocks[0], side)
        return attrs, vectors

    def _url(self, name):
        return f"{self.url}/{name}"

    def save(self, name, attrs, vectors):
        """Start writing group ``name`` (vectors: {name: (dask array or StackedArray, side)})
        while the solve goes on: the chunks by the workers (by a thread of this process on
        dask's local schedulers), then the attributes and ``LATEST``. Returns a
        :class:`PendingSave`, whose :meth:`~PendingSave.finish` waits for it."""
        listing = [[vname, side, len(v.blocks) if isinstance(v, StackedArray) else 1,
                    isinstance(v, StackedArray)] for vname, (v, side) in vectors.items()]
        return PendingSave(self, name, {**attrs, "vectors": listing, "format": FORMAT}, vectors)

    def _local(self):
        from fsspec.implementations.local import LocalFileSystem

        return isinstance(self.fs, LocalFileSystem)

    def _begin(self, name, vectors):
        """The group ``name``, ready for its chunks: the spare (the save before the latest)
        renamed to it on a local disk, so that its chunk files are written over in place
        (several times faster than new files: no block allocation), else a new group. Returns
        the tasks that write the chunks."""
        import zarr

        path = self._path(name)
        if self.fs.exists(path):  # a save of this iteration left unfinished
            self.fs.rm(path, recursive=True)
        if self._local() and self.fs.exists(self._path(SPARE)):
            self.fs.mv(self._path(SPARE), path)  # a rename
        zarr.open_group(self._url(name), mode="a")
        writes = []
        for vname, (v, side) in vectors.items():
            blocks = list(v.blocks) if isinstance(v, StackedArray) else [v]
            for k, b in enumerate(blocks):
                writes += self._writes(name, f"{vname}/{k}", b)
        return writes

    def _writes(self, name, component, b):
        """The tasks that write the dask array ``b`` as the zarr array ``component`` of group
        ``name``: uncompressed (iterates compress little, and the save must not slow the
        solve), one file per chunk written as its bytes (zarr's codec pipeline costs 3-7x the
        time of the write itself); zarr's own writes where the layout is not plain bytes."""
        import zarr

        url = self._url(name)
        regular = all(len(set(c[:-1])) <= 1 and c[-1] <= c[0] for c in b.chunks)
        if not regular or b.ndim == 0:
            return [da.to_zarr(b, url, component=component, compute=False, overwrite=True,
                               compressors=None)]
        shape = tuple(c[0] for c in b.chunks)
        try:  # the spare's array, when it is laid out alike
            z = zarr.open_array(store=url, path=component, mode="r+")
            if (z.shape, z.chunks, z.dtype) != (b.shape, shape, b.dtype) or not _plain(z):
                z = None
        except (FileNotFoundError, ValueError, KeyError):
            z = None
        if z is None:
            z = zarr.create_array(store=url, name=component, shape=b.shape, chunks=shape,
                                  dtype=b.dtype, compressors=None, fill_value=0, overwrite=True)
        if not _plain(z):
            return [da.to_zarr(b, url, component=component, compute=False, overwrite=True,
                               compressors=None)]
        root = self._path(name, component)
        out = []
        for bid, block in zip(np.ndindex(*b.numblocks),
                              b.to_delayed(optimize_graph=False).ravel()):
            path = f"{root}/{z.metadata.encode_chunk_key(bid)}"
            out.append(dask.delayed(_write_chunk, pure=True)(self.fs, path, shape, block))
        return out

    def _complete(self, name, attrs):
        import zarr

        zarr.open_group(self._url(name), mode="a").attrs.update(attrs)
        tmp = self._path("LATEST.tmp")
        self.fs.pipe_file(tmp, name.encode())
        self.fs.mv(tmp, self._path("LATEST"))  # a rename: LATEST is old or new, never half
        older = []
        for entry in self.fs.ls(self.root, detail=False):  # older groups, unfinished ones
            base = entry.rstrip("/").rsplit("/", 1)[-1]
            if base.startswith("it-") and base != name:
                older.append(entry)
        if self._local() and older and not self.fs.exists(self._path(SPARE)):
            self.fs.mv(older.pop(), self._path(SPARE))  # written over by the next save
        for entry in older:
            self.fs.rm(entry, recursive=True)

    def drop_spare(self):
        """Remove the spare group (at the end of a solve: only the latest save stays)."""
        if self.fs.exists(self._path(SPARE)):
            self.fs.rm(self._path(SPARE), recursive=True)


#: The group a local checkpoint keeps for the next save to write over (see Store._begin).
SPARE = "spare"


def _plain(z):
    """Whether a zarr array stores its chunks as their bytes (little-endian, C order)."""
    codecs = getattr(z.metadata, "codecs", ())
    return (len(codecs) == 1 and type(codecs[0]).__name__ == "BytesCodec"
            and getattr(getattr(codecs[0], "endian", None), "value", "little") == "little"
            and getattr(z.metadata, "chunk_key_encoding", None) is not None)


def _write_chunk(fs, path, shape, block):
    """Write a chunk as zarr's ``bytes`` codec lays it out: little-endian, C order, an edge
    chunk padded to the whole chunk's shape; over the file in place when it has the size."""
    if not isinstance(block, np.ndarray) and hasattr(block, "get"):
        block = block.get()  # CuPy: to the host
    block = np.asarray(block)
    if block.shape != tuple(shape):
        whole = np.zeros(shape, block.dtype)
        whole[tuple(slice(0, n) for n in block.shape)] = block
        block = whole
    data = np.ascontiguousarray(block.astype(block.dtype.newbyteorder("<"), copy=False))
    view = memoryview(data.reshape(-1).view(np.uint8))
    from fsspec.implementations.local import LocalFileSystem

    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    if isinstance(fs, LocalFileSystem):
        _write_local(fs._strip_protocol(path), view)
        return data.nbytes
    with fs.open(path, "wb") as f:
        f.write(view)
    return data.nbytes


def _write_local(path, view):
    """Write the bytes ``view`` as the file ``path``, over its blocks in place when it has
    their size (else into blocks allocated first, ``posix_fallocate``), and past the page
    cache where the system allows it (:func:`_write_direct`)."""
    n = len(view)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    try:
        if os.fstat(fd).st_size != n:
            os.ftruncate(fd, 0)
            if hasattr(os, "posix_fallocate"):
                try:
                    os.posix_fallocate(fd, 0, n)
                except OSError:  # not supported there: blocks allocated as written
                    pass
        done = _write_direct(path, view)
        while done < n:  # the rest (or all) through the page cache
            done += os.pwrite(fd, view[done:], done)
        os.ftruncate(fd, n)
    finally:
        os.close(fd)


#: Direct writes (``O_DIRECT``): in pieces of this many bytes, copied first to a buffer of
#: this thread's (page-aligned), for files of at least ``_DIRECT_MIN`` bytes.
_DIRECT_PIECE = 8 << 20
_DIRECT_MIN = 1 << 20
_DIRECT_ALIGN = 4096
_buffers = threading.local()


def _write_direct(path, view):
    """Write the whole 4 KiB blocks of ``view`` into the file ``path`` with ``O_DIRECT``
    (Linux), the disk reading them from a buffer of this thread's: the bytes written (0
    where the system or the file system has no direct writes, e.g. tmpfs).

    A checkpoint writes the whole state at each save; through the page cache each byte is
    copied into a page that the kernel then writes back, with the solve's cores. Measured on
    the 2-core VM (2026-11-30), 512 MB: 1.5-2 s of kernel time into new pages (0.1 s where
    the pages of the save before are written over), against 0.1 s of CPU direct (0.4 s of
    waiting for the disk, in the thread that writes)."""
    flag = getattr(os, "O_DIRECT", 0)
    whole = len(view) // _DIRECT_ALIGN * _DIRECT_ALIGN
    if not flag or whole < _DIRECT_MIN:
        return 0
    try:
        fd = os.open(path, os.O_WRONLY | flag)
    except OSError:
        return 0
    done = 0
    try:
        buf = getattr(_buffers, "buf", None)
        if buf is None:
            import mmap

            buf = _buffers.buf = mmap.mmap(-1, _DIRECT_PIECE)  # page-aligned
        while done < whole:
            k = min(_DIRECT_PIECE, whole - done)
            buf[:k] = view[done:done + k]
            wrote = os.pwrite(fd, memoryview(buf)[:k], done)
            done += wrote
            if wrote != k:  # short: the rest through the page cache
                break
    except OSError:  # refused by the file system: the rest through the page cache
        pass
    finally:
        os.close(fd)
    return done


class PendingSave:
    """A save being written, by a thread of this process: the group's chunks (by the workers
    with a distributed client, by the thread on dask's local schedulers: the states are
    immutable, so the solve goes on meanwhile), then its attributes and ``LATEST``."""

    def __init__(self, store, name, attrs, vectors):
        self.store, self.name, self.attrs, self.error = store, name, attrs, None
        try:
            self.client = Runner().client
        except Unsupported:
            self.client = None
        self.thread = threading.Thread(target=self._write, args=(vectors,), daemon=True)
        self.thread.start()

    def _write(self, vectors):
        try:
            writes = self.store._begin(self.name, vectors)
            if self.client is not None:
                self.client.gather(self.client.compute(writes))
            else:  # one chunk after the other: the solve's threads keep the cores
                dask.compute(*writes, scheduler="sync")
            del writes
            vectors.clear()  # the chunks (views of the solve's states) are let go at once
            self.store._complete(self.name, self.attrs)
        except BaseException as err:  # raised by finish()
            self.error = err

    def done(self):
        """Whether the save is complete (no wait)."""
        return not self.thread.is_alive()

    def finish(self):
        """Wait for the save to be complete (the group the latest)."""
        self.thread.join()
        if self.error is not None:
            raise self.error


def save_state(solver, store, fingerprint):
    """Start writing the solver's state (at a check) to ``store``: its vectors by the
    workers, its scalars (one round trip), numbers and the problem's ``fingerprint`` (see
    :func:`fingerprint`) in the attributes; returns the :class:`PendingSave`."""
    vs, st = solver.vs, solver.st
    order = [[name, getattr(h, "side", None)] for name, h in st.items()]
    names = [n for n, side in order if side is None]
    values = vs.fetch(*[st[n] for n in names]) if names else []
    derived = set(getattr(solver, "derived", ()))  # recomputed at a resume, not written
    vectors = {n: (vs.to_dask(st[n], copy=False), side) for n, side in order
               if side is not None and n not in derived}
    attrs = {"order": order, "scalars": {n: encode(v) for n, v in zip(names, values)},
             "solver": solver_numbers(solver), "iiter": int(solver.iiter),
             "fingerprint": fingerprint}
    return store.save(f"it-{int(solver.iiter)}", attrs, vectors)


def restore_state(solver, attrs, vectors):
    """Make the saved state the solver's (its space loads the vectors); the solver's numbers
    are returned, for :meth:`run` to put back once ``setup`` is over."""
    vs = solver.vs
    ins = vs.inputs(**{f"saved_{n}": v for n, v in vectors.items()})
    scalars = {n: decode(v) for n, v in attrs["scalars"].items()}
    out = {n: ins[f"saved_{n}"] if side is not None else scalars[n]
           for n, side in attrs["order"] if n in vectors or side is None}
    missing = [n for n, side in attrs["order"] if side is not None and n not in vectors]
    if missing:  # vectors a save leaves out: made again from the others (solver.rederive)
        out.update({n: v for n, v in solver.rederive(vs, out).items() if n in missing})
    solver.st = vs.commit(out)
    skip = _not_saved(solver)  # (saves written before they were left out)
    numbers = {k: decode(v) for k, v in attrs["solver"].items() if k not in skip}
    numbers.update(iiter=int(attrs["iiter"]), _checked=int(attrs["iiter"]))
    return numbers


# --- worker loss ---------------------------------------------------------------------------------

def lost_data_errors():
    """The exceptions a lost worker raises at a check: the state's chunks were on it."""
    from concurrent.futures import CancelledError

    from distributed.scheduler import KilledWorker

    return (CancelledError, KilledWorker)
