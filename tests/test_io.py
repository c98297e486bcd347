"""pylops_distributed.io: SEG-Y files and zarr stores read lazily and written from the workers."""

import os
import shutil

import dask
import dask.array as da
import numpy as np
import pytest
from dask.delayed import Delayed
from distributed import get_task_stream

import pylops_distributed as pld
from pylops_distributed import StackedArray
from pylops_distributed.optimization import cgls

# --- SEG-Y ----------------------------------------------------------------------------------

SOURCE_X = 73  # segyio.TraceField.SourceX: a header word that only the copied headers keep


def write_segy_file(path, traces, headers, fmt=5, ext_text=0):
    """A real SEG-Y file written with segyio.create: ``traces`` (ntraces, nt) in file order,
    ``headers`` one dict of trace-header words per trace."""
    segyio = pytest.importorskip("segyio", reason="pip install segyio (extra 'io')")
    spec = segyio.spec()
    spec.format, spec.samples, spec.tracecount = fmt, np.arange(traces.shape[1]) * 2.0, len(traces)
    spec.ext_headers = ext_text
    with segyio.create(str(path), spec) as f:
        for i in range(ext_text):
            f.text[1 + i] = f"C 1 extended textual header {i}".ljust(3200)
        f.bin.update(hdt=2000, jobid=77)
        for t, (trace, words) in enumerate(zip(traces, headers)):
            f.header[t] = {**words, 115: traces.shape[1], 117: 2000, SOURCE_X: 1000 + t}
            f.trace[t] = trace.astype(np.float32)
    return path


def cube_file(path, nil=3, nxl=4, nt=6, noff=1, sorting="inline", fmt=5, order=None):
    """A (nil, nxl[, noff], nt) cube with inlines 10, 12, ..., crosslines 100, 101, ...,
    offsets 50, 100, ...; the traces in ``sorting`` order (or the permutation ``order``).
    Returns the file, the cube and the file position of each cell's trace."""
    rng = np.random.default_rng(0)
    cube = np.round(rng.standard_normal((nil, nxl, noff, nt)) * 8) / 4  # exact in IBM floats
    cells = [(i, j, k) for i in range(nil) for j in range(nxl) for k in range(noff)]
    if sorting == "crossline":
        cells = sorted(cells, key=lambda c: (c[1], c[0], c[2]))
    if order is not None:
        cells = [cells[o] for o in order]
    position = np.empty((nil, nxl, noff), dtype=int)
    for t, c in enumerate(cells):
        position[c] = t
    traces = np.array([cube[c] for c in cells])
    words = [{189: 10 + 2 * i, 193: 100 + j, 37: 50 * (k + 1)} for i, j, k in cells]
    write_segy_file(path, traces, words, fmt=fmt)
    squeeze = (lambda a: a[:, :, 0]) if noff == 1 else (lambda a: a)
    return path, squeeze(cube), squeeze(position)


def raw_trace_headers(path, count, nt, bytes_per_sample=4, trace0=3600):
    raw = np.fromfile(path, dtype=np.uint8, offset=trace0)
    return raw.reshape(count, 240 + nt * bytes_per_sample)[:, :240]


@pytest.fixture
def segy():
    return pytest.importorskip("segyio", reason="pip install segyio (extra 'io')")


