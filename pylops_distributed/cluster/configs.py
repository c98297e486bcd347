"""Cluster configs: find, load and resolve them into a validated :class:`ClusterSpec`.

A config is a small YAML file (the bundled ones live in ``cluster_configs/`` at the repository root
and ship inside the package as ``pylops_distributed/cluster/configs``). Resolving it merges, later
wins: the file, the dask config under ``pylops-distributed.clusters.NAME``, and keyword overrides.
Nothing here starts a server.
"""

from __future__ import annotations

import dataclasses
import os
from importlib import resources
from pathlib import Path
from typing import Any

import dask.config

__all__ = [
    "ClusterSpec",
    "available_configs",
    "config_dir",
    "load_config",
    "resolve_config",
]

#: cluster kinds a config's ``cluster:`` key may name
CLUSTER_KINDS = ("local", "local-cuda", "slurm", "pbs")
#: kinds that are not started by us but connected to
CONNECT_KINDS = ("address", "scheduler-file")
#: top-level keys of a config file (everything else is an error)
TOP_LEVEL_KEYS = (
    "description", "cluster", "gpu", "jobs", "n-workers", "wait-timeout", "security", "options",
)
#: overrides that are not cluster-class keyword arguments
SPECIAL_OVERRIDES = ("jobs", "n_workers", "wait_timeout", "security")
#: URL schemes accepted as an existing scheduler address
ADDRESS_SCHEMES = ("tcp://", "tls://", "ucx://", "ucxx://", "ws://", "wss://", "inproc://")

EXAMPLE_CALLS = """\
  get_client("local")                                     # threads in this process
  get_client("local-processes", n_workers=2)
  get_client("local-cuda")                                # one worker per GPU
  get_client("slurm", cores=8, memory="32GiB", jobs=2)
  get_client("pbs-gpu", cores=32, memory="256GiB", gpus=4, jobs=1)
  get_client("./my-cluster.yaml")
  get_client("scheduler-file:/scratch/me/scheduler.json")
  get_client("tcp://10.0.0.5:8786")"""


@dataclasses.dataclass
class ClusterSpec:
    """A resolved, validated cluster config: what :func:`~.get_client` will start or connect to.

    Attributes
    ----------
    name : str
        Config name (``"slurm"``), file path, or the address / scheduler file given.
    kind : str
        ``"local"``, ``"local-cuda"``, ``"slurm"``, ``"pbs"``, ``"address"`` or ``"scheduler-file"``.
    options : dict
        Keyword arguments of the cluster class, snake_case.
    gpu : bool
        Jobs run ``dask cuda worker`` (slurm/pbs only; ``local-cuda`` is always GPU).
    jobs, n_workers : int or None
        How many jobs to submit / workers to start, and to wait for.
    wait_timeout : float or None
        Seconds to wait for the workers (``None``: forever).
    security : distributed.Security or None
        TLS settings for scheduler, workers and client.
    address, scheduler_file : str or None
        For ``kind="address"`` / ``"scheduler-file"``.
    source : str or None
        The YAML file the config came from.
    description : str
    """

    name: str
    kind: str
    options: dict = dataclasses.field(default_factory=dict)
    gpu: bool = False
    jobs: int | None = None
    n_workers: int | None = None
    wait_timeout: float | None = None
    security: Any = None
    address: str | None = None
    scheduler_file: str | None = None
    source: str | None = None
    description: str = ""


# -------------------------------------------------------------------------------------------------
# locating bundled configs
def config_dir() -> Path:
    """Directory holding the bundled YAML configs and batch templates.

    Inside the package (wheel or editable install) it is ``pylops_distributed/cluster/configs``;
    in a source checkout that is a link to ``cluster_configs/`` at the repository root, which is
    also used directly if the link is missing.

    Examples
    --------
    >>> sorted(p.name for p in config_dir().glob("slurm*.yaml"))
    ['slurm-gpu.yaml', 'slurm.yaml']
    """
    candidates = []
    try:
        candidates.append(Path(str(resources.files(__package__) / "configs")))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - odd importers
        pass
    here = Path(__file__).resolve().parent
    candidates += [here / "configs", here.parent.parent / "cluster_configs"]
    for cand in candidates:
        if (cand / "local.yaml").is_file():
            return cand
    raise FileNotFoundError(
        "the bundled cluster configs were not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall with `pip install pylops_distributed` or pass a YAML path: "
        'get_client("./my-cluster.yaml")'
    )


