"""GPU clusters, on a machine with >= 2 GPUs (the lent nvidia-h200-x2): run with ``pytest -m gpu``.

- ``get_client("local-cuda")``: one worker per GPU; every CuPy chunk lives on its own worker's GPU
  (printed per chunk: worker, CUDA_VISIBLE_DEVICES, CuPy device id, pointer device, PCI bus id);
  a small CGLS solves on CuPy chunks.
- The ``slurm-gpu`` job script, run with bash against a local scheduler: ``dask cuda worker`` starts
  one worker per GPU, each with cores/gpus threads and memory/gpus (the dask-jobqueue pitfall fixed).
- RMM pool routed to CuPy, when ``rmm`` is installed.

The client process never touches the GPU: chunks are made on the workers and scalars and results
come back as NumPy / Python floats (functions defined inside tests are shipped by value).
"""

import os
import subprocess

import numpy as np
import pytest

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")
pytest.importorskip("dask_cuda")

import dask.array as da  # noqa: E402
from distributed import LocalCluster, get_task_stream  # noqa: E402
from distributed.diagnostics import nvml  # noqa: E402

from pylops_distributed import MatrixMult  # noqa: E402
from pylops_distributed.cluster import cluster_info, get_client, job_script  # noqa: E402
from pylops_distributed.optimization import cgls  # noqa: E402

NGPUS = nvml.device_get_count()
LOCAL = {"host": "127.0.0.1", "dashboard_address": ":0"}


@pytest.fixture(scope="module")
def cuda_client():
    if NGPUS < 1:
        pytest.skip("no GPU")
    client = get_client("local-cuda", **LOCAL)
    try:
        yield client
    finally:
        client.close()


def _gpu_chunk_report(client, x):
    """Per persisted chunk of ``x``: holder worker, its GPU and the chunk's device (on the worker)."""

    def report(keys, dask_worker=None):
        import os

        import cupy

        own = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0]
        out = {}
        for key in keys:
            if key not in dask_worker.data:
                continue
            chunk = dask_worker.data[key]
            attrs = cupy.cuda.runtime.pointerGetAttributes(chunk.data.ptr)
            out[str(key)] = {
                "type": type(chunk).__module__ + "." + type(chunk).__name__,
                "cupy_device": int(chunk.device.id),
                "pointer_device": int(attrs.device),
                "current_device": int(cupy.cuda.runtime.getDevice()),
                "pci_bus": cupy.cuda.Device(chunk.device.id).pci_bus_id,
                "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "worker_gpu": own,
            }
        return out

    keys = [k for k in x.__dask_keys__()]
    flat = [k for row in keys for k in (row if isinstance(row, list) else [row])]
    per_worker = client.run(report, flat)
    rows = []
    for worker, chunks in sorted(per_worker.items()):
        for key, info in chunks.items():
            rows.append({"worker": worker, "key": key, **info})
    return rows


def test_local_cuda_one_worker_per_gpu_and_chunks_on_own_gpu(cuda_client):
    client = cuda_client
    info = cluster_info(client)
    print(f"\n{len(info['workers'])} workers, {NGPUS} GPUs")
    for w in info["workers"]:
        print(f"  {w['address']}  threads={w['nthreads']}  CUDA_VISIBLE_DEVICES="
              f"{w['cuda_visible_devices']}  gpus={w['gpus']}")
    assert len(info["workers"]) == NGPUS >= 2, "one worker per GPU (this test wants >= 2 GPUs)"
    assert len({w["cuda_visible_devices"].split(",")[0] for w in info["workers"]}) == NGPUS
    assert info["total_gpus"] == NGPUS

    n = 4 * NGPUS
    x = da.arange(n * 1000, chunks=1000, dtype="float64").map_blocks(
        cupy.asarray, meta=np.empty((0,), "float64"))  # CuPy chunks made on the workers
    x = client.persist(x)
    from distributed import wait

    wait(x)
    rows = _gpu_chunk_report(client, x)
    print("\nchunk                                   worker                  CVD   cupy-dev "
          "ptr-dev  pci-bus")
    for r in rows:
        print(f"{r['key'][:38]:<40}{r['worker']:<24}{r['cuda_visible_devices']:<6}"
              f"{r['cupy_device']:>8} {r['pointer_device']:>8}  {r['pci_bus']}")
    assert len(rows) == n, "every chunk is held by exactly one worker"
    assert all(r["type"].startswith("cupy") and r["type"].endswith("ndarray") for r in rows), rows
    by_worker = {}
    for r in rows:
        # the chunk's memory is on the device the worker drives (its own GPU, device 0 inside it)
        assert r["pointer_device"] == r["cupy_device"] == r["current_device"], r
        by_worker.setdefault(r["worker"], set()).add(r["pci_bus"])
    assert all(len(buses) == 1 for buses in by_worker.values()), by_worker
    assert len(by_worker) >= 2, "chunks spread over the GPUs"
    assert len(set.union(*by_worker.values())) == len(by_worker), "each worker on its own GPU"