@pytest.mark.parametrize("chunks", [None, (1, 4, 6), (2, 3, -1), (2, 2, 4), 1])
def test_read_inline_chunks(tmp_path, segy, chunks):
    from pylops_distributed.io import read_segy
    path, cube, position = cube_file(tmp_path / "c.sgy")
    data, hdr = read_segy(path, by="inline", chunks=chunks)
    assert data.shape == cube.shape == hdr.shape and data.dtype == np.float32
    if chunks not in (None, 1):
        expected = tuple(cube.shape[a] if c == -1 else c for a, c in enumerate(chunks))
        assert data.chunksize == expected
    np.testing.assert_array_equal(data.compute(), cube)
    assert hdr.dims == ("inline", "crossline", "sample") and hdr.sorting == "inline"
    np.testing.assert_array_equal(hdr.coords["inline"], [10, 12, 14])
    np.testing.assert_array_equal(hdr.coords["crossline"], [100, 101, 102, 103])
    np.testing.assert_array_equal(hdr.samples, np.arange(6) * 2.0)
    np.testing.assert_array_equal(hdr.trace_index, position)
    assert hdr.header_bytes == {"inline": 189, "crossline": 193}
    assert hdr.binary[segy.BinField.JobID] == 77 and hdr.sample_format == 5
    assert len(hdr.file_header) == 3600 and hdr.text[0].startswith("C 1")
    # the trace headers, lazy, chunked like the grid, byte for byte those of the file
    raw = raw_trace_headers(path, 12, 6)
    assert hdr.trace_headers.chunks[:2] == data.chunks[:2]
    np.testing.assert_array_equal(hdr.trace_headers.compute(), raw[position])
    np.testing.assert_array_equal(hdr.trace_field(SOURCE_X).compute(), 1000 + position)
    np.testing.assert_array_equal(hdr.trace_field(segy.TraceField.INLINE_3D).compute(),
                                  np.repeat([[10], [12], [14]], 4, axis=1))


def test_read_crossline_sorted_file_by_inline_and_by_crossline(tmp_path, segy):
    from pylops_distributed.io import read_segy
    path, cube, position = cube_file(tmp_path / "x.sgy", sorting="crossline")
    data, hdr = read_segy(path, by="inline", chunks=(2, 2, -1))
    np.testing.assert_array_equal(data.compute(), cube)
    assert hdr.sorting == "crossline"
    data, hdr = read_segy(path, by="crossline", chunks=(3, 2, 6))
    assert hdr.dims[:2] == ("crossline", "inline")
    np.testing.assert_array_equal(data.compute(), cube.transpose(1, 0, 2))
    np.testing.assert_array_equal(hdr.trace_index, position.T)


def test_read_prestack_offsets_unsorted_ibm(tmp_path, segy):
    from pylops_distributed.io import read_segy
    order = np.random.default_rng(1).permutation(2 * 3 * 2)
    path, cube, position = cube_file(tmp_path / "p.sgy", nil=2, nxl=3, noff=2, nt=5, fmt=1,
                                     order=order)
    data, hdr = read_segy(path, chunks=(1, 2, 1, 5))
    assert data.shape == (2, 3, 2, 5) and hdr.dims == ("inline", "crossline", "offset", "sample")
    assert hdr.sorting == "unsorted" and hdr.sample_format == 1
    np.testing.assert_array_equal(hdr.coords["offset"], [50, 100])
    np.testing.assert_array_equal(data.compute(), cube)


def shot_file(path, nshots=3, nrec=4, nt=5, interleave=True):
    rng = np.random.default_rng(2)
    gathers = rng.standard_normal((nshots, nrec, nt)).astype(np.float32)
    cells = [(s, r) for r in range(nrec) for s in range(nshots)] if interleave else \
        [(s, r) for s in range(nshots) for r in range(nrec)]
    traces = np.array([gathers[c] for c in cells])
    words = [{9: 7 + 3 * s, 13: r + 1} for s, r in cells]  # FieldRecord, TraceNumber
    return write_segy_file(path, traces, words), gathers


@pytest.mark.parametrize("chunks", [(1, 4, 5), (2, 3, 2)])
def test_read_shots_and_traces(tmp_path, segy, chunks):
    from pylops_distributed.io import read_segy
    path, gathers = shot_file(tmp_path / "s.sgy")
    data, hdr = read_segy(path, by="shot", chunks=chunks)
    assert hdr.dims == ("shot", "channel", "sample") and hdr.sorting == "unsorted"
    np.testing.assert_array_equal(hdr.coords["shot"], [7, 10, 13])
    np.testing.assert_array_equal(data.compute(), gathers)
    np.testing.assert_array_equal(hdr.trace_field(13).compute(), np.tile([1, 2, 3, 4], (3, 1)))
    traces, thdr = read_segy(path, by="trace", chunks=(5, 5))
    assert traces.shape == (12, 5) and thdr.dims == ("trace", "sample")
    np.testing.assert_array_equal(traces.compute(), gathers.transpose(1, 0, 2).reshape(12, 5))


