"""Least-squares wrappers (``optimization.leastsquares``) against PyLops' on the same problems.

PyLops' own parametrizations (``pytests/test_leastsquares.py``: square and overdetermined,
real and complex, with and without ``x0``), on chunked operators and data, with PyLops run on
its own solvers (``engine="pylops"``) or on SciPy's (its default) when the call uses SciPy's
argument names.
"""

import logging

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from pylops.optimization import leastsquares as pls

import pylops_distributed as pld
from pylops_distributed.optimization import leastsquares as ls
from pylops_distributed.optimization.leastsquares import (NormalEquationsInversion,
                                                          PreconditionedInversion,
                                                          RegularizedInversion)

PARS = [dict(ny=ny, nx=11, imag=imag, x0=x0, dtype=dt)
        for ny in (11, 31) for x0 in (False, True)
        for imag, dt in ((0, "float64"), (1j, "complex128"))]
IDS = [f"{p['ny']}x{p['nx']}-{p['dtype']}-{'x0' if p['x0'] else 'zeros'}" for p in PARS]


def _problem(par, chunk=4):
    rng = np.random.default_rng(10)
    ny, nx, imag, dt = par["ny"], par["nx"], par["imag"], par["dtype"]
    G = (rng.normal(0, 10, (ny, nx)) + imag * rng.normal(0, 10, (ny, nx))).astype(dt)
    x = np.ones(nx) + imag * np.ones(nx)
    x0 = (rng.normal(0, 1, nx) + imag * rng.normal(0, 1, nx)) if par["x0"] else None
    ours = pld.MatrixMult(da.from_array(G, chunks=(chunk, nx)), dtype=dt)
    return ours, pylops.MatrixMult(G, dtype=dt), G @ x, x, x0