def available_configs() -> dict[str, str]:
    """Names of the bundled configs with their one-line descriptions.

    Examples
    --------
    >>> "slurm-gpu" in available_configs()
    True
    """
    out = {}
    for path in sorted(config_dir().glob("*.yaml")):
        out[path.stem] = _read_yaml(path).get("description", "")
    return out


def _read_yaml(path: Path) -> dict:
    try:
        import yaml
    except ImportError as err:  # pragma: no cover - pyyaml ships with dask's deps usually
        raise ImportError(
            "reading cluster configs needs PyYAML: pip install 'pylops_distributed[jobqueue]'"
        ) from err
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"cluster config {path} must hold a mapping, got {type(data).__name__}")
    return data


# -------------------------------------------------------------------------------------------------
# loading
def _classify(config: str | os.PathLike) -> tuple[str, str]:
    """Return ``(form, value)`` with form one of name, path, address, scheduler-file."""
    if isinstance(config, os.PathLike):
        return "path", os.fspath(config)
    if not isinstance(config, str) or not config:
        raise TypeError(
            f"config must be a config name, a YAML path, 'scheduler-file:PATH' or an address, "
            f"got {config!r}. For example:\n{EXAMPLE_CALLS}"
        )
    if config.startswith("scheduler-file:"):
        return "scheduler-file", config[len("scheduler-file:"):]
    if config.startswith(ADDRESS_SCHEMES):
        return "address", config
    scheme, sep, _ = config.partition("://")
    if sep and scheme.isalnum():  # an address with a scheme dask does not know (a typo?)
        raise ValueError(
            f"{config!r}: unknown address scheme {scheme + '://'!r}; a scheduler address starts "
            f"with one of {', '.join(ADDRESS_SCHEMES)}, e.g. get_client(\"tcp://127.0.0.1:8786\")"
        )
    if config.endswith((".yaml", ".yml")) or os.sep in config:
        return "path", config
    return "name", config


