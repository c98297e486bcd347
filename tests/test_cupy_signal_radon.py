"""Radon-family operators and Fredholm1 on CuPy chunks (run on the lent GPU): PyLops' numbers
on NumPy, CuPy chunks out."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

from pylops_distributed.signalprocessing.chirpradon2d import ChirpRadon2D  # noqa: E402
from pylops_distributed.signalprocessing.chirpradon3d import ChirpRadon3D  # noqa: E402
from pylops_distributed.signalprocessing.fourierradon2d import FourierRadon2D  # noqa: E402
from pylops_distributed.signalprocessing.fredholm1 import Fredholm1  # noqa: E402
from pylops_distributed.signalprocessing.radon2d import Radon2D  # noqa: E402
from pylops_distributed.stacked import compute_all  # noqa: E402

PS = pylops.signalprocessing
T = np.arange(30) * 0.004
H = np.arange(16) * 10.0 - 80.0
PX = np.linspace(-2e-3, 2e-3, 9)


def on_gpu(x, chunks):
    return da.from_array(cp.asarray(x), chunks=chunks, asarray=False)


def check(Op, POp, chunks, dtype, rtol=1e-6):
    x, y = rand(Op.dims, dtype, 1), rand(Op.dimsd, dtype, 2)
    fwd, adj = Op @ on_gpu(x, chunks), Op.H @ on_gpu(y, chunks)
    assert isinstance(fwd._meta, cp.ndarray) and isinstance(adj._meta, cp.ndarray)
    f, a = compute_all(fwd, adj)
    assert isinstance(f, cp.ndarray) and isinstance(a, cp.ndarray)
    for got, want in ((f, POp @ x.ravel()), (a, POp.H @ y.ravel())):
        want = np.asarray(want).ravel()
        np.testing.assert_allclose(cp.asnumpy(got).ravel(), want, rtol=rtol,
                                   atol=rtol * np.abs(want).max())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_chirpradon_cupy(dtype):
    rtol = 1e-4 if dtype == "float32" else 1e-9
    Op, POp = ChirpRadon2D(T, H, 1e-3, dtype=dtype), PS.ChirpRadon2D(T, H, 1e-3, dtype=dtype)
    check(Op, POp, (4, 10), dtype, rtol)
    y = rand(Op.dimsd, dtype, 3)
    inv = Op.inverse(on_gpu(y, (4, 10))).compute()
    assert isinstance(inv, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(inv).ravel(), POp.inverse(y.ravel()), rtol=rtol,
                               atol=rtol)
    args = (T[:20], H[:6], H[:8], (1e-3, 2e-3))
    check(ChirpRadon3D(*args, dtype=dtype), PS.ChirpRadon3D(*args, dtype=dtype), (3, 4, 10),
          dtype, rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fourierradon2d_cupy_numpy_engine(dtype):
    rtol = 1e-4 if dtype == "float32" else 1e-9
    check(FourierRadon2D(T, H, PX, 64, dtype=dtype), PS.FourierRadon2D(T, H, PX, 64, dtype=dtype),
          (4, 10), dtype, rtol)


def test_fourierradon2d_cupy_cuda_engine():
    """PyLops' CUDA kernels (numba-cuda, float32 arithmetic) on CuPy chunks."""
    t, h, p = (a.astype("float32") for a in (T, H, PX))
    try:  # PyLops' own CUDA engine first: it needs a numba-cuda that works with this NumPy
        PS.FourierRadon2D(t, h, p, 64, engine="cuda", dtype="float32") @ cp.ones(
            len(p) * len(t), dtype="float32")
    except Exception as err:  # noqa: BLE001 (numba-cuda fails in many ways)
        pytest.skip(f"PyLops' own FourierRadon2D(engine='cuda') fails here: {err!r}"[:300])
    check(FourierRadon2D(t, h, p, 64, engine="cuda", dtype="float32"),
          PS.FourierRadon2D(t, h, p, 64, dtype="float32"), (4, 10), "float32", rtol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
@pytest.mark.parametrize("usematmul", [True, False])
def test_fredholm1_cupy(dtype, usematmul):
    rtol = 1e-4 if dtype == "float32" else 1e-9
    G = rand((7, 9, 6), dtype, 3)
    for Gin in (G, cp.asarray(G)):  # NumPy kernel moved to the GPU per task, or CuPy's own
        Op = Fredholm1(Gin, nz=4, usematmul=usematmul, dtype=dtype)
        POp = PS.Fredholm1(G, nz=4, usematmul=usematmul, dtype=dtype)
        check(Op, POp, ((1, 4, 2), -1, 2), dtype, rtol)


def test_radon2d_cupy_is_refused_clearly():
    """PyLops runs Radon2D (its Spread) on NumPy only: CuPy chunks raise a clear error."""
    Op = Radon2D(T, H, PX)
    with pytest.raises(TypeError, match="Radon2D: PyLops runs this operator on NumPy"):
        (Op @ on_gpu(rand(Op.dims, "float64"), (4, 10))).compute()