def _close(a, b, rtol=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


@pytest.mark.parametrize("par", PARS, ids=IDS)
def test_normal_equations_like_pylops(scheduler, par):
    Op, POp, y, x, x0 = _problem(par)
    nx, ny, dt = par["nx"], par["ny"], par["dtype"]
    Reg, PReg = pld.Identity(nx, dtype=dt), pylops.MatrixMult(np.eye(nx), dtype=dt)
    w = np.arange(1.0, ny + 1)
    W, PW = pld.Diagonal(da.from_array(w, chunks=4), dtype=dt), pylops.Diagonal(w, dtype=dt)
    d = np.linspace(0, 1, nx).astype(dt)
    kw = dict(epsI=0.5, epsRs=[0.3], dataregs=[d], x0=x0)
    ours, istop = ls.normal_equations_inversion(Op, y, [Reg], Weight=W, niter=40, tol=0, **kw)
    ref = pls.normal_equations_inversion(POp, y, [PReg], Weight=PW, engine="pylops", niter=40,
                                         tol=0, **kw)[0]
    assert istop is None and ours.shape == (nx,)
    _close(ours.compute(), ref)
    # SciPy's argument names, as in PyLops' tests: the true model to PyLops' decimals
    ours = ls.normal_equations_inversion(Op, y, [Reg], epsRs=[1e-8], x0=x0,
                                         **dict(maxiter=200, tol=1e-10))[0]
    np.testing.assert_array_almost_equal(ours.compute(), x, decimal=3)


@pytest.mark.parametrize("par", PARS, ids=IDS)
def test_regularized_like_pylops(scheduler, par):
    Op, POp, y, x, x0 = _problem(par)
    nx, ny, dt = par["nx"], par["ny"], par["dtype"]
    D, PD = pld.FirstDerivative(nx, dtype=dt), pylops.FirstDerivative(nx, dtype=dt)
    w = np.sqrt(np.arange(1.0, ny + 1))
    W, PW = pld.Diagonal(w, dtype=dt), pylops.Diagonal(w, dtype=dt)
    d = np.linspace(0, 1, nx).astype(dt)
    kw = dict(epsRs=[0.5], dataregs=[d], x0=x0)
    # PyLops' own engine: CGLS on both sides
    ours = ls.regularized_inversion(Op, y, [D], Weight=W, niter=15, tol=0, **kw)
    ref = pls.regularized_inversion(POp, y, [PD], Weight=PW, engine="pylops", niter=15, tol=0,
                                    **kw)
    _close(ours[0].compute(), ref[0])
    assert ours[2] == ref[2] == 15
    _close(ours[3:5], ref[3:5], 1e-5)
    # SciPy's names select LSQR, as PyLops' default engine runs SciPy's lsqr
    ours = ls.regularized_inversion(Op, y, [D], Weight=W, iter_lim=15, atol=0, btol=0,
                                    conlim=0, **kw)
    ref = pls.regularized_inversion(POp, y, [PD], Weight=PW, iter_lim=15, atol=0, btol=0,
                                    conlim=0, **kw)
    _close(ours[0].compute(), ref[0])
    _close(ours[3:5], ref[3:5], 1e-5)
    # no regularization: the weighted problem alone, as PyLops' test
    xinv = ls.regularized_inversion(Op, y, None, Weight=W, x0=x0,
                                    **dict(damp=0, iter_lim=200, show=0))[0]
    np.testing.assert_array_almost_equal(xinv.compute(), x, decimal=3)


@pytest.mark.parametrize("par", PARS, ids=IDS)
def test_preconditioned_like_pylops(scheduler, par):
    Op, POp, y, _, x0 = _problem(par)
    dt = par["dtype"]
    P, PP = pld.Smoothing1D(5, dims=par["nx"], dtype=dt), pylops.Smoothing1D(5, dims=par["nx"],
                                                                             dtype=dt)
    ours = ls.preconditioned_inversion(Op, y, P, x0=x0, niter=6, tol=0)
    ref = pls.preconditioned_inversion(POp, y, PP, x0=x0, engine="pylops", niter=6, tol=0)
    _close(ours[0].compute(), ref[0])
    ours = ls.preconditioned_inversion(Op, y, P, x0=x0, **dict(damp=0, iter_lim=6, show=0,
                                                              atol=0, btol=0))
    ref = pls.preconditioned_inversion(POp, y, PP, x0=x0, **dict(damp=0, iter_lim=6, show=0,
                                                                 atol=0, btol=0))
    _close(ours[0].compute(), ref[0])


def test_default_engine_runs_to_convergence_as_scipy():
    """No solver arguments: PyLops' default engine runs SciPy's cg/lsqr to their tolerances;
    ours runs our CG/LSQR with SciPy's defaults: the least-squares solution, flat."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((80, 60))
    y = A @ rng.standard_normal(60)
    D = pld.SecondDerivative(60)
    PD = pylops.SecondDerivative(60)
    Op = pld.MatrixMult(da.from_array(A, chunks=(20, 60)))
    with dask.config.set(scheduler="threads"):
        for ours_fn, ref_fn, args in (
                (ls.regularized_inversion, pls.regularized_inversion, ([D], [PD])),
                (ls.normal_equations_inversion, pls.normal_equations_inversion, ([D], [PD]))):
            ours = ours_fn(Op, y, args[0], epsRs=[0.5])[0].compute()
            ref = ref_fn(pylops.MatrixMult(A), y, args[1], epsRs=[0.5])[0]
            assert ours.shape == ref.shape == (60,)
            _close(ours, ref, 1e-4)
        ours = ls.preconditioned_inversion(Op, y, D)[0].compute()
    ref = pls.preconditioned_inversion(pylops.MatrixMult(A), y, PD)[0]
    # ill-conditioned (a second derivative as preconditioner): our LSQR tests SciPy's
    # tolerances at checks, a few iterations later; the fits agree, not every digit
    misfit = [np.linalg.norm(A @ v - y) / np.linalg.norm(y) for v in (ours, ref)]
    assert ours.shape == ref.shape == (60,) and abs(misfit[0] - misfit[1]) < 0.05 * misfit[1]


def test_weighted_normal_equations_equal_weighted_regularized():
    """PyLops' test_WeightedInversion: W in the normal equations, sqrt(W) in the stack."""
    par = PARS[2]
    Op, _, y, _, _ = _problem(par)
    w = np.arange(par["ny"], dtype=float)
    with dask.config.set(scheduler="threads"):
        xne = ls.normal_equations_inversion(Op, y, None, Weight=pld.Diagonal(w), niter=5,
                                            tol=0)[0]
        xreg = ls.regularized_inversion(Op, y, None, Weight=pld.Diagonal(np.sqrt(w)), niter=5,
                                        tol=0)[0]
        np.testing.assert_array_almost_equal(xne.compute(), xreg.compute(), decimal=3)


def test_nd_model_shapes_as_pylops(caplog):
    """A 2-D model: flat estimate by default (PyLops' default, SciPy's solvers), of the model's
    shape with engine="pylops" (as PyLops' own engine gives it), for N-D or flat data; the
    stacked problem is solved on the fused path (no plain-backend warning)."""
    dims = (12, 10)
    rng = np.random.default_rng(0)
    xtrue = rng.standard_normal(dims)
    Op = pld.Smoothing2D((3, 3), dims)
    Reg = pld.Laplacian(dims)
    y = pylops.Smoothing2D((3, 3), dims) @ xtrue
    ref = pls.regularized_inversion(pylops.Smoothing2D((3, 3), dims), y.ravel(),
                                    [pylops.Laplacian(dims)], epsRs=[0.1], engine="pylops",
                                    niter=20, tol=0)[0]
    assert ref.shape == dims
    caplog.set_level(logging.INFO, logger="pylops_distributed")
    with dask.config.set(scheduler="threads"):
        for data in (da.from_array(y, chunks=(6, 10)), y.ravel()):
            nd = ls.regularized_inversion(Op, data, [Reg], epsRs=[0.1], engine="pylops",
                                          niter=20, tol=0)[0]
            flat = ls.regularized_inversion(Op, data, [Reg], epsRs=[0.1], niter=20, tol=0)[0]
            assert nd.shape == dims and flat.shape == (120,)
            _close(nd.compute(), ref)
            _close(flat.compute(), ref.ravel())
    assert not [r for r in caplog.records if "plain dask.array" in r.getMessage()]


def test_classes_setup_run_and_callbacks():
    """The classes as PyLops': setup then run, step refused, callbacks called around run."""
    Op, POp, y, _, _ = _problem(PARS[0])
    seen = []

    class Spy(pylops.optimization.callback.Callbacks):
        def on_run_end(self, solver, x):
            seen.append(type(solver).__name__)

    with dask.config.set(scheduler="threads"):
        for cls, args in ((NormalEquationsInversion, ([pld.Identity(11)],)),
                          (RegularizedInversion, ([pld.Identity(11)],)),
                          (PreconditionedInversion, (pld.Identity(11),))):
            solver = cls(Op, callbacks=[Spy()])
            solver.setup(y, *args)
            out = solver.run(None, niter=5)
            assert out[0].shape == (11,)
            with pytest.raises(NotImplementedError, match="use run or solve"):
                cls(Op).step()
    assert seen == ["NormalEquationsInversion", "RegularizedInversion", "PreconditionedInversion"]


@pytest.mark.parametrize("call,match", [
    (lambda Op, y: ls.regularized_inversion(Op, y, [pld.Identity(11)], engine="scipy"),
     "engine='scipy'"),
    (lambda Op, y: ls.normal_equations_inversion(Op, y, None, engine="numpy"), "engine must be"),
    (lambda Op, y: ls.regularized_inversion(Op, y, [pld.Identity(11)], epsRs=[1, 2]),
     "same size"),
    (lambda Op, y: ls.normal_equations_inversion(Op, y, [pld.Identity(11)],
                                                 dataregs=[np.ones(11)] * 2), "same size"),
    (lambda Op, y: ls.normal_equations_inversion(Op, y, pld.Identity(11)), "list of operators"),
    (lambda Op, y: ls.regularized_inversion(Op, y, None, rtol=1e-3), "rtol"),
    (lambda Op, y: ls.regularized_inversion(Op, y[:-1], None), "expected shape"),
    (lambda Op, y: ls.regularized_inversion(Op, y, None, niter=3, iter_lim=3), "not both"),
])
def test_bad_inputs_raise_before_any_compute(call, match):
    Op, _, y, _, _ = _problem(PARS[0])
    with dask.config.set(scheduler="sync"):
        with pytest.raises((ValueError, TypeError, NotImplementedError), match=match):
            call(Op, y)


def test_regularizer_on_the_flat_model_with_data(scheduler):
    """``Identity(N)`` on a (6, 3) model with ``dataregs`` (PyLops takes it): its adjoint of
    the data is flat, added to the model-shaped normal data."""
    rng = np.random.default_rng(0)
    A = np.eye(6) * 3 + 0.3 * rng.standard_normal((6, 6))
    y, dreg = rng.standard_normal(18), rng.standard_normal(18)
    kw = dict(epsRs=[0.5], engine="pylops", niter=5, tol=0)
    ref = pls.normal_equations_inversion(pylops.MatrixMult(A, otherdims=(3,)), y,
                                         [pylops.Identity(18)], dataregs=[dreg], **kw)[0]
    x = ls.normal_equations_inversion(pld.MatrixMult(da.from_array(A), otherdims=(3,)),
                                      da.from_array(y, chunks=9), [pld.Identity(18)],
                                      dataregs=[da.from_array(dreg, chunks=6)], **kw)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), np.ravel(ref), rtol=1e-10)


