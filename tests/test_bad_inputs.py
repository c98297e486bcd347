"""Bad input, kind by kind: the exception's type, and a message that names the operator or
option, what was expected and what was given.

Operators and solvers must refuse bad input while the graph is built: those cases run on dask's
threaded scheduler under a callback that counts every task it runs, and must run none. Values
that only a compute can see (NaN or Inf in the data, in ``x0`` or made by the operator) raise
``FloatingPointError`` at the first check. Cluster configs and options are refused before
anything starts; unreachable or silent schedulers and refused batch jobs fail within a bounded
time. Every server binds 127.0.0.1.
"""

import contextlib
import re
import os
import socket
import stat
import time

import dask
import dask.array as da
import numpy as np
import psutil
import pytest
from dask.callbacks import Callback

import pylops_distributed as pld
from pylops_distributed.cli import main as cli_main
from pylops_distributed.cluster import client as client_mod
from pylops_distributed.cluster import get_client
from pylops_distributed.optimization import CG, CGLS, LSQR, cg, cgls, lsqr
from pylops_distributed.optimization.sparsity import FISTA, fista

pytest.importorskip("dask_jobqueue")  # the SLURM kinds; installed with the test extras


class TaskCounter(Callback):
    """Counts the tasks dask's local schedulers run while it is active."""

    def __init__(self):
        super().__init__()
        self.ran = 0

    def _pretask(self, key, dsk, state):
        self.ran += 1


@contextlib.contextmanager
def counting_tasks():
    counter = TaskCounter()
    with dask.config.set(scheduler="threads"), counter:
        yield counter


def test_the_task_counter_sees_a_compute():
    """The "nothing computed" check below would see a compute: it counts this one."""
    with counting_tasks() as counter:
        cgls(pld.Identity(8), da.ones(8, chunks=4), niter=2)[0].compute()
    assert counter.ran > 0


# --------------------------------------------------------------------------------- operators
L = pld.Laplacian((4, 6))                                # dims (4, 6), no chunks=
D12 = pld.Diagonal(np.arange(1.0, 13.0))                 # a 12-vector
M = pld.MatrixMult(np.ones((5, 3)), name="A")           # 5 x 3
V = pld.VStack([pld.Identity(3), pld.Identity(3)])      # data: a StackedArray of blocks 3 + 3
STRINGS = np.array([["a"] * 6] * 4)


def _stacked(*sizes):
    return pld.StackedArray([da.ones(n, chunks=n) for n in sizes])