def test_samples_are_read_by_the_tasks(tmp_path, segy):
    """Graph build reads the geometry only: samples changed afterwards are what compute sees."""
    from pylops_distributed.io import read_segy
    path, cube, position = cube_file(tmp_path / "c.sgy")
    data, hdr = read_segy(path, chunks=(1, 4, 6))
    with segy.open(str(path), "r+", ignore_geometry=True) as f:
        f.trace[int(position[1, 2])] = np.full(6, 42.0, dtype=np.float32)
    out = data.compute()
    np.testing.assert_array_equal(out[1, 2], 42.0)
    np.testing.assert_array_equal(out[0], cube[0])


@pytest.mark.parametrize("kind", ["inline", "unsorted-offsets", "shot", "extended-text"])
def test_write_round_trip_is_byte_identical(tmp_path, segy, kind, scheduler):
    """Written back unchanged, the file is the same bytes (headers and trace order kept);
    on the process cluster the chunks are written by the workers."""
    from pylops_distributed.io import read_segy, write_segy
    src = tmp_path / "src.sgy"
    by, chunks = "inline", (2, 3, -1)
    if kind == "inline":
        cube_file(src)
    elif kind == "unsorted-offsets":
        cube_file(src, nil=2, nxl=3, noff=2, fmt=1,
                  order=np.random.default_rng(3).permutation(12))
        chunks = (1, 2, 1, 6)
    elif kind == "shot":
        shot_file(src)
        by, chunks = "shot", (2, 2, 5)
    else:
        write_segy_file(src, np.ones((4, 3)), [{} for _ in range(4)], ext_text=2)
        by, chunks = "trace", (3, 3)
    data, hdr = read_segy(src, by=by, chunks=chunks)
    dst = tmp_path / "dst.sgy"
    assert write_segy(dst, data, like=hdr) is None
    assert open(src, "rb").read() == open(dst, "rb").read()
    write_segy(dst, 2 * data - 1, like=hdr, overwrite=True)
    again, hdr2 = read_segy(dst, by=by, chunks=chunks)
    np.testing.assert_array_equal(again.compute(), 2 * data.compute() - 1)
    np.testing.assert_array_equal(hdr2.trace_headers.compute(), hdr.trace_headers.compute())
    assert hdr2.file_header == hdr.file_header and hdr2.text == hdr.text


def test_write_minimal_headers_lazy_and_numpy(tmp_path, segy):
    from pylops_distributed.io import read_segy, write_segy
    path, cube, _ = cube_file(tmp_path / "c.sgy", sorting="crossline")
    data, hdr = read_segy(path, by="crossline", chunks=(2, 3, 6), headers=False)
    assert hdr.trace_headers is None
    dst = tmp_path / "minimal.sgy"
    job = write_segy(dst, data.compute() + 1, like=hdr, compute=False)  # a NumPy array
    assert isinstance(job, Delayed) and not dst.exists()
    assert job.compute() == 12
    back, hdr2 = read_segy(dst, by="inline")
    np.testing.assert_array_equal(back.compute(), cube + 1)
    np.testing.assert_array_equal(hdr2.coords["crossline"], hdr.coords["crossline"])
    np.testing.assert_array_equal(hdr2.samples, hdr.samples)
    assert hdr2.sorting == "crossline"  # trace order kept
    np.testing.assert_array_equal(hdr2.trace_field(SOURCE_X).compute(), 0)  # not copied


