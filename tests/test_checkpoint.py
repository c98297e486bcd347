"""Checkpointed solves: the state saved at checks, resumed with the answer of an uninterrupted
run, refused for another problem, never left half-written; a client killed mid-solve."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import dask
import dask.array as da
import numpy as np
import pyproximal
import pytest

import pylops_distributed as pld
from pylops_distributed.optimization import cg, cgls, lsqr
from pylops_distributed.optimization._checkpoint import Store
from pylops_distributed.optimization.proximal import ADMM, ProximalGradient
from pylops_distributed.optimization.sparsity import fista, ista, linearized_bregman

N, M = (48, 30), 30


def _deblur(seed=0):
    rng = np.random.default_rng(seed)
    x = da.from_array(rng.random(N), chunks=(12, 30))
    B = pld.Smoothing2D((5, 5), dims=N)
    y = (B @ x).persist()
    Op = pld.VStack([B, 0.05 * pld.Laplacian(N)])
    return Op, pld.StackedArray([y, da.zeros_like(y)]), B, y


def _spd(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((M, M))
    A = A @ A.T + 0.5 * np.eye(M)
    return pld.MatrixMult(da.from_array(A, chunks=(10, M))), A @ rng.standard_normal(M)


def _sparse(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((40, 60))
    x = np.zeros(60)
    x[[3, 17, 40]] = [1.0, -2.0, 1.5]
    return pld.MatrixMult(da.from_array(A, chunks=(10, 60))), A @ x


def _x(out):
    x = out[0] if isinstance(out, tuple) else out
    return np.asarray(x.compute() if hasattr(x, "compute") else x)


SOLVERS = {
    "cgls": (lambda n, **k: cgls(*_deblur()[:2], niter=n, tol=0, check_every=5, **k), 2),
    "lsqr": (lambda n, **k: lsqr(*_deblur()[:2], niter=n, check_every=5, **k), 2),
    "cg": (lambda n, **k: cg(*_spd(), niter=n, tol=0, check_every=4, **k), 1),
    "ista": (lambda n, **k: ista(*_sparse(), niter=n, eps=0.1, tol=0, check_every=5, **k), 1),
    "fista": (lambda n, **k: fista(*_sparse(), niter=n, eps=0.1, tol=0, check_every=5, **k), 1),
    "linearized_bregman": (lambda n, **k: linearized_bregman(
        *_sparse(), niter=n, thresh=0.5, tol=0, check_every=5, **k), 1),
    "ProximalGradient": (lambda n, **k: ProximalGradient(
        pyproximal.L2(Op=_sparse()[0], b=_sparse()[1]), pyproximal.L1(sigma=0.1),
        x0=da.zeros(60, chunks=20), tau=0.005, niter=n, acceleration="fista", check_every=5,
        **k), None),
    "ADMM": (lambda n, **k: ADMM(pyproximal.L2(b=np.linspace(-2, 2, 12)), pyproximal.Box(-1, 1),
                                 da.zeros(12, chunks=4), tau=1.0, niter=n, check_every=5, **k),
             None),
}


@pytest.mark.parametrize("name", sorted(SOLVERS))
def test_resume_gives_the_uninterrupted_answer(name, scheduler, tmp_path):
    solve, _ = SOLVERS[name]
    ref = solve(30)
    first = solve(20, checkpoint=tmp_path / "ck")  # a check of both runs
    assert Store(tmp_path / "ck").latest() == "it-20"
    resumed = solve(30, checkpoint=tmp_path / "ck")
    xr, xs = _x(ref), _x(resumed)
    assert np.abs(_x(first) - xr).max() > 1e-6 * np.abs(xr).max()  # not yet the answer
    np.testing.assert_allclose(xs, xr, rtol=1e-12, atol=1e-12 * np.abs(xr).max())
    if isinstance(ref, tuple):  # iteration count and cost history as the uninterrupted run's
        for a, b in zip(ref[1:], resumed[1:]):
            if isinstance(a, np.ndarray) and a.ndim == 1:
                np.testing.assert_allclose(b, a, rtol=1e-12)
            elif isinstance(a, (int, np.integer)):
                assert a == b


def test_finished_solve_resumes_at_its_end(tmp_path):
    Op, d, _, _ = _deblur(1)
    with dask.config.set(scheduler="threads"):
        a = cgls(Op, d, niter=10, tol=0, checkpoint=tmp_path / "ck")
        b = cgls(Op, d, niter=10, tol=0, checkpoint=tmp_path / "ck")
    np.testing.assert_array_equal(_x(a), _x(b))
    assert b[2] == 10 and list(b[-1]) == list(a[-1])


def test_checkpoint_every(tmp_path):
    Op, d, _, _ = _deblur(2)
    seen = []
    real_save = Store.save

    def spy(self, name, attrs, vectors):
        seen.append(name)
        return real_save(self, name, attrs, vectors)

    Store.save = spy
    try:
        with dask.config.set(scheduler="threads"):
            cgls(Op, d, niter=30, tol=0, check_every=5, checkpoint=tmp_path / "ck",
                 checkpoint_every=2)
    finally:
        Store.save = real_save
    assert seen == ["it-10", "it-20", "it-30"]
    assert sorted(os.listdir(tmp_path / "ck")) == ["LATEST", "it-30"]  # older saves removed


@pytest.mark.parametrize("change", ["data", "operator", "damp", "solver"])
def test_another_problem_is_refused(change, tmp_path):
    Op, d, B, y = _deblur(3)
    with dask.config.set(scheduler="threads"):
        cgls(Op, d, niter=10, tol=0, checkpoint=tmp_path / "ck")
        with pytest.raises(ValueError, match="written by another problem"):
            if change == "data":
                cgls(Op, pld.StackedArray([1.01 * y, da.zeros_like(y)]), niter=20, tol=0,
                     checkpoint=tmp_path / "ck")
            elif change == "operator":
                Op2 = pld.VStack([B, 0.07 * pld.Laplacian(N)])
                cgls(Op2, d, niter=20, tol=0, checkpoint=tmp_path / "ck")
            elif change == "damp":
                cgls(Op, d, niter=20, damp=0.1, tol=0, checkpoint=tmp_path / "ck")
            else:
                lsqr(Op, d, niter=20, checkpoint=tmp_path / "ck")


def test_a_killed_writer_leaves_the_previous_save(tmp_path, monkeypatch):
    Op, d, _, _ = _deblur(4)
    with dask.config.set(scheduler="threads"):
        ref = _x(cgls(Op, d, niter=30, tol=0, check_every=5))
        cgls(Op, d, niter=10, tol=0, check_every=5, checkpoint=tmp_path / "ck")
        fs_class = type(Store(tmp_path / "ck").fs)

        def dies(*args, **kwargs):  # the write of LATEST: the process "dies" there
            raise KeyboardInterrupt

        monkeypatch.setattr(fs_class, "pipe_file", dies)
        with pytest.raises(KeyboardInterrupt):
            cgls(Op, d, niter=20, tol=0, check_every=5, checkpoint=tmp_path / "ck")
        monkeypatch.undo()
        assert Store(tmp_path / "ck").latest() == "it-10"
        assert (tmp_path / "ck" / "it-15").exists()  # the half-made save is there, unused
        out = cgls(Op, d, niter=30, tol=0, check_every=5, checkpoint=tmp_path / "ck")
    np.testing.assert_allclose(_x(out), ref, rtol=1e-12, atol=1e-14)


def test_bad_checkpoint_arguments(tmp_path):
    Op, d, _, _ = _deblur()
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1"):
        cgls(Op, d, niter=5, checkpoint=tmp_path / "ck", checkpoint_every=0)
    with pytest.raises(TypeError, match="checkpoint must be a folder path or URL"):
        cgls(Op, d, niter=5, checkpoint=3)


_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, dask, dask.array as da, pylops_distributed as pld
    from pylops_distributed.optimization import cgls
    rng = np.random.default_rng(7)
    x = da.from_array(rng.random((400, 300)), chunks=(100, 300))
    B = pld.Smoothing2D((7, 7), dims=(400, 300))
    y = (B @ x).persist()
    Op = pld.VStack([B, 0.02 * pld.Laplacian((400, 300))])
    d = pld.StackedArray([y, da.zeros_like(y)])
    with dask.config.set(scheduler="threads"):
        out = cgls(Op, d, niter=int(sys.argv[2]), tol=0, check_every=5,
                   checkpoint=sys.argv[1] if sys.argv[1] != "-" else None)
        np.save(sys.argv[3], out[0].compute())
""")


def test_client_killed_mid_solve_then_resumed(tmp_path):
    script = tmp_path / "solve.py"
    script.write_text(_SCRIPT)
    ck = tmp_path / "ck"
    niter = 400
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run([sys.executable, str(script), "-", str(niter), str(tmp_path / "ref.npy")],
                   check=True, env=env, timeout=600)
    proc = subprocess.Popen([sys.executable, str(script), str(ck), str(niter),
                             str(tmp_path / "never.npy")], env=env)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:  # kill it once a few saves are made
            latest = Store(ck).latest() if (ck / "LATEST").exists() else None
            if latest is not None and int(latest[3:]) >= 50:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    killed_at = int(Store(ck).latest()[3:])
    assert 50 <= killed_at < niter and not (tmp_path / "never.npy").exists()
    subprocess.run([sys.executable, str(script), str(ck), str(niter), str(tmp_path / "x.npy")],
                   check=True, env=env, timeout=600)
    ref, x = np.load(tmp_path / "ref.npy"), np.load(tmp_path / "x.npy")
    np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    assert Store(ck).latest() == f"it-{niter}"
