"""``pylops-distributed``: job scripts, local clusters and cluster reports from the shell.

Examples
--------
::

    pylops-distributed configs
    pylops-distributed job-script slurm-gpu --cores 32 --memory 256GiB --gpus 4 --queue gpu
    pylops-distributed template sbatch-gpu > job.sbatch
    pylops-distributed start local-processes --n-workers 2 --scheduler-file sched.json
    pylops-distributed info scheduler-file:sched.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from pylops_distributed import __version__

__all__ = ["main"]

EPILOG_START = """examples:
  pylops-distributed start                                  # threads, dashboard on :8787
  pylops-distributed start local-processes --n-workers 2 --threads-per-worker 1
  pylops-distributed start local-cuda --rmm-pool-size 20GiB --scheduler-file ~/sched.json
then, from Python:  get_client("tcp://127.0.0.1:PORT")  or  get_client("scheduler-file:~/sched.json")
"""

EPILOG_JOB_SCRIPT = """examples:
  pylops-distributed job-script slurm --cores 8 --memory 32GiB --queue compute --walltime 02:00:00
  pylops-distributed job-script slurm-gpu --cores 32 --memory 256GiB --gpus 4 --job-extra-directive constraint=a100
  pylops-distributed job-script pbs-gpu --cores 16 --memory 128GiB --gpus 2 --set rmm-pool-size=30GiB
"""

EPILOG_INFO = """examples:
  pylops-distributed info tcp://10.0.0.5:8786
  pylops-distributed info scheduler-file:/scratch/me/scheduler.json
  pylops-distributed info /scratch/me/scheduler.json --json