def test_not_segy_files(tmp_path, segy):
    from pylops_distributed.io import read_segy
    short = tmp_path / "notes.txt"
    short.write_text("not seismic\n" * 10)
    with pytest.raises(ValueError, match="not a SEG-Y file: 120 bytes"):
        read_segy(short)
    long = tmp_path / "long.txt"
    long.write_text("hello world, this is text\n" * 400)
    with pytest.raises(ValueError, match="not a SEG-Y file .*sample format code"):
        read_segy(long, by="trace")
    with pytest.raises(FileNotFoundError):
        read_segy(tmp_path / "missing.sgy")
    path, _, _ = cube_file(tmp_path / "c.sgy")
    with pytest.raises(ValueError, match="not little-endian"):
        read_segy(path, endian="little")
    with pytest.raises(ValueError, match="by='depth'"):
        read_segy(path, by="depth")
    with pytest.raises(ValueError, match="iline_byte=190"):
        read_segy(path, iline_byte=190)


def test_truncated_files(tmp_path, segy):
    from pylops_distributed.io import read_segy
    path, _, _ = cube_file(tmp_path / "c.sgy")
    size = os.path.getsize(path)
    cut = tmp_path / "cut.sgy"
    shutil.copy(path, cut)
    os.truncate(cut, size - 100)  # in the middle of the last trace
    for by in ("inline", "trace"):
        with pytest.raises(ValueError, match="truncated or corrupt"):
            read_segy(cut, by=by)
    os.truncate(cut, size - (240 + 6 * 4))  # a whole trace missing: the grid has a hole
    with pytest.raises(ValueError, match=r"full grid.*1 cells have no trace \(first: inline 14, "
                                         r"crossline 103\)"):
        read_segy(cut)
    assert read_segy(cut, by="trace")[0].shape == (11, 6)


def test_irregular_geometry(tmp_path, segy):
    from pylops_distributed.io import read_segy
    path, _, position = cube_file(tmp_path / "c.sgy")
    with segy.open(str(path), "r+", ignore_geometry=True) as f:  # crossline 101 -> 102
        f.header[int(position[1, 1])] = {193: 102}
    for by in ("inline", "crossline"):
        with pytest.raises(ValueError, match=r"do not form a full grid.*no trace \(first: inline "
                                             r"12, crossline 101\).*several traces"):
            read_segy(path, by=by)
    shots, _ = shot_file(tmp_path / "s.sgy")
    with segy.open(str(shots), "r+", ignore_geometry=True) as f:  # a trace moves to shot 13
        f.header[0] = {9: 13}
    with pytest.raises(ValueError, match="shot 7 has 3 traces, shot 13 has 5"):
        read_segy(shots, by="shot")


def test_write_errors(tmp_path, segy):
    from pylops_distributed.io import read_segy, write_segy
    path, _, _ = cube_file(tmp_path / "c.sgy")
    data, hdr = read_segy(path, chunks=(2, 2, 6))
    with pytest.raises(ValueError, match=r"shape \(3, 4, 5\).*\(3, 4, 6\)"):
        write_segy(tmp_path / "o.sgy", data[..., :5], like=hdr)
    with pytest.raises(TypeError, match="SegyHeaders"):
        write_segy(tmp_path / "o.sgy", data, like={"path": path})
    with pytest.raises(TypeError, match="real"):
        write_segy(tmp_path / "o.sgy", data * 1j, like=hdr)
    with pytest.raises(ValueError, match="the file like was read from"):
        write_segy(path, data, like=hdr, overwrite=True)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_segy(shutil.copy(path, tmp_path / "copy.sgy"), data, like=hdr)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_segy(tmp_path / "no" / "o.sgy", data, like=hdr)
    assert not (tmp_path / "o.sgy").exists()


# --- zarr -----------------------------------------------------------------------------------

@pytest.fixture
def zarr():
    return pytest.importorskip("zarr", reason="pip install zarr (extra 'io')")


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("chunks", [(4, 5), (3, 10), (5, 2)])
def test_zarr_round_trip(tmp_path, zarr, dtype, chunks, scheduler):
    from pylops_distributed.io import from_zarr, to_zarr
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((9, 10)) + (1j if dtype == "complex128" else 0)).astype(dtype)
    store = tmp_path / "x.zarr"
    to_zarr(da.from_array(x, chunks=chunks), store, component="model")
    assert zarr.open_array(store, path="model", mode="r").chunks == chunks
    y = from_zarr(store, "model")
    assert y.dtype == np.dtype(dtype) and y.chunksize == chunks
    np.testing.assert_array_equal(y.compute(), x)
    np.testing.assert_array_equal(from_zarr(store, "model", chunks=(9, 1)).compute(), x)