def load_config(config: str | os.PathLike = "local") -> dict:
    """Load a config (bundled name or YAML path) merged with the user's dask config.

    Parameters
    ----------
    config : str or path-like
        A bundled name (see :func:`available_configs`) or the path of a YAML file.

    Returns
    -------
    dict
        The raw config (kebab-case keys as in the file), with ``name`` and ``source`` added.

    Raises
    ------
    ValueError
        Unknown name, or a key the config format does not have.
    FileNotFoundError
        A path that does not exist.

    Examples
    --------
    >>> load_config("slurm")["options"]["cores"]
    4
    """
    form, value = _classify(config)
    if form == "name":
        path = config_dir() / f"{value}.yaml"
        if not path.is_file():
            names = ", ".join(available_configs())
            raise ValueError(
                f"unknown cluster config {value!r}; bundled configs are: {names}. Or pass a YAML "
                f"path, 'scheduler-file:PATH' or an address. For example:\n{EXAMPLE_CALLS}"
            )
        name = value
    elif form == "path":
        path = Path(value).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"cluster config file {str(path)!r} does not exist; start from a bundled one: "
                f"`cp {config_dir() / 'slurm.yaml'} ./my-cluster.yaml` then "
                f'get_client("./my-cluster.yaml")'
            )
        name = path.stem
    else:
        raise ValueError(f"load_config reads YAML configs, not {form} {value!r}")
    raw = _read_yaml(path)
    unknown = set(raw) - set(TOP_LEVEL_KEYS)
    if unknown:
        raise ValueError(
            f"cluster config {str(path)!r} has unknown top-level keys {sorted(unknown)}; the keys "
            f"are {list(TOP_LEVEL_KEYS)} (cluster-class arguments go under 'options:')"
        )
    user = dask.config.get(f"pylops-distributed.clusters.{name}", default=None) or {}
    merged = _deep_merge(raw, user)
    merged["name"] = name
    merged["source"] = str(path)
    return merged


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in (b or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _snake(key: str) -> str:
    # CUDA_VISIBLE_DEVICES stays as is; kebab-case becomes snake_case
    return key.replace("-", "_")


def _snake_keys(d: dict | None) -> dict:
    return {_snake(k): v for k, v in (d or {}).items()}


# -------------------------------------------------------------------------------------------------
# resolving
def _positive_int(value, what: str, example: str, allow_zero: bool = False):
    if value is None:
        return None
    ok = isinstance(value, int) and not isinstance(value, bool) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ValueError(f"{what} must be a {'non-negative' if allow_zero else 'positive'} integer, "
                         f"got {value!r}; for example {example}")
    return value


def resolve_config(config: str | os.PathLike = "local", **overrides) -> ClusterSpec:
    """Resolve a config and keyword overrides into a validated :class:`ClusterSpec`.

    Starts nothing. See :func:`pylops_distributed.cluster.get_client` for the parameters.

    Examples
    --------
    >>> spec = resolve_config("slurm", cores=2, memory="4GiB", jobs=3)
    >>> spec.kind, spec.jobs, spec.options["cores"]
    ('slurm', 3, 2)
    >>> resolve_config("scheduler-file:/tmp/s.json").kind
    'scheduler-file'
    """
    from .security import make_security

    form, value = _classify(config)
    overrides = {_snake(k): v for k, v in overrides.items()}
    if form in CONNECT_KINDS:
        extra = set(overrides) - {"n_workers", "wait_timeout", "security", "jobs"}
        if extra:
            raise ValueError(
                f"{config!r} connects to a running scheduler; cluster options {sorted(extra)} "
                f"cannot apply. Only n_workers=, wait_timeout= and security= do, e.g. "
                f'get_client("{config}", n_workers=2)'
            )
        if form == "scheduler-file" and not value:
            raise ValueError('scheduler-file: needs a path, e.g. get_client("scheduler-file:'
                             '/scratch/me/scheduler.json")')
        n_workers = overrides.get("n_workers", overrides.get("jobs"))
        return ClusterSpec(
            name=value,
            kind=form,
            n_workers=_positive_int(n_workers, "n_workers", 'get_client("tcp://host:8786", n_workers=2)',
                                    allow_zero=True),
            wait_timeout=overrides.get("wait_timeout", 60),
            security=make_security(overrides.get("security")),
            address=value if form == "address" else None,
            scheduler_file=str(Path(value).expanduser()) if form == "scheduler-file" else None,
            description=f"existing scheduler at {value}",
        )

    raw = load_config(config)
    kind = raw.get("cluster")
    if kind not in CLUSTER_KINDS:
        raise ValueError(
            f"cluster config {raw['source']!r}: 'cluster:' must be one of {list(CLUSTER_KINDS)}, "
            f"got {kind!r}"
        )
    options = _snake_keys(raw.get("options"))
    if "scheduler_options" in options:
        options["scheduler_options"] = _snake_keys(options["scheduler_options"])
    for k, v in overrides.items():
        if k in SPECIAL_OVERRIDES:
            continue
        if k == "scheduler_options" and isinstance(v, dict):
            v = {**options.get("scheduler_options", {}), **_snake_keys(v)}
        options[k] = v

    jobs = overrides.get("jobs", raw.get("jobs"))
    n_workers = overrides.get("n_workers", raw.get("n-workers"))
    example = f'get_client("{raw["name"]}", jobs=2)' if kind in ("slurm", "pbs") else \
        f'get_client("{raw["name"]}", n_workers=2)'
    _positive_int(jobs, "jobs", example, allow_zero=True)
    _positive_int(n_workers, "n_workers", example, allow_zero=True)
    if jobs is not None and n_workers is not None and kind in ("slurm", "pbs"):
        raise ValueError(f"give jobs= or n_workers=, not both (jobs={jobs}, n_workers={n_workers}); "
                         f"for example {example}")
    wait_timeout = overrides.get("wait_timeout", raw.get("wait-timeout"))
    if wait_timeout is not None and not (isinstance(wait_timeout, (int, float)) and wait_timeout > 0):
        raise ValueError(f"wait_timeout must be a positive number of seconds or None, got {wait_timeout!r}")
    gpu = bool(raw.get("gpu", False)) or kind == "local-cuda"
    security = make_security(overrides.get("security", raw.get("security")))

    spec = ClusterSpec(
        name=raw["name"],
        kind=kind,
        options=options,
        gpu=gpu,
        jobs=jobs,
        n_workers=n_workers,
        wait_timeout=wait_timeout,
        security=security,
        source=raw["source"],
        description=raw.get("description", ""),
    )
    _validate(spec)
    return spec


def _validate(spec: ClusterSpec) -> None:
    """Check the options against the cluster class before anything starts."""
    if spec.kind == "local":
        from .local import validate_local_options

        validate_local_options(spec)
    elif spec.kind == "local-cuda":
        from .cuda import validate_cuda_options

        validate_cuda_options(spec)
    else:
        from .jobqueue import validate_jobqueue_options

        validate_jobqueue_options(spec)
