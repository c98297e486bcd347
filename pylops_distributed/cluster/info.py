"""What a running cluster has: workers, threads, memory and GPUs."""

from __future__ import annotations

import os

__all__ = ["cluster_info", "format_cluster_info"]


def _worker_gpus(client) -> dict:
    """The GPU each worker uses, through distributed's NVML helpers (no CUDA context is made).

    Only functions of ``os`` and ``distributed`` run on the workers, so this works on workers that
    do not have pylops_distributed installed and costs no imports there.
    """
    from distributed.diagnostics import nvml

    visible = client.run(os.getenv, "CUDA_VISIBLE_DEVICES", on_error="return")
    counts = client.run(nvml.device_get_count, on_error="return")
    with_gpu = [w for w, n in counts.items() if isinstance(n, int) and n > 0]
    details = client.run(nvml.one_time, workers=with_gpu, on_error="return") if with_gpu else {}
    out = {}
    for addr in counts:
        vis = visible.get(addr) if isinstance(visible.get(addr), str) else None
        gpus = []
        d = details.get(addr)
        if isinstance(d, dict):
            first = (vis or "0").split(",")[0].strip()
            gpus.append({"index": int(first) if first.isdigit() else first,
                         "name": d.get("name"), "memory": int(d.get("memory-total") or 0)})
        out[addr] = {"cuda_visible_devices": vis, "gpus": gpus}
    return out


def cluster_info(client) -> dict:
    """Workers of the cluster a client is connected to, with threads, memory and GPUs.

    Returns
    -------
    dict
        ``{"scheduler": address, "dashboard": link, "workers": [{"address", "name", "nthreads",
        "memory_limit", "gpus": [{"index", "name", "memory"}]}, ...], "total_threads",
        "total_memory", "total_gpus"}``.

    Examples
    --------
    >>> from pylops_distributed.cluster import get_client
    >>> with get_client("local", dashboard_address=":0") as client:  # doctest: +SKIP
    ...     print(cluster_info(client)["total_threads"])
    """
    info = client.scheduler_info(n_workers=-1)
    try:
        gpus = _worker_gpus(client)
    except Exception:  # workers leaving while we ask: report them without GPUs
        gpus = {}
    workers = []
    for addr, w in sorted(info["workers"].items()):
        workers.append({
            "address": addr,
            "name": str(w.get("name", "")),
            "nthreads": int(w.get("nthreads", 0)),
            "memory_limit": int(w.get("memory_limit") or 0),
            "gpus": gpus.get(addr, {}).get("gpus", []),
            "cuda_visible_devices": gpus.get(addr, {}).get("cuda_visible_devices"),
        })
    return {
        "scheduler": info.get("address", client.scheduler.address),
        "dashboard": client.dashboard_link,
        "workers": workers,
        "total_threads": sum(w["nthreads"] for w in workers),
        "total_memory": sum(w["memory_limit"] for w in workers),
        "total_gpus": sum(len(w["gpus"]) for w in workers),
    }


def format_cluster_info(info: dict) -> str:
    """A table of :func:`cluster_info`'s result, as ``pylops-distributed info`` prints it."""
    from dask.utils import format_bytes

    lines = [
        f"scheduler: {info['scheduler']}",
        f"dashboard: {info['dashboard']}",
        f"workers:   {len(info['workers'])}   threads: {info['total_threads']}   "
        f"memory: {format_bytes(info['total_memory'])}   GPUs: {info['total_gpus']}",
        "",
        f"{'worker':<34} {'name':<22} {'threads':>7} {'memory':>11}  gpu",
    ]
    for w in info["workers"]:
        gpu = ", ".join(f"{g['index']}: {g['name']} ({format_bytes(g['memory'])})" for g in w["gpus"])
        lines.append(f"{w['address']:<34} {w['name'][:22]:<22} {w['nthreads']:>7} "
                     f"{format_bytes(w['memory_limit']) if w['memory_limit'] else 'no limit':>11}  "
                     f"{gpu or '-'}")
    return "\n".join(lines)
