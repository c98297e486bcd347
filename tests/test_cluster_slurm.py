"""Real SLURM: dask-jobqueue jobs from get_client("slurm", ...) and the sbatch template.

Needs a running SLURM (`.ci/setup-slurm.sh` starts a one-node one as root). Without one these
tests skip, or fail when PYLOPS_DISTRIBUTED_REQUIRE_SLURM=1 (CI sets it). Every job is cancelled
at the end, also on failure.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from conftest_cluster import _solve_small_problem, require_slurm, squeue_ids
from pylops_distributed.cluster import cluster_info, config_dir, get_client

pytestmark = pytest.mark.slurm


@pytest.fixture
def slurm_job_name():
    """A unique job name; every job with it is cancelled at teardown."""
    require_slurm()
    name = f"pytest-pylops-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        subprocess.run(["scancel", "--name", name], capture_output=True, timeout=30)


def _wait_gone(name, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not squeue_ids(name):
            return True
        time.sleep(0.5)
    return False


def _wait_job_done(job_id, timeout):
    deadline = time.monotonic() + timeout
    state = "UNKNOWN"
    while time.monotonic() < deadline:
        out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True,
                             timeout=20).stdout
        state = next((w.split("=", 1)[1] for w in out.split() if w.startswith("JobState=")), state)
        if state not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "UNKNOWN"):
            return state
        time.sleep(0.5)
    return f"{state} after {timeout} s (timed out)"


def test_get_client_slurm_two_jobs_solve(tmp_path, slurm_job_name):
    """The issue's call: get_client("slurm", cores=1, memory="2GiB", jobs=2), solve, close."""
    client = get_client("slurm", cores=1, memory="2GiB", jobs=2, job_name=slurm_job_name,
                        log_directory=str(tmp_path / "logs"), interface="lo",
                        scheduler_options={"dashboard_address": ":0"}, wait_timeout=60)
    try:
        cluster = client._owned_cluster
        assert "processes=2 threads=2, memory=4.00 GiB" in repr(client), repr(client)
        info = cluster_info(client)
        assert len(info["workers"]) == 2
        assert all(w["address"].startswith("tcp://127.0.0.1:") for w in info["workers"])
        assert all(w["nthreads"] == 1 and w["memory_limit"] == 2 * 2**30 for w in info["workers"])
        assert sorted(w["name"] for w in info["workers"]) == sorted(cluster.workers)
        # the workers are SLURM jobs: their job ids are in the queue, with 1 CPU and 2G each
        jobs = squeue_ids(slurm_job_name)
        assert len(jobs) == 2, jobs
        for job in jobs:
            show = subprocess.run(["scontrol", "show", "job", job], capture_output=True,
                                  text=True, timeout=20).stdout
            assert "JobState=RUNNING" in show and "NumCPUs=1" in show and "mem=2G" in show, show
        env = client.run(lambda: (os.environ.get("SLURM_JOB_ID"), sys.executable))
        assert sorted(j for j, _ in env.values()) == sorted(jobs)
        assert {exe for _, exe in env.values()} == {sys.executable}, "workers run the venv python"
        result = _solve_small_problem(client)
        assert result["workers"] == {w["address"] for w in info["workers"]}
        script = cluster.job_script()
        assert "#SBATCH --cpus-per-task=1" in script and "#SBATCH --mem=2G" in script
    finally:
        client.close()
    assert _wait_gone(slurm_job_name), "closing the client cancels the jobs"
    logs = list((tmp_path / "logs").glob(f"{slurm_job_name}-*.err"))
    assert len(logs) == 2, "job logs went to log_directory"


def test_get_client_slurm_timeout_cancels_jobs(tmp_path, slurm_job_name):
    """A job that cannot start in time (2 jobs of all the node's CPUs: one queues): all cancelled."""
    cpus = int(subprocess.run(["sinfo", "-h", "-o", "%c"], capture_output=True, text=True,
                              timeout=20).stdout.split()[0].rstrip("+"))
    with pytest.raises(TimeoutError, match=r"[01] of 2 workers joined.*squeue -u"):
        get_client("slurm", cores=cpus, memory="1GiB", jobs=2, job_name=slurm_job_name,
                   log_directory=str(tmp_path), interface="lo",
                   scheduler_options={"dashboard_address": ":0"}, wait_timeout=8)
    assert _wait_gone(slurm_job_name)


def test_get_client_slurm_tls(tmp_path, slurm_job_name):
    """security="temporary" on SLURM: the certificate reaches the job through shared files."""
    with get_client("slurm", cores=1, memory="1GiB", jobs=1, job_name=slurm_job_name,
                    security="temporary", shared_temp_directory=str(tmp_path),
                    log_directory=str(tmp_path), interface="lo",
                    scheduler_options={"dashboard_address": ":0"}, wait_timeout=60) as client:
        assert client.scheduler.address.startswith("tls://127.0.0.1:")
        (worker,) = client.scheduler_info()["workers"]
        assert worker.startswith("tls://127.0.0.1:")
        assert client.submit(sum, [1, 2]).result() == 3
        command = client.cluster.job_script().splitlines()[-1]
        assert f"--tls-ca-file {tmp_path}/" in command and "--protocol tls://" in command
    assert _wait_gone(slurm_job_name)


def test_sbatch_template_runs_a_user_script(tmp_path, slurm_job_name):
    """sbatch-cpu.sbatch: scheduler + 2 srun workers + a script that connects by scheduler file."""
    user_script = tmp_path / "inversion.py"
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    user_script.write_text(textwrap.dedent(f"""
        import json, os, sys
        sys.path.insert(0, {tests_dir!r})
        from conftest_cluster import _solve_small_problem
        from pylops_distributed.cluster import get_client
        with get_client("scheduler-file:" + os.environ["DASK_SCHEDULER_FILE"]) as client:
            workers = client.scheduler_info()["workers"]
            result = _solve_small_problem(client)
            json.dump({{"n_workers": len(workers), "ran_on": sorted(result["workers"]),
                       "x0": float(result["x"][0])}}, open(sys.argv[1], "w"))
    """))
    out_json = tmp_path / "result.json"
    env = {**os.environ, "PYTHON": sys.executable, "DASK_HOST": "127.0.0.1",
           "DASK_DASHBOARD_ADDRESS": ":0",
           "DASK_SCHEDULER_FILE": str(tmp_path / "scheduler.json")}
    proc = subprocess.run(
        ["sbatch", "--parsable", f"--job-name={slurm_job_name}", "--nodes=1", "--ntasks-per-node=2",
         "--cpus-per-task=1", "--mem=3G", "--time=00:05:00", f"--chdir={tmp_path}",
         f"--output={tmp_path}/job.out", str(config_dir() / "sbatch-cpu.sbatch"),
         str(user_script), str(out_json)],
        capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip().split(";")[0]
    state = _wait_job_done(job_id, timeout=90)  # (sbatch --wait polls too slowly)
    log = (tmp_path / "job.out").read_text() if (tmp_path / "job.out").exists() else ""
    assert state == "COMPLETED", f"job {job_id}: {state}\n--- job output ---\n" + log[-4000:]
    result = json.loads(out_json.read_text())
    assert result["n_workers"] == 2 and len(result["ran_on"]) == 2, result
    assert "dask: 2 workers x 1 threads" in log
    assert not (tmp_path / "scheduler.json").exists(), "the job cleans up its scheduler file"
