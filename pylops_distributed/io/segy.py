r"""SEG-Y files as lazy, chunked dask arrays (needs segyio: extra ``io``).

:func:`read_segy` reads at graph build only what fixes the shape of the result, the
*geometry*: the textual and binary headers (3600 bytes, plus any extended textual headers) and,
for ``by="inline"``/``"crossline"``/``"shot"``, the one or three trace-header words that place
each trace in the grid (read for every trace with segyio's ``attributes``, 4 bytes a trace).
The samples, and the 240-byte trace headers, are read by the tasks: each chunk's task opens the
file, reads the traces of its chunk (contiguous runs at a time) and closes it.

:func:`write_segy` writes a dask array back *from the workers*: one task creates the file (the
original textual and binary headers, then the file extended to its final size), then each chunk's
task opens it and writes its own traces and their headers in place (disjoint byte ranges); no
sample travels through the client. The path must therefore be reachable by the workers (a local
cluster or a shared file system), as for :func:`pylops_distributed.io.to_zarr`.

Trace order: the file written has the traces in the order of the file read (the grid position of
each trace is :attr:`SegyHeaders.trace_index`), so headers and samples are put back where they were.
"""

import os
import uuid

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

try:
    import segyio
except ImportError as err:  # pragma: no cover - the extra is installed in CI
    raise ImportError("pylops_distributed.io.segy needs segyio: "
                      "pip install 'pylops_distributed[io]'  (or pip install segyio)") from err

__all__ = ["SegyHeaders", "read_segy", "write_segy"]

TRACE_HEADER_BYTES = 240
FILE_HEADER_BYTES = 3600  # textual (3200) + binary (400) headers
EXTENDED_TEXT_BYTES = 3200
# bytes per sample of each SEG-Y sample format code (rev 2)
SAMPLE_BYTES = {1: 4, 2: 4, 3: 2, 5: 4, 6: 8, 8: 1, 9: 8, 10: 4, 11: 2, 12: 8, 15: 3, 16: 1}
GROUPINGS = ("inline", "crossline", "shot", "trace")


