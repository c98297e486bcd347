"""FFT, FFT2D and FFTND against PyLops: every argument, chunks along and across the transformed
axes (the pencil scheme), a process cluster, and a fused solver around them."""

import warnings

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import assert_like_pylops, rand

import pylops_distributed as pld
from pylops_distributed.optimization import cgls
from pylops_distributed.signalprocessing import FFT, FFT2D, FFTND

ps = pylops.signalprocessing
CDTYPE = {"float32": "complex64", "float64": "complex128", "complex128": "complex128"}

FFT_CASES = [  # dims, axis, kwargs, chunkings
    ((64,), 0, dict(), [(64,), (16,), ((5, 50, 9),)]),
    ((6, 40), 1, dict(nfft=64, real=True), [(3, 40), (6, 7), (2, 13)]),
    ((40, 6), 0, dict(nfft=31, fftshift_after=True, ifftshift_before=True), [(40, 3), (9, 6)]),
    ((5, 30, 4), 1, dict(norm="none", sampling=0.004), [(2, 30, 4), (5, 8, 2)]),
    ((5, 30, 4), -1, dict(norm="1/n", real=True), [(5, 30, 1), (2, 11, 4)]),
]


@pytest.mark.parametrize("dims,axis,kwargs,chunkings", FFT_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_fft_like_pylops(dims, axis, kwargs, chunkings, dtype):
    if kwargs.get("real") and dtype == "complex128":
        dtype = "float64"  # a one-sided FFT takes real models
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyLops warns on nfft < dims
        Op = FFT(dims, axis=axis, dtype=CDTYPE[dtype], **kwargs)
        POp = ps.FFT(dims, axis=axis, dtype=CDTYPE[dtype], **kwargs)
        for chunks in chunkings:
            assert_like_pylops(Op, POp, chunks, dtype)
    assert np.allclose(Op.f, POp.f)


ND_CASES = [  # kind, dims, kwargs, chunkings (transformed axes chunked: the pencil scheme)
    ("FFT2D", (32, 30), dict(), [(32, 30), (8, 30), (32, 7), (8, 8), ((3, 29), (30,))]),
    ("FFT2D", (32, 30), dict(real=True, nffts=(40, 36)), [(8, 30), (32, 7), (5, 6)]),
    ("FFT2D", (32, 30), dict(norm="none", ifftshift_before=(True, False), fftshift_after=True),
     [(8, 30), (11, 9)]),
    ("FFT2D", (4, 16, 18), dict(axes=(0, 2), norm="1/n", real=True), [(2, 16, 18), (4, 5, 6),
                                                                        (2, 4, 9), (1, 16, 18)]),
    ("FFTND", (6, 10, 12), dict(axes=(0, 1, 2), real=True, nffts=(7, 10, 13)),
     [(2, 10, 12), (6, 10, 5), (2, 3, 4)]),
    ("FFTND", (6, 10, 12), dict(axes=(2, 0), sampling=(0.1, 2.0), fftshift_after=(False, True)),
     [(6, 10, 12), (2, 10, 12), (6, 5, 12), (2, 2, 5)]),
]


@pytest.mark.parametrize("kind,dims,kwargs,chunkings", ND_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_fftnd_like_pylops(kind, dims, kwargs, chunkings, dtype):
    if kwargs.get("real") and dtype == "complex128":
        dtype = "float64"
    ours = {"FFT2D": FFT2D, "FFTND": FFTND}[kind]
    Op = ours(dims, dtype=CDTYPE[dtype], **kwargs)
    POp = getattr(ps, kind)(dims, dtype=CDTYPE[dtype], **kwargs)
    for chunks in chunkings:
        assert_like_pylops(Op, POp, chunks, dtype)
    ours_f = [Op.f1, Op.f2] if kind == "FFT2D" else list(Op.fs)
    theirs = [POp.f1, POp.f2] if kind == "FFT2D" else list(POp.fs)
    for a, b in zip(ours_f, theirs, strict=True):
        np.testing.assert_allclose(a, b)


def test_pencil_scheme_chunks_and_steps():
    """A 2-D FFT of an array chunked along its rows: rows transformed in place, one rechunk,
    columns; the output is chunked along the columns and the adjoint comes back to rows."""
    x = rand((64, 48), "complex128", 3)
    xd = da.from_array(x, chunks=(16, 48))
    Op = FFT2D((64, 48))
    y = Op @ xd
    assert y.chunks == ((64,), (12, 12, 12, 12))
    layers = set(y.dask.layers) - set(xd.dask.layers)
    assert len(layers) == 2, layers  # two transforms; the second's tasks gather their pencils
    assert not any(name.startswith("rechunk") for name in layers)
    z = Op.H @ y
    assert z.chunks == xd.chunks
    np.testing.assert_allclose(z.compute(), x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.compute().ravel(), ps.FFT2D((64, 48)) @ x.ravel(), rtol=1e-12,
                               atol=1e-12)
    # chunked along a batch axis too: the transformed axes are rechunked whole, batches kept
    x3 = da.from_array(rand((4, 16, 12), "complex128", 4), chunks=(2, 8, 12))
    y3 = FFT2D((4, 16, 12), axes=(1, 2)) @ x3
    assert y3.chunks == ((2, 2), (16,), (12,))


def test_fft_on_process_cluster_and_fused_cgls(scheduler):
    """Forward and adjoint on worker processes; CGLS on Restriction @ FFT2D.H (a trace
    interpolation) gives PyLops' answer."""
    x = rand((24, 40), "complex128", 5)
    Op, POp = FFT2D((24, 40), nffts=(32, 48)), ps.FFT2D((24, 40), nffts=(32, 48))
    y = Op @ da.from_array(x, chunks=(8, 40))
    np.testing.assert_allclose(y.compute().ravel(), POp @ x.ravel(), rtol=1e-12, atol=1e-12)
    iava = np.sort(np.random.default_rng(1).choice(24, 15, replace=False))
    R = pld.Restriction((24, 40), iava, axis=0, dtype="complex128")
    PR = pylops.Restriction((24, 40), iava, axis=0, dtype="complex128")
    data = (PR @ x.ravel()).reshape(15, 40)
    F, PF = FFT2D((24, 40), real=False), ps.FFT2D((24, 40))
    xo = cgls(R @ F.H, da.from_array(data, chunks=(15, 20)), niter=10, tol=0)[0]
    xr = pylops.optimization.basic.cgls(PR @ PF.H, data.ravel(), niter=10, tol=0)[0]
    np.testing.assert_allclose(xo.compute().ravel(), xr.ravel(), rtol=1e-9,
                               atol=1e-9 * np.abs(xr).max())


def test_exported_and_errors():
    assert pld.FFT2D is FFT2D and pld.signalprocessing.FFTND is FFTND
    with pytest.raises(ValueError):
        FFT((10, 10), axis=2)
    with pytest.raises(ValueError):
        FFTND((10, 10), axes=(0, 1), nffts=(8, 8, 8))


@pytest.mark.parametrize("nfft", [10, 16])
def test_real_dtype_fft_takes_the_real_part_as_pylops(nfft):
    """A real-dtype FFT is not complex-linear in PyLops: a complex input loses its imaginary
    part, and the adjoint is real (ours transformed the whole complex input when nfft == n)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 4)) + 1j * rng.standard_normal((10, 4))
    y = rng.standard_normal((nfft, 4)) + 1j * rng.standard_normal((nfft, 4))
    Op = pld.signalprocessing.FFT((10, 4), axis=0, nfft=nfft, dtype="float64")
    POp = pylops.signalprocessing.FFT((10, 4), axis=0, nfft=nfft, dtype="float64")
    for chunks in [-1, (5, 2)]:
        fwd = (Op @ da.from_array(x, chunks=chunks)).compute()
        adj = (Op.H @ da.from_array(y, chunks=chunks)).compute()
        np.testing.assert_allclose(fwd.ravel(), POp @ x.ravel(), atol=1e-12)
        assert adj.dtype == (POp.H @ y.ravel()).dtype == np.float64
        np.testing.assert_allclose(adj.ravel(), POp.H @ y.ravel(), atol=1e-12)
