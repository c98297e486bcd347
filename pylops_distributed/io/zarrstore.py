r"""Solver inputs and outputs kept chunked on disk in zarr (needs zarr: ``pip install
'pylops_distributed[io]'``).

:func:`to_zarr` writes a dask array, or a :class:`~pylops_distributed.StackedArray` (as a zarr
group with one array per block), with :func:`dask.array.store`: each chunk is written by the
task that holds it, on the worker that holds it; the samples never travel through the client.
Only metadata (shape, chunks, dtype, attributes) is written at graph build. The store must be
reachable by the workers (a local cluster, a shared file system or object storage), not a
:class:`zarr.storage.MemoryStore` under a distributed scheduler (each worker would fill its own
copy).

:func:`from_zarr` reads the metadata at graph build and returns a lazy dask array (or
StackedArray) whose chunks are the stored ones unless asked otherwise; each task reads its chunk.

Conventions: the zarr chunks are the dask chunks (rechunked to their largest size along an axis
where they are irregular, as zarr needs a regular grid), so that no two tasks write into the same
zarr chunk. Every write stamps a fresh ``pylops_distributed.write_id`` attribute, which enters the
task names of :func:`from_zarr`: re-reading a store overwritten in place gives new task names,
never the results cached under the old ones.
"""

import os
import uuid

import dask
import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.core import flatten
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

try:
    import zarr
except ImportError as err:  # pragma: no cover - the extra is installed in CI
    raise ImportError("pylops_distributed.io.zarrstore needs zarr: "
                      "pip install 'pylops_distributed[io]'  (or pip install zarr)") from err

from pylops_distributed.stacked import StackedArray

__all__ = ["to_zarr", "from_zarr"]

ATTRIBUTE = "pylops_distributed"  # our attributes live under this key
BLOCK_NAME = "block{}"  # arrays of a StackedArray's group


