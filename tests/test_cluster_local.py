"""Real clusters on this machine: get_client configs, the dask CLI, our CLI, a bash-run SLURM job
script through dask_jobqueue.local, and TLS. Every server binds 127.0.0.1 and is stopped at the end.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from distributed import Client, Security
from distributed.core import Status

from conftest_cluster import VENV_BIN, ProcessGroup, _solve_small_problem, wait_for_file
from pylops_distributed.cluster import cluster_info, get_client
from pylops_distributed.cluster.client import ClusterClient

DASK = os.path.join(VENV_BIN, "dask")
CLI = os.path.join(VENV_BIN, "pylops-distributed")
LOCAL = {"host": "127.0.0.1", "dashboard_address": ":0"}


@pytest.fixture
def procs():
    group = ProcessGroup()
    try:
        yield group
    finally:
        group.stop()


# ------------------------------------------------------------------------------ get_client
def test_local_threads_with_block_closes_cluster():
    with get_client("local", dashboard_address=":0") as client:
        assert isinstance(client, ClusterClient)
        cluster = client._owned_cluster
        assert len(client.scheduler_info()["workers"]) == 1
        _solve_small_problem(client)
    assert client.status == "closed"
    assert cluster.status == Status.closed


def test_local_processes_solves_on_both_workers_and_close_stops_them():
    client = get_client("local-processes", n_workers=2, threads_per_worker=1, **LOCAL)
    try:
        cluster = client._owned_cluster
        assert "processes=2 threads=2" in repr(client), repr(client)
        pids = client.run(os.getpid)
        assert len(pids) == 2 and os.getpid() not in pids.values()
        # glibc's mmap threshold set before the worker processes start (chunk temporaries
        # from the heap), dask's trim threshold kept
        env = client.run(lambda: (os.environ.get("MALLOC_MMAP_THRESHOLD_"),
                                  os.environ.get("MALLOC_TRIM_THRESHOLD_")))
        assert set(env.values()) == {(str(32 * 2**20), "65536")}
        result = _solve_small_problem(client)
        assert result["workers"] == set(pids), "both workers ran tasks of the solve"
    finally:
        client.close()
    assert cluster.status == Status.closed
    for pid in pids.values():  # worker processes are gone
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"worker process {pid} still alive after client.close()")


def test_timeout_closes_the_cluster_it_started(monkeypatch):
    started = []
    from pylops_distributed.cluster import client as client_mod

    real = client_mod.start_cluster

    def spy(spec):
        cluster, _ = real(spec)
        started.append(cluster)
        return cluster, 3  # wait for more workers than exist

    monkeypatch.setattr(client_mod, "start_cluster", spy)
    with pytest.raises(TimeoutError, match="1 of 3 workers joined within wait_timeout=1"):
        get_client("local", wait_timeout=1, dashboard_address=":0")
    assert started and started[0].status == Status.closed


# ------------------------------------------------------------- the dask CLI: scheduler file
@pytest.fixture
def dask_cli_cluster(tmp_path, procs):
    """`dask scheduler --scheduler-file` + two `dask worker` processes, all on 127.0.0.1."""
    sched_file = str(tmp_path / "scheduler.json")
    sched = procs.start([DASK, "scheduler", "--scheduler-file", sched_file, "--host", "127.0.0.1",
                         "--port", "0", "--dashboard-address", ":0"], tmp_path / "scheduler.log")
    wait_for_file(sched_file, procs=[sched])
    for i in range(2):
        procs.start([DASK, "worker", "--scheduler-file", sched_file, "--host", "127.0.0.1",
                     "--nthreads", "1", "--memory-limit", "1GiB", "--name", f"cli-worker-{i}",
                     "--no-dashboard", "--local-directory", str(tmp_path)],
                    tmp_path / f"worker-{i}.log")
    return sched_file, sched


def test_dask_cli_cluster_scheduler_file(dask_cli_cluster):
    sched_file, sched = dask_cli_cluster
    with get_client(f"scheduler-file:{sched_file}", n_workers=2, wait_timeout=30) as client:
        assert not isinstance(client, ClusterClient)
        info = cluster_info(client)
        assert sorted(w["name"] for w in info["workers"]) == ["cli-worker-0", "cli-worker-1"]
        assert info["total_threads"] == 2
        result = _solve_small_problem(client)
        assert result["workers"] == {w["address"] for w in info["workers"]}
        address = client.scheduler.address
    assert sched.poll() is None, "closing a client of an existing scheduler leaves it running"
    with get_client(address, n_workers=2) as client:  # the tcp:// form
        assert len(client.scheduler_info()["workers"]) == 2
    with pytest.raises(TimeoutError, match="2 of 5 workers"):
        get_client(address, n_workers=5, wait_timeout=1)


def test_cli_info_reports_workers(dask_cli_cluster):
    sched_file, _ = dask_cli_cluster
    with Client(scheduler_file=sched_file, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=30)
    out = subprocess.run([CLI, "info", f"scheduler-file:{sched_file}"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "workers:   2   threads: 2   memory: 2.00 GiB   GPUs: 0" in out.stdout
    assert out.stdout.count("cli-worker-") == 2
    out = subprocess.run([CLI, "info", sched_file, "--json"], capture_output=True, text=True,
                         timeout=60)
    assert '"total_threads": 2' in out.stdout


def test_get_client_refused_address_says_what_to_check():
    """Nothing listens there: the error names the address, the timeout and how to change it."""
    import socket

    import dask

    with socket.socket() as s:  # a free port, closed again: connections are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        with pytest.raises(OSError, match=rf"127.0.0.1:{port} within 2s.*scheduler running.*"
                                          "timeouts.connect"):
            get_client(f"tcp://127.0.0.1:{port}")


def test_get_client_missing_scheduler_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="dask scheduler --scheduler-file"):
        get_client(f"scheduler-file:{tmp_path}/none.json")


# --------------------------------------------------------------- our CLI: start, then connect
def test_cli_start_prints_address_and_stops_on_interrupt(tmp_path, procs):
    sched_file = str(tmp_path / "sched.json")
    log = tmp_path / "start.log"
    proc = procs.start([CLI, "start", "local", "--n-workers", "2", "--threads-per-worker", "1",
                        "--dashboard-address", ":0", "--scheduler-file", sched_file], log)
    wait_for_file(sched_file, timeout=60, procs=[proc])
    for _ in range(100):
        if "press Ctrl-C to stop" in log.read_text():
            break
        time.sleep(0.1)
    text = log.read_text()
    assert "scheduler address: tcp://127.0.0.1:" in text
    assert "dashboard:         http://127.0.0.1:" in text
    assert f'get_client("scheduler-file:{sched_file}")' in text
    with get_client(f"scheduler-file:{sched_file}", n_workers=2) as client:
        assert len(_solve_small_problem(client)["workers"]) == 2
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(30) == 0
    assert "stopping the cluster" in log.read_text()
    assert not os.path.exists(sched_file)


# ------------------------------------------- a generated SLURM job script, run by bash locally
def test_slurm_job_script_runs_through_dask_jobqueue_local(tmp_path):
    """dask_jobqueue.local.LocalCluster with a job class that runs our SLURM script with bash."""
    import asyncio

    from dask_jobqueue.local import LocalCluster as JobqueueLocalCluster
    from dask_jobqueue.local import LocalJob
    from dask_jobqueue.slurm import SLURMJob

    from pylops_distributed.cluster.configs import resolve_config
    from pylops_distributed.cluster.jobqueue import jobqueue_cluster_options

    scripts = []

    class BashSlurmScriptJob(LocalJob):
        """Runs the SLURM job script (with its #SBATCH lines) through bash, in its own session."""

        def __init__(self, *args, **kwargs):
            slurm_kwargs = {k: v for k, v in kwargs.items() if k != "config_name"}
            for key in ("account", "job_cpu", "job_mem"):  # SLURM-only: LocalJob does not take them
                kwargs.pop(key, None)
            self._slurm = SLURMJob(*args, config_name="slurm", **slurm_kwargs)
            super().__init__(*args, **kwargs)

        def job_script(self):
            return self._slurm.job_script()

        async def _submit_job(self, script_filename):
            text = open(script_filename).read()
            scripts.append(text)
            path = tmp_path / f"job-{len(scripts)}.sh"
            path.write_text(text)
            log = open(tmp_path / f"job-{len(scripts)}.log", "w")
            self.process = await asyncio.create_subprocess_exec(
                "bash", str(path), stdout=log, stderr=log, start_new_session=True)
            log.close()
            return str(self.process.pid)

        @classmethod
        async def _close_job(cls, job_id, cancel_command):
            try:
                os.killpg(int(job_id), signal.SIGTERM)
            except ProcessLookupError:
                pass

    spec = resolve_config("slurm", cores=1, memory="1GiB", log_directory=str(tmp_path),
                          local_directory=str(tmp_path), interface="lo",
                          scheduler_options={"dashboard_address": ":0"})
    opts = jobqueue_cluster_options(spec)
    cluster = JobqueueLocalCluster(job_cls=BashSlurmScriptJob, **opts)
    try:
        cluster.scale(jobs=2)
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=60)
            names = sorted(w["name"] for w in client.scheduler_info()["workers"].values())
            assert names == sorted(cluster.workers), (names, list(cluster.workers))
            assert all(a.startswith("tcp://127.0.0.1:") for a in client.scheduler_info()["workers"])
            assert len(_solve_small_problem(client)["workers"]) == 2
    finally:
        cluster.close()
    assert len(scripts) == 2
    lines = scripts[0].splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "#SBATCH --cpus-per-task=1" in lines and "#SBATCH --mem=1G" in lines
    assert lines[-1].startswith(f"{sys.executable} -m distributed.cli.dask_worker tcp://127.0.0.1:")
    assert "--nthreads 1 --memory-limit 1.00GiB --nanny" in lines[-1]