OPERATOR_CASES = [
    pytest.param(lambda: L @ da.ones((6, 4), chunks=3), ValueError,
                 r"Laplacian\('L'\)\.matvec: expected an input of shape \(4, 6\) \(or flat "
                 r"\(24,\)\), got shape \(6, 4\)", id="matvec-wrong-model-shape"),
    pytest.param(lambda: M.rmatvec(da.ones(3)), ValueError,
                 r"MatrixMult\('A'\)\.rmatvec: expected an input of shape \(5,\).*got shape \(3,\)",
                 id="rmatvec-wrong-data-shape"),
    pytest.param(lambda: L @ np.ones(23), ValueError,
                 r"Laplacian\('L'\)\.matvec: expected .* \(or flat \(24,\)\), got shape \(23,\)",
                 id="wrong-flat-size"),
    pytest.param(lambda: L @ np.full((4, 6), None, dtype=object), TypeError,
                 r"Laplacian\('L'\)\.matvec: input dtype object is not numeric; expected a float "
                 r"or complex array", id="object-dtype"),
    pytest.param(lambda: L @ da.ones((4, 6), dtype=bool), TypeError,
                 r"Laplacian\('L'\)\.matvec: input dtype bool is not numeric; expected a float",
                 id="bool-dtype"),
    pytest.param(lambda: L @ STRINGS, TypeError,
                 r"Laplacian\('L'\)\.matvec: input dtype <U1 is not numeric; expected a float",
                 id="string-array"),
    pytest.param(lambda: L @ STRINGS.tolist(), TypeError,
                 r"Laplacian\('L'\)\.matvec: expected a dask, NumPy or CuPy array, got list; "
                 r"wrap data first", id="list-of-strings"),
    pytest.param(lambda: L.rmatvec(None), TypeError,
                 r"Laplacian\('L'\)\.rmatvec: expected a dask, NumPy or CuPy array, got NoneType",
                 id="none-input"),
    pytest.param(lambda: pld.Diagonal(np.ones(10), chunks=((3, 3),)) @ np.ones(10), ValueError,
                 r"Diagonal\('D'\)\.matvec: chunks=\(\(3, 3\),\) .*cannot cut an input of shape "
                 r"\(10,\) \(Chunks do not add up to shape.*e\.g\. chunks=\(5,\)",
                 id="operator-chunks-do-not-fit-input"),
    pytest.param(lambda: pld.Diagonal(np.ones(10), chunks=(-3,)) @ np.ones(10), ValueError,
                 r"Diagonal\('D'\)\.matvec: chunks=\(-3,\) .*shape \(10,\) \(chunk sizes must be "
                 r"positive\)", id="operator-chunks-negative"),
    pytest.param(lambda: pld.Diagonal(np.ones(10), chunks="lots") @ np.ones(10), ValueError,
                 r"Diagonal\('D'\)\.matvec: chunks='lots' .*shape \(10,\) \(Could not interpret",
                 id="operator-chunks-not-a-chunk-spec"),
    pytest.param(lambda: L @ da.ones((0, 6)), ValueError,
                 r"Laplacian\('L'\)\.matvec: expected an input of shape \(4, 6\).*got shape "
                 r"\(0, 6\)", id="empty-input"),
    pytest.param(lambda: pld.FirstDerivative(0), ValueError,
                 r"FirstDerivative: expected dims of at least 1 sample along the axes the stencil "
                 r"runs along, got an axis of 0", id="empty-axis-derivative"),
    pytest.param(lambda: pld.Smoothing2D((3, 3), dims=(0, 4)), ValueError,
                 r"Smoothing2D: expected dims of at least 1 sample .*got an axis of 0",
                 id="empty-axis-smoothing"),
    pytest.param(lambda: pld.Identity(-3), ValueError,
                 r"Identity\('I'\): dims must be non-negative integers, got dims=\(-3,\)",
                 id="negative-dims"),
    pytest.param(lambda: pld.VStack([pld.Identity(3), pld.Identity(4)]), ValueError,
                 r"VStack: operators must have the same number of columns, got shapes "
                 r"\[\(3, 3\), \(4, 4\)\]", id="vstack-mismatched-columns"),
    pytest.param(lambda: pld.HStack([pld.Identity(3), M]), ValueError,
                 r"HStack: operators must have the same number of rows, got shapes "
                 r"\[\(3, 3\), \(5, 3\)\]", id="hstack-mismatched-rows"),
    pytest.param(lambda: pld.Block([[pld.Identity(3), pld.Identity(3)], [M, pld.Identity(3)]]),
                 ValueError, r"Block: row 1: HStack: .*same number of rows, got shapes "
                 r"\[\(5, 3\), \(3, 3\)\]", id="block-mismatched-row"),
    pytest.param(lambda: M @ pld.Identity(5), ValueError,
                 r"MatrixMult\('A'\) @ Identity\('I'\): shapes \(5, 3\) and \(5, 5\) do not "
                 r"compose", id="product-incompatible"),
    pytest.param(lambda: M + pld.Identity(3), ValueError,
                 r"MatrixMult\('A'\) \+ Identity\('I'\): shapes \(5, 3\) and \(3, 3\) differ",
                 id="sum-incompatible"),
    pytest.param(lambda: V.rmatvec(_stacked(2, 5)), ValueError,
                 r"VStack\.rmatvec: expected an input of size 6, got a StackedArray of size 7 "
                 r"\(blocks \(2, 5\)\)", id="stacked-wrong-size"),
    pytest.param(lambda: _stacked(3, 3) + _stacked(2, 5), ValueError,
                 r"StackedArray: sizes \(3, 3\) and \(2, 5\) differ",
                 id="stacked-sizes-differ"),
    pytest.param(lambda: pld.FirstDerivative((4, 6), axis=2), ValueError,
                 r"FirstDerivative: axis=2 is out of range for dims with 2 axes",
                 id="axis-out-of-range"),
]


