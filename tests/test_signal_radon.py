"""Radon2D, Radon3D, FourierRadon2D/3D and ChirpRadon2D/3D against PyLops, at several chunkings."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import assert_like_pylops, new_tasks, rand

from pylops_distributed.optimization import cgls
from pylops_distributed.signalprocessing.chirpradon2d import ChirpRadon2D
from pylops_distributed.signalprocessing.chirpradon3d import ChirpRadon3D
from pylops_distributed.signalprocessing.fourierradon2d import FourierRadon2D
from pylops_distributed.signalprocessing.fourierradon3d import FourierRadon3D
from pylops_distributed.signalprocessing.radon2d import Radon2D
from pylops_distributed.signalprocessing.radon3d import Radon3D

PS = pylops.signalprocessing
T = np.arange(30) * 0.004
H = np.arange(11) * 10.0 - 50.0
PX = np.linspace(-2e-3, 2e-3, 9)
# model (9, 30), data (11, 30): whole, along p/x, along t, irregular along t
CHUNKS2D = [(-1, -1), (4, -1), (-1, 10), (3, (1, 17, 12))]
IDS2D = ["whole", "axis0", "axis1", "irregular"]


@pytest.mark.parametrize("chunks", CHUNKS2D, ids=IDS2D)
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_radon2d(chunks, dtype):
    Op, POp = Radon2D(T, H, PX, dtype=dtype), PS.Radon2D(T, H, PX, dtype=dtype)
    assert (Op.dims, Op.dimsd) == ((9, 30), (11, 30))
    assert_like_pylops(Op, POp, chunks, dtype)


@pytest.mark.parametrize("kwargs", [
    dict(kind="parabolic", pxaxis=PX * 0.05),
    dict(kind="hyperbolic", pxaxis=np.linspace(0.2, 1.0, 9), interp=False),
    dict(kind="linear", onthefly=True),
    dict(kind="linear", centeredh=False, interp=False, onthefly=True),
], ids=["parabolic", "hyperbolic-nearest", "onthefly", "uncentered-nearest-onthefly"])
def test_radon2d_options(kwargs):
    kwargs = {"pxaxis": PX, **kwargs}
    Op, POp = Radon2D(T, H, **kwargs), PS.Radon2D(T, H, **kwargs)
    assert_like_pylops(Op, POp, (4, 10), "float64")
    assert Op.interp == POp.interp and Op.usetable == POp.usetable


def test_radon2d_one_task():
    """The whole array is one task: a chunked input is rechunked, the output is one chunk."""
    Op = Radon2D(T, H, PX)
    x = da.from_array(rand(Op.dims, "float64"), chunks=(3, 10)).persist()
    y = Op @ x
    assert y.numblocks == (1, 1)
    assert Op.acting_axes == (0, 1)
    assert new_tasks(y, x) <= 1 + 9 + 1  # the rechunk's pieces and the one transform task
    np.testing.assert_array_equal(Op.table, PS.Radon2D(T, H, PX).table)


@pytest.mark.parametrize("chunks", [(-1, -1), (5, 10), (7, (7, 1, 12))],
                         ids=["whole", "regular", "irregular"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
def test_radon3d(chunks, dtype):
    hy, hx = np.arange(4) * 10.0, np.arange(5) * 10.0
    py, px = np.linspace(-1e-3, 1e-3, 3), np.linspace(-1e-3, 1e-3, 4)
    Op = Radon3D(T[:20], hy, hx, py, px, dtype=dtype)
    POp = PS.Radon3D(T[:20], hy, hx, py, px, dtype=dtype)
    assert (Op.dims, Op.dimsd) == ((12, 20), (20, 20))
    assert_like_pylops(Op, POp, chunks, dtype)


@pytest.mark.parametrize("chunks", CHUNKS2D, ids=IDS2D)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fourierradon2d(chunks, dtype):
    Op = FourierRadon2D(T, H, PX, nfft=64, dtype=dtype)
    POp = PS.FourierRadon2D(T, H, PX, nfft=64, dtype=dtype)
    assert_like_pylops(Op, POp, chunks, dtype)
    assert np.array_equal(Op.f, POp.f) and Op.nfft2 == POp.nfft2


@pytest.mark.parametrize("kwargs", [dict(kind="parabolic", flims=(2, 20)),
                                    dict(engine="cuda")], ids=["parabolic-flims", "cuda-on-cpu"])
def test_fourierradon2d_options(kwargs):
    """``engine="cuda"`` on NumPy chunks runs PyLops' NumPy engine (same maths)."""
    Op = FourierRadon2D(T, H, PX * 0.05, 64, **kwargs)
    POp = PS.FourierRadon2D(T, H, PX * 0.05, 64, **{k: v for k, v in kwargs.items()
                                                       if k != "engine"})
    assert_like_pylops(Op, POp, (4, 10), "float64")
    assert Op.engine == kwargs.get("engine", "numpy")