def test_zarr_irregular_chunks_and_stacked(tmp_path, zarr, scheduler):
    from pylops_distributed.io import from_zarr, to_zarr
    x = da.from_array(np.arange(20.0), chunks=((3, 7, 5, 5),))
    to_zarr(x, tmp_path / "i.zarr")  # regular grid: the largest chunk
    y = from_zarr(tmp_path / "i.zarr")
    assert y.chunks == ((7, 7, 6),)
    np.testing.assert_array_equal(y.compute(), np.arange(20.0))
    blocks = [da.from_array(np.arange(6, dtype="float32"), chunks=4),
              da.from_array(np.ones((3, 4), dtype="complex128") * 2j, chunks=(2, 2))]
    v = StackedArray(blocks)
    to_zarr(v, tmp_path / "s.zarr", "solution")
    w = from_zarr(tmp_path / "s.zarr", "solution")
    assert isinstance(w, StackedArray)
    assert [b.dtype for b in w.blocks] == [np.float32, np.complex128]
    assert [b.chunks for b in w.blocks] == [b.chunks for b in blocks]
    np.testing.assert_array_equal(w.compute(), v.compute())
    w = from_zarr(tmp_path / "s.zarr", "solution", chunks=[6, (3, 1)])
    assert [b.chunksize for b in w.blocks] == [(6,), (3, 1)]
    to_zarr(v, tmp_path / "root.zarr")  # a StackedArray at a store's root
    np.testing.assert_array_equal(from_zarr(tmp_path / "root.zarr").compute(), v.compute())


def test_cgls_from_and_to_zarr_on_the_cluster(tmp_path, zarr, process_client):
    """Data read from zarr, solved on the 2-process cluster, result written by the workers."""
    from pylops_distributed.io import from_zarr, to_zarr
    Op = pld.Laplacian((24, 30), chunks=(12, 15))
    x_true = np.random.default_rng(5).standard_normal((24, 30))
    y = (Op @ da.from_array(x_true, chunks=(12, 15))).compute(scheduler="threads")
    store = tmp_path / "solve.zarr"
    to_zarr(y, store, "data", chunks=(12, 15))
    with dask.config.set(scheduler="threads"):
        expected = cgls(Op, da.from_array(y, chunks=(12, 15)), niter=10, tol=0)[0].compute()
    with process_client.as_current():
        data = from_zarr(store, "data")
        assert data.chunks == ((12, 12), (15, 15))
        x = cgls(Op, data, niter=10, tol=0)[0]
        with get_task_stream(process_client) as stream:
            assert to_zarr(x, store, "model") is None
    workers = set(process_client.scheduler_info(n_workers=-1)["workers"])
    writes = [t for t in stream.data if str(t["key"]).startswith("('store-map")]
    assert len(writes) == 4 and {t["worker"] for t in writes} <= workers, stream.data
    model = from_zarr(store, "model")
    assert model.chunks == x.chunks
    np.testing.assert_allclose(model.compute(scheduler="threads"), expected, rtol=1e-10,
                               atol=1e-12)