@pytest.mark.parametrize("build, exc, match", OPERATOR_CASES)
def test_operator_bad_input_is_refused_before_any_compute(build, exc, match):
    with counting_tasks() as counter:
        with pytest.raises(exc, match=match):
            build()
    assert counter.ran == 0, f"{counter.ran} tasks ran before the error"


# ----------------------------------------------------------------------------------- solvers
I12 = pld.Identity(12)
Y12 = da.ones(12, chunks=6)
SOLVERS = {"cgls": cgls, "lsqr": lsqr, "cg": cg, "fista": fista}
NAMES = {"cgls": "CGLS", "lsqr": "LSQR", "cg": "CG", "fista": "FISTA"}
#: a tolerance each solver has (LSQR's are atol/btol) and its damping (FISTA's is eps)
TOL = {"cgls": "tol", "lsqr": "atol", "cg": "tol", "fista": "tol"}
DAMP = {"cgls": "damp", "lsqr": "damp", "cg": "damp", "fista": "eps"}


def _solve(solver, y=Y12, Op=I12, **kwargs):
    kwargs.setdefault("niter", 3)
    if solver == "fista":
        kwargs.setdefault("alpha", 1.0)  # no eigenvalue estimate: nothing to compute
    return SOLVERS[solver](Op, y, **kwargs)


def _solver_cases():
    cases = []
    for s in SOLVERS:
        name = NAMES[s]
        cases += [
            pytest.param(s, {"niter": -1}, ValueError, rf"{name}: niter must be >= 0, got -1",
                         id=f"{s}-negative-niter"),
            pytest.param(s, {DAMP[s]: -0.5}, ValueError,
                         rf"{name}: {DAMP[s]} must be >= 0, got -0.5", id=f"{s}-negative-damp"),
            pytest.param(s, {TOL[s]: -1e-3}, ValueError,
                         rf"{name}: {TOL[s]} must be >= 0, got -0.001", id=f"{s}-negative-tol"),
            pytest.param(s, {"check_every": -2}, ValueError,
                         rf"{name}: check_every must be an integer >= 1, got -2",
                         id=f"{s}-negative-check_every"),
            pytest.param(s, {"check_every": 0}, ValueError,
                         rf"{name}: check_every must be an integer >= 1, got 0",
                         id=f"{s}-zero-check_every"),
            pytest.param(s, {"checkpoint": "unused-folder", "checkpoint_every": 0}, ValueError,
                         rf"{name}: checkpoint_every must be an integer >= 1, got 0",
                         id=f"{s}-zero-checkpoint_every"),
            pytest.param(s, {"x0": da.zeros(11)}, ValueError,
                         rf"{name}: x0: expected shape \(12,\) \(or flat \(12,\)\), got \(11,\)",
                         id=f"{s}-wrong-x0-shape"),
            pytest.param(s, {"y": da.ones((3, 4))}, ValueError,
                         rf"{name}: y: expected shape \(12,\) \(or flat \(12,\)\), got \(3, 4\)",
                         id=f"{s}-wrong-data-shape"),
            pytest.param(s, {"y": None}, TypeError,
                         rf"{name}: y: expected a dask, NumPy or CuPy array, got NoneType",
                         id=f"{s}-data-none"),
            pytest.param(s, {"y": np.array(["1"] * 12)}, TypeError,
                         rf"{name}: y: input dtype <U1 is not numeric; expected a float",
                         id=f"{s}-data-strings"),
        ]
    cases.append(pytest.param("cg", {"Op": M, "y": da.ones(5)}, ValueError,
                              r"CG: expected a square operator .*got MatrixMult\('A'\) of shape "
                              r"\(5, 3\); for a rectangular operator use cgls or lsqr",
                              id="cg-rectangular-operator"))
    return cases


@pytest.mark.parametrize("solver, kwargs, exc, match", _solver_cases())
def test_solver_bad_input_is_refused_before_any_compute(solver, kwargs, exc, match, tmp_path):
    if "checkpoint" in kwargs:
        kwargs = {**kwargs, "checkpoint": str(tmp_path / kwargs["checkpoint"])}
    with counting_tasks() as counter:
        with pytest.raises(exc, match=match):
            _solve(solver, **kwargs)
    assert counter.ran == 0, f"{counter.ran} tasks ran before the error"
    assert not (tmp_path / "unused-folder").exists()