def to_zarr(x, store, component=None, *, overwrite=False, chunks=None, compute=True,
            zarr_options=None):
    """Write a dask array or a StackedArray to zarr, each chunk from the task that holds it.

    Parameters
    ----------
    x : dask.array.Array, StackedArray or numpy.ndarray
        What to write (a NumPy array is wrapped with ``chunks``, default "auto").
    store : str, os.PathLike, zarr store, zarr.Group or zarr.Array
        Where: a folder or URL (created if missing), a zarr store or group; or an existing
        ``zarr.Array`` to write a dask array into (same shape, ``x`` rechunked to its chunks).
    component : str, optional
        Path of the array (or the StackedArray's group) inside ``store``; default: its root.
    overwrite : bool, optional
        Replace what is already at ``store``/``component``.
    chunks : optional
        Rechunk ``x`` (each block of a StackedArray) to these chunks first; they become the
        stored chunks.
    compute : bool, optional
        Write now with the current dask scheduler (a distributed ``Client`` set as default or
        through ``client.as_current()``), or return the write to compute later.
    zarr_options : dict, optional
        More arguments of :func:`zarr.create_array` (``compressors``, ``fill_value``, ...).

    Returns
    -------
    None or dask.delayed.Delayed
        The delayed write when ``compute=False``.

    Raises
    ------
    TypeError
        If ``x`` is none of the types above.
    ValueError
        If ``x`` has unknown chunk sizes; writing into a ``zarr.Array`` of another shape, or
        with a ``component``; a StackedArray into a ``zarr.Array``; a ``MemoryStore`` under a
        distributed scheduler; ``zarr_options`` that set shape, dtype or chunks.
    FileExistsError
        If ``store``/``component`` already holds an array or group and ``overwrite`` is False.

    Examples
    --------
    >>> import os, tempfile
    >>> import dask.array as da, numpy as np
    >>> from pylops_distributed import StackedArray
    >>> from pylops_distributed.io import from_zarr, to_zarr
    >>> path = os.path.join(tempfile.mkdtemp(), "solve.zarr")
    >>> x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=(3, 2))
    >>> to_zarr(x, path, "model")
    >>> y = from_zarr(path, "model")
    >>> y.chunks, float(y.sum().compute())
    (((3,), (2, 2)), 66.0)
    >>> v = StackedArray([da.ones(3, chunks=2), da.zeros((2, 2), chunks=1)])
    >>> to_zarr(v, path, "stacked")
    >>> from_zarr(path, "stacked")
    StackedArray<2 blocks: (3,) float64 chunks=(2,), (2, 2) float64 chunks=(1, 1)>
    """
    zarr_options = dict(zarr_options or {})
    reserved = sorted({"shape", "dtype", "chunks", "name", "store", "overwrite"}
                      & set(zarr_options))
    if reserved:
        raise ValueError(f"to_zarr: zarr_options may not set {reserved}: they come from x "
                         "(use chunks= to rechunk)")
    stacked = isinstance(x, StackedArray)
    blocks = list(x.blocks) if stacked else [_as_dask(x, chunks)]
    if chunks is not None:
        blocks = [b.rechunk(chunks) for b in blocks]
    for b in blocks:
        if any(np.isnan(c) for cs in b.chunks for c in cs):
            raise ValueError("to_zarr: an array with unknown chunk sizes cannot be written; "
                             "call .compute_chunk_sizes() first")
    write_id = uuid.uuid4().hex
    if isinstance(store, zarr.Array):
        if stacked:
            raise ValueError("to_zarr: a StackedArray is written as a group: pass a folder, "
                             "a store or a zarr.Group, not a zarr.Array")
        if component is not None:
            raise ValueError("to_zarr: component= is for a store or group, not a zarr.Array")
        targets = [_existing_target(blocks[0], store)]
        _refuse_memory_store_on_cluster(store.store)
        blocks = [blocks[0].rechunk(_write_chunks(store))]
        targets[0].attrs[ATTRIBUTE] = {"write_id": write_id}
    else:
        zstore, root_path, root = _location(store)
        _refuse_existing(root, component, overwrite)
        _refuse_memory_store_on_cluster(zstore)
        path = "/".join(p for p in (root_path, component) if p)
        blocks = [_regular(b) for b in blocks]
        if stacked:
            group = zarr.open_group(zstore, path=path, mode="w")
            group.attrs[ATTRIBUTE] = {"type": "StackedArray", "nblocks": len(blocks),
                                      "write_id": write_id}
            targets = [_create_array(zstore, f"{path}/{BLOCK_NAME.format(i)}".lstrip("/"), b,
                                     write_id, zarr_options) for i, b in enumerate(blocks)]
        else:
            targets = [_create_array(zstore, path, blocks[0], write_id, zarr_options)]
    job = _one_delayed(da.store(blocks, targets, lock=False, compute=False))
    if not compute:
        return job
    job.compute()
    return None