"""


def _parse_set(items) -> dict:
    import yaml

    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--set takes KEY=VALUE (e.g. --set job-extra-directives='[--exclusive]'), "
                             f"got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip().replace("-", "_")] = yaml.safe_load(value) if value else None
    return out


def _add_set(p):
    p.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                   help="any other option of the config / cluster class; VALUE is read as YAML "
                        "(--set job-extra-directives='[--exclusive]' --set processes=2)")


def _cmd_configs(args) -> int:
    from .cluster import available_configs, config_dir

    configs = available_configs()
    width = max(len(n) for n in configs)
    for name, desc in configs.items():
        print(f"{name:<{width}}  {desc}")
    print(f"\nfiles: {config_dir().resolve()}")
    print("templates: " + ", ".join(_templates()))
    return 0


def _templates() -> dict:
    from .cluster import config_dir

    return {p.stem: p for p in sorted(config_dir().iterdir())
            if p.suffix in (".sbatch", ".qsub")}


def _cmd_template(args) -> int:
    templates = _templates()
    if args.name not in templates:
        print(f"unknown template {args.name!r}; templates: {', '.join(templates)}", file=sys.stderr)
        return 2
    sys.stdout.write(templates[args.name].read_text())
    return 0


def _cmd_job_script(args) -> int:
    from .cluster import job_script

    overrides = _parse_set(args.set)
    for key in ("cores", "memory", "gpus", "processes", "queue", "account", "walltime",
                "job_name", "python", "log_directory"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    if args.job_extra_directive:
        # "exclusive" -> "--exclusive"; "-C a100" / "--exclusive" (given as --job-extra-directive=...) as is
        overrides["job_extra_directives"] = [d if d.startswith("-") else "--" + d
                                             for d in args.job_extra_directive]
    if args.prologue:
        overrides["job_script_prologue"] = args.prologue
    print(job_script(args.config, scheduler=args.scheduler, **overrides), end="")
    return 0


def _cmd_start(args) -> int:
    from .cluster import cluster_info, format_cluster_info, get_client, resolve_config

    overrides = _parse_set(args.set)
    for key in ("n_workers", "threads_per_worker", "memory_limit", "rmm_pool_size"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    if args.tls:
        overrides["security"] = "temporary" if args.tls == "temporary" else {
            "ca-file": args.tls_ca_file, "cert": args.tls_cert, "key": args.tls_key}
    overrides.setdefault("host", args.host)
    overrides.setdefault("dashboard_address", args.dashboard_address)
    scheduler_kwargs = dict(overrides.pop("scheduler_kwargs", None) or {})
    if args.port is not None:
        scheduler_kwargs["port"] = args.port
    spec = resolve_config(args.config, **overrides)  # validate before starting anything
    if spec.kind not in ("local", "local-cuda"):
        print(f"`start` runs local clusters (local, local-processes, local-cuda); {args.config!r} is "
              f"{spec.kind}. For SLURM/PBS use get_client({args.config!r}, jobs=N) in your script or "
              "a batch template: pylops-distributed template sbatch-cpu", file=sys.stderr)
        return 2
    if not spec.options.get("protocol") and spec.security is None:
        overrides["protocol"] = "tcp://"  # reachable from other processes (not inproc://)
    if args.scheduler_file:
        path = os.path.abspath(os.path.expanduser(args.scheduler_file))
        scheduler_kwargs["scheduler_file"] = path
    if scheduler_kwargs:
        overrides["scheduler_kwargs"] = scheduler_kwargs

    stop = {"flag": False}

    def _on_signal(signum, frame):
        stop["flag"] = True

    # SIGINT too: a process started in the background by a shell script ignores it otherwise
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    client = get_client(args.config, **overrides)
    try:
        info = cluster_info(client)
        print(format_cluster_info(info))
        print(f"\nscheduler address: {info['scheduler']}")
        print(f"dashboard:         {info['dashboard']}")
        if args.scheduler_file:
            print(f"scheduler file:    {scheduler_kwargs['scheduler_file']}")
            print(f'connect:           get_client("scheduler-file:{scheduler_kwargs["scheduler_file"]}")')
        else:
            print(f'connect:           get_client("{info["scheduler"]}")')
        print("press Ctrl-C to stop", flush=True)
        while not stop["flag"]:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping the cluster", flush=True)
        client.close()
        if args.scheduler_file and os.path.exists(scheduler_kwargs["scheduler_file"]):
            os.remove(scheduler_kwargs["scheduler_file"])
    return 0


def _cmd_info(args) -> int:
    from .cluster import cluster_info, format_cluster_info, get_client

    target = args.cluster
    if not target.startswith(("scheduler-file:", "tcp://", "tls://", "ucx://", "ucxx://")):
        if os.path.exists(os.path.expanduser(target)):
            target = "scheduler-file:" + target
        else:
            print(f"{target!r} is not an address (tcp://HOST:PORT) nor an existing scheduler file",
                  file=sys.stderr)
            return 2
    import dask

    kwargs = {}
    if args.tls_ca_file:
        kwargs["security"] = {"ca-file": args.tls_ca_file, "cert": args.tls_cert, "key": args.tls_key}
    with dask.config.set({"distributed.comm.timeouts.connect": f"{args.timeout}s"}):
        client = get_client(target, **kwargs)
    try:
        info = cluster_info(client)
    finally:
        client.close()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(format_cluster_info(info))
    return 0


def _add_tls(p, with_temporary=False):
    if with_temporary:
        p.add_argument("--tls", choices=["temporary", "files"], default=None,
                       help="TLS: 'temporary' (self-signed, made now) or 'files' (--tls-* below)")
    p.add_argument("--tls-ca-file", help="CA certificate (PEM) for TLS")
    p.add_argument("--tls-cert", help="certificate (PEM) for TLS")
    p.add_argument("--tls-key", help="private key (PEM) for TLS, if not inside --tls-cert")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``pylops-distributed``."""
    parser = argparse.ArgumentParser(
        prog="pylops-distributed",
        description="Clusters for pylops_distributed: print job scripts, start local clusters, "
                    "report running ones. Python: pylops_distributed.cluster.get_client(CONFIG).",
    )
    parser.add_argument("--version", action="version", version=f"pylops-distributed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("configs", help="list the bundled cluster configs and batch templates",
                       description="List the bundled cluster configs (names for get_client and "
                                   "job-script) and batch templates.")
    p.set_defaults(func=_cmd_configs)

    p = sub.add_parser("job-script", help="print the batch script a slurm/pbs config submits",
                       description="Print the job script that get_client(CONFIG, ...) would submit "
                                   "for every job, without submitting anything.",
                       epilog=EPILOG_JOB_SCRIPT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", help="slurm, slurm-gpu, pbs, pbs-gpu, or a YAML file")
    p.add_argument("--cores", type=int, help="CPUs per job")
    p.add_argument("--memory", help="memory per job, e.g. 32GiB")
    p.add_argument("--gpus", type=int, help="GPUs per job (GPU configs): one dask-cuda worker each")
    p.add_argument("--processes", type=int, help="worker processes per job (CPU configs)")
    p.add_argument("--queue", help="partition (SLURM) / queue (PBS)")
    p.add_argument("--account", help="account to charge")
    p.add_argument("--walltime", help="e.g. 02:00:00")
    p.add_argument("--job-name", dest="job_name", help="job name")
    p.add_argument("--python", help="python on the nodes (default: this one)")
    p.add_argument("--log-directory", dest="log_directory", help="where job stdout/stderr go")
    p.add_argument("--job-extra-directive", action="append",
                   help="extra #SBATCH/#PBS line without the prefix, repeatable: 'exclusive' "
                        "or 'constraint=a100' (written --exclusive, --constraint=a100), or "
                        "--job-extra-directive='-l place=excl' for other forms")
    p.add_argument("--prologue", action="append",
                   help="shell line run before the worker, repeatable ('module load cuda')")
    p.add_argument("--scheduler", help="scheduler address to write (default a placeholder)")
    _add_set(p)
    p.set_defaults(func=_cmd_job_script)

    p = sub.add_parser("template", help="print a batch template (scheduler + workers + your script)",
                       description="Print a batch template that starts a scheduler and CPU or GPU "
                                   "workers through a scheduler file and runs your script, which "
                                   "connects with get_client('scheduler-file:...'). Templates: "
                                   "sbatch-cpu, sbatch-gpu, qsub-cpu, qsub-gpu.")
    p.add_argument("name", help="sbatch-cpu, sbatch-gpu, qsub-cpu or qsub-gpu")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("start", help="start a local (or local CUDA) cluster until interrupted",
                       description="Start a local cluster, print its scheduler address and "
                                   "dashboard link, and keep it running until Ctrl-C / SIGTERM.",
                       epilog=EPILOG_START, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", default="local",
                   help="local (default), local-processes, local-cuda, or a YAML file")
    p.add_argument("--n-workers", type=int, dest="n_workers", help="workers (local-cuda: GPUs used)")
    p.add_argument("--threads-per-worker", type=int, dest="threads_per_worker")
    p.add_argument("--memory-limit", dest="memory_limit", help="per worker, e.g. 4GiB or auto")
    p.add_argument("--rmm-pool-size", dest="rmm_pool_size",
                   help="local-cuda: RMM pool per GPU (e.g. 20GiB); CuPy allocates from it")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to listen on (default 127.0.0.1; 0.0.0.0 for other machines)")
    p.add_argument("--port", type=int, default=None, help="scheduler port (default: a free one)")
    p.add_argument("--dashboard-address", default=":8787",
                   help="dashboard address (default :8787; :0 for a free port)")
    p.add_argument("--scheduler-file", help="write the scheduler's address to this JSON file")
    _add_tls(p, with_temporary=True)
    _add_set(p)
    p.set_defaults(func=_cmd_start)

    p = sub.add_parser("info", help="report a running cluster's workers, threads, memory and GPUs",
                       description="Connect to a running scheduler and report its workers, "
                                   "threads, memory and GPUs.",
                       epilog=EPILOG_INFO, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cluster", help="tcp://HOST:PORT, tls://HOST:PORT, scheduler-file:PATH or PATH")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--timeout", type=float, default=10, help="seconds to wait for the scheduler")
    _add_tls(p)
    p.set_defaults(func=_cmd_info)
    return parser


def main(argv=None) -> int:
    """Entry point of ``pylops-distributed``."""
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help()
        return 2
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, ImportError, FileNotFoundError, TimeoutError, OSError) as err:
        print(f"pylops-distributed {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