# ------------------------------------------- NaN and Inf: at the first check, naming the culprit
CLASSES = {"cgls": CGLS, "lsqr": LSQR, "cg": CG, "fista": FISTA}


def _first_check(solver, Op, y, **kwargs):
    """Run ``solver`` for 50 iterations, checking every 10: returns the error and the
    iteration the solver had reached."""
    s = CLASSES[solver](Op)
    if solver == "fista":
        kwargs.setdefault("alpha", 1.0)
    with dask.config.set(scheduler="threads"):
        with pytest.raises(FloatingPointError) as err:
            s.solve(y, niter=50, check_every=10, **kwargs)
    return str(err.value), s.iiter


def _with(value, at=3, n=12):
    return da.where(da.arange(n, chunks=6) == at, value, 1.0)


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_nonfinite_data_raises_at_the_first_check(solver, bad):
    msg, reached = _first_check(solver, I12, _with(bad))
    assert reached == 10, "raised at the first check"
    assert re.search(rf"{NAMES[solver]}: the data y contains NaN or Inf \(its squared norm is "
                     rf"{bad}\); clean", msg), msg


@pytest.mark.parametrize("solver", ["cgls", "lsqr", "cg"])
def test_nonfinite_x0_raises_at_the_first_check(solver):
    msg, reached = _first_check(solver, I12, Y12, x0=_with(np.nan))
    assert reached == 10
    assert f"{NAMES[solver]}: the initial guess x0 contains NaN or Inf" in msg, msg


DNAN = pld.Diagonal(np.where(np.arange(12) == 3, np.nan, 1.0))  # finite data -> NaN iterate


@pytest.mark.parametrize("solver", ["cgls", "lsqr", "cg"])
def test_operator_making_nan_raises_at_the_first_check(solver):
    msg, reached = _first_check(solver, DNAN, Y12)
    assert reached == 10
    assert f"{NAMES[solver]}: the residual became nan between iterations 0 and 10" in msg, msg
    assert "operator" in msg and "produced NaN or Inf" in msg, msg


def test_fista_with_a_nan_operator_stops_at_the_first_check_as_pylops():
    """ISTA/FISTA stop on a cost that is not finite (PyLops' CostNanInfCallback, see
    test_sparsity.py) rather than raise: at the first check, with an infinite last cost."""
    with dask.config.set(scheduler="threads"):
        _, it, cost = fista(DNAN, Y12, niter=50, alpha=1.0, check_every=10)
    assert it == 10 and np.isinf(cost[-1])


def test_fista_step_size_of_a_nan_operator():
    """FISTA's step size (1 / the largest eigenvalue of Op^H Op) from an operator with NaN."""
    Dnan = DNAN
    with dask.config.set(scheduler="threads"):
        with pytest.raises(FloatingPointError,
                           match=r"FISTA: expected a finite, positive largest eigenvalue of "
                                 r"Op\^H Op .*got nan for Diagonal\('D'\): the operator produces "
                                 r"NaN or Inf .*give alpha="):
            fista(Dnan, Y12, niter=5)


# ------------------------------------------------------------------------------------ clusters
@pytest.fixture
def nothing_started(monkeypatch):
    """get_client may not start a cluster nor connect to a scheduler."""

    def refuse(*args, **kwargs):
        raise AssertionError("started or connected before refusing the config")

    monkeypatch.setattr(client_mod, "start_cluster", refuse)
    monkeypatch.setattr(client_mod, "Client", refuse)
    monkeypatch.setattr(client_mod, "_probe_scheduler", refuse)


