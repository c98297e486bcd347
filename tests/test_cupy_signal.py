"""Signal-processing operators on CuPy chunks (run on the lent GPU): PyLops/NumPy's numbers,
CuPy chunks out; the operators PyLops runs on NumPy only raise naming themselves."""

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")

from pylops_distributed import signalprocessing as sp  # noqa: E402
from pylops_distributed.stacked import compute_all  # noqa: E402

ps = pylops.signalprocessing


def on_gpu(x, chunks):
    return da.from_array(cp.asarray(x), chunks=chunks, asarray=False)


def check(Op, POp, chunks, dtype, rtol=1e-5):
    x, y = rand(Op.dims, dtype, 1), rand(Op.dimsd, "complex128" if np.iscomplexobj(
        np.empty(0, Op.dtype)) else dtype, 2)
    fwd = Op @ on_gpu(x, chunks)
    adj = Op.H @ on_gpu(y, chunks if len(Op.dimsd) == len(Op.dims) else "auto")
    assert isinstance(fwd._meta, cp.ndarray) and isinstance(adj._meta, cp.ndarray)
    f, a = compute_all(fwd, adj)
    assert isinstance(f, cp.ndarray) and isinstance(a, cp.ndarray)
    scale = max(1.0, float(np.abs(cp.asnumpy(f)).max()))
    np.testing.assert_allclose(cp.asnumpy(f).ravel(), (POp @ x.ravel()).ravel(), rtol=rtol,
                               atol=rtol * scale)
    ref = (POp.H @ y.ravel()).ravel()
    np.testing.assert_allclose(cp.asnumpy(a).ravel(), ref, rtol=rtol,
                               atol=rtol * max(1.0, float(np.abs(ref).max())))


@pytest.mark.parametrize("chunks", [(16, 48), (64, 12), (16, 16)])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_fft2d_pencil_on_gpu(chunks, dtype):
    cdtype = "complex64" if dtype == "float32" else "complex128"
    check(sp.FFT2D((64, 48), dtype=cdtype), ps.FFT2D((64, 48), dtype=cdtype), chunks, dtype)


def test_fft_fftnd_shift_interp_on_gpu():
    check(sp.FFT((6, 40), axis=1, nfft=64, real=True), ps.FFT((6, 40), axis=1, nfft=64, real=True),
          (3, 40), "float64")
    check(sp.FFTND((6, 10, 12), axes=(0, 1, 2), real=True),
          ps.FFTND((6, 10, 12), axes=(0, 1, 2), real=True), (2, 3, 4), "float64")
    shifts = np.linspace(-2, 3, 4)
    check(sp.Shift((4, 50), shifts, axis=1), ps.Shift((4, 50), shifts, axis=1), (2, 25), "complex128")
    iava = np.array([0.5, 3.2, 10.0, 20.7])
    check(sp.Interp((5, 30), iava, axis=1)[0], ps.Interp((5, 30), iava, axis=1)[0], (2, 30),
          "float64")


def test_numpy_only_operators_say_so():
    pytest.importorskip("pywt")
    Op = sp.DWT((4, 32), axis=1)
    with pytest.raises(TypeError, match="DWT: PyLops runs this operator on NumPy arrays only"):
        Op @ on_gpu(np.ones((4, 32)), (2, 32))  # raised when the graph is built