class SegyHeaders:
    """Everything of a SEG-Y file read by :func:`read_segy` but its samples.

    Small on the client: the raw file header, the geometry (one trace number per grid cell)
    and the header-word values of the grid axes; the 240-byte trace headers stay lazy.

    Attributes
    ----------
    path : str
        The file read.
    by : {"inline", "crossline", "shot", "trace"}
        How the traces were arranged into the grid.
    dims : tuple of str
        Name of each axis of the data, the last one ``"sample"``:
        ``("inline", "crossline"[, "offset"], "sample")``, ``("crossline", "inline"[, "offset"],
        "sample")``, ``("shot", "channel", "sample")`` or ``("trace", "sample")``.
    coords : dict of str to numpy.ndarray
        Header-word values along the grid axes that have one (inline and crossline numbers,
        offsets, shot numbers) and ``"sample"``: the sample times (or depths) in ms (or m).
    header_bytes : dict of str to int
        The trace-header byte of each axis in ``coords`` (e.g. ``{"inline": 189, ...}``).
    trace_index : numpy.ndarray of int64
        For each grid cell (``shape[:-1]``), the trace number in the file (from 0).
    sorting : str
        ``"inline"`` or ``"crossline"`` when the file's traces run in that order over the
        grid, ``"shot"`` when shots follow each other, else ``"unsorted"`` (still readable:
        each task reads its traces in contiguous runs where there are some).
    text : tuple of str
        The textual header and the extended textual headers, decoded by segyio.
    binary : dict
        The binary header (:class:`segyio.BinField` to value).
    file_header : bytes
        The raw textual, binary and extended textual headers, written back by :func:`write_segy`.
    sample_format : int
        The SEG-Y sample format code (1: IBM float, 5: IEEE float, ...).
    dtype : numpy.dtype
        The dtype of the samples as segyio returns them.
    endian : str
        The file's byte order (``"big"`` or ``"little"``).
    trace_headers : dask.array.Array of uint8 or None
        The raw 240-byte trace headers, shape ``shape[:-1] + (240,)``, chunked like the data's
        grid axes and read in tasks; ``None`` when read with ``headers=False``.
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @property
    def shape(self):
        """The shape of the data: grid axes then samples."""
        return self.trace_index.shape + (len(self.coords["sample"]),)

    @property
    def ntraces(self):
        return self.trace_index.size

    @property
    def samples(self):
        """Sample times (or depths) as segyio gives them (ms or m)."""
        return self.coords["sample"]

    @property
    def trace_bytes(self):
        """Bytes of one trace in the file, its header included."""
        return TRACE_HEADER_BYTES + len(self.samples) * SAMPLE_BYTES[self.sample_format]

    def trace_field(self, field, chunks=None):
        """One trace-header word of every trace, as a lazy int32 array of the grid's shape.

        Parameters
        ----------
        field : int or segyio.TraceField
            The header word (its first byte, e.g. ``segyio.TraceField.offset`` = 37).
        chunks : optional
            Chunks of the grid axes (default: those of :attr:`trace_headers`, else "auto").

        Returns
        -------
        dask.array.Array
            Read in tasks with segyio (``SegyFile.attributes``), in the file's byte order.
        """
        field = int(field)
        if field not in segyio.TraceField.enums():
            raise ValueError(f"trace_field: {field} is not a trace-header word "
                             "(see segyio.TraceField)")
        if chunks is None:
            chunks = self.trace_headers.chunks[:-1] if self.trace_headers is not None else "auto"
        chunks = da.core.normalize_chunks(chunks, self.trace_index.shape, dtype=np.int32)
        name = "segy-trace-field-" + tokenize(self._file_token, self.by, self.trace_index, field,
                                              chunks)
        return _array_from_blocks(name, chunks, np.int32, self.trace_index,
                                  lambda index, _: (_read_field, self.path, index, field,
                                                    self.endian))

    def __repr__(self):
        grid = ", ".join(f"{d}={n}" for d, n in zip(self.dims, self.shape))
        lazy = "lazy" if self.trace_headers is not None else "not read"
        return (f"SegyHeaders<{os.path.basename(self.path)}: by={self.by!r}, {grid}, "
                f"format {self.sample_format}, sorting {self.sorting!r}, trace headers {lazy}>")


def read_segy(path, *, by="inline", chunks=None, headers=True, iline_byte=189, xline_byte=193,
              offset_byte=37, shot_byte=9, endian="big"):
    """A SEG-Y file as a lazy dask array, each chunk read by its own task.

    Parameters
    ----------
    path : str or os.PathLike
        The SEG-Y file (readable by the workers).
    by : {"inline", "crossline", "shot", "trace"}, optional
        Arrangement of the traces:

        - ``"inline"``: a 3-D grid ``(ninline, ncrossline, nsample)`` from the inline and
          crossline numbers in the trace headers, with an offset axis before the samples when
          the file holds several offsets (pre-stack 3-D); every (inline, crossline, offset)
          must hold exactly one trace, in any order.
        - ``"crossline"``: the same grid with the first two axes swapped.
        - ``"shot"``: ``(nshot, nchannel, nsample)``: traces grouped by the shot number word,
          shots in increasing number, traces of a shot in file order; every shot must have
          the same number of traces.
        - ``"trace"``: ``(ntrace, nsample)`` in file order (any file, no header scan).
    chunks : optional
        Dask chunks of the result (any form ``dask.array`` accepts). Default: the whole sample
        axis, "auto" on the others.
    headers : bool, optional
        Attach the trace headers (lazy) to the returned :class:`SegyHeaders`, so that
        :func:`write_segy` copies them. Without them :func:`write_segy` writes minimal
        headers (grid numbers, sample count and interval, delay).
    iline_byte, xline_byte, offset_byte, shot_byte : int, optional
        Trace-header bytes of the inline, crossline, offset and shot numbers (SEG-Y rev 1:
        189, 193, 37 and 9, the field record number; segyio calls the first two ``iline``
        and ``xline``).
    endian : {"big", "little"}, optional
        Byte order of the file.

    Returns
    -------
    data : dask.array.Array
        The samples (dtype as segyio reads them: float32 for IBM and IEEE floats).
    headers : SegyHeaders
        Headers, geometry and lazy trace headers; pass it to :func:`write_segy` as ``like``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Before anything is computed: an unknown ``by``; a file that is not SEG-Y (shorter
        than its headers, or an unknown sample format code: perhaps the other ``endian``);
        a truncated file (its size is not the headers plus a whole number of traces); a
        geometry that does not fit ``by`` (not a full inline/crossline/offset grid; shots
        with different numbers of traces).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, segyio
    >>> from pylops_distributed.io import read_segy, write_segy
    >>> path = os.path.join(tempfile.mkdtemp(), "cube.sgy")
    >>> cube = np.arange(4 * 5 * 6, dtype="float32").reshape(4, 5, 6)
    >>> segyio.tools.from_array(path, cube, format=5)  # inlines 1..4, crosslines 1..5
    >>> data, hdr = read_segy(path, by="inline", chunks=(2, 5, 6))
    >>> data.shape, data.chunks[0], hdr.dims
    ((4, 5, 6), (2, 2), ('inline', 'crossline', 'sample'))
    >>> np.array_equal(data.compute(), cube), hdr.coords["inline"]
    (True, array([1, 2, 3, 4], dtype=int32))
    >>> write_segy(path.replace("cube", "twice"), 2 * data, like=hdr)
    >>> twice, _ = read_segy(path.replace("cube", "twice"))
    >>> np.array_equal(twice.compute(), 2 * cube)
    True
    """
    if by not in GROUPINGS:
        raise ValueError(f"read_segy: by={by!r}; expected one of {GROUPINGS}")
    if endian not in ("big", "little", "msb", "lsb"):
        raise ValueError(f"read_segy: endian={endian!r}; expected 'big' or 'little'")
    for what, byte in (("iline_byte", iline_byte), ("xline_byte", xline_byte),
                       ("offset_byte", offset_byte), ("shot_byte", shot_byte)):
        if int(byte) not in segyio.TraceField.enums():
            raise ValueError(f"read_segy: {what}={byte} is not the first byte of a trace-header "
                             "word (see segyio.TraceField)")
    path = os.path.abspath(os.fspath(path))
    stat = os.stat(path)  # FileNotFoundError with the path
    file_token = (path, stat.st_size, stat.st_mtime_ns)
    _check_binary_header(path, stat.st_size, endian)
    try:
        f = segyio.open(path, "r", ignore_geometry=True, endian=endian)
    except (RuntimeError, OSError) as err:
        raise ValueError(_bad_file_message(path, stat.st_size, endian, err)) from err
    with f:
        trace0 = FILE_HEADER_BYTES + EXTENDED_TEXT_BYTES * max(int(f.ext_headers), 0)
        with open(path, "rb") as fh:
            file_header = fh.read(trace0)
        if by == "trace":
            trace_index, axes, sorting = np.arange(f.tracecount, dtype=np.int64), {}, "trace"
        elif by == "shot":
            trace_index, axes, sorting = _shot_geometry(f, path, shot_byte)
        else:
            trace_index, axes, sorting = _grid_geometry(f, path, by, iline_byte, xline_byte,
                                                        offset_byte)
        samples = np.asarray(f.samples)
        info = dict(path=path, by=by, trace_index=trace_index, sorting=sorting,
                    text=tuple(bytes(f.text[i]).decode("ascii", "replace")
                               for i in range(1 + max(int(f.ext_headers), 0))),
                    binary=dict(f.bin), file_header=file_header, sample_format=int(f.format),
                    dtype=np.dtype(f.dtype), endian=endian, _file_token=file_token)
    grid_dims = {"inline": ("inline", "crossline", "offset"),
                 "crossline": ("crossline", "inline", "offset"),
                 "shot": ("shot", "channel"), "trace": ("trace",)}[by][:trace_index.ndim]
    coords = {name: values for name, (values, _) in axes.items()}
    coords["sample"] = samples
    info.update(dims=grid_dims + ("sample",), coords=coords,
                header_bytes={name: byte for name, (_, byte) in axes.items()})
    shape = trace_index.shape + (len(samples),)
    if chunks is None:
        chunks = {**{a: "auto" for a in range(trace_index.ndim)}, trace_index.ndim: -1}
    chunks = da.core.normalize_chunks(chunks, shape, dtype=info["dtype"])
    name = "read-segy-" + tokenize(file_token, by, trace_index, chunks, endian)
    data = _array_from_blocks(name, chunks, info["dtype"], trace_index,
                              lambda index, samples_slice: (_read_samples, path, index,
                                                            samples_slice, endian))
    info["trace_headers"] = None
    if headers:
        grid_chunks = chunks[:-1] + ((TRACE_HEADER_BYTES,),)
        hname = "read-segy-headers-" + tokenize(file_token, by, trace_index, grid_chunks)
        stride = TRACE_HEADER_BYTES + len(samples) * SAMPLE_BYTES[info["sample_format"]]
        info["trace_headers"] = _array_from_blocks(
            hname, grid_chunks, np.uint8, trace_index,
            lambda index, _: (_read_trace_headers, path, index, trace0, stride))
    return data, SegyHeaders(**info)


def write_segy(path, data, like, *, overwrite=False, compute=True):
    """Write ``data`` as a SEG-Y file with the headers and trace order of ``like``.

    Written from the workers: a first task writes the file header and sizes the file, then
    each chunk's task writes its traces (converted to the file's sample format by segyio) and
    their trace headers in place. Nothing is written before the graph is computed.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (reachable by the workers).
    data : dask.array.Array or numpy.ndarray
        Real samples of shape ``like.shape``; chunks along the sample axis are merged first
        (a task writes whole traces).
    like : SegyHeaders
        From :func:`read_segy`: textual, binary and trace headers (or, read with
        ``headers=False``, minimal trace headers made from ``like.coords``), sample format,
        byte order and the position of each trace in the file.
    overwrite : bool, optional
        Replace an existing file at ``path``.
    compute : bool, optional
        Write now (with the current dask scheduler) or return the write as a
        :class:`dask.delayed.Delayed` to compute later.

    Returns
    -------
    None or dask.delayed.Delayed
        The delayed write when ``compute=False`` (its value: the number of traces written).

    Raises
    ------
    TypeError
        If ``like`` is not a :class:`SegyHeaders` or ``data`` is complex.
    ValueError
        If ``data.shape`` differs from ``like.shape``, or ``path`` is the file ``like`` reads
        from.
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, segyio
    >>> from pylops_distributed.io import read_segy, write_segy
    >>> folder = tempfile.mkdtemp()
    >>> src, dst = os.path.join(folder, "in.sgy"), os.path.join(folder, "out.sgy")
    >>> segyio.tools.from_array(src, np.ones((3, 8), dtype="float32"), format=1)
    >>> data, hdr = read_segy(src, by="trace", chunks=(2, 8))
    >>> job = write_segy(dst, data + 1, like=hdr, compute=False)
    >>> job.compute()  # traces written
    3
    >>> read_segy(dst, by="trace")[0].compute()[:, 0]
    array([2., 2., 2.], dtype=float32)
    """
    if not isinstance(like, SegyHeaders):
        raise TypeError(f"write_segy: like must be the SegyHeaders from read_segy, "
                        f"got {type(like).__name__}")
    if not isinstance(data, da.Array):
        data = da.from_array(np.asarray(data), chunks=like.trace_headers.chunks[:-1] + (-1,)
                             if like.trace_headers is not None else "auto")
    if tuple(data.shape) != like.shape:
        raise ValueError(f"write_segy: data has shape {tuple(data.shape)}, like (from "
                         f"{os.path.basename(like.path)}, by={like.by!r}) has {like.shape}")
    if np.issubdtype(data.dtype, np.complexfloating):
        raise TypeError(f"write_segy: SEG-Y samples are real, data is {data.dtype}")
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(os.path.dirname(path)):
        raise FileNotFoundError(f"write_segy: folder {os.path.dirname(path)} does not exist")
    if os.path.exists(path):
        if os.path.exists(like.path) and os.path.samefile(path, like.path):
            raise ValueError(f"write_segy: {path} is the file like was read from (its tasks "
                             "read it while the write truncates it); write to another path")
        if not overwrite:
            raise FileExistsError(f"write_segy: {path} exists; pass overwrite=True to replace it")
    data = data.rechunk({data.ndim - 1: -1})
    grid_chunks = data.chunks[:-1]
    trace_headers = like.trace_headers
    if trace_headers is not None:
        trace_headers = trace_headers.rechunk(grid_chunks + ((TRACE_HEADER_BYTES,),))
    # a write is a side effect: fresh task names, never merged with an earlier write's
    token = tokenize(path, data.name, None if trace_headers is None else trace_headers.name,
                     like._file_token, like.by, uuid.uuid4().hex)
    create_key = ("write-segy-create-" + token,)
    trace0, stride = len(like.file_header), like.trace_bytes
    dsk = {create_key: (_create_file, path, like.file_header, trace0 + like.ntraces * stride)}
    write_name = "write-segy-" + token
    starts = [np.cumsum((0,) + c) for c in grid_chunks]
    for bid in np.ndindex(*data.numblocks):
        box = tuple(slice(s[i], s[i + 1]) for s, i in zip(starts, bid[:-1]))
        index = like.trace_index[box]
        if trace_headers is not None:
            header_source = (trace_headers.name,) + bid[:-1] + (0,)
        else:
            header_source = _minimal_headers(like, box)
        dsk[(write_name,) + bid] = (_write_traces, create_key, path, index, (data.name,) + bid,
                                    header_source, trace0, stride, like.endian)
    done_key = "write-segy-done-" + token
    dsk[done_key] = (sum, [(write_name,) + bid for bid in np.ndindex(*data.numblocks)])
    deps = [data] if trace_headers is None else [data, trace_headers]
    job = Delayed(done_key, HighLevelGraph.from_collections(done_key, dsk, dependencies=deps))
    if not compute:
        return job
    job.compute()
    return None


# --- geometry (graph build) -----------------------------------------------------------------

def _check_binary_header(path, size, endian):
    """Reject a file that cannot be SEG-Y before segyio parses it (its errors are terse)."""
    if size < FILE_HEADER_BYTES:
        raise ValueError(f"{path} is not a SEG-Y file: {size} bytes, fewer than the "
                         f"{FILE_HEADER_BYTES} of the textual and binary headers")
    with open(path, "rb") as fh:
        fh.seek(3224)  # sample format code, bytes 3225-3226
        code = int.from_bytes(fh.read(2), "little" if endian in ("little", "lsb") else "big")
    if code not in SAMPLE_BYTES:
        raise ValueError(f"{path} is not a SEG-Y file (or not {endian}-endian): sample format "
                         f"code {code} in the binary header (bytes 3225-3226); known codes "
                         f"{sorted(SAMPLE_BYTES)}")


def _bad_file_message(path, size, endian, err):
    text = str(err)
    if "inconsistent with file size" in text:
        return (f"{path} is truncated or corrupt: its {size} bytes are not the headers plus a "
                f"whole number of traces of the length given by the binary header (segyio: "
                f"{text})")
    return f"{path} is not a readable SEG-Y file ({endian}-endian): segyio: {text}"


def _unique(values):
    uniq, inverse = np.unique(values, return_inverse=True)
    return uniq, inverse.ravel()


def _grid_geometry(f, path, by, iline_byte, xline_byte, offset_byte):
    """Trace number of every (inline, crossline[, offset]) cell; each must hold one trace."""
    ilines, ii = _unique(f.attributes(iline_byte)[:])
    xlines, jj = _unique(f.attributes(xline_byte)[:])
    offsets, kk = _unique(f.attributes(offset_byte)[:])
    nil, nxl, noff = len(ilines), len(xlines), len(offsets)
    cell = (ii * nxl + jj) * noff + kk
    counts = np.bincount(cell, minlength=nil * nxl * noff)
    if (counts != 1).any():
        grid = f"{nil} inlines x {nxl} crosslines" + (f" x {noff} offsets" if noff > 1 else "")
        problems = []
        for what, cells in (("no trace", np.flatnonzero(counts == 0)),
                            ("several traces", np.flatnonzero(counts > 1))):
            if cells.size:
                i, j, k = np.unravel_index(cells[0], (nil, nxl, noff))
                where = f"inline {ilines[i]}, crossline {xlines[j]}" + (
                    f", offset {offsets[k]}" if noff > 1 else "")
                problems.append(f"{cells.size} cells have {what} (first: {where})")
        raise ValueError(
            f"{path}: the inline/crossline numbers (trace-header bytes {iline_byte}/{xline_byte}) "
            f"of its {f.tracecount} traces do not form a full grid, as by={by!r} needs: {grid}; "
            + "; ".join(problems) + ". Check iline_byte/xline_byte, or read with by='trace' "
            "(or by='shot').")
    index = np.empty(cell.size, dtype=np.int64)
    index[cell] = np.arange(cell.size)
    index = index.reshape(nil, nxl, noff)
    flat_inline = index.ravel()
    flat_crossline = index.transpose(1, 0, 2).ravel()
    sorting = ("inline" if (np.diff(flat_inline) == 1).all() else
               "crossline" if (np.diff(flat_crossline) == 1).all() else "unsorted")
    axes = {"inline": (ilines, iline_byte), "crossline": (xlines, xline_byte)}
    if by == "crossline":
        index, axes = index.swapaxes(0, 1), {"crossline": axes["crossline"],
                                             "inline": axes["inline"]}
    if noff > 1:
        axes["offset"] = (offsets, offset_byte)
    else:
        index = index[..., 0]
    return np.ascontiguousarray(index), axes, sorting


def _shot_geometry(f, path, shot_byte):
    """Traces grouped by shot number: shots in increasing number, channels in file order."""
    shots, inverse = _unique(f.attributes(shot_byte)[:])
    counts = np.bincount(inverse, minlength=len(shots))
    if counts.min() != counts.max():
        low, high = int(np.argmin(counts)), int(np.argmax(counts))
        raise ValueError(
            f"{path}: by='shot' needs the same number of traces in every shot (shot number at "
            f"trace-header byte {shot_byte}); shot {shots[low]} has {counts[low]} traces, shot "
            f"{shots[high]} has {counts[high]}. Read it with by='trace', or check shot_byte.")
    index = np.argsort(inverse, kind="stable").reshape(len(shots), counts[0]).astype(np.int64)
    sorting = "shot" if (np.diff(index.ravel()) == 1).all() else "unsorted"
    return index, {"shot": (shots, shot_byte)}, sorting


def _array_from_blocks(name, chunks, dtype, trace_index, make_task):
    """A dask array whose block ``bid`` is ``make_task(trace numbers of the block's grid cells,
    slice along the last axis)``; the grid axes are the first ``trace_index.ndim``."""
    nd = trace_index.ndim
    starts = [np.cumsum((0,) + tuple(c)) for c in chunks]
    dsk = {}
    for bid in np.ndindex(*(len(c) for c in chunks)):
        box = tuple(slice(int(s[i]), int(s[i + 1])) for s, i in zip(starts, bid))
        last = box[nd] if len(box) > nd else None
        dsk[(name,) + bid] = make_task(np.ascontiguousarray(trace_index[box[:nd]]), last)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[])
    return da.Array(graph, name, chunks, dtype=dtype)


def _minimal_headers(like, box):
    """Trace-header words for the cells ``box`` of ``like``'s grid (``headers=False``)."""
    shape = like.trace_index[box].shape
    ns = len(like.samples)
    interval = int(round((like.samples[1] - like.samples[0]) * 1000)) if ns > 1 else 0
    words = {segyio.TraceField.TRACE_SAMPLE_COUNT: np.full(shape, ns),
             segyio.TraceField.TRACE_SAMPLE_INTERVAL: np.full(shape, interval),
             segyio.TraceField.DelayRecordingTime: np.full(shape, int(round(like.samples[0])))}
    for axis, name in enumerate(like.dims[:-1]):
        if name in like.header_bytes:
            values = like.coords[name][box[axis]]
            view = [1] * len(shape)
            view[axis] = len(values)
            words[like.header_bytes[name]] = np.broadcast_to(values.reshape(view), shape)
    return {int(k): np.ascontiguousarray(v).ravel() for k, v in words.items()}


