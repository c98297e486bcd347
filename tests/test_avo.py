"""pylops_distributed.avo against pylops.avo: operators, inversions, errors, the cluster."""

import warnings

import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.utils.wavelets import ricker

from pylops_distributed.avo import (AVOLinearModelling, PoststackInversion,
                                    PoststackLinearModelling, PrestackInversion,
                                    PrestackLinearModelling, PrestackWaveletModelling)
from pylops_distributed.avo import avo as avo_module
from _helpers import assert_like_pylops

pytestmark = pytest.mark.filterwarnings("ignore:A new implementation of convmtx:FutureWarning")

WAV = ricker(np.arange(11) * 0.004, f0=20)[0]  # 21 samples
THETA = np.linspace(0.0, 30.0, 5)
#: SciPy's LSQR arguments for like-for-like runs: 10 iterations, no early stop (our LSQR
#: tests its stopping rule every 10 iterations, SciPy's every iteration)
ITER = dict(iter_lim=10, atol=0, btol=0, conlim=1e30)


def case_id(case):
    """A readable test id: the case's options but the iteration settings."""
    if isinstance(case, tuple):
        return "x".join(map(str, case)) or "1trace"
    if not isinstance(case, dict):
        return None
    parts = ["explicit" if case.get("explicit") else "operator"]
    for k, v in case.items():
        if k not in ITER and k != "explicit":
            parts.append(k if v is True else f"{k}={v}" if np.isscalar(v) else k)
    return "-".join(parts)


