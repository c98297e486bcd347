"""pylops_distributed.waveeqprocessing against PyLops' pylops.waveeqprocessing."""

import logging
import warnings

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from dask.core import flatten, get_dependencies

import pylops_distributed.waveeqprocessing as wep
from pylops_distributed.optimization import cgls, lsqr
from pylops_distributed.waveeqprocessing import (MDC, MDD, BlendingContinuous, BlendingGroup,
                                                 BlendingHalf, Deghosting, PhaseShift,
                                                 PressureToVelocity, SeismicInterpolation,
                                                 UpDownComposition2D, UpDownComposition3D,
                                                 WavefieldDecomposition)

from _helpers import assert_like_pylops, check_kernel_boxes, rand

PWE = pylops.waveeqprocessing


@pytest.fixture(autouse=True)
def _quiet():
    """PyLops' obliquity filters divide by zero at f=0 and the solvers log their backend."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def _kernel(nf, ns, nr, dtype, seed=0):
    return rand((nf, ns, nr), dtype, seed=seed)


# --- MDC -------------------------------------------------------------------------------------

@pytest.mark.parametrize("twosided,nt,conj,prescaled", [
    (True, 11, False, False), (True, 11, True, True), (False, 10, False, True),
    (False, 11, True, False)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lazy", [False, True], ids=["numpy-G", "dask-G"])
def test_mdc_like_pylops(twosided, nt, conj, prescaled, dtype, lazy):
    cdtype = "complex64" if dtype == "float32" else "complex128"
    nv = 3
    G = _kernel(5, 4, 6, cdtype)
    kw = dict(dt=0.004, dr=2.0, twosided=twosided, conj=conj, prescaled=prescaled)
    Op = MDC(da.from_array(G, chunks=(2, 4, 6)) if lazy else G, nt, nv, **kw)
    POp = PWE.MDC(G, nt, nv, **kw)
    assert Op.dims == (nt, 6, nv) and Op.dimsd == (nt, 4, nv) and Op.dtype == np.dtype(dtype)
    for chunks in [(nt, 6, nv), (3, 2, 1), (nt, 6, 1)]:  # whole, along time, along v
        assert_like_pylops(Op, POp, chunks, dtype)


@pytest.mark.parametrize("gchunks", [None, (3, 3, 2), (6, 1, 2)],
                         ids=["numpy-G", "by-frequency", "by-source"])
def test_mdc_complex_input_on_both_parts(gchunks):
    """MDC is real (real FFTs around G): a complex input goes through it part by part, as
    through our other real operators (PyLops drops the imaginary part), silently."""
    G = _kernel(6, 3, 2, "complex128")
    Op = MDC(G if gchunks is None else da.from_array(G, chunks=gchunks), 11, 1)
    POp = PWE.MDC(G, 11, 1)
    x, d = rand(Op.dims, "complex128", 1), rand(Op.dimsd, "complex128", 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = (Op @ da.from_array(x, chunks=(11, 1, 1))).compute()
        z = (Op.H @ da.from_array(d, chunks=(11, 2, 1))).compute()
    for ours, P, v in ((y, POp, x), (z, POp.H, d)):
        ref = P @ v.real.ravel() + 1j * (P @ v.imag.ravel())
        np.testing.assert_allclose(ours.ravel(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nv,saveGt,usematmul", [(1, True, False), (2, False, True)])
def test_mdc_options_and_kernel_chunks(nv, saveGt, usematmul):
    """One virtual source, saveGt/usematmul, and G chunked along sources and receivers too."""
    G = _kernel(6, 4, 5, "complex128")
    Gd = da.from_array(G, chunks=(4, 2, 3))
    kw = dict(dt=0.002, saveGt=saveGt, usematmul=usematmul)
    assert_like_pylops(MDC(Gd, 13, nv, **kw), PWE.MDC(G, 13, nv, **kw), (5, 5, 1), "float64")


def test_mdc_distributed_over_frequencies():
    """The middle stage has one task per (frequency block of G, chunk of v), each reading
    only its block of G; the FFT stages are split along receivers/sources."""
    G = _kernel(5, 4, 6, "complex128")
    Gd = da.from_array(G, chunks=(2, 4, 6))  # 3 frequency blocks
    Op = MDC(Gd, 11, 2)
    for y in (Op @ da.ones((11, 6, 2), chunks=(11, 6, 1)),
              Op.H @ da.ones((11, 4, 2), chunks=(4, 4, 2))):
        g = dict(y.__dask_graph__())
        middle = [k for k in g if isinstance(k, tuple) and "fredholm1" in k[0]
                  and "piece" not in k[0]]
        assert len(middle) == 3 * len(y.chunks[2])
        for k in middle:
            reads = [d for d in get_dependencies(g, k) if d[0] == Gd.name]
            assert reads == [(Gd.name, k[1], 0, 0)]
        assert y.chunks[0] == (11,) and len(y.chunks[1]) > 1


@pytest.mark.parametrize("gchunks", [(5, 2, 6), (5, 4, 3), (5, 3, 4), (2, 2, 3)],
                         ids=["sources", "receivers", "both", "all-axes"])
def test_mdc_one_task_per_block_of_g(gchunks):
    """A G chunked along sources and/or receivers (and frequency): the data chunked like G's
    sources, one task (or partial result) per block of G and chunk of v per apply, each
    reading its block whole; equal to PyLops for input chunks that do not line up with G."""
    G = _kernel(5, 7, 10, "complex128")
    Gd = da.from_array(G, chunks=gchunks)
    Op, POp = MDC(Gd, 11, 2, dt=0.004), PWE.MDC(G, 11, 2, dt=0.004)
    x, y = rand(Op.dims, "float64", seed=1), rand(Op.dimsd, "float64", seed=2)
    fwd = Op @ da.from_array(x, chunks=(4, 3, 1))
    adj = Op.H @ da.from_array(y, chunks=(11, 2, 2))
    assert fwd.chunks[:2] == ((11,), Gd.chunks[1]) and adj.chunks[:2] == ((11,), Gd.chunks[2])
    for out, nv_blocks in ((fwd, 2), (adj, 1)):
        g = dict(out.__dask_graph__())
        readers = {}
        for k in g:
            for d in get_dependencies(g, k):
                if isinstance(d, tuple) and d[0] == Gd.name:
                    readers[d] = readers.get(d, 0) + 1
        # every block of G read whole (never sliced) by one task per chunk of v
        assert readers == {k: nv_blocks for k in flatten(Gd.__dask_keys__())}
    np.testing.assert_allclose(fwd.compute().ravel(), POp @ x.ravel(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(adj.compute().ravel(), POp.H @ y.ravel(), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("kwargs,match", [
    (dict(nt=10), "odd"),
    (dict(G=np.ones((7, 2, 2), complex)), "frequencies"),
    (dict(G=np.ones((3, 2)), nt=11), "3-D"),
])
def test_mdc_errors(kwargs, match):
    args = dict(G=np.ones((3, 2, 2), complex), nt=11, nv=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        MDC(**args)


def _mdc_problem(gchunks=(3, 4, 6)):
    G = _kernel(6, 4, 6, "complex128")
    Op = MDC(da.from_array(G, chunks=gchunks), 11, 2, dt=0.004)
    POp = PWE.MDC(G, 11, 2, dt=0.004)
    y = (POp @ rand((11, 6, 2), "float64").ravel()).reshape(11, 4, 2)
    return Op, POp, y


@pytest.mark.parametrize("gchunks", [(3, 4, 6), (6, 2, 6), (6, 3, 4)],
                         ids=["frequency-stages", "source-blocks", "source-receiver-blocks"])
def test_mdc_cgls_matches_pylops(scheduler, gchunks):
    """CGLS on MDC, threads and the 2-process cluster: G in 2 frequency blocks (staged), in
    source blocks and in source x receiver blocks (the fused kernel)."""
    Op, POp, y = _mdc_problem(gchunks)
    xo = cgls(Op, da.from_array(y, chunks=(11, 4, 2)), niter=4, tol=0)[0]
    xr = pylops.optimization.basic.cgls(POp, y.ravel(), niter=4, tol=0)[0]
    np.testing.assert_allclose(xo.compute().ravel(), xr.ravel(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("gchunks", [(3, 4, 6), (6, 2, 6)], ids=["frequency", "sources"])
def test_mdc_lsqr_matches_pylops(gchunks):
    Op, POp, y = _mdc_problem(gchunks)
    xo = lsqr(Op, da.from_array(y, chunks=(11, 4, 1)), niter=8, atol=0, btol=0)[0]
    xr = pylops.optimization.basic.lsqr(POp, y.ravel(), niter=8, atol=0, btol=0)[0]
    np.testing.assert_allclose(xo.compute().ravel(), xr.ravel(), rtol=1e-9, atol=1e-10)


# --- MDD -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(), dict(twosided=False), dict(causality_precond=True, smooth_precond=3),
    dict(adjoint=True, psf=True), dict(wav=np.hanning(5), nfmax=6), dict(add_negative=False),
], ids=["default", "onesided", "precond", "adjoint-psf", "wav", "no-negative"])
@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
def test_mdd_like_pylops(kwargs, lazy):
    rng = np.random.default_rng(0)
    nt = 17 if kwargs.get("add_negative", True) is False else 9
    G, d = rng.standard_normal((4, 3, nt)), rng.standard_normal((4, 2, nt))
    Gin, din = (da.from_array(G, chunks=(2, 3, nt)), da.from_array(d, chunks=(2, 1, nt))) \
        if lazy else (G, d)
    solver = dict(iter_lim=6, atol=0, btol=0)
    ours = MDD(Gin, din, dt=0.004, **solver, **kwargs)
    ref = PWE.MDD(G, d, dt=0.004, **solver, **kwargs)
    ours, ref = (ours, ref) if isinstance(ref, tuple) else ((ours,), (ref,))
    assert len(ours) == len(ref)
    for a, b in zip(dask.compute(*ours), ref):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10 * np.abs(b).max())


def test_mdd_one_virtual_source_and_callback():
    """2-D data (nv=1), and a callback (CGLS, as PyLops) with frequency chunks given."""
    rng = np.random.default_rng(1)
    G, d = rng.standard_normal((4, 3, 9)), rng.standard_normal((4, 9))
    ours = MDD(G, d, dt=0.004, iter_lim=5, atol=0, btol=0, chunks=2)
    ref = PWE.MDD(G, d, dt=0.004, iter_lim=5, atol=0, btol=0)
    np.testing.assert_allclose(ours.compute(), ref, rtol=1e-8, atol=1e-12)
    seen = []
    ours = MDD(G, d, dt=0.004, niter=5, tol=0, callback=lambda x: seen.append(1))
    ref = PWE.MDD(G, d, dt=0.004, niter=5, tol=0, callback=lambda x: None)
    np.testing.assert_allclose(ours.compute(), ref, rtol=1e-8, atol=1e-12)
    assert seen


# --- one-way propagation ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("three_d", [False, True], ids=["2d", "3d"])
def test_phaseshift_like_pylops(dtype, three_d):
    nt, nx, ny, dt, dx = 21, 16, 7, 0.004, 10.0
    freq, kx = np.fft.rfftfreq(nt, dt), np.fft.fftshift(np.fft.fftfreq(nx, dx))
    ky = np.fft.fftshift(np.fft.fftfreq(ny, dx)) if three_d else None
    Op = PhaseShift(1500.0, 20.0, nt, freq, kx, ky, dtype=dtype)
    POp = PWE.PhaseShift(1500.0, 20.0, nt, freq, kx, ky, dtype=dtype)
    for chunks in ([(nt, nx), (7, 16), (5, 4)] if not three_d
                   else [(nt, 8, ny), (7, 16, 3)]):
        assert_like_pylops(Op, POp, chunks, dtype)


def test_phaseshift_errors():
    with pytest.raises(ValueError, match="frequencies"):
        PhaseShift(1500.0, 20.0, 21, np.arange(5.0), np.arange(4.0))


@pytest.mark.parametrize("kwargs", [dict(win="ones"), dict(pd=0.1, kind="vz")])
def test_deghosting_like_pylops(kwargs):
    p = np.random.default_rng(0).standard_normal((41, 30))
    kwargs = dict(kwargs)
    if "win" in kwargs:
        kwargs["win"] = np.ones_like(p)
    if "pd" in kwargs:
        kwargs["pd"] = kwargs["pd"] * p
    args = (41, 30, 0.004, 10.0, 1500.0, 15.0)
    solver = dict(npad=5, ntaper=5, iter_lim=5, atol=0, btol=0)
    pup, pdown = Deghosting(p, *args, chunks=(41, 15), **solver, **kwargs)
    ref = PWE.Deghosting(p, *args, **solver, **kwargs)
    np.testing.assert_allclose(pup.compute(), ref[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(pdown.compute(), ref[1], rtol=1e-8, atol=1e-10)


def test_deghosting_3d():
    """PyLops' 3-D Deghosting fails (fftfreq with the dr pair): compared with the problem
    assembled from PyLops' operators and solved by PyLops' LSQR."""
    from pylops.utils.tapers import taper3d

    nt, nr, dr = 21, (8, 6), (10.0, 12.0)
    p = np.random.default_rng(0).standard_normal((nt,) + nr)
    pup, pdown = Deghosting(p, nt, nr, 0.004, dr, 1500.0, 15.0, win=np.ones_like(p),
                            npad=(2, 2), ntaper=(3, 3), niter=4, atol=0, btol=0)
    kx = np.fft.ifftshift(np.fft.fftfreq(nr[0] + 4, dr[0]))
    ky = np.fft.ifftshift(np.fft.fftfreq(nr[1] + 4, dr[1]))
    Padop = pylops.Pad((nt,) + nr, ((0, 0), (2, 2), (2, 2)))
    taper = taper3d(nt, nr, (3, 3)).transpose(2, 0, 1)
    Pop = -Padop.H * PWE.PhaseShift(1500.0, 30.0, nt, np.fft.rfftfreq(nt, 0.004), kx, ky) \
        * Padop * pylops.Diagonal(taper.ravel(), dtype="complex128")
    Dop = pylops.Identity(p.size) + Pop
    ref = np.real(pylops.optimization.basic.lsqr(Dop, p.ravel(), niter=4, atol=0, btol=0)[0])
    np.testing.assert_allclose(pup.compute().ravel(), ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(pdown.compute().ravel(), p.ravel() - ref, atol=1e-10)


# --- wavefield decomposition -----------------------------------------------------------------

ARGS2 = (40, 32, 0.004, 10.0, 1000.0, 1500.0)
ARGS3 = (20, (12, 11), 0.004, (10.0, 10.0), 1000.0, 1500.0)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("kwargs", [dict(), dict(nffts=(40, 50), topressure=True)])
def test_pressure_to_velocity_like_pylops(dtype, kwargs):
    Op = PressureToVelocity(*ARGS2, dtype=dtype, **kwargs)
    POp = PWE.PressureToVelocity(*ARGS2, dtype=dtype, **kwargs)
    rdtype = "float32" if dtype == "complex64" else "float64"
    for chunks in [(32, 40), (8, 40), (32, 10)]:
        assert_like_pylops(Op, POp, chunks, rdtype)
    assert_like_pylops(Op, POp, (16, 20), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nffts", [(None, None), (40, 50), (48, 45)])
def test_pressure_to_velocity_real_dtype_like_pylops(dtype, nffts):
    """A real dtype: the spatial FFT acts on complex spectra (it dropped their imaginary
    part when padded, error 0.6)."""
    Op = PressureToVelocity(*ARGS2, nffts=nffts, dtype=dtype)
    POp = PWE.PressureToVelocity(*ARGS2, nffts=nffts, dtype=dtype)
    for chunks in [(32, 40), (8, 40)]:
        assert_like_pylops(Op, POp, chunks, dtype)


def test_pressure_to_velocity_3d():
    Op = PressureToVelocity(*ARGS3, ntaper=3)
    POp = PWE.PressureToVelocity(*ARGS3, ntaper=3)
    for chunks in [(6, 11, 20), (12, 11, 5)]:
        assert_like_pylops(Op, POp, chunks, "float64")


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("kwargs", [dict(), dict(nffts=(40, 50), scaling=2.0)])
def test_updown_composition_2d_like_pylops(dtype, kwargs):
    Op = UpDownComposition2D(*ARGS2, dtype=dtype, **kwargs)
    POp = PWE.UpDownComposition2D(*ARGS2, dtype=dtype, **kwargs)
    assert Op.dims == Op.dimsd == (2, 32, 40)
    for chunks in [(2, 32, 40), (1, 8, 40), (2, 32, 10)]:
        assert_like_pylops(Op, POp, chunks, dtype)


def test_updown_composition_3d_like_pylops():
    Op = UpDownComposition3D(*ARGS3, ntaper=3, scaling=0.5)
    POp = PWE.UpDownComposition3D(*ARGS3, ntaper=3, scaling=0.5)
    for chunks in [(2, 6, 11, 20), (2, 12, 11, 5)]:
        assert_like_pylops(Op, POp, chunks, "float64")


@pytest.mark.parametrize("kwargs", [dict(kind="inverse", iter_lim=4, atol=0, btol=0),
                                    dict(kind="analytical", nffts=(32, 40))])
def test_wavefield_decomposition_like_pylops(kwargs):
    rng = np.random.default_rng(0)
    p, vz = rng.standard_normal((32, 40)), rng.standard_normal((32, 40))
    pup, pdown = WavefieldDecomposition(p, vz, *ARGS2, chunks=(16, 40), **kwargs)
    ref = PWE.WavefieldDecomposition(p, vz, *ARGS2, **kwargs)
    for a, b in zip((pup, pdown), ref):  # LSQR on a complex operator: 1e-8 of the largest
        np.testing.assert_allclose(a.compute(), b, rtol=0, atol=1e-8 * np.abs(b).max())


# --- blending --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("cls", [BlendingGroup, BlendingHalf])
def test_blending_group_half_like_pylops(cls, dtype):
    times = np.random.default_rng(0).uniform(0, 0.02, (2, 3))
    Op = cls(30, 4, 6, 0.004, times, 2, 3, dtype=dtype)
    POp = getattr(PWE, cls.__name__)(30, 4, 6, 0.004, times, 2, 3, dtype=dtype)
    for chunks in [(6, 4, 30), (2, 4, 30), (1, 2, 10), (4, 3, 30)]:  # along sources, time
        assert_like_pylops(Op, POp, chunks, dtype)
    # the adjoint's kernel on boxes (the forward's is additive over sources only: time whole)
    check_kernel_boxes(Op, POp, True, dtype, [((0, 0, 0), (3, 4, 30)), ((4, 2, 0), (6, 4, 30))])


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128"])
@pytest.mark.parametrize("shiftall", [False, True])
def test_blending_continuous_like_pylops(shiftall, dtype):
    times = np.array([0.0, 0.0213, 0.05, 0.0711, 0.032])
    Op = BlendingContinuous(30, 3, 5, 0.004, times, shiftall=shiftall, dtype=dtype)
    POp = PWE.BlendingContinuous(30, 3, 5, 0.004, times, shiftall=shiftall, dtype=dtype)
    assert Op.dimsd == (3, POp.nttot)
    with warnings.catch_warnings():  # PyLops' note on complex64 (float32) comes at its build
        warnings.simplefilter("error")
        for chunks in [(5, 3, 30), (2, 3, 30), (1, 2, 10)]:
            assert_like_pylops(Op, POp, chunks, dtype)
    check_kernel_boxes(Op, POp, True, dtype, [((0, 0, 0), (2, 3, 30)), ((3, 1, 0), (5, 2, 30))])


@pytest.mark.parametrize("shiftall", [False, True])
def test_blending_continuous_shortest_record_like_pylops(shiftall):
    """``nttot`` just long enough, as PyLops allows: shots on the time grid take ``nt``
    samples, shots shifted by a fraction of a sample (or all, with ``shiftall``) one more."""
    dt = 0.25  # times exact in binary: 1.5 is on the grid, 0.8 is not
    times = np.array([0.0, 0.75, 1.5, 0.8]) if not shiftall else np.array([0.0, 0.75])
    ns = times.size
    nttot = 16 if not shiftall else 14  # last start 6 + nt; 3 + nt + 1 with shiftall
    Op = BlendingContinuous(10, 2, ns, dt, times, shiftall=shiftall, nttot=nttot)
    POp = PWE.BlendingContinuous(10, 2, ns, dt, times, shiftall=shiftall, nttot=nttot)
    for chunks in [(ns, 2, 10), (1, 1, 10)]:
        assert_like_pylops(Op, POp, chunks, "float64")
    with pytest.raises(ValueError, match="fit"):
        BlendingContinuous(10, 2, ns, dt, times, shiftall=shiftall, nttot=nttot - 1)


def test_blending_fused_solver(scheduler):
    """CGLS on group blending with the data chunked along groups: the fused backend."""
    times = np.random.default_rng(0).uniform(0, 0.02, (2, 4))
    Op = BlendingGroup(24, 3, 8, 0.004, times, 2, 4)
    POp = PWE.BlendingGroup(24, 3, 8, 0.004, times, 2, 4)
    y = (POp @ rand((8, 3, 24), "float64").ravel()).reshape(4, 3, 24)
    xo = cgls(Op, da.from_array(y, chunks=(2, 3, 24)), niter=6, tol=0, damp=0.1)[0]
    xr = pylops.optimization.basic.cgls(POp, y.ravel(), niter=6, tol=0, damp=0.1)[0]
    np.testing.assert_allclose(xo.compute().ravel(), xr.ravel(), rtol=1e-9, atol=1e-10)


def test_blending_errors():
    with pytest.raises(ValueError, match="group_size"):
        BlendingGroup(10, 2, 6, 0.004, np.zeros((3, 3)), 2, 3)
    with pytest.raises(ValueError, match="ns"):
        BlendingHalf(10, 2, 5, 0.004, np.zeros((2, 3)), 2, 3)
    with pytest.raises(ValueError, match=r"shape \(ns,\)"):
        BlendingContinuous(10, 2, 3, 0.004, np.zeros(4))
    with pytest.raises(ValueError, match="fit"):
        BlendingContinuous(10, 2, 2, 0.004, np.array([0.0, 0.1]), nttot=20)


# --- seismic interpolation -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["fk", "spatial", "radon-linear"])
def test_seismic_interpolation_like_pylops(kind):
    rng = np.random.default_rng(0)
    nr, nt = 20, 32
    iava = np.sort(rng.permutation(nr)[:12])
    data = rng.standard_normal((12, nt))
    kw = {"fk": dict(nffts=(32, 32), sampling=(1.0, 0.004), niter=5, eps=0.1),
          "spatial": dict(epsRs=[0.1], iter_lim=10, atol=0, btol=0),
          "radon-linear": dict(taxis=np.arange(nt) * 0.004, spataxis=np.arange(nr) * 10.0,
                               paxis=np.linspace(-1e-3, 1e-3, 11), niter=5, eps=0.1,
                               engine="numpy")}[kind]
    rec, prec, cost = SeismicInterpolation(data, nr, iava, kind=kind, **kw)
    ref = PWE.SeismicInterpolation(data, nr, iava, kind=kind, **kw)
    np.testing.assert_allclose(rec.compute(), ref[0], rtol=1e-8, atol=1e-10)
    if kind == "spatial":
        assert prec is None and cost is None
    else:
        np.testing.assert_allclose(prec.compute(), ref[1], rtol=1e-8, atol=1e-10)


def test_seismic_interpolation_errors():
    with pytest.raises(ValueError, match="2 or 3"):
        SeismicInterpolation(np.ones(5), 5, np.arange(5))
    with pytest.raises(KeyError, match="kind"):
        SeismicInterpolation(np.ones((3, 4)), 5, np.arange(3), kind="nope")
    with pytest.raises(ValueError, match="sampling"):
        SeismicInterpolation(np.ones((3, 4)), 5, np.arange(3), kind="fk", nffts=(8, 8))


def test_names_like_pylops():
    ours = set(wep.__all__)
    assert ours <= set(PWE.__all__)
    assert set(PWE.__all__) - ours == {"AcousticWave2D"}  # Devito's, not distributed
