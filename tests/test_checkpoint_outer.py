"""Checkpoints of the outer-loop solvers (IRLS, Split Bregman, OMP): saved at outer
iterations, resumed with the answer of an uninterrupted run, refused for another problem."""

import dask.array as da
import numpy as np
import pylops
import pytest

import pylops_distributed as pld
from pylops_distributed.optimization.sparsity import irls, omp, splitbregman


def _irls(kind):
    def solve(nouter, x0=None, epsR=1e-2, **kw):
        rng = np.random.default_rng(10)
        A = rng.normal(0, 10, (31, 11))
        y = A @ np.ones(11)
        y[29] *= 5
        Op = pld.MatrixMult(da.from_array(A, chunks=(10, 11)))
        return irls(Op, da.from_array(y, chunks=10), x0=x0, nouter=nouter, epsR=epsR, epsI=0,
                    tolIRLS=0, kind=kind, **kw)
    return solve


def _tv(nouter, x0=None, epsR=0.1, **kw):
    dims = (20, 16)
    rng = np.random.default_rng(1)
    xt = np.zeros(dims)
    xt[5:12, 4:10] = 1.0
    y = (pylops.Smoothing2D((3, 3), dims) @ xt.ravel()).reshape(dims)
    y = y + 0.01 * rng.standard_normal(dims)
    return splitbregman(
        pld.Smoothing2D((3, 3), dims), da.from_array(y, chunks=(10, 16)),
        [pld.FirstDerivative(dims, axis=0, edge=False), pld.FirstDerivative(dims, axis=1, edge=False)],
        x0=x0, niter_outer=nouter, niter_inner=2, mu=1.0, epsRL1s=[epsR, epsR], tol=1e-12, iter_lim=10,
        **kw)


def _omp(niter_inner):
    def solve(nouter, epsR=0.0, callback=None, **kw):
        rng = np.random.default_rng(4)
        A = rng.standard_normal((40, 60))
        x = np.zeros(60)
        x[[2, 9, 17, 25, 33, 41, 50, 58]] = rng.uniform(1, 2, 8)
        Op = pld.MatrixMult(da.from_array(A, chunks=(10, 60)))
        return omp(Op, da.from_array(A @ x, chunks=10), niter_outer=nouter,
                   niter_inner=niter_inner, sigma=epsR,
                   callback=None if callback is None else (lambda x, cols: callback(x)), **kw)
    return solve


SOLVERS = {"irls-data": _irls("data"), "irls-datamodel": _irls("datamodel"),
           "irls-model": _irls("model"), "splitbregman": _tv, "omp": _omp(20), "mp": _omp(0)}


def _x(out):
    return np.asarray(out[0].compute())


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_resume_gives_the_uninterrupted_answer(name, scheduler, tmp_path):
    solve = SOLVERS[name]
    ref = solve(6)
    solve(3, checkpoint=tmp_path / "ck")
    resumed = solve(6, checkpoint=tmp_path / "ck")
    np.testing.assert_allclose(_x(resumed), _x(ref), rtol=1e-12, atol=1e-14)
    assert resumed[1] == ref[1] == 6
    if name in ("splitbregman", "omp", "mp"):
        np.testing.assert_allclose(resumed[2], ref[2], rtol=1e-12)


@pytest.mark.parametrize("name", ["irls-data", "splitbregman", "omp"])
def test_interrupted_solve_resumes_and_runs_only_what_is_left(name, tmp_path):
    """A solve stopped by an error in its callback after outer iteration 4 (saves every 2):
    the same call again runs iterations 5 and 6 only."""
    solve, seen = SOLVERS[name], []
    ref = solve(6)

    def boom(x):
        seen.append(1)
        if len(seen) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        solve(6, checkpoint=tmp_path / "ck", checkpoint_every=2, callback=boom)
    seen.clear()
    out = solve(6, checkpoint=tmp_path / "ck", checkpoint_every=2, callback=lambda x: seen.append(1))
    assert len(seen) == 2
    np.testing.assert_allclose(_x(out), _x(ref), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["irls-data", "splitbregman", "omp"])
def test_another_problem_is_refused(name, tmp_path):
    solve = SOLVERS[name]
    solve(2, checkpoint=tmp_path / "ck")
    with pytest.raises(ValueError, match="written by another problem.*(eps|sigma)"):
        solve(4, epsR=1e-9, checkpoint=tmp_path / "ck")
    if name == "omp":
        return
    with pytest.raises(ValueError, match="written by another problem.*x0"):
        solve(4, x0=da.ones(11 if name.startswith("irls") else (20, 16)),
              checkpoint=tmp_path / "ck")


@pytest.mark.parametrize("name", ["irls-data", "splitbregman", "omp"])
def test_bad_checkpoint_arguments(name, tmp_path):
    solve = SOLVERS[name]
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1"):
        solve(2, checkpoint=tmp_path / "ck", checkpoint_every=0)
    with pytest.raises(TypeError, match="checkpoint must be a folder path"):
        solve(2, checkpoint=5)
