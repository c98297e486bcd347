"""Clusters in one call: laptop, GPU workstation, SLURM, PBS or an existing scheduler.

==========================  ================================================================
:func:`get_client`          start (or find) a cluster from a config, return a connected Client
:func:`job_script`          the batch script a slurm/pbs config submits, without submitting it
:func:`available_configs`   bundled config names and descriptions
:func:`resolve_config`      a config plus overrides, validated, as a :class:`ClusterSpec`
:func:`cluster_info`        workers, threads, memory and GPUs of a running cluster
==========================  ================================================================

Examples
--------
>>> from pylops_distributed.cluster import get_client
>>> with get_client("local", dashboard_address=":0") as client:   # doctest: +SKIP
...     ...
"""

from .client import ClusterClient, get_client, start_cluster
from .configs import ClusterSpec, available_configs, config_dir, load_config, resolve_config
from .info import cluster_info, format_cluster_info
from .jobqueue import job_script

__all__ = [
    "ClusterClient",
    "ClusterSpec",
    "available_configs",
    "cluster_info",
    "config_dir",
    "format_cluster_info",
    "get_client",
    "job_script",
    "load_config",
    "resolve_config",
    "start_cluster",
]
