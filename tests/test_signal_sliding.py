"""Sliding1D/2D/3D and Patch2D/3D against PyLops: per-window operators (PyLops' and ours),
tapers, chunkings of the model and of the data, simOp, errors, the process cluster, CGLS."""

import dask.array as da
import numpy as np
import pylops
import pytest
import scipy.linalg
from _helpers import RTOL, check_kernel_boxes, rand

import pylops_distributed as pld
from pylops_distributed.optimization import cgls
from pylops_distributed.signalprocessing.patch2d import Patch2D
from pylops_distributed.signalprocessing.patch3d import Patch3D
from pylops_distributed.signalprocessing.sliding1d import Sliding1D
from pylops_distributed.signalprocessing.sliding2d import Sliding2D
from pylops_distributed.signalprocessing.sliding3d import Sliding3D
from pylops_distributed.stacked import compute_all
from pylops_distributed.utils import dottest

PSP = pylops.signalprocessing

# Geometry per operator: data shape, window, overlap, and one window's model shape per kind
# of per-window operator (FFT sizes for "fft"; the window itself for the identities).
# Sliding1D leaves 3 samples uncovered, Patch3D 2 rows.
GEOMETRY = {
    "Sliding1D": dict(cls=Sliding1D, pcls=PSP.Sliding1D, dimsd=(41,), nwin=10, nover=3,
                      k=1, nop=dict(matrix=(6,), fft=(16,))),
    "Sliding2D": dict(cls=Sliding2D, pcls=PSP.Sliding2D, dimsd=(33, 4), nwin=9, nover=3,
                      k=1, nop=dict(matrix=(5, 4), fft=(16, 4))),
    "Sliding3D": dict(cls=Sliding3D, pcls=PSP.Sliding3D, dimsd=(17, 14, 3), nwin=(7, 6),
                      nover=(2, 2), k=2, nop=dict(matrix=(4, 3, 3), fft=(8, 8, 3))),
    "Patch2D": dict(cls=Patch2D, pcls=PSP.Patch2D, dimsd=(17, 14), nwin=(7, 6), nover=(2, 2),
                    k=2, nop=dict(matrix=(4, 3), fft=(8, 8))),
    "Patch3D": dict(cls=Patch3D, pcls=PSP.Patch3D, dimsd=(12, 11, 10), nwin=(6, 5, 4),
                    nover=(2, 2, 2), k=3, nop=dict(matrix=(3, 3, 2), fft=(8, 8, 4))),
}

# model chunks (per axis of Op.dims) and data chunks for each chunking, per operator
CHUNKINGS = {
    "Sliding1D": dict(whole=(None, None), windows=((2, 16), (20, 21)),
                      cut=((3, 4), (9, 9, 9, 14)), irregular=(((1, 3, 1), 16), ((2, 30, 9),))),
    "Sliding2D": dict(whole=(None, None), windows=((2, 16, 4), (7, 26)),
                      cut=((3, 3, 2), (10, 2)), irregular=(((1, 3, 1), 16, 4), ((2, 29, 2), 3))),
    "Sliding3D": dict(whole=(None, None), windows=((2, 1, 8, 8, 3), (6, 7, 3)),
                      cut=((3, 3, 2, 5, 2), (9, 5, 2)),
                      irregular=(((1, 2), (2, 1), 8, 8, 3), ((3, 14), (1, 12, 1), 3))),
    "Patch2D": dict(whole=(None, None), windows=((2, 1, 8, 8), (6, 7)), cut=((3, 3, 3, 5), (9, 5)),
                    irregular=(((1, 2), (2, 1), 8, 8), ((3, 14), (1, 12, 1)))),
    "Patch3D": dict(whole=(None, None), windows=((1, 2, 2, 8, 8, 4), (6, 5, 4)),
                    cut=((2, 3, 4, 3, 5, 2), (7, 5, 10)),
                    irregular=(((2,), (1, 2), (1, 2, 1), 8, 8, 4), ((5, 7), (4, 7), (1, 8, 1)))),
}
OPS = ("matrix", "fft", "identity", "pld_matrix", "pld_identity")