# ---------------------------------------------------------------------------------- TLS
def _write_tls_files(tmp_path):
    sec = Security.temporary()
    ca, cert = tmp_path / "ca.pem", tmp_path / "node.pem"
    ca.write_text(sec.tls_ca_file)
    cert.write_text(sec.tls_scheduler_cert + sec.tls_scheduler_key)
    return str(ca), str(cert)


def test_tls_local_processes_temporary_certificate():
    client = get_client("local-processes", n_workers=2, threads_per_worker=1, security="temporary",
                        **LOCAL)
    try:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        assert all(a.startswith("tls://") for a in client.scheduler_info()["workers"])
        assert len(_solve_small_problem(client)["workers"]) == 2
        with get_client(address, security=client.security) as second:  # the tls:// form
            assert len(second.scheduler_info()["workers"]) == 2
        with pytest.raises((OSError, TypeError, ValueError)):
            Client(address, timeout=2, set_as_default=False)  # without certificates: refused
    finally:
        client.close()


def test_tls_dask_cli_cluster_with_certificate_files(tmp_path, procs):
    ca, cert = _write_tls_files(tmp_path)
    tls = ["--tls-ca-file", ca, "--tls-cert", cert]
    sched_file = str(tmp_path / "scheduler.json")
    sched = procs.start([DASK, "scheduler", "--scheduler-file", sched_file, "--host", "127.0.0.1",
                         "--port", "0", "--protocol", "tls", "--dashboard-address", ":0", *tls],
                        tmp_path / "scheduler.log")
    wait_for_file(sched_file, procs=[sched])
    for i in range(2):
        procs.start([DASK, "worker", "--scheduler-file", sched_file, "--host", "127.0.0.1",
                     "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp_path), *tls],
                    tmp_path / f"worker-{i}.log")
    security = {"ca-file": ca, "cert": cert}
    with get_client(f"scheduler-file:{sched_file}", n_workers=2, security=security) as client:
        assert client.scheduler.address.startswith("tls://127.0.0.1:")
        assert all(w.startswith("tls://") for w in client.scheduler_info()["workers"])
        assert sum(client.gather(client.map(abs, [-1, -2, -3]))) == 6
    out = subprocess.run([CLI, "info", sched_file, "--tls-ca-file", ca, "--tls-cert", cert],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "tls://127.0.0.1:" in out.stdout


def test_tls_config_file(tmp_path):
    ca, cert = _write_tls_files(tmp_path)
    path = tmp_path / "tls-local.yaml"
    path.write_text(f"cluster: local\nsecurity:\n  ca-file: {ca}\n  cert: {cert}\n"
                    "options:\n  processes: true\n  n-workers: 1\n  threads-per-worker: 1\n"
                    "  host: 127.0.0.1\n  dashboard-address: ':0'\n")
    with get_client(str(path)) as client:
        assert client.scheduler.address.startswith("tls://")
        assert client.submit(sum, [1, 2]).result() == 3