def halves(dims, time=False):
    """Chunks cutting every spatial axis (and the time axis with ``time``) in two."""
    return tuple(max(1, n // 2) if (a >= 1 or time) else n for a, n in enumerate(dims))


def test_helpers_are_pylops():
    for name in ("zoeppritz_scattering", "zoeppritz_element", "zoeppritz_pp",
                 "approx_zoeppritz_pp", "akirichards", "fatti", "ps"):
        assert getattr(avo_module, name) is getattr(pylops.avo.avo, name)
    assert set(pylops.avo.__all__) <= set(dir(pytest.importorskip("pylops_distributed.avo")))


# --- operators --------------------------------------------------------------------------------
@pytest.mark.parametrize("linearization", ["akirich", "fatti", "ps"])
@pytest.mark.parametrize("spatdims", [None, 7, (4, 3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_avo_linear_modelling(linearization, spatdims, dtype):
    vsvp = np.linspace(0.4, 0.6, 20) if linearization == "fatti" else 0.5
    kw = dict(vsvp=vsvp, nt0=20, spatdims=spatdims, linearization=linearization, dtype=dtype)
    Op = AVOLinearModelling(THETA, **kw)
    POp = pylops.avo.avo.AVOLinearModelling(THETA, **kw)
    assert (Op.dims, Op.dimsd, Op.npars, Op.ntheta) == (POp.dims, POp.dimsd, POp.npars, POp.ntheta)
    np.testing.assert_array_equal(Op.G, POp.G)
    for chunks in (Op.dims, halves(Op.dims), halves(Op.dims, time=True)):
        assert_like_pylops(Op, POp, chunks, dtype)


@pytest.mark.parametrize("spatdims", [None, 8, (4, 3)])
@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("kind", ["centered", "forward"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_poststack_modelling(spatdims, explicit, kind, dtype):
    wav = WAV.astype(dtype)
    kw = dict(spatdims=spatdims, explicit=explicit, kind=kind)
    Op = PoststackLinearModelling(wav, 40, **kw)
    POp = pylops.avo.poststack.PoststackLinearModelling(wav, 40, **kw)
    assert Op.dtype == POp.dtype and Op.shape == POp.shape
    for chunks in (Op.dims, halves(Op.dims), halves(Op.dims, time=True)):
        assert_like_pylops(Op, POp, chunks, dtype)
    if explicit:
        np.testing.assert_array_equal(Op.A, POp.A)


@pytest.mark.parametrize("explicit", [False, True])
def test_poststack_modelling_nonstationary_and_sparse(explicit):
    wavs = np.array([ricker(np.arange(7) * 0.004, f0=f)[0] for f in np.linspace(15, 30, 30)])
    Op = PoststackLinearModelling(wavs, 30, spatdims=6, explicit=explicit)
    POp = pylops.avo.poststack.PoststackLinearModelling(wavs, 30, spatdims=6, explicit=explicit)
    assert_like_pylops(Op, POp, (15, 3), "float64")
    Op = PoststackLinearModelling(WAV, 30, spatdims=6, explicit=True, sparse=True)
    POp = pylops.avo.poststack.PoststackLinearModelling(WAV, 30, spatdims=6, explicit=True,
                                                        sparse=True)
    assert_like_pylops(Op, POp, (30, 2), "float64")


@pytest.mark.parametrize("spatdims", [None, 6, (3, 2)])
@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("linearization,dtype", [("akirich", "float32"), ("akirich", "float64"),
                                                 ("fatti", "float64"), ("ps", "float32")])
def test_prestack_modelling(spatdims, explicit, linearization, dtype):
    vsvp = np.linspace(0.4, 0.6, 30) if linearization == "fatti" else 0.5
    kw = dict(vsvp=vsvp, nt0=30, spatdims=spatdims, linearization=linearization,
              explicit=explicit, kind="forward" if linearization == "ps" else "centered")
    Op = PrestackLinearModelling(WAV.astype(dtype), THETA.astype(dtype), **kw)
    POp = pylops.avo.prestack.PrestackLinearModelling(WAV.astype(dtype), THETA.astype(dtype),
                                                      **kw)
    assert Op.dtype == POp.dtype and Op.shape == POp.shape
    for chunks in (Op.dims, halves(Op.dims), halves(Op.dims, time=True)):
        assert_like_pylops(Op, POp, chunks, dtype)


def test_prestack_modelling_keeps_spatial_chunks():
    Op = PrestackLinearModelling(WAV, THETA, nt0=30, spatdims=(6, 4))
    x = da.ones((30, 3, 6, 4), chunks=(10, 3, 2, 4))  # time chunked: rechunked whole
    y = Op @ x
    assert y.chunks == ((30,), (5,), (2, 2, 2), (4,))
    assert (Op.H @ y).chunks == ((30,), (3,), (2, 2, 2), (4,))


@pytest.mark.parametrize("linearization", ["akirich", "fatti"])
def test_prestack_wavelet_modelling(linearization):
    m = np.random.default_rng(3).standard_normal((40, 3))
    kw = dict(nwav=11, wavc=4, vsvp=np.linspace(0.4, 0.6, 40), linearization=linearization)
    Op = PrestackWaveletModelling(m, THETA, **kw)
    POp = pylops.avo.prestack.PrestackWaveletModelling(m, THETA, **kw)
    assert Op.shape == POp.shape
    assert_like_pylops(Op, POp, (6,), "float64")


# --- inversions -------------------------------------------------------------------------------
def _section(shape, seed=0):
    rng = np.random.default_rng(seed)
    m = np.cumsum(rng.standard_normal(shape), axis=0) * 0.1 + 1.0
    return m, rng


def _close(ours, ref, rtol, scale=None):
    ours = np.asarray(ours.compute() if isinstance(ours, da.Array) else ours)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    scale = np.abs(ref).max() if scale is None else scale
    np.testing.assert_allclose(ours, ref, rtol=0, atol=rtol * scale)


# (case, rtol): trace-by-trace lstsq equals PyLops' to rounding; iterative solvers agree to
# rounding amplified by their iterations (normal equations: squared conditioning)
POST_CASES = [
    (dict(explicit=True, cond=1e-8), 1e-10),           # lstsq, SciPy's cond passed through
    (dict(explicit=True, epsI=1e-2), 1e-10),           # normal equations, trace by trace
    (dict(explicit=True, epsI=1e-2, m0=True), 1e-10),
    (dict(explicit=True, simultaneous=True, **ITER), 1e-9),
    (dict(explicit=True, simultaneous=True, epsI=1e-2, **ITER), 1e-5),  # (A^T A)^2 conditioning
    (dict(explicit=False, **ITER), 1e-9),
    (dict(explicit=False, m0=True, **ITER), 1e-9),
    (dict(explicit=False, epsR=0.1, **ITER), 1e-8),    # Laplacian
    (dict(explicit=False, epsR=0.1, m0=True, **ITER), 1e-8),
    (dict(explicit=True, epsR=0.1, **ITER), 1e-8),
]


@pytest.mark.parametrize("shape", [(40,), (40, 8), (30, 4, 3)])
@pytest.mark.parametrize("case,rtol", POST_CASES, ids=case_id)
def test_poststack_inversion(shape, case, rtol):
    m, rng = _section(shape)
    POp = pylops.avo.poststack.PoststackLinearModelling(WAV, shape[0], spatdims=shape[1:] or None)
    d = (POp @ m.ravel()).reshape(shape) + 0.01 * rng.standard_normal(shape)
    kw = dict(case)
    if kw.pop("m0", False):
        kw["m0"] = m + 0.2 * rng.standard_normal(shape)
    minv, datar = PoststackInversion(d, WAV, chunks=halves(shape), **kw)
    assert isinstance(minv, da.Array) and isinstance(datar, da.Array)  # lazy
    assert minv.chunks[1:] == da.from_array(d, chunks=halves(shape)).chunks[1:]
    pinv, pres = pylops.avo.poststack.PoststackInversion(d, WAV, **kw)
    _close(minv, pinv, rtol)
    _close(datar, pres, rtol, scale=np.abs(d).max())


def test_dask_inputs_dottest_and_chunks():
    """Dask data chunked along time (rechunked whole), a NumPy m0, the dot test option."""
    m, rng = _section((40, 9))
    d = (pylops.avo.poststack.PoststackLinearModelling(WAV, 40, spatdims=9) @ m.ravel())
    d = da.from_array(d.reshape(40, 9), chunks=(10, 4))
    minv, datar = PoststackInversion(d, WAV, m0=m, dottest=True, **ITER)
    assert minv.chunks == datar.chunks == ((40,), (4, 4, 1))
    mp, rng = _section((30, 3, 6))
    dp = rng.standard_normal((2, 30, 5, 6))
    kw = dict(m0=mp, linearization=["akirich", "ps"], returnres=True, **ITER)
    minv, datar = PrestackInversion(da.from_array(dp, chunks=(1, 15, 5, 3)), THETA, WAV,
                                    dottest=True, **kw)
    assert minv.chunks == ((30,), (3,), (3, 3)) and datar.shape == dp.shape
    pinv, pres = pylops.avo.prestack.PrestackInversion(dp, THETA, WAV, **kw)
    _close(minv, pinv, 1e-9)
    _close(datar, pres, 1e-9, scale=np.abs(dp).max())


def test_poststack_inversion_blocky():
    """epsRL1: split Bregman, forward time derivative (L1) and spatial second derivative (L2)."""
    shape = (40, 8)
    m, rng = _section(shape)
    POp = pylops.avo.poststack.PoststackLinearModelling(WAV, 40, spatdims=8)
    d = (POp @ m.ravel()).reshape(shape) + 0.01 * rng.standard_normal(shape)
    kw = dict(epsR=0.1, epsRL1=0.05, niter_outer=2, niter_inner=2, **ITER)
    minv, datar = PoststackInversion(da.from_array(d, chunks=(20, 4)), WAV, **kw)
    pinv, pres = pylops.avo.poststack.PoststackInversion(d, WAV, **kw)
    _close(minv, pinv, 1e-8)
    _close(datar, pres, 1e-8, scale=np.abs(d).max())
    # 3-D data in one chunk per trace: the inner solves keep the model's chunks (no warning
    # of chunks multiplied, no fall-back to plain dask expressions)
    m3, _ = _section((40, 12), seed=2)
    d3 = (pylops.avo.poststack.PoststackLinearModelling(WAV, 40, spatdims=12) @ m3.ravel())
    d3, kw3 = d3.reshape(40, 4, 3), dict(kw, m0=(m3 + 0.1).reshape(40, 4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minv, datar = PoststackInversion(da.from_array(d3, chunks=(40, 1, 1)), WAV, **kw3)
        minv, datar = minv.compute(), datar.compute()
    pinv, pres = pylops.avo.poststack.PoststackInversion(d3.copy(), WAV, **kw3)
    _close(minv, pinv, 1e-8)
    _close(datar, pres, 1e-8, scale=np.abs(d3).max())
    # one trace (PyLops 2.8 fails there): no L2 term, the answer fits the data
    minv, datar = PoststackInversion(d[:, 0], WAV, **kw)
    assert np.linalg.norm(datar.compute()) < 0.5 * np.linalg.norm(d[:, 0])


# (spatial axes, case, rtol), as POST_CASES
PRE_CASES = [
    ((), dict(explicit=True, cond=1e-8), 1e-10),
    ((6,), dict(explicit=True, cond=1e-8), 1e-10),
    ((6,), dict(explicit=True, epsI=1e-2, m0=True), 1e-10),
    ((6,), dict(explicit=True, simultaneous=True, **ITER), 1e-9),
    ((6,), dict(explicit=True, simultaneous=True, epsI=1e-2, **ITER), 1e-5),  # (A^T A)^2
    ((), dict(explicit=False, m0=True, **ITER), 1e-9),
    ((6,), dict(explicit=False, m0=True, **ITER), 1e-9),
    ((6,), dict(explicit=False, kind="forward", vsvp=np.linspace(0.4, 0.6, 30), **ITER), 1e-9),
    ((), dict(explicit=False, epsR=0.1, epsI=[0.05, 0.1, 0.2], **ITER), 1e-8),
    ((6,), dict(explicit=False, epsR=0.1, epsI=[0.05, 0.1, 0.2], **ITER), 1e-8),
    ((), dict(explicit=True, epsR=0.1, **ITER), 1e-8),  # regularisers on PyLops' layout
    ((6,), dict(explicit=True, epsR=0.1, epsI=0.05, **ITER), 1e-8),
    ((6,), dict(explicit=False, epsR=0.1, epsRL1=0.05, niter_outer=2, niter_inner=2, **ITER),
     1e-8),
    ((), dict(explicit=False, linearization=["akirich", "fatti"], **ITER), 1e-9),
    ((6,), dict(explicit=False, linearization=["akirich", "fatti"], epsR=0.1, **ITER), 1e-8),
    ((6,), dict(explicit=True, linearization=["akirich", "ps"], cond=1e-8), 1e-10),
]


@pytest.mark.parametrize("spatdims,case,rtol", PRE_CASES, ids=case_id)
def test_prestack_inversion(spatdims, case, rtol):
    nt0 = 30
    m, rng = _section((nt0, 3) + spatdims)
    kw = dict(case)
    POp = pylops.avo.prestack.PrestackLinearModelling(WAV, THETA, vsvp=kw.get("vsvp", 0.5),
                                                      nt0=nt0, spatdims=spatdims or None)
    d = (POp @ m.ravel()).reshape((nt0, 5) + spatdims)
    d = d + 0.01 * rng.standard_normal(d.shape)
    if isinstance(kw.get("linearization"), list):
        d = np.stack([d, 0.5 * d])
    if kw.pop("m0", False):
        kw["m0"] = m + 0.2 * rng.standard_normal(m.shape)
    minv, datar = PrestackInversion(d, THETA, WAV, chunks=halves(d.shape), returnres=True, **kw)
    assert isinstance(minv, da.Array) and minv.shape == m.shape and datar.shape == d.shape
    pinv, pres = pylops.avo.prestack.PrestackInversion(d, THETA, WAV, returnres=True, **kw)
    _close(minv, pinv, rtol)
    _close(datar, pres, rtol, scale=np.abs(d).max())
    only = PrestackInversion(d, THETA, WAV, **kw)  # returnres=False: the model only
    assert isinstance(only, da.Array) and only.shape == m.shape


def test_prestack_inversion_3d_and_one_trace_blocky():
    m, rng = _section((30, 3, 3, 2))
    POp = pylops.avo.prestack.PrestackLinearModelling(WAV, THETA, nt0=30, spatdims=(3, 2))
    d = (POp @ m.ravel()).reshape(30, 5, 3, 2) + 0.01 * rng.standard_normal((30, 5, 3, 2))
    kw = dict(epsR=0.1, **ITER)
    minv = PrestackInversion(da.from_array(d, chunks=(30, 5, 2, 1)), THETA, WAV, **kw)
    _close(minv, pylops.avo.prestack.PrestackInversion(d, THETA, WAV, **kw), 1e-8)
    # one trace with epsRL1 (PyLops 2.8 fails there): L1 on the flat model, epsI as L2
    minv, datar = PrestackInversion(d[..., 0, 0], THETA, WAV, epsR=0.1, epsRL1=0.05, epsI=0.1,
                                    returnres=True, niter_outer=1, niter_inner=2, **ITER)
    assert minv.shape == (30, 3)
    assert np.linalg.norm(datar.compute()) < 0.5 * np.linalg.norm(d[..., 0, 0])


# --- errors -----------------------------------------------------------------------------------
def test_errors_before_compute():
    d = np.zeros((40, 8))
    with pytest.raises(ValueError, match="same shape"):
        PoststackInversion(d, WAV, m0=np.zeros((40, 7)))
    with pytest.raises(ValueError, match="1 to 3 axes"):
        PoststackInversion(np.zeros((4, 3, 2, 2)), WAV)
    with pytest.raises(ValueError, match="same time and space axes"):
        PrestackInversion(np.zeros((30, 5, 6)), THETA, WAV, m0=np.zeros((30, 3, 5)))
    with pytest.raises(ValueError, match="elastic parameters"):
        PrestackInversion(np.zeros((30, 5, 6)), THETA, WAV, m0=np.zeros((30, 2, 6)))
    with pytest.raises(NotImplementedError, match="m0 or linearization"):
        PrestackInversion(np.zeros((30, 5)), THETA, WAV, linearization=None)
    with pytest.raises(NotImplementedError, match="not an available linearization"):
        PrestackInversion(np.zeros((30, 5)), THETA, WAV, linearization="shuey")
    with pytest.raises(ValueError, match="linearizations for 3"):
        PrestackInversion(np.zeros((3, 30, 5)), THETA, WAV, linearization=["akirich", "ps"])
    with pytest.raises(ValueError, match="epsI must be a scalar or a list of size nm"):
        PrestackInversion(np.zeros((30, 5, 6)), THETA, WAV, epsR=0.1, epsI=[1.0, 2.0])
    with pytest.raises(NotImplementedError, match="derivative kind"):
        PoststackLinearModelling(WAV, 40, kind="backward")
    with pytest.raises(NotImplementedError, match="derivative kind"):
        PrestackLinearModelling(WAV, THETA, nt0=30, kind="backward")
    with pytest.raises(NotImplementedError, match="linearization"):
        AVOLinearModelling(THETA, nt0=30, linearization="shuey")
    with pytest.raises(NotImplementedError, match="longer than the time axis"):
        PoststackLinearModelling(WAV, 15)
    with pytest.raises(ValueError, match="nt0 wavelets"):
        PoststackLinearModelling(np.ones((10, 5)), 20)
    with pytest.raises(ValueError, match=r"expected an input of shape \(40, 8\)"):
        PoststackLinearModelling(WAV, 40, spatdims=8) @ da.zeros((40, 7))


def test_no_pylops_warning_from_our_builders():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PoststackLinearModelling(WAV, 40, spatdims=4, explicit=True)
        PrestackLinearModelling(WAV, THETA, nt0=30, spatdims=4, explicit=True)
        PrestackWaveletModelling(np.ones((30, 3)), THETA, nwav=7)


# --- the process cluster ----------------------------------------------------------------------
def test_inversions_on_cluster(scheduler):
    """Laplacian-regularised post-stack and trace-by-trace pre-stack inversions, chunked
    across traces, under the threaded scheduler and on the 2-process cluster."""
    m, rng = _section((40, 12))
    POp = pylops.avo.poststack.PoststackLinearModelling(WAV, 40, spatdims=12)
    d = (POp @ m.ravel()).reshape(40, 12) + 0.01 * rng.standard_normal((40, 12))
    kw = dict(epsR=0.1, m0=m + 0.1, **ITER)
    minv, datar = PoststackInversion(da.from_array(d, chunks=(20, 4)), WAV, **kw)
    pinv, pres = pylops.avo.poststack.PoststackInversion(d, WAV, **kw)
    _close(minv, pinv, 1e-8)
    _close(datar, pres, 1e-8, scale=np.abs(d).max())

    mp, _ = _section((30, 3, 6), seed=1)
    PPre = pylops.avo.prestack.PrestackLinearModelling(WAV, THETA, nt0=30, spatdims=6)
    dp = (PPre @ mp.ravel()).reshape(30, 5, 6)
    kwp = dict(explicit=True, epsI=1e-2)
    minv = PrestackInversion(da.from_array(dp, chunks=(30, 5, 2)), THETA, WAV, **kwp)
    _close(minv, pylops.avo.prestack.PrestackInversion(dp, THETA, WAV, **kwp), 1e-10)
    # PyLops' operator built on the workers, per chunk of gathers
    Op = PrestackLinearModelling(WAV, THETA, nt0=30, spatdims=6, linearization="fatti")
    POp = pylops.avo.prestack.PrestackLinearModelling(WAV, THETA, nt0=30, spatdims=6,
                                                      linearization="fatti")
    _close(Op @ da.from_array(mp, chunks=(30, 3, 2)), (POp @ mp.ravel()).reshape(30, 5, 6),
           1e-12)


@pytest.mark.parametrize("explicit", [True, False])
def test_inversions_with_m0_computed_one_output_at_a_time(explicit, scheduler):
    """The estimate and the residual of an inversion from ``m0``, computed one after the
    other (as a user does): PyLops' results, and on the cluster no key that stands for two
    different tasks (``scheduler`` fails on dask's "different run_spec" warning: both
    outputs read ``PPop @ m0``, which dask fused differently in each graph)."""
    m, rng = _section((30, 6))
    POp = pylops.avo.poststack.PoststackLinearModelling(WAV, 30, spatdims=6)
    d = (POp @ m.ravel()).reshape(30, 6) + 0.01 * rng.standard_normal((30, 6))
    kw = dict(explicit=explicit, epsI=1e-2, **({} if explicit else ITER))
    minv, datar = PoststackInversion(da.from_array(d, chunks=(30, 3)), WAV,
                                     m0=da.from_array(m + 0.1, chunks=(30, 3)), **kw)
    pinv, pres = pylops.avo.poststack.PoststackInversion(d.copy(), WAV, m0=m + 0.1, **kw)
    _close(minv, pinv, 1e-8)
    _close(datar, pres, 1e-8, scale=np.abs(d).max())

    mp, _ = _section((30, 3, 6), seed=1)
    PPre = pylops.avo.prestack.PrestackLinearModelling(WAV, THETA, nt0=30, spatdims=6)
    dp = (PPre @ mp.ravel()).reshape(30, 5, 6)
    kwp = dict(explicit=explicit, epsI=1e-2, returnres=True, **({} if explicit else ITER))
    minv, res = PrestackInversion(da.from_array(dp, chunks=(30, 5, 3)), THETA, WAV,
                                  m0=da.from_array(mp + 0.1, chunks=(30, 3, 3)), **kwp)
    pinv, pres = pylops.avo.prestack.PrestackInversion(dp.copy(), THETA, WAV, m0=mp + 0.1,
                                                       **kwp)
    _close(minv, pinv, 1e-8)
    _close(res, pres, 1e-8, scale=np.abs(dp).max())