def _fft(name, wshape, nop):
    """Inverse FFT of the window (its model: the FFT of the window)."""
    if name == "Sliding1D":
        return PSP.FFT(wshape[0], nfft=nop[0]).H
    if len(wshape) == 2:
        return PSP.FFT2D(wshape, nffts=nop).H
    return PSP.FFTND(wshape, nffts=nop).H


def build(name, opkind="matrix", tapertype="hanning", dtype="float64", savetaper=True, g=None):
    """(ours, PyLops') operators of ``name`` with the per-window operator ``opkind``."""
    g = dict(GEOMETRY[name], **(g or {}))
    k, dimsd = g["k"], g["dimsd"]
    nwin = (g["nwin"],) if k == 1 and np.isscalar(g["nwin"]) else tuple(g["nwin"])
    nover = (g["nover"],) if np.isscalar(g["nover"]) else tuple(g["nover"])
    wshape = nwin + tuple(dimsd[k:])
    nws = tuple(len(range(0, n - w + 1, w - o)) for n, w, o in zip(dimsd, nwin, nover))
    if opkind in ("identity", "pld_identity"):
        nop = wshape
    else:
        nop = g["nop"]["fft" if opkind == "fft" else "matrix"]
    A = rand((int(np.prod(wshape)), int(np.prod(nop))), dtype, seed=3)
    if opkind == "fft":
        POpw = _fft(name, wshape, nop)
    elif opkind in ("identity", "pld_identity"):
        POpw = pylops.Identity(int(np.prod(wshape)), dtype=dtype)
    else:
        POpw = pylops.MatrixMult(A, dtype=dtype)
    Opw = {"pld_matrix": lambda: pld.MatrixMult(da.from_array(A, chunks=(7, 5)), dtype=dtype),
           "pld_identity": lambda: pld.Identity(int(np.prod(wshape)), dtype=dtype)}.get(
        opkind, lambda: POpw)()
    dims = tuple(n * p for n, p in zip(nws, nop)) + tuple(nop[k:])
    if k == 1:  # Sliding1D/2D: ints, no nop
        args = (dims if len(dims) > 1 else dims[0], dimsd if len(dimsd) > 1 else dimsd[0],
                nwin[0], nover[0])
    else:
        args = (dims, dimsd, nwin, nover, nop)
    kw = dict(tapertype=tapertype, savetaper=savetaper)
    return g["cls"](Opw, *args, **kw), g["pcls"](POpw, *args, **kw)


def compare(Op, POp, mchunks, dchunks, dtype, rtol=None):
    """Forward on a ``mchunks``-chunked model and adjoint on ``dchunks``-chunked data equal
    PyLops'; returns the lazy outputs."""
    rtol = RTOL[np.dtype(dtype).name] if rtol is None else rtol
    x, y = rand(Op.dims, dtype, seed=1), rand(Op.dimsd, dtype, seed=2)
    xd = da.from_array(x, chunks=mchunks or -1)
    yd = da.from_array(y, chunks=dchunks or -1)
    fwd, adj = Op @ xd, Op.H @ yd
    assert fwd.shape == tuple(Op.dimsd) and adj.shape == tuple(Op.dims)
    assert isinstance(fwd._meta, np.ndarray) and isinstance(adj._meta, np.ndarray)
    f, a = compute_all(fwd, adj)
    want_f, want_a = np.ravel(POp @ x.ravel()), np.ravel(POp.H @ y.ravel())
    np.testing.assert_allclose(f.ravel(), want_f, rtol=rtol, atol=rtol * np.abs(want_f).max())
    np.testing.assert_allclose(a.ravel(), want_a, rtol=rtol, atol=rtol * np.abs(want_a).max())
    return fwd, adj