def from_zarr(store, component=None, chunks=None):
    """A lazy dask array (or StackedArray) read from zarr, each chunk by its own task.

    Parameters
    ----------
    store : str, os.PathLike, zarr store, zarr.Group or zarr.Array
        What to read: a folder or URL, a zarr store or group, or an opened array.
    component : str, optional
        Path of the array (or of a StackedArray's group, as :func:`to_zarr` writes it) inside
        ``store``; default: its root.
    chunks : optional
        Dask chunks of the result; default: the stored chunks (the shards for sharded
        arrays). For a StackedArray, one spec for every block, or a ``list`` of one per block.

    Returns
    -------
    dask.array.Array or StackedArray

    Raises
    ------
    FileNotFoundError
        If ``store`` is a path that does not exist.
    KeyError
        If ``component`` is not in ``store`` (the message lists what is there).
    ValueError
        If the node is a group that :func:`to_zarr` did not write from a StackedArray, or
        ``chunks`` is a list whose length is not the number of blocks.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from pylops_distributed.io import from_zarr, to_zarr
    >>> path = os.path.join(tempfile.mkdtemp(), "data.zarr")
    >>> to_zarr(np.arange(6, dtype="complex128"), path, chunks=4)
    >>> x = from_zarr(path)
    >>> x.dtype, x.chunks, from_zarr(path, chunks=2).chunks
    (dtype('complex128'), ((4, 2),), ((2, 2, 2),))
    """
    node = _open_node(store, component)
    if isinstance(node, zarr.Array):
        return _read_array(node, chunks)
    info = node.attrs.get(ATTRIBUTE, {})
    if info.get("type") != "StackedArray":
        members = sorted(name for name, _ in node.members(max_depth=None))
        raise ValueError(f"from_zarr: {_where(store, component)} is a zarr group, not an array "
                         f"nor a StackedArray written by to_zarr; pass component= one of "
                         f"{members}")
    n = int(info["nblocks"])
    if isinstance(chunks, list):
        if len(chunks) != n:
            raise ValueError(f"from_zarr: {len(chunks)} chunk specs for a StackedArray of {n} "
                             "blocks")
        per_block = chunks
    else:
        per_block = [chunks] * n
    return StackedArray(_read_array(node[BLOCK_NAME.format(i)], c) for i, c in enumerate(per_block))


# --- helpers --------------------------------------------------------------------------------

def _as_dask(x, chunks):
    if isinstance(x, da.Array):
        return x
    if hasattr(x, "__array__") and hasattr(x, "shape") and hasattr(x, "dtype"):
        return da.from_array(x, chunks="auto" if chunks is None else chunks)
    raise TypeError(f"to_zarr: x must be a dask array, a StackedArray or an in-memory array, "
                    f"got {type(x).__name__}")


def _one_delayed(stored):
    """One Delayed for the store tasks ``da.store(..., compute=False)`` returns (an array of
    empty chunks, or a tuple of them, in recent dask)."""
    stored = stored if isinstance(stored, (tuple, list)) else (stored,)
    if len(stored) == 1 and isinstance(stored[0], Delayed):
        return stored[0]
    keys = [k for a in stored for k in flatten(a.__dask_keys__())]
    name = "to-zarr-" + tokenize(*[a.name for a in stored])
    graph = HighLevelGraph.from_collections(name, {name: (_written, keys)}, dependencies=stored)
    return Delayed(name, graph)


def _written(_stored_chunks):
    return None


def _where(store, component):
    place = os.fspath(store) if isinstance(store, (str, os.PathLike)) else repr(store)
    return f"{place}" + (f" (component {component!r})" if component else "")


def _location(store):
    """``(zarr store, path of store's root in it, root group or None if the root is an array)``;
    a missing folder is created (an empty group)."""
    if isinstance(store, zarr.Group):
        return store.store, store.path, store
    if isinstance(store, (str, os.PathLike)) and "://" not in os.fspath(store):
        store = os.path.abspath(os.fspath(store))
        if os.path.isfile(store):
            raise FileExistsError(f"to_zarr: {store} is a file, not a zarr folder")
    try:
        group = zarr.open_group(store, mode="a")
        return group.store, group.path, group
    except zarr.errors.ContainsArrayError:
        array = zarr.open_array(store, mode="r+")
        return array.store, array.path, None


def _refuse_existing(root, component, overwrite):
    """FileExistsError if something is at ``component`` of ``root`` (None: an array at root)."""
    if root is None:
        if component:
            raise FileExistsError(f"to_zarr: the store holds an array at its root: no room for "
                                  f"{component!r} (remove the store, or write without component)")
        if not overwrite:
            raise FileExistsError("to_zarr: the store already holds an array; pass "
                                  "overwrite=True to replace it")
        return
    if component:
        try:
            node = root[component]
        except KeyError:
            return
        kind = "array" if isinstance(node, zarr.Array) else "group"
    elif any(True for _ in root.members()):
        kind = "group with members"
    else:
        return
    if not overwrite:
        where = "/".join(p for p in (root.path, component) if p)
        raise FileExistsError(f"to_zarr: {root.store}/{where} already holds a zarr {kind}; "
                              "pass overwrite=True to replace it")


