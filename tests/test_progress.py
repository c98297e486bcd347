"""Progress of long solves: the bar moved at checks, Dask's performance report, and the
dashboard link that get_client logs (bound to 127.0.0.1)."""

import logging
import re

import dask
import dask.array as da
import numpy as np
import psutil
import pyproximal
import pytest

import pylops_distributed as pld
from pylops_distributed.cluster import get_client
from pylops_distributed.optimization import cg, cgls, lsqr
from pylops_distributed.optimization.proximal import ProximalGradient
from pylops_distributed.optimization.sparsity import fista, ista, linearized_bregman


def _problem(n=60, m=40, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, m))
    Op = pld.MatrixMult(da.from_array(A, chunks=(n // 3, m)))
    return Op, A @ rng.standard_normal(m), A


def _bar_lines(err):
    """The bar's states, as tqdm writes them (carriage returns between refreshes)."""
    return [s for s in re.split(r"[\r\n]", err) if "it/s" in s or "s/it" in s or "?it" in s]


@pytest.mark.parametrize("solver, label", [
    (lambda Op, y: cgls(Op, y, niter=30, tol=0, check_every=5, progress=True), "residual"),
    (lambda Op, y: lsqr(Op, y, niter=30, check_every=5, progress=True), "residual"),
    (lambda Op, y: ista(Op, y, niter=30, tol=0, check_every=5, progress=True), "cost"),
    (lambda Op, y: fista(Op, y, niter=30, tol=0, check_every=5, progress=True), "cost"),
    (lambda Op, y: linearized_bregman(Op, y, niter=30, tol=0, check_every=5, progress=True),
     "cost"),
])
def test_bar_moves_at_checks_and_shows_the_cost(solver, label, capfd):
    Op, y, _ = _problem()
    with dask.config.set(scheduler="threads"):
        out = solver(Op, y)
    err = capfd.readouterr().err
    lines = _bar_lines(err)
    assert lines, err
    final = lines[-1]
    assert "30/30" in final and "it/s" in final, final
    shown = float(re.search(label + r"=([-+0-9.e]+)", final).group(1))
    cost = out[-1]
    assert shown == pytest.approx(float(np.abs(cost[-1])), rel=1e-4)
    # the bar stood at the checks only: 0, 5, 10, ... (tqdm may skip fast refreshes)
    seen = {int(m) for m in re.findall(r"(\d+)/30", err)}
    assert seen <= {0, 5, 10, 15, 20, 25, 30}, seen


def test_bar_stops_where_the_solver_converged(capfd):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 30))
    A = A @ A.T + 30 * np.eye(30)
    Op = pld.MatrixMult(da.from_array(A, chunks=(10, 30)))
    with dask.config.set(scheduler="threads"):
        x, iit, cost = cg(Op, A @ np.ones(30), niter=200, tol=1e-10, check_every=4, progress=True)
    final = _bar_lines(capfd.readouterr().err)[-1]
    assert f"{iit}/200" in final and iit < 200, (final, iit)


def test_progress_leaves_the_result_unchanged():
    Op, y, A = _problem(seed=3)
    with dask.config.set(scheduler="threads"):
        x1 = cgls(Op, y, niter=25, tol=0, progress=True)[0].compute()
        x2 = cgls(Op, y, niter=25, tol=0)[0].compute()
    np.testing.assert_array_equal(x1, x2)


def test_proximal_solver_bar(capfd):
    Op, y, A = _problem(seed=4)
    f, g = pyproximal.L2(Op=Op, b=y), pyproximal.L1(sigma=0.1)
    with dask.config.set(scheduler="threads"):
        ProximalGradient(f, g, x0=da.zeros(40, chunks=20), tau=1e-3, niter=20, check_every=5,
                         progress=True)
    final = _bar_lines(capfd.readouterr().err)[-1]
    assert final.startswith("_ProximalGradient") or "20/20" in final, final
    assert "cost=" in final


def test_no_bar_unless_asked(capfd):
    Op, y, _ = _problem()
    with dask.config.set(scheduler="threads"):
        cgls(Op, y, niter=10, tol=0)
    assert not _bar_lines(capfd.readouterr().err)


def test_performance_report_written(process_client, tmp_path):
    Op, y, A = _problem(seed=5)
    path = tmp_path / "cgls-report.html"
    with process_client.as_current():
        x = cgls(Op, y, niter=10, tol=0, performance_report=path)[0].compute()
    ref = np.linalg.lstsq(A, y, rcond=None)[0]
    assert np.linalg.norm(x - ref) < np.linalg.norm(ref)  # a real solve ran
    html = path.read_text()
    assert "Dask Performance Report" in html and "Task Stream" in html


def test_performance_report_without_client_is_a_clear_error(tmp_path):
    Op, y, _ = _problem()
    with dask.config.set(scheduler="threads"), pytest.raises(ValueError, match="distributed.Client"):
        cgls(Op, y, niter=10, performance_report=tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def _listening(pids):
    out = []
    for pid in pids:
        for c in psutil.Process(pid).net_connections(kind="inet"):
            if c.status == psutil.CONN_LISTEN:
                out.append((c.laddr.ip, c.laddr.port))
    return out


@pytest.mark.parametrize("config", ["local", "local-processes"])
def test_get_client_binds_loopback_and_logs_the_dashboard(config):
    me = psutil.Process()
    logged = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())
    logger = logging.getLogger("pylops_distributed.cluster")
    logger.addHandler(handler)
    try:
        before = set(_listening([me.pid] + [p.pid for p in me.children(recursive=True)]))
        with get_client(config, n_workers=1, dashboard_address=":0") as client:
            link = client.dashboard_link
            pids = [me.pid] + [p.pid for p in me.children(recursive=True)]
            hosts = set(_listening(pids)) - before
    finally:
        logger.removeHandler(handler)
    assert link.startswith("http://127.0.0.1:"), link
    assert any(f"dashboard at {link}" in m for m in logged), logged
    assert hosts and {ip for ip, _ in hosts} == {"127.0.0.1"}, hosts