def test_zarr_overwrite_and_delayed(tmp_path, zarr):
    from pylops_distributed.io import from_zarr, to_zarr
    store = tmp_path / "o.zarr"
    to_zarr(da.ones(4, chunks=2), store, "a")
    first = from_zarr(store, "a")
    with pytest.raises(FileExistsError, match="already holds a zarr array; pass overwrite=True"):
        to_zarr(da.zeros(4, chunks=2), store, "a")
    with pytest.raises(FileExistsError, match="group with members"):
        to_zarr(da.zeros(4, chunks=2), store)
    job = to_zarr(da.full(4, 3.0, chunks=2), store, "a", overwrite=True, compute=False)
    assert isinstance(job, Delayed)
    job.compute()
    second = from_zarr(store, "a")
    assert second.name != first.name  # a store rewritten in place gets new task names
    np.testing.assert_array_equal(second.compute(), 3.0)
    to_zarr(da.ones(4, chunks=2), tmp_path / "r.zarr")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        to_zarr(da.ones(4, chunks=2), tmp_path / "r.zarr")
    with pytest.raises(FileExistsError, match="no room for 'b'"):
        to_zarr(da.ones(4, chunks=2), tmp_path / "r.zarr", "b", overwrite=True)
    to_zarr(da.zeros(5, chunks=5), tmp_path / "r.zarr", overwrite=True)
    np.testing.assert_array_equal(from_zarr(tmp_path / "r.zarr").compute(), np.zeros(5))


def test_zarr_write_into_existing_array(tmp_path, zarr):
    from pylops_distributed.io import from_zarr, to_zarr
    z = zarr.create_array(str(tmp_path / "e.zarr"), shape=(6, 4), chunks=(3, 4), dtype="float64")
    to_zarr(da.from_array(np.arange(24.0).reshape(6, 4), chunks=(2, 2)), z)  # rechunked to z's
    np.testing.assert_array_equal(from_zarr(tmp_path / "e.zarr").compute(),
                                  np.arange(24.0).reshape(6, 4))
    with pytest.raises(ValueError, match=r"shape \(6, 5\).*has \(6, 4\)"):
        to_zarr(da.zeros((6, 5), chunks=3), z)
    with pytest.raises(ValueError, match="complex128.*float64"):
        to_zarr(da.zeros((6, 4), chunks=3, dtype="complex128"), z)
    with pytest.raises(ValueError, match="StackedArray is written as a group"):
        to_zarr(StackedArray([da.zeros(24, chunks=6)]), z)
    with pytest.raises(ValueError, match="component"):
        to_zarr(da.zeros((6, 4), chunks=3), z, "c")


def test_zarr_read_errors(tmp_path, zarr):
    from pylops_distributed.io import from_zarr, to_zarr
    with pytest.raises(FileNotFoundError, match="no zarr store at"):
        from_zarr(tmp_path / "missing.zarr")
    store = tmp_path / "g.zarr"
    to_zarr(da.ones(3, chunks=3), store, "x")
    to_zarr(StackedArray([da.ones(2, chunks=1), da.ones(3, chunks=3)]), store, "v")
    members = r"\['v', 'v/block0', 'v/block1', 'x'\]"
    with pytest.raises(KeyError, match=r"no array or group 'y'.*" + members):
        from_zarr(store, "y")
    with pytest.raises(ValueError, match="is a zarr group, not an array.*'x'"):
        from_zarr(store)
    with pytest.raises(ValueError, match="3 chunk specs for a StackedArray of 2 blocks"):
        from_zarr(store, "v", chunks=[1, 1, 1])
    with pytest.raises(KeyError, match="single array at its root"):
        to_zarr(da.ones(3, chunks=3), tmp_path / "a.zarr")
        from_zarr(tmp_path / "a.zarr", "x")


def test_zarr_write_errors(tmp_path, zarr, process_client):
    from pylops_distributed.io import to_zarr
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        x = da.arange(10, chunks=5)
        to_zarr(x[x > 3], tmp_path / "u.zarr")
    with pytest.raises(ValueError, match=r"may not set \['chunks'\]"):
        to_zarr(da.ones(3, chunks=3), tmp_path / "k.zarr", zarr_options={"chunks": 1})
    with pytest.raises(TypeError, match="got list"):
        to_zarr([1, 2, 3], tmp_path / "l.zarr")
    memory = zarr.open_group(zarr.storage.MemoryStore(), mode="w")
    with process_client.as_current(), pytest.raises(ValueError, match="MemoryStore"):
        to_zarr(da.ones(3, chunks=3), memory, "m")
    to_zarr(da.ones(3, chunks=3), memory, "m", overwrite=True)  # fine in one process
    np.testing.assert_array_equal(memory["m"][:], 1.0)