CONFIG_CASES = [
    pytest.param("slurmm", {}, ValueError,
                 r"unknown cluster config 'slurmm'; bundled configs are: .*local.*slurm",
                 id="unknown-config-name"),
    pytest.param("tpc://127.0.0.1:8786", {}, ValueError,
                 r"'tpc://127\.0\.0\.1:8786': unknown address scheme 'tpc://'; a scheduler "
                 r"address starts with one of tcp://", id="malformed-address"),
    pytest.param("local", {"n_wrkers": 2}, TypeError,
                 r"cluster config 'local': \['n_wrkers'\] are not arguments of LocalCluster.*"
                 r"n_workers=2", id="unknown-option-local"),
    pytest.param("slurm", {"qeue": "compute"}, TypeError,
                 r"cluster config 'slurm': .*unexpected keyword argument 'qeue'; options are the "
                 r"arguments of dask_jobqueue\.SLURMCluster", id="unknown-option-slurm"),
    pytest.param("tcp://127.0.0.1:8786", {"cores": 2}, ValueError,
                 r"connects to a running scheduler; cluster options \['cores'\] cannot apply",
                 id="cluster-option-for-an-address"),
    pytest.param("local", {"security": 42}, ValueError,
                 r"security must be None, 'temporary', a dict of files or a distributed\.Security, "
                 r"got 42", id="security-wrong-type"),
    pytest.param("local", {"security": "temporay"}, ValueError,
                 r"security must be None, 'temporary'.*got 'temporay'", id="security-misspelt"),
    pytest.param("local", {"security": {"cert": "node.pem"}}, ValueError,
                 r"security must hold 'ca-file' and 'cert'.*got keys \['cert'\]",
                 id="security-missing-ca-file"),
    pytest.param("local", {"security": {"ca-file": "/no/ca.pem", "cert": "/no/node.pem"}},
                 ValueError, r"security: files not found: ca-file='/no/ca\.pem', "
                 r"cert='/no/node\.pem'", id="security-files-not-found"),
    pytest.param("slurm", {"memory": 32}, ValueError,
                 r"memory=32 has no unit: give the memory per job with one, e\.g\. "
                 r"memory=\"32GiB\"", id="slurm-memory-without-unit"),
    pytest.param("slurm", {"jobs": -1}, ValueError,
                 r"jobs must be a non-negative integer, got -1", id="negative-jobs"),
    pytest.param("local", {"wait_timeout": 0}, ValueError,
                 r"wait_timeout must be a positive number of seconds or None, got 0",
                 id="zero-wait-timeout"),
]


@pytest.mark.parametrize("config, overrides, exc, match", CONFIG_CASES)
def test_bad_cluster_config_is_refused_before_starting(config, overrides, exc, match,
                                                       nothing_started):
    with pytest.raises(exc, match=match):
        get_client(config, **overrides)


def test_cli_job_script_memory_without_unit(capsys):
    assert cli_main(["job-script", "slurm", "--memory", "32"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pylops-distributed job-script: error: memory='32' has no unit"), err
    assert "(CLI: --memory 32GiB)" in err and "Traceback" not in err


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_scheduler_address_fails_within_the_connect_timeout():
    port = _free_port()  # closed again: nobody listens, connections are refused
    start = time.monotonic()
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        with pytest.raises(OSError, match=rf"could not connect to tcp://127\.0\.0\.1:{port} "
                                          r"within 2s .*is a scheduler running there.*"
                                          r"timeouts\.connect"):
            get_client(f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - start < 10


def test_silent_scheduler_fails_within_a_bounded_wait():
    """A socket that accepts connections and never answers (distributed alone waits forever
    for its handshake)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        address = "tcp://127.0.0.1:%d" % s.getsockname()[1]
        start = time.monotonic()
        with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
            with pytest.raises(TimeoutError, match=rf"{address}: connected to {address}, but no "
                                                   r"Dask scheduler answered within 3 s; is it a "
                                                   r"Dask scheduler"):
                get_client(address)
        assert time.monotonic() - start < 10


def _listening():
    return {c.laddr for c in psutil.Process().net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN}


def test_refused_slurm_submission_is_reported_at_once(tmp_path, monkeypatch):
    """sbatch exits 1 with SLURM's message: get_client raises it at once (not after
    wait_timeout) and closes the scheduler it started."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = bin_dir / "sbatch"
    sbatch.write_text("#!/bin/sh\necho 'sbatch: error: Batch job submission failed: Invalid "
                      "account or account/partition combination specified' >&2\nexit 1\n")
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    before = _listening()
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"(?s)slurm: sbatch refused 2 of 2 jobs: sbatch: error: "
                                           r"Batch job submission failed: Invalid account.*"
                                           r"queue=, account="):
        get_client("slurm", jobs=2, cores=1, memory="1GiB", account="nope",
                   log_directory=str(tmp_path / "logs"), wait_timeout=120,
                   scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"})
    assert time.monotonic() - start < 30, "reported without waiting for wait_timeout"
    assert _listening() == before, "the scheduler it started is closed"