# --- tasks (module level: they travel to the workers) ----------------------------------------

def _runs(trace_numbers):
    """``(first, stop, positions)`` for each run of consecutive trace numbers."""
    order = np.argsort(trace_numbers, kind="stable")
    ordered = trace_numbers[order]
    breaks = np.flatnonzero(np.diff(ordered) != 1) + 1
    for positions in np.split(order, breaks):
        first = int(trace_numbers[positions[0]])
        yield first, first + positions.size, positions


def _read_samples(path, trace_index, samples_slice, endian):
    flat = trace_index.ravel()
    with segyio.open(path, "r", ignore_geometry=True, endian=endian) as f:
        out = np.empty((flat.size, samples_slice.stop - samples_slice.start), dtype=f.dtype)
        for first, stop, positions in _runs(flat):
            out[positions] = f.trace.raw[first:stop][:, samples_slice]
    return out.reshape(trace_index.shape + (out.shape[1],))


def _read_trace_headers(path, trace_index, trace0, stride):
    """The 240 header bytes of the block's traces (a memory map: only their pages are read)."""
    ntraces = (os.path.getsize(path) - trace0) // stride
    traces = np.memmap(path, dtype=np.uint8, mode="r", offset=trace0, shape=(ntraces, stride))
    out = np.array(traces[trace_index.ravel(), :TRACE_HEADER_BYTES])
    del traces
    return out.reshape(trace_index.shape + (TRACE_HEADER_BYTES,))


