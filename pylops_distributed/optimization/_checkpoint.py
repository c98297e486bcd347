"""Checkpoints of a solve: the solver's state written at checks, and resumed from.

A checkpoint is a folder (local path or fsspec URL) holding one zarr group per saved check,
``it-<iteration>/``, and a file ``LATEST`` naming the newest complete one. A group holds
every vector of the solver's state as zarr arrays (``<name>/<block>``), written by the
workers chunk by chunk (the client never gathers a vector), and in its attributes the
state's scalars, the solver's own numbers (iteration count, cost history, ...) and a
fingerprint of the problem. ``LATEST`` is replaced (write then rename) only once a group is
complete, so a writer killed at any moment leaves the previous checkpoint to resume from;
older groups are then removed.
"""

import importlib.util
import math
import numbers
import threading

import dask
import dask.array as da
import numpy as np

from pylops_distributed.linearoperator import LinearOperator
from pylops_distributed.optimization._runner import Runner, Unsupported
from pylops_distributed.stacked import StackedArray

#: Attributes of a solver never saved: the problem, the machinery, the call's own options.
_NOT_SAVED = {"niter", "progress", "checkpoint", "checkpoint_every", "check_every", "tstart",
              "tend", "telapsed", "callbacks", "callback", "iiter", "_checked", "_converged"}
FORMAT = 1


def _encode(v):
    """JSON form of a solver attribute (exact for floats and complex), or raise TypeError."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        return v if math.isfinite(v) else {"float": repr(v)}
    if isinstance(v, numbers.Complex):
        return {"complex": [_encode(v.real), _encode(v.imag)]}
    if isinstance(v, np.ndarray) and v.size <= 100000 and v.dtype.kind in "biufc":
        return {"array": [_encode(e) for e in v.ravel().tolist()], "dtype": v.dtype.str,
                "shape": list(v.shape)}
    if isinstance(v, (list, tuple)):
        return {"list" if isinstance(v, list) else "tuple": [_encode(e) for e in v]}
    raise TypeError(type(v).__name__)


def _decode(v):
    if not isinstance(v, dict):
        return v
    if "float" in v:
        return float(v["float"])
    if "complex" in v:
        re, im = (_decode(e) for e in v["complex"])
        return complex(re, im)
    if "array" in v:
        vals = [_decode(e) for e in v["array"]]
        return np.array(vals, dtype=np.dtype(v["dtype"])).reshape(v["shape"])
    if "list" in v:
        return [_decode(e) for e in v["list"]]
    return tuple(_decode(e) for e in v["tuple"])


def solver_numbers(solver):
    """The solver's own numbers (iteration count, costs, step lengths, ...) to save."""
    out = {}
    for name, value in vars(solver).items():
        if name in _NOT_SAVED:
            continue
        try:
            out[name] = _encode(value)
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
    params = {p: _encode(getattr(solver, p, None)) for p in solver.step_params}
    return {"solver": type(solver).__name__, "operator": describe(solver.Op),
            "y": [list(solver.y.shape), str(solver.y.dtype)],
            "x0": None if solver.x0 is None else [list(solver.x0.shape), str(solver.x0.dtype)],
            "norms": {k: _encode(v) for k, v in sorted(norms.items())}, "params": params}


def mismatch(saved, now):
    """The first difference between two fingerprints, in words, or None."""
    for key in ("solver", "operator", "y", "x0"):
        if saved.get(key) != now.get(key):
            return f"{key}: saved {saved.get(key)!r}, now {now.get(key)!r}"
    for key, v in now["params"].items():  # numbers found by setup (a step length) may wobble
        a, b = _decode(saved["params"].get(key)), _decode(v)
        same = (math.isclose(a, b, rel_tol=1e-8) if isinstance(a, numbers.Number)
                and isinstance(b, numbers.Number) else _same(a, b))
        if not same:
            return f"{key}: saved {a!r}, now {b!r}"
    for key, v in now["norms"].items():
        a, b = _decode(saved["norms"].get(key)), _decode(v)
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
        """Start writing group ``name`` (vectors: {name: (dask array or StackedArray, side)});
        the workers write the chunks while the solve goes on. Returns a :class:`PendingSave`,
        whose :meth:`~PendingSave.finish` makes the group the latest."""
        import zarr

        url = self._url(name)
        if self.fs.exists(self._path(name)):
            self.fs.rm(self._path(name), recursive=True)
        zarr.open_group(url, mode="w")
        writes, listing = [], []
        for vname, (v, side) in vectors.items():
            blocks = list(v.blocks) if isinstance(v, StackedArray) else [v]
            listing.append([vname, side, len(blocks), isinstance(v, StackedArray)])
            for k, b in enumerate(blocks):
                # uncompressed: iterates compress little, and the save must not slow the solve
                writes.append(da.to_zarr(b, url, component=f"{vname}/{k}", compute=False,
                                         overwrite=True, compressors=None))
        return PendingSave(self, name, {**attrs, "vectors": listing, "format": FORMAT}, writes)

    def _complete(self, name, attrs):
        import zarr

        zarr.open_group(self._url(name), mode="a").attrs.update(attrs)
        tmp = self._path("LATEST.tmp")
        self.fs.pipe_file(tmp, name.encode())
        self.fs.mv(tmp, self._path("LATEST"))  # a rename: LATEST is old or new, never half
        for entry in self.fs.ls(self.root, detail=False):  # older groups, unfinished ones
            base = entry.rstrip("/").rsplit("/", 1)[-1]
            if base.startswith("it-") and base != name:
                self.fs.rm(entry, recursive=True)