@pytest.mark.parametrize("chunks", [(-1, -1, -1), (2, 3, 20), (1, (2, 3), (5, 15))],
                         ids=["whole", "regular", "irregular"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fourierradon3d(chunks, dtype):
    hy, hx = np.arange(4) * 10.0, np.arange(5) * 10.0
    py, px = np.linspace(-1e-3, 1e-3, 3), np.linspace(-1e-3, 1e-3, 5)
    args = (T[:20], hy, hx, py, px, 32)
    Op = FourierRadon3D(*args, kind=("linear", "parabolic"), dtype=dtype)
    POp = PS.FourierRadon3D(*args, kind=("linear", "parabolic"), dtype=dtype)
    assert (Op.dims, Op.dimsd) == ((3, 5, 20), (4, 5, 20))
    assert_like_pylops(Op, POp, chunks, dtype)


@pytest.mark.parametrize("chunks", [(-1, -1), (4, -1), (-1, 10), ((1, 5, 4, 6), (17, 13))],
                         ids=["whole", "axis0", "axis1", "irregular"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chirpradon2d(chunks, dtype):
    h = np.arange(16) * 10.0
    Op, POp = ChirpRadon2D(T, h, 1e-3, dtype=dtype), PS.ChirpRadon2D(T, h, 1e-3, dtype=dtype)
    assert_like_pylops(Op, POp, chunks, dtype)
    y = rand(Op.dimsd, dtype, seed=3)
    inv = Op.inverse(da.from_array(y, chunks=chunks))
    assert inv.shape == Op.dims
    np.testing.assert_allclose(inv.compute().ravel(), POp.inverse(y.ravel()),
                               rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-6)
    assert Op.inverse(y.ravel()).shape == (y.size,)  # flat in, flat out


@pytest.mark.parametrize("chunks", [(-1, -1, -1), (3, 4, 10), ((1, 5), (6, 2), (8, 12))],
                         ids=["whole", "regular", "irregular"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chirpradon3d(chunks, dtype):
    hy, hx = np.arange(6) * 10.0, np.arange(8) * 10.0
    args = (T[:20], hy, hx, (1e-3, 2e-3))
    Op, POp = ChirpRadon3D(*args, dtype=dtype), PS.ChirpRadon3D(*args, dtype=dtype)
    assert_like_pylops(Op, POp, chunks, dtype)
    y = rand(Op.dimsd, dtype, seed=3)
    np.testing.assert_allclose(Op.inverse(da.from_array(y, chunks=chunks)).compute().ravel(),
                               POp.inverse(y.ravel()),
                               rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-6)


def test_signatures_like_pylops():
    """Same arguments, order and defaults as PyLops, plus ``chunks=None`` last."""
    import inspect

    for ours, theirs in [(Radon2D, PS.Radon2D), (Radon3D, PS.Radon3D),
                         (FourierRadon2D, PS.FourierRadon2D), (FourierRadon3D, PS.FourierRadon3D),
                         (ChirpRadon2D, PS.ChirpRadon2D), (ChirpRadon3D, PS.ChirpRadon3D)]:
        a = list(inspect.signature(ours).parameters.values())
        b = list(inspect.signature(theirs).parameters.values())
        strip = [p for p in a if p.name != "chunks"]
        assert [(p.name, p.default, p.kind) for p in strip] == \
            [(p.name, p.default, p.kind) for p in b], ours.__name__
        assert "chunks" in inspect.signature(ours).parameters


def test_errors_like_pylops():
    with pytest.raises(ValueError, match="engine"):
        Radon2D(T, H, PX, engine="cuda")
    with pytest.raises(NotImplementedError, match="kind"):
        Radon3D(T, H, H, PX, PX, kind="cubic")
    with pytest.raises(ValueError, match="engine"):
        FourierRadon2D(T, H, PX, 64, engine="fftw")
    with pytest.raises(ValueError, match="engine"):
        ChirpRadon3D(T, H, H, (1e-3, 1e-3), engine="cuda")
    with pytest.raises(ValueError, match="kind"):
        FourierRadon3D(T, H, H, PX, PX, 64, kind=("linear",))


def test_radon2d_cgls_matches_pylops(scheduler):
    """Damped CGLS with Radon2D, on the threads and the 2-process cluster."""
    Op, POp = Radon2D(T, H, PX), PS.Radon2D(T, H, PX)
    xtrue = np.zeros(Op.dims)
    xtrue[2, 8], xtrue[6, 18] = 1.0, -0.7
    y = (POp @ xtrue.ravel()).reshape(Op.dimsd)
    xo, istop, it = cgls(Op, da.from_array(y, chunks=(6, 15)), niter=12, tol=0, damp=0.1)[:3]
    xr = pylops.optimization.basic.cgls(POp, y.ravel(), niter=12, tol=0, damp=0.1)[0].ravel()
    assert it == 12
    np.testing.assert_allclose(xo.compute().ravel(), xr, rtol=1e-9, atol=1e-9 * np.abs(xr).max())