def test_operand_shared_with_the_data_has_one_task(scheduler):
    """``Op^H y`` and ``Op^H Op`` both read ``conj(d)``: the solver persists the data and the
    operands in one graph, so the scheduler never sees one key for two tasks (the
    ``scheduler`` fixture fails the test on its "different run_spec" warning)."""
    rng = np.random.default_rng(0)
    d = (1 + rng.random(10)) * np.exp(1j * rng.random(10))
    y = rng.standard_normal(10) + 1j * rng.standard_normal(10)
    kw = dict(epsI=0.5, engine="pylops", niter=5, tol=0)
    ref = pls.normal_equations_inversion(pylops.Diagonal(d, dtype="complex128"), y, None, **kw)[0]
    Op = pld.Diagonal(da.from_array(d, chunks=10), dtype="complex128")
    x = ls.normal_equations_inversion(Op, da.from_array(y, chunks=((5, 5),)), None, **kw)[0]
    np.testing.assert_allclose(np.asarray(x.compute()), ref, rtol=1e-12)


@pytest.mark.parametrize("with_x0", [False, True])
def test_normal_equations_of_an_hstack(with_x0, scheduler):
    """``Op^H Op`` of an HStack is square with a stacked model: CG's x and y are stacked alike
    (it failed: "cannot combine a data vector with a 'model' one")."""
    rng = np.random.default_rng(0)
    dims = (8, 7)
    d = 1 + rng.random(dims)
    y, x0 = rng.standard_normal(56), 0.5 * rng.standard_normal(112)
    kw = dict(engine="pylops", niter=5, tol=0)
    POp = pylops.HStack([pylops.Diagonal(d), 0.3 * pylops.Smoothing1D(5, dims, axis=1)])
    ref = pls.normal_equations_inversion(POp, y, None, x0=x0 if with_x0 else None, **kw)[0]
    Op = pld.HStack([pld.Diagonal(da.from_array(d, chunks=(4, 7))),
                     0.3 * pld.Smoothing1D(5, dims, axis=1)])
    x = ls.normal_equations_inversion(Op, da.from_array(y, chunks=28), None,
                                      x0=da.from_array(x0, chunks=56) if with_x0 else None, **kw)[0]
    np.testing.assert_allclose(np.asarray(x.compute()).ravel(), np.ravel(ref), rtol=1e-10)