def test_local_cuda_cgls_solves(cuda_client):
    """Our CGLS on CuPy chunks, one row block per GPU; compared with numpy lstsq."""
    client = cuda_client
    workers = sorted(client.scheduler_info()["workers"])
    nrows, ncols = 60, 40
    rows = nrows // len(workers)

    def make_block(seed, i, rows, ncols):
        import cupy
        import numpy as np

        block = 0.02 * np.random.default_rng([seed, i]).standard_normal((rows, ncols))
        for r in range(rows):
            if i * rows + r < ncols:
                block[r, i * rows + r] += 1.0
        return cupy.asarray(block)

    def to_numpy(a):
        import cupy

        return cupy.asnumpy(a)

    meta = np.empty((0, 0))
    futures = [client.submit(make_block, 0, i, rows, ncols, workers=[w], pure=False)
               for i, w in enumerate(workers)]
    with get_task_stream(client) as ts:
        Ad = client.persist(da.concatenate([da.from_delayed(f, (rows, ncols), dtype=float, meta=meta)
                                            for f in futures]))
        xtrue = np.arange(1.0, ncols + 1)
        noise = np.random.default_rng(0).standard_normal(rows * len(workers))
        yd = client.persist(Ad @ da.from_array(xtrue).map_blocks(cupy.asarray)
                            + da.from_array(noise, chunks=rows).map_blocks(cupy.asarray))
        with client.as_current():  # our CGLS, fused dict-of-tasks path for MatrixMult
            x, istop, iit, r1norm, r2norm, cost = cgls(MatrixMult(Ad), yd, niter=30, tol=0)
        assert isinstance(r2norm, float)
        assert client.submit(lambda b: type(b).__module__, client.compute(x)).result() \
            .startswith("cupy")
        xs = client.submit(to_numpy, client.compute(x)).result()
    A = np.concatenate([client.submit(to_numpy, f).result() for f in futures])
    xref = np.linalg.lstsq(A, A @ xtrue + noise, rcond=None)[0]
    print(f"\nCGLS on {len(workers)} GPU workers: {iit} iterations, "
          f"max |x - lstsq| = {np.abs(xs - xref).max():.2e}; tasks ran on "
          f"{sorted({t['worker'] for t in ts.data})}")
    np.testing.assert_allclose(xs, xref, rtol=1e-7, atol=1e-9)
    assert {t["worker"] for t in ts.data} == set(workers)


def test_slurm_gpu_job_script_gives_each_gpu_worker_its_share(tmp_path):
    """Run the slurm-gpu job script with bash (the #SBATCH lines are comments) on this machine."""
    pytest.importorskip("dask_jobqueue")
    if NGPUS < 2:
        pytest.skip("needs 2 GPUs")
    with LocalCluster(n_workers=0, **LOCAL) as cluster:
        script = job_script("slurm-gpu", cores=2 * NGPUS, memory=f"{2 * NGPUS}GiB", gpus=NGPUS,
                            scheduler=cluster.scheduler_address, log_directory=str(tmp_path),
                            local_directory=str(tmp_path),
                            worker_extra_args=["--host", "127.0.0.1"])
        print("\n" + script)
        assert "--nthreads 2 --memory-limit 2.00GiB" in script
        path = tmp_path / "job.sh"
        path.write_text(script)
        log = open(tmp_path / "job.log", "w")
        proc = subprocess.Popen(["bash", str(path)], stdout=log, stderr=log, start_new_session=True)
        try:
            from distributed import Client

            with Client(cluster) as client:
                client.wait_for_workers(NGPUS, timeout=120)
                info = cluster_info(client)
                for w in info["workers"]:
                    print(f"  {w['name']:<20} threads={w['nthreads']} memory={w['memory_limit']} "
                          f"CUDA_VISIBLE_DEVICES={w['cuda_visible_devices']}")
                assert sorted(w["name"] for w in info["workers"]) == \
                    [f"pylops-worker-{i}" for i in range(NGPUS)]
                assert all(w["nthreads"] == 2 for w in info["workers"])
                assert all(w["memory_limit"] == 2 * 2**30 for w in info["workers"])
                assert len({w["cuda_visible_devices"].split(",")[0]
                            for w in info["workers"]}) == NGPUS
        finally:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
            log.close()


def test_local_cuda_rmm_pool_routes_cupy():
    pytest.importorskip("rmm")
    with get_client("local-cuda", rmm_pool_size="1GiB", **LOCAL) as client:

        def allocator():
            import cupy
            import rmm

            a = cupy.ones(1 << 20)
            alloc = cupy.cuda.get_allocator()
            return (getattr(alloc, "__module__", "") or "", type(rmm.mr.get_current_device_resource())
                    .__name__, float(a.sum()))

        out = client.run(allocator)
        print("\n", out)
        for module, resource, total in out.values():
            assert "rmm" in module, "CuPy allocates through RMM"
            assert "Pool" in resource
            assert total == float(1 << 20)
