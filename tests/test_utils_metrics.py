"""mae, mse, snr, psnr against pylops.utils.metrics: NumPy and dask inputs, any chunking."""

import dask.array as da
import numpy as np
import pylops.utils.metrics as pylops_metrics
import pytest
from dask.callbacks import Callback

import pylops_distributed.utils.metrics as metrics
from pylops_distributed import StackedArray
from pylops_distributed.utils import mae, mse, psnr, snr

METRICS = ["mae", "mse", "snr", "psnr"]
RTOL = {"float32": 1e-5, "float64": 1e-12, "complex128": 1e-12}


class CountComputes(Callback):
    """Counts the graphs dask's local schedulers run."""

    def __init__(self):
        super().__init__()
        self.runs = 0

    def _start(self, dsk):
        self.runs += 1


def pair(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) + 2.0
    noise = 0.1 * rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
        noise = noise + 0.1j * rng.standard_normal(shape)
    return x.astype(dtype), (x + noise).astype(dtype)


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, chunks", [
    ((37,), 37),              # one chunk
    ((37,), 10),              # uneven last chunk
    ((37,), ((5, 20, 12),)),  # uneven chunks
    ((9, 14), (4, 5)),        # 2-D, uneven both ways
    ((4, 5, 6), (3, 5, 2)),   # 3-D
])
def test_like_pylops(name, dtype, shape, chunks):
    xref, xcmp = pair(shape, dtype, seed=len(shape))
    expected = getattr(pylops_metrics, name)(xref, xcmp)
    ours = getattr(metrics, name)
    for a, b in [(xref, xcmp),                                                   # NumPy
                 (da.from_array(xref, chunks=chunks), da.from_array(xcmp, chunks=chunks)),
                 (da.from_array(xref, chunks=chunks), xcmp),                     # mixed
                 (xref, da.from_array(xcmp, chunks=chunks)),
                 (da.from_array(xref, chunks=chunks), da.from_array(xcmp, chunks=3))]:
        got = ours(a, b)
        assert isinstance(got, np.floating) and got.dtype == expected.dtype, (type(got), expected)
        np.testing.assert_allclose(got, expected, rtol=RTOL[dtype])


@pytest.mark.parametrize("name", ["mae", "mse", "snr"])
def test_complex_like_pylops(name):
    xref, xcmp = pair((6, 7), "complex128", seed=5)
    expected = getattr(pylops_metrics, name)(xref, xcmp)
    got = getattr(metrics, name)(da.from_array(xref, chunks=(4, 3)), da.from_array(xcmp, chunks=5))
    assert np.isrealobj(got)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("xmax, xmin", [(None, 0.0), (None, None), (5.0, None), (4.0, -1.0)])
def test_psnr_range_like_pylops(xmax, xmin):
    xref, xcmp = pair((8, 9), "float64", seed=7)
    expected = pylops_metrics.psnr(xref, xcmp, xmax=xmax, xmin=xmin)
    got = psnr(da.from_array(xref, chunks=(3, 4)), da.from_array(xcmp, chunks=(8, 2)),
               xmax=xmax, xmin=xmin)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("name", METRICS)
def test_same_size_other_shape_compared_flat(name):
    """A flat array against an N-D one of the same size: compared element by element."""
    xref, xcmp = pair((5, 6), "float64", seed=11)
    expected = getattr(pylops_metrics, name)(xref, xcmp)
    got = getattr(metrics, name)(da.from_array(xref, chunks=(2, 4)),
                                 da.from_array(xcmp.ravel(), chunks=7))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_stacked_array_input():
    xref, xcmp = pair((10,), "float64", seed=13)
    stacked = StackedArray([da.from_array(xcmp[:4].reshape(2, 2), chunks=1),
                            da.from_array(xcmp[4:], chunks=4)])
    np.testing.assert_allclose(mse(xref, stacked), pylops_metrics.mse(xref, xcmp), rtol=1e-12)


def test_list_inputs():
    assert mae([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(2.0 / 3.0)


@pytest.mark.parametrize("name", METRICS)
def test_one_compute_per_metric(name):
    """All the reductions a metric needs (psnr with xmin=None: min, max and MSE) in one run."""
    xref, xcmp = pair((40,), "float64", seed=17)
    with CountComputes() as counter:
        getattr(metrics, name)(da.from_array(xref, chunks=7), da.from_array(xcmp, chunks=9),
                               **({"xmin": None} if name == "psnr" else {}))
    assert counter.runs == 1


@pytest.mark.parametrize("name", METRICS)
def test_size_mismatch_raises_before_compute(name):
    xref = da.ones((4, 5), chunks=2)
    message = r"same size.*\(4, 5\).*\(21,\)"
    with CountComputes() as counter, pytest.raises(ValueError, match=message):
        getattr(metrics, name)(xref, da.ones(21, chunks=5))
    assert counter.runs == 0


def test_known_values():
    x = da.from_array(np.array([1.0, -1.0, 3.0, 5.0]), chunks=3)
    y = da.from_array(np.array([2.0, -1.0, 1.0, 5.0]), chunks=1)
    assert mae(x, y) == pytest.approx(0.75)
    assert mse(x, y) == pytest.approx(1.25)
    assert snr(x, y) == pytest.approx(10 * np.log10(9.0 / 1.25))
    assert psnr(x, y, xmin=None) == pytest.approx(10 * np.log10(36.0 / 1.25))