def _read_field(path, trace_index, field, endian):
    with segyio.open(path, "r", ignore_geometry=True, endian=endian) as f:
        values = f.attributes(field)[trace_index.ravel()]
    return np.asarray(values, dtype=np.int32).reshape(trace_index.shape)


def _create_file(path, file_header, size):
    with open(path, "wb") as fh:
        fh.write(file_header)
        fh.truncate(size)
    return size


def _write_traces(_created, path, trace_index, block, header_source, trace0, stride, endian):
    """Write the traces of one block (and their headers) into the sized file, in place."""
    flat = trace_index.ravel()
    rows = np.asarray(block).reshape(flat.size, -1)
    with segyio.open(path, "r+", ignore_geometry=True, endian=endian) as f:
        rows = np.ascontiguousarray(rows, dtype=f.dtype)
        for k, t in enumerate(flat):
            f.trace[int(t)] = rows[k]
        if isinstance(header_source, dict):  # minimal headers: a few words a trace
            for k, t in enumerate(flat):
                f.header[int(t)] = {word: int(v[k]) for word, v in header_source.items()}
    if not isinstance(header_source, dict):  # the original 240 bytes, copied as they were
        raw = np.asarray(header_source).reshape(flat.size, TRACE_HEADER_BYTES)
        with open(path, "r+b") as fh:
            for k, t in enumerate(flat):
                fh.seek(trace0 + int(t) * stride)
                fh.write(raw[k].tobytes())
    return int(flat.size)