def _regular(x):
    """``x`` rechunked so that its chunks form a regular grid (zarr's), if they do not."""
    regular = all(len(set(c[:-1])) <= 1 and c[-1] <= c[0] for c in x.chunks if c)
    return x if regular else x.rechunk(tuple(max(c) if c else 1 for c in x.chunks))


def _create_array(zstore, path, x, write_id, zarr_options):
    """A new zarr array at ``path`` of ``zstore`` with ``x``'s shape, dtype and first chunks."""
    options = dict(zarr_options)
    attributes = dict(options.pop("attributes", {}))
    attributes[ATTRIBUTE] = {"write_id": write_id}
    chunk_shape = tuple(max(c[0], 1) if c else 1 for c in x.chunks)
    return zarr.create_array(zstore, name=path or None, shape=x.shape, chunks=chunk_shape,
                             dtype=x.dtype, attributes=attributes, overwrite=True, **options)


def _existing_target(x, z):
    if tuple(x.shape) != tuple(z.shape):
        raise ValueError(f"to_zarr: x has shape {tuple(x.shape)}, the zarr array {z.path or '/'} "
                         f"has {tuple(z.shape)}")
    if not np.can_cast(x.dtype, z.dtype, casting="same_kind"):
        raise ValueError(f"to_zarr: x is {x.dtype}, the zarr array is {z.dtype}")
    if z.read_only:
        raise ValueError(f"to_zarr: the zarr array {z.path or '/'} is open read-only")
    return z


def _write_chunks(z):
    return getattr(z, "shards", None) or z.chunks


def _refuse_memory_store_on_cluster(zstore):
    if not isinstance(zstore, zarr.storage.MemoryStore):
        return
    scheduler = dask.base.get_scheduler()
    owner = getattr(scheduler, "__self__", None)
    if type(owner).__module__.startswith("distributed"):
        raise ValueError("to_zarr: a MemoryStore lives in one process; under a distributed "
                         "scheduler each worker would write into its own copy. Use a folder "
                         "or object store the workers can reach.")


def _open_node(store, component):
    if isinstance(store, zarr.Array):
        if component:
            raise ValueError("from_zarr: component= is for a store or group, not a zarr.Array")
        return store
    if isinstance(store, (str, os.PathLike)) and "://" not in os.fspath(store):
        store = os.path.abspath(os.fspath(store))  # enters the task names: not cwd-relative
        if not os.path.exists(store):
            raise FileNotFoundError(f"from_zarr: no zarr store at {store}")
    try:
        root = store if isinstance(store, zarr.Group) else zarr.open(store, mode="r")
    except zarr.errors.NodeNotFoundError as err:
        raise FileNotFoundError(f"from_zarr: no zarr array or group at {_where(store, None)}") \
            from err
    if not component:
        return root
    if isinstance(root, zarr.Array):
        raise KeyError(f"from_zarr: {_where(store, None)} holds a single array at its root, "
                       f"no component {component!r}; pass component=None")
    try:
        return root[component]
    except KeyError:
        members = sorted(name for name, _ in root.members(max_depth=None))
        raise KeyError(f"from_zarr: no array or group {component!r} in {_where(store, None)}; "
                       f"it holds {members}") from None


def _read_array(z, chunks):
    chunks = _write_chunks(z) if chunks is None else chunks
    name = "from-zarr-" + tokenize(str(z.store), z.path, dict(z.attrs), z.shape, str(z.dtype),
                                   chunks)
    native = np.dtype(z.dtype.str).newbyteorder("=")  # zarr's dtypes spell out "<"
    return da.from_array(z, chunks=chunks, name=name, inline_array=False, asarray=True,
                         meta=np.empty((0,) * z.ndim, dtype=native))