def _dottest(Op, dtype):
    cflag = 3 if np.iscomplexobj(np.empty(0, np.result_type(dtype, Op.dtype))) else 0
    state = np.random.get_state()
    np.random.seed(7)
    try:
        assert dottest(Op, complexflag=cflag, rtol=max(RTOL[np.dtype(dtype).name], 1e-6) * 10)
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize("name", list(GEOMETRY))
@pytest.mark.parametrize("opkind", OPS)
@pytest.mark.parametrize("tapertype", [None, "hanning", "cosine"])
def test_like_pylops(name, opkind, tapertype):
    Op, POp = build(name, opkind, tapertype)
    for chunking, (mchunks, dchunks) in CHUNKINGS[name].items():
        if opkind != "matrix" and tapertype != "hanning" and chunking not in ("whole", "irregular"):
            continue  # the other chunkings once per operator and taper
        compare(Op, POp, mchunks, dchunks, "float64")
    if opkind in ("matrix", "pld_matrix") or tapertype == "hanning":
        _dottest(Op, "float64")


@pytest.mark.parametrize("name", list(GEOMETRY))
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("opkind", ["matrix", "pld_matrix", "identity"])
def test_dtypes(name, dtype, opkind):
    Op, POp = build(name, opkind, "hanning", dtype=dtype)
    fwd, adj = compare(Op, POp, *CHUNKINGS[name]["irregular"], dtype)
    assert fwd.dtype == np.dtype(dtype) and adj.dtype == np.dtype(dtype)
    _dottest(Op, dtype)


def test_real_window_operator_on_complex_input():
    """A real PyLops operator on complex chunks acts on both parts."""
    Op, POp = build("Sliding2D", "matrix", "hanning")
    x = rand(Op.dims, "complex128", seed=4)
    y = (Op @ da.from_array(x, chunks=(2, 5, 4))).compute()
    np.testing.assert_allclose(y.ravel(), POp @ x.real.ravel() + 1j * (POp @ x.imag.ravel()),
                               rtol=1e-12)


def test_chunks_follow_windows():
    """Data chunks start at a model chunk's first window, the adjoint gives the model's window
    chunks back; one task per output chunk, pieces of neighbours aside."""
    Op, _ = build("Sliding2D")
    xd = da.from_array(rand(Op.dims, "float64"), chunks=((2, 1, 2), 3, 4))
    y = Op @ xd
    assert y.chunks == ((12, 6, 15), (4,))
    back = Op.H @ y
    assert back.chunks == ((2, 1, 2), (5,), (4,))
    names = [k[0] for k in dict(y.__dask_graph__()) if isinstance(k, tuple)]
    assert sum(n.startswith("sliding2d-") and "-piece-" not in n for n in names) == 3
    P, _ = build("Patch2D")
    xp = da.from_array(rand(P.dims, "float64"), chunks=((1, 2), (2, 1), 4, 3))
    yp = P @ xp
    assert yp.chunks == ((5, 12), (8, 6))
    assert (P.H @ yp).chunks == ((1, 2), (2, 1), (4,), (3,))
    # data chunks holding no window start give no model chunk
    yd = da.from_array(rand(Op.dimsd, "float64"), chunks=((1, 2, 30), 2))
    assert (Op.H @ yd).chunks[0] == (1, 4)