class PendingSave:
    """A save whose chunks are being written (by the workers, or a thread of this process on
    dask's local schedulers: the states are immutable, so the solve goes on meanwhile)."""

    def __init__(self, store, name, attrs, writes):
        self.store, self.name, self.attrs, self.error = store, name, attrs, None
        try:
            self.client = Runner().client
        except Unsupported:
            self.client = None
        if self.client is not None:
            self.futures = self.client.compute(writes)
        else:
            self.thread = threading.Thread(target=self._write, args=(writes,), daemon=True)
            self.thread.start()

    def _write(self, writes):
        try:
            dask.compute(*writes)
        except BaseException as err:  # raised by finish()
            self.error = err

    def done(self):
        """Whether the chunks are written (no wait)."""
        if self.client is not None:
            return all(f.done() for f in self.futures)
        return not self.thread.is_alive()

    def finish(self):
        """Wait for the chunks, then make the group the latest."""
        if self.client is not None:
            self.client.gather(self.futures)
        else:
            self.thread.join()
            if self.error is not None:
                raise self.error
        self.store._complete(self.name, self.attrs)


def save_state(solver, store):
    """Start writing the solver's state (at a check) to ``store``: its vectors by the
    workers, its scalars (one round trip) and numbers in the attributes; returns the
    :class:`PendingSave`."""
    vs, st = solver.vs, solver.st
    order = [[name, getattr(h, "side", None)] for name, h in st.items()]
    names = [n for n, side in order if side is None]
    values = vs.fetch(*[st[n] for n in names]) if names else []
    vectors = {n: (vs.to_dask(st[n], copy=False), side) for n, side in order if side is not None}
    attrs = {"order": order, "scalars": {n: _encode(v) for n, v in zip(names, values)},
             "solver": solver_numbers(solver), "iiter": int(solver.iiter),
             "fingerprint": solver._fingerprint}
    return store.save(f"it-{int(solver.iiter)}", attrs, vectors)


def restore_state(solver, attrs, vectors):
    """Make the saved state the solver's (its space loads the vectors); the solver's numbers
    are returned, for :meth:`run` to put back once ``setup`` is over."""
    vs = solver.vs
    ins = vs.inputs(**{f"saved_{n}": v for n, v in vectors.items()})
    scalars = {n: _decode(v) for n, v in attrs["scalars"].items()}
    out = {n: ins[f"saved_{n}"] if side is not None else scalars[n]
           for n, side in attrs["order"]}
    solver.st = vs.commit(out)
    numbers = {k: _decode(v) for k, v in attrs["solver"].items()}
    numbers.update(iiter=int(attrs["iiter"]), _checked=int(attrs["iiter"]))
    return numbers


# --- worker loss ---------------------------------------------------------------------------------

def lost_data_errors():
    """The exceptions a lost worker raises at a check: the state's chunks were on it."""
    from concurrent.futures import CancelledError

    from distributed.scheduler import KilledWorker

    return (CancelledError, KilledWorker)


def snapshot(solver, client):
    """The state at a check kept on two workers (each chunk copied to a second one), for a
    solve to go back to when a worker dies: ``(attrs, vectors)`` as :meth:`Store.load`
    gives them (the scalars brought back: one round trip)."""
    from concurrent.futures import CancelledError

    from distributed import futures_of

    vs, st = solver.vs, solver.st
    order = [[name, getattr(h, "side", None)] for name, h in st.items()]
    names = [n for n, side in order if side is None]
    values = vs.fetch(*[st[n] for n in names]) if names else []
    vectors = {n: vs.to_dask(st[n], copy=False) for n, side in order if side is not None}
    kept = dict(zip(vectors, client.persist(list(vectors.values()))))
    futures = futures_of(list(kept.values()))
    client.replicate(futures, n=2)
    who = client.who_has(futures)
    if any(len(who.get(f.key) or ()) < 2 for f in futures):  # a worker died meanwhile
        raise CancelledError(f"the copy of the state at iteration {solver.iiter} was lost "
                             "while it was made")
    attrs = {"order": order, "scalars": {n: _encode(v) for n, v in zip(names, values)},
             "solver": solver_numbers(solver), "iiter": int(solver.iiter)}
    return attrs, {n: (kept[n], side) for n, side in order if side is not None}
