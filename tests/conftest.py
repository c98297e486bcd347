"""Shared fixtures: the threaded scheduler and a session-wide 2-process distributed cluster."""

import contextlib

import dask
import pytest
from distributed import Client, LocalCluster


@pytest.fixture(scope="session")
def process_client():
    """A real LocalCluster with 2 worker processes on 127.0.0.1, closed even on failure."""
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0")
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


@contextlib.contextmanager
def no_key_collisions(client):
    """No key may stand for two different tasks: the scheduler's "Detected different
    `run_spec`" warning, logged while the block runs, fails the test."""
    before = client.get_scheduler_logs(n=1)
    yield
    new = []
    for entry in client.get_scheduler_logs(n=100000):  # newest first
        if before and entry == before[0]:
            break
        new.append(entry[1])
    collisions = [m for m in new if "run_spec" in m]
    assert not collisions, collisions[0][:2000]


@pytest.fixture(autouse=True)
def process_client_checked(request):
    """Tests that take ``process_client`` are checked for key collisions."""
    if "process_client" not in request.fixturenames:
        yield
        return
    with no_key_collisions(request.getfixturevalue("process_client")):
        yield


@pytest.fixture(autouse=True)
def no_leaked_default_client():
    """A test must not leave a distributed client set as dask's default scheduler behind."""
    before = dask.config.get("scheduler", None)
    yield
    after = dask.config.get("scheduler", None)
    assert after == before, f"test left dask's scheduler set to {after!r} (a client not closed?)"


@pytest.fixture(params=["threads", "processes"])
def scheduler(request):
    """Run the test under dask's threaded scheduler, then under the process cluster."""
    if request.param == "threads":
        with dask.config.set(scheduler="threads"):
            yield None
    else:
        client = request.getfixturevalue("process_client")
        with no_key_collisions(client), client.as_current():
            yield client


def _has_cupy():
    try:
        import cupy  # noqa: F401
    except ImportError:
        return False
    return True


# Without CuPy the GPU-only modules are not collected at all (rather than reported as skipped);
# they run on the lent GPU machine with `pytest -m gpu` (docs/gpu-testing.md).
collect_ignore_glob = [] if _has_cupy() else ["test_cupy_*.py", "test_cluster_gpu.py"]