@pytest.mark.parametrize("name", ["Sliding3D", "Patch2D", "Patch3D"])
@pytest.mark.parametrize("savetaper", [True, False])
def test_edge_tapers_single_windows(name, savetaper):
    """Axes holding one window (PyLops picks a different edge taper for them with
    savetaper=False, and Patch3D depends on the neighbouring axis), every box of windows."""
    k = GEOMETRY[name]["k"]
    combos = {2: [(1, 3), (3, 1), (1, 2), (2, 2)],
              3: [(1, 2, 3), (2, 1, 3), (3, 2, 1), (2, 3, 1), (1, 1, 2)]}[k]
    for nws in combos:
        nwin, nover = (4,) * k, (2,) * k
        dimsd = tuple(4 + 2 * (n - 1) for n in nws) + ((3,) if name == "Sliding3D" else ())
        g = dict(dimsd=dimsd, nwin=nwin, nover=nover)
        Op, POp = build(name, "identity", "hanning", savetaper=savetaper, g=g)
        dims, ddims = Op.dims, Op.dimsd
        check_kernel_boxes(Op, POp, False, "float64", [((0,) * len(ddims), ddims),
                                                      ((1,) * len(ddims), ddims)])
        check_kernel_boxes(Op, POp, True, "float64",
                           [((0,) * len(dims), dims),
                            (tuple(n // 2 for n in nws) + (1,) * (len(dims) - k), dims)])


def test_kernel_boxes_partial():
    """Kernels on boxes that cut windows and models, and on boxes no window covers."""
    Op, POp = build("Sliding1D", "matrix")
    check_kernel_boxes(Op, POp, False, "float64", [((3,), (17,)), ((38,), (41,)), ((0,), (41,))])
    check_kernel_boxes(Op, POp, True, "float64", [((1, 2), (3, 5)), ((4, 0), (5, 6))])
    Op, POp = build("Patch3D", "pld_matrix")
    check_kernel_boxes(Op, POp, False, "float64",
                       [((2, 3, 1), (9, 8, 7)), ((10, 0, 0), (12, 11, 10))])
    check_kernel_boxes(Op, POp, True, "float64", [((0, 1, 1, 0, 1, 0), (2, 3, 3, 2, 3, 2))])


def _blockdiag(nws, wshape, nop, seed=0):
    rng = np.random.default_rng(seed)
    n, m = int(np.prod(wshape)), int(np.prod(nop))
    return scipy.linalg.block_diag(*[rng.standard_normal((n, m)) for _ in range(int(np.prod(nws)))])


@pytest.mark.parametrize("tapertype", [None, "hanning"])
def test_simop(tapertype):
    """An operator acting on all windows at once (PyLops' simOp): one task."""
    A = _blockdiag((5,), (9, 4), (5, 4))
    POpw = pylops.MatrixMult(A)
    POpw.dimsd = (5, 9, 4)
    Op = Sliding2D(POpw, (25, 4), (33, 4), 9, 3, tapertype=tapertype)
    POp = PSP.Sliding2D(POpw, (25, 4), (33, 4), 9, 3, tapertype=tapertype)
    assert Op.simOp and POp.simOp
    compare(Op, POp, (2, 3, 4), (10, 2), "float64")
    # ours, and PyLops' Patch2D
    A = _blockdiag((3, 3), (7, 6), (4, 3))
    Op = Patch2D(pld.MatrixMult(A), (12, 9), (17, 14), (7, 6), (2, 2), (4, 3), tapertype=tapertype)
    POpw = pylops.MatrixMult(A)
    POpw.dims, POpw.dimsd = (3, 3, 4, 3), (3, 3, 7, 6)
    POp = PSP.Patch2D(POpw, (12, 9), (17, 14), (7, 6), (2, 2), (4, 3), tapertype=tapertype)
    assert Op.simOp
    compare(Op, POp, (1, 2, 4, 3), (9, 5), "float64")


def test_attributes_like_pylops():
    for name in GEOMETRY:
        Op, POp = build(name)
        assert Op.dims == POp.dims and Op.dimsd == POp.dimsd and Op.dtype == POp.dtype
        assert Op.simOp == POp.simOp
        ours = getattr(Op, "dwin_inends", None) or Op.dwins_inends
        theirs = getattr(POp, "dwin_inends", None) or POp.dwins_inends
        np.testing.assert_equal(ours, theirs)
    Op, POp = build("Sliding3D")
    np.testing.assert_equal(Op.mwins_inends, POp.mwins_inends)
    assert build("Patch2D")[0].scalings == [1.0] * 9


def test_design_helpers_reexported():
    from pylops_distributed.signalprocessing import (patch2d, patch3d, sliding1d, sliding2d,
                                                     sliding3d)

    assert sliding1d.sliding1d_design is PSP.sliding1d_design
    assert sliding2d.sliding2d_design is PSP.sliding2d_design
    assert sliding3d.sliding3d_design is PSP.sliding3d_design
    assert patch2d.patch2d_design is PSP.patch2d_design
    assert patch3d.patch3d_design is PSP.patch3d_design


def _noker():
    Op = pld.Identity(36)
    Op.dims = (9, 4)  # reassigned dims: applied through reshapes, no chunk kernel
    return Op


M94 = pylops.MatrixMult(np.ones((36, 20)))


@pytest.mark.parametrize("make,exc,match", [
    (lambda: Sliding2D(M94, (25, 4), (33, 4), 40, 3), ValueError, "bigger"),
    (lambda: Sliding2D(M94, (25, 4), (33, 4), 9, 9), ValueError, "nover < nwin"),
    (lambda: Sliding2D(M94, (24, 4), (33, 4), 9, 3), ValueError, "sliding2d_design"),
    (lambda: Sliding2D(M94, (30, 4), (33, 4), 9, 3), ValueError, "sliding2d_design"),
    (lambda: Sliding2D(pylops.MatrixMult(np.ones((30, 20))), (25, 4), (33, 4), 9, 3),
     ValueError, "rows"),
    (lambda: Sliding2D(M94, (25,), (33, 4), 9, 3), ValueError, "2 axes"),
    (lambda: Sliding2D(np.ones((36, 20)), (25, 4), (33, 4), 9, 3), TypeError, "LinearOperator"),
    (lambda: Sliding2D(_noker(), (45, 4), (33, 4), 9, 3), NotImplementedError, "no chunk kernel"),
    (lambda: Sliding1D(M94, 90, 41, 10, 3), ValueError, "sliding1d_design"),
    (lambda: Sliding1D(pylops.Identity(10), 80, 41, 10, 6, tapertype="hanning"),
     ValueError, "ntap"),
    (lambda: Sliding3D(M94, (12, 9, 3), (17, 14, 3), 7, (2, 2), (4, 3, 3)), TypeError, "nwin"),
    (lambda: Patch2D(M94, (12, 9), (17, 14), (7, 6), (2, 2), (4, 4)), ValueError, "patch2d_design"),
    (lambda: Patch3D(M94, (6, 9, 8), (12, 11, 10), (6, 5, 4), (2, 2), (3, 3, 2)),
     ValueError, "3 values"),
    (lambda: Sliding2D(M94, (25, 4), (33, 4), 9.0, 3), TypeError, "integer"),
])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_cluster_and_cgls(scheduler):
    """Forward/adjoint on the threads and on 2 worker processes (PyLops' FFT and our
    MatrixMult with a dask matrix travel in tasks), and CGLS with Sliding2D as PyLops'."""
    for opkind in ("fft", "pld_matrix"):
        Op, POp = build("Sliding2D", opkind, "hanning")
        compare(Op, POp, *CHUNKINGS["Sliding2D"]["irregular"], "float64")
    Op, POp = build("Patch2D", "matrix", "cosine")
    compare(Op, POp, *CHUNKINGS["Patch2D"]["windows"], "float64")

    Op, POp = build("Sliding2D", "matrix", "hanning")
    x = rand(Op.dims, "float64", seed=5)
    y = (POp @ x.ravel()).reshape(Op.dimsd)
    ychunks = (Op @ da.from_array(x, chunks=(2, 5, 4))).chunks
    xo, istop, it = cgls(Op, da.from_array(y, chunks=ychunks), niter=15, tol=0, damp=0.1)[:3]
    xr = pylops.optimization.basic.cgls(POp, y.ravel(), niter=15, tol=0, damp=0.1)[0].ravel()
    assert it == 15
    np.testing.assert_allclose(xo.compute().ravel(), xr, rtol=1e-9, atol=1e-9 * np.abs(xr).max())
