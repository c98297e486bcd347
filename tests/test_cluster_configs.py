"""Cluster configs, validation, generated job scripts (line by line), CLI help, packaging.

Nothing here starts a scheduler; see test_cluster_local.py / test_cluster_slurm.py for that.
"""

import os
import subprocess
import sys
import zipfile

import dask
import pytest

from pylops_distributed.cluster import (
    available_configs,
    config_dir,
    job_script,
    load_config,
    resolve_config,
)
from pylops_distributed.cli import main
from pylops_distributed.cluster.jobqueue import jobqueue_cluster_options

pytest.importorskip("dask_jobqueue")

PY = "/opt/venv/bin/python"  # written into scripts as the workers' python
CLI = os.path.join(os.path.dirname(sys.executable), "pylops-distributed")
BUNDLED = ["local", "local-cuda", "local-processes", "pbs", "pbs-gpu", "slurm", "slurm-gpu"]


def _cli(*args, check=True):
    out = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60)
    if check:
        assert out.returncode == 0, out.stderr
    return out


# ------------------------------------------------------------------------------------ configs
def test_bundled_configs_and_templates():
    assert sorted(available_configs()) == BUNDLED
    assert all(available_configs().values()), "every config has a description"
    names = {p.name for p in config_dir().iterdir()}
    assert {"sbatch-cpu.sbatch", "sbatch-gpu.sbatch", "qsub-cpu.qsub", "qsub-gpu.qsub"} <= names


@pytest.mark.parametrize("name", [n for n in BUNDLED if n != "local-cuda"])
def test_every_cpu_config_resolves(name):
    spec = resolve_config(name)
    assert spec.kind in ("local", "slurm", "pbs")
    assert spec.gpu == name.endswith("-gpu")
    assert all("-" not in k for k in spec.options), "options are snake_case"


def test_local_cuda_without_dask_cuda_names_the_extra():
    try:
        import dask_cuda  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pylops_distributed\[gpu\]"):
            resolve_config("local-cuda")
    else:
        assert resolve_config("local-cuda").kind == "local-cuda"


def test_overrides_kebab_and_snake_and_dask_config(tmp_path):
    spec = resolve_config("slurm", cores=2, memory="4GiB", jobs=3, **{"job-name": "x"})
    assert (spec.options["cores"], spec.options["memory"], spec.jobs) == (2, "4GiB", 3)
    assert spec.options["job_name"] == "x"
    with dask.config.set({"pylops-distributed.clusters.slurm.options.queue": "big",
                          "pylops-distributed.clusters.slurm.jobs": 5}):
        spec = resolve_config("slurm")
        assert spec.options["queue"] == "big" and spec.jobs == 5
        assert resolve_config("slurm", queue="small", jobs=1).options["queue"] == "small"
    # scheduler_options are merged, not replaced
    spec = resolve_config("slurm", scheduler_options={"host": "127.0.0.1"})
    assert spec.options["scheduler_options"] == {"dashboard_address": ":8787", "host": "127.0.0.1"}


def test_yaml_path_config(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("cluster: slurm\njobs: 2\noptions:\n  cores: 3\n  memory: 6GiB\n"
                    "  job-extra-directives: ['--exclusive']\n")
    spec = resolve_config(str(path))
    assert (spec.name, spec.kind, spec.jobs, spec.options["cores"]) == ("mine", "slurm", 2, 3)
    assert "#SBATCH --exclusive" in job_script(str(path), python=PY).splitlines()
    assert load_config(path)["source"] == str(path)


def test_connect_forms():
    spec = resolve_config("scheduler-file:~/s.json", n_workers=2)
    assert spec.kind == "scheduler-file" and spec.scheduler_file == os.path.expanduser("~/s.json")
    assert spec.n_workers == 2
    spec = resolve_config("tls://10.0.0.1:8786")
    assert spec.kind == "address" and spec.address == "tls://10.0.0.1:8786"


@pytest.mark.parametrize("config, kwargs, exc, match", [
    ("slurmm", {}, ValueError, "bundled configs are: .*slurm"),
    ("./nope.yaml", {}, FileNotFoundError, "does not exist"),
    ("local", {"n_wrkers": 2}, TypeError, r"\['n_wrkers'\].*get_client\(\"local\", n_workers=2"),
    ("slurm", {"cores": 0}, ValueError, r"cores must be a positive integer.*get_client\(\"slurm\""),
    ("slurm", {"memory": "lots"}, ValueError, "memory must be a size"),
    ("slurm", {"jobs": 2, "n_workers": 2}, ValueError, "jobs= or n_workers=, not both"),
    ("slurm", {"jobs": -1}, ValueError, "non-negative integer"),
    ("slurm", {"gpus": 2}, ValueError, r"GPU jobs.*get_client\(\"slurm-gpu\""),
    ("slurm", {"qeue": "x"}, TypeError, "unexpected keyword argument 'qeue'"),
    ("slurm-gpu", {"cores": 6, "gpus": 4}, ValueError, "use e.g. cores=8, gpus=4"),
    ("slurm-gpu", {"processes": 1, "gpus": 2, "cores": 4}, ValueError, "one worker per GPU"),
    ("pbs-gpu", {"rmm_allocator_external_lib_list": ["numpy"], "rmm_pool_size": "1GiB"},
     ValueError, "'cupy' and/or 'torch'"),
    ("scheduler-file:/x.json", {"cores": 2}, ValueError, "connects to a running scheduler"),
    ("local", {"security": {"ca-file": "/no/ca.pem", "cert": "/no/c.pem"}}, ValueError,
     "files not found"),
    ("local", {"wait_timeout": -1}, ValueError, "wait_timeout"),
    ("slurm", {"memory": 32}, ValueError, r"memory=32 has no unit.*memory=\"32GiB\""),
    ("pbs", {"memory": "16"}, ValueError, "has no unit"),
    ("tpc://127.0.0.1:8786", {}, ValueError, r"unknown address scheme 'tpc://'.*tcp://"),
])
def test_bad_configs_fail_before_starting(config, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        resolve_config(config, **kwargs)


# ------------------------------------------------------------------------------- job scripts
def test_slurm_cpu_job_script_line_by_line(tmp_path):
    script = job_script("slurm", cores=2, memory="4GiB", queue="compute", account="geo",
                        walltime="00:30:00", python=PY, log_directory=str(tmp_path))
    assert script.splitlines() == [
        "#!/usr/bin/env bash",
        "",
        "#SBATCH -J pylops-worker",
        f"#SBATCH -e {tmp_path}/pylops-worker-%J.err",
        f"#SBATCH -o {tmp_path}/pylops-worker-%J.out",
        "#SBATCH -p compute",
        "#SBATCH -A geo",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=4G",
        "#SBATCH -t 00:30:00",
        "",
        f"{PY} -m distributed.cli.dask_worker tcp://SCHEDULER-ADDRESS:8786 --name pylops-worker "
        "--nthreads 2 --memory-limit 4.00GiB --nanny --death-timeout 60 "
        "--local-directory ${TMPDIR:-/tmp}",
    ]


def test_slurm_cpu_job_script_several_processes(tmp_path):
    script = job_script("slurm", cores=8, memory="32GiB", processes=4, python=PY,
                        log_directory=str(tmp_path), scheduler="tcp://10.1.2.3:8786")
    worker = script.splitlines()[-1]
    assert worker.startswith(f"{PY} -m distributed.cli.dask_worker tcp://10.1.2.3:8786 ")
    assert "--nthreads 2 --memory-limit 8.00GiB --nworkers 4 --nanny" in worker
    assert "#SBATCH --cpus-per-task=8" in script and "#SBATCH --mem=32G" in script


def test_slurm_gpu_job_script_line_by_line(tmp_path):
    """Per-GPU threads and memory: 32 cores, 256 GiB, 4 GPUs -> 4 workers of 8 threads, 64 GiB."""
    script = job_script("slurm-gpu", cores=32, memory="256GiB", gpus=4, queue="gpu",
                        rmm_pool_size="30GiB", python=PY, log_directory=str(tmp_path),
                        job_script_prologue=["module load cuda"])
    assert script.splitlines() == [
        "#!/usr/bin/env bash",
        "",
        "#SBATCH -J pylops-gpu-worker",
        f"#SBATCH -e {tmp_path}/pylops-gpu-worker-%J.err",
        f"#SBATCH -o {tmp_path}/pylops-gpu-worker-%J.out",
        "#SBATCH -p gpu",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=32",
        "#SBATCH --mem=256G",
        "#SBATCH -t 01:00:00",
        "#SBATCH --gres=gpu:4",
        "module load cuda",
        f"{PY} -m dask_cuda.cli tcp://SCHEDULER-ADDRESS:8786 --name pylops-worker "
        "--nthreads 8 --memory-limit 64.00GiB --death-timeout 60 --local-directory ${TMPDIR:-/tmp} "
        "--rmm-pool-size 30GiB --set-rmm-allocator-for-libs cupy",
    ]


def test_slurm_gpu_keeps_a_user_gpu_directive(tmp_path):
    script = job_script("slurm-gpu", cores=8, memory="64GiB", gpus=2, python=PY,
                        log_directory=str(tmp_path), job_extra_directives=["--gpus-per-node=2"])
    assert "#SBATCH --gpus-per-node=2" in script
    assert "--gres" not in script
    assert "--nthreads 4 --memory-limit 32.00GiB" in script


def test_dask_jobqueue_alone_gives_every_gpu_worker_the_whole_job():
    """The pitfall the GPU configs fix, shown on dask-jobqueue itself."""
    from dask_jobqueue.slurm import SLURMJob

    raw = SLURMJob(scheduler="tcp://s:8786", name="w", cores=32, memory="256GiB", processes=1,
                   worker_command="dask_cuda.cli", python=PY).job_script()
    assert "--nthreads 32 --memory-limit 256.00GiB" in raw  # handed to each of the 4 GPU workers
    ours = jobqueue_cluster_options(resolve_config("slurm-gpu", cores=32, memory="256GiB", gpus=4))
    assert (ours["processes"], ours["worker_command"]) == (4, "dask_cuda.cli")


def test_pbs_cpu_job_script_line_by_line(tmp_path):
    script = job_script("pbs", cores=4, memory="16GiB", queue="workq", account="geo",
                        walltime="02:00:00", python=PY, log_directory=str(tmp_path))
    assert script.splitlines() == [
        "#!/usr/bin/env bash",
        "",
        "#PBS -N pylops-worker",
        "#PBS -q workq",
        "#PBS -A geo",
        "#PBS -l select=1:ncpus=4:mem=16GB",
        "#PBS -l walltime=02:00:00",
        f"#PBS -e {tmp_path}/",
        f"#PBS -o {tmp_path}/",
        "",
        f"{PY} -m distributed.cli.dask_worker tcp://SCHEDULER-ADDRESS:8786 --name pylops-worker "
        "--nthreads 4 --memory-limit 16.00GiB --nanny --death-timeout 60 "
        "--local-directory ${TMPDIR:-/tmp}",
    ]


def test_pbs_gpu_job_script_line_by_line(tmp_path):
    script = job_script("pbs-gpu", cores=32, memory="256GiB", gpus=4, queue="gpu",
                        rmm_pool_size="30GiB", device_memory_limit="70GB", python=PY,
                        log_directory=str(tmp_path))
    assert script.splitlines() == [
        "#!/usr/bin/env bash",
        "",
        "#PBS -N pylops-gpu-worker",
        "#PBS -q gpu",
        "#PBS -l select=1:ncpus=32:ngpus=4:mem=256GB",
        "#PBS -l walltime=01:00:00",
        f"#PBS -e {tmp_path}/",
        f"#PBS -o {tmp_path}/",
        "",
        f"{PY} -m dask_cuda.cli tcp://SCHEDULER-ADDRESS:8786 --name pylops-worker "
        "--nthreads 8 --memory-limit 64.00GiB --death-timeout 60 --local-directory ${TMPDIR:-/tmp} "
        "--device-memory-limit 70GB --rmm-pool-size 30GiB --set-rmm-allocator-for-libs cupy",
    ]


def test_pbs_gpu_user_resource_spec_wins(tmp_path):
    script = job_script("pbs-gpu", cores=16, memory="64GiB", gpus=2, python=PY,
                        log_directory=str(tmp_path), resource_spec="nodes=1:ppn=16:gpus=2")
    assert "#PBS -l nodes=1:ppn=16:gpus=2" in script.splitlines()
    assert "--nthreads 8 --memory-limit 32.00GiB" in script


def test_job_script_with_tls_files(tmp_path):
    from distributed import Security

    sec = Security.temporary()
    ca, cert = tmp_path / "ca.pem", tmp_path / "cert.pem"
    ca.write_text(sec.tls_ca_file)
    cert.write_text(sec.tls_scheduler_cert + sec.tls_scheduler_key)
    script = job_script("slurm", python=PY, log_directory=str(tmp_path),
                        security={"ca-file": str(ca), "cert": str(cert)})
    worker = script.splitlines()[-1]
    assert "--protocol tls://" in worker
    assert f"--tls-ca-file {ca}" in worker and f"--tls-cert {cert}" in worker


def test_job_script_refuses_local():
    with pytest.raises(ValueError, match="has no job script"):
        job_script("local")


# ------------------------------------------------------------------------------------- CLI
def test_cli_version_and_module_entry_point():
    """`pylops-distributed --version` and `python -m pylops_distributed --version`; the version
    sorts above the 2020 predecessor's 0.2.0 on the package index."""
    from packaging.version import Version

    import pylops_distributed

    assert Version(pylops_distributed.__version__) > Version("0.2.0")
    for cmd in ([CLI], [sys.executable, "-m", "pylops_distributed"]):
        out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and out.stdout.strip() == (
            f"pylops-distributed {pylops_distributed.__version__}")


def test_cli_job_script_memory_without_unit_is_one_clear_line():
    out = _cli("job-script", "slurm", "--memory", "32", check=False)
    assert out.returncode == 1 and "--memory 32GiB" in out.stderr and "converted" not in out.stderr


def test_cli_entry_point_help():
    out = _cli("--help")
    assert out.stdout.startswith("usage: pylops-distributed")
    for sub in ("configs", "job-script", "template", "start", "info"):
        assert sub in out.stdout


@pytest.mark.parametrize("sub", ["configs", "job-script", "template", "start", "info"])
def test_cli_help_on_every_subcommand(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        main([sub, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: pylops-distributed {sub}")
    assert len(out.splitlines()) > 4


def test_cli_without_arguments_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_cli_configs_and_template(capsys):
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    for name in BUNDLED:
        assert name in out
    assert main(["template", "sbatch-gpu"]) == 0
    assert capsys.readouterr().out == (config_dir() / "sbatch-gpu.sbatch").read_text()
    assert main(["template", "nope"]) == 2
    assert "sbatch-cpu" in capsys.readouterr().err


def test_cli_job_script_equals_python(tmp_path):
    out = _cli("job-script", "slurm-gpu", "--cores", "16", "--memory", "128GiB", "--gpus", "4",
               "--queue", "gpu", "--python", PY, "--log-directory", str(tmp_path),
               "--set", "rmm-pool-size=20GiB", "--job-extra-directive", "constraint=a100",
               "--job-extra-directive=--exclusive").stdout
    assert out == job_script("slurm-gpu", cores=16, memory="128GiB", gpus=4, queue="gpu",
                             python=PY, log_directory=str(tmp_path), rmm_pool_size="20GiB",
                             job_extra_directives=["--constraint=a100", "--exclusive"])
    assert "--nthreads 4 --memory-limit 32.00GiB" in out


def test_cli_errors_are_one_line(capsys):
    assert main(["job-script", "slurm-gpu", "--cores", "6", "--gpus", "4"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pylops-distributed job-script: error: cores=6")
    assert "Traceback" not in err
    assert main(["start", "slurm"]) == 2
    assert "local clusters" in capsys.readouterr().err


# ------------------------------------------------------------------------------- packaging
def test_wheel_ships_configs_and_templates(tmp_path):
    """The bundled YAML and templates are package data of a built wheel (not only the checkout)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                          str(tmp_path), root], capture_output=True, text=True, timeout=300)
    if out.returncode and ("Could not find a version" in out.stderr
                           or "NewConnectionError" in out.stderr):
        pytest.skip("no package index to fetch the build backend from: " + out.stderr[-300:])
    assert out.returncode == 0, out.stderr[-2000:]
    (whl,) = tmp_path.glob("pylops_distributed-*.whl")
    names = set(zipfile.ZipFile(whl).namelist())
    for f in ("slurm.yaml", "slurm-gpu.yaml", "local-cuda.yaml", "sbatch-cpu.sbatch",
              "qsub-gpu.qsub", "README.md"):
        assert f"pylops_distributed/cluster/configs/{f}" in names, sorted(names)[:20]
    assert "pylops_distributed/cli.py" in names


def test_unwritable_log_directory_falls_back_to_tmp(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions; a file in the way fails for all
            target = str(tmp_path / "file" / "logs")
            (tmp_path / "file").write_text("")
        else:
            target = str(ro / "logs")
        with pytest.warns(UserWarning, match="not writable"):
            script = job_script("slurm", log_directory=target, python=PY)
        assert "pylops-distributed-log-" in script
    finally:
        ro.chmod(0o700)


def test_local_cuda_protocol_defaults_to_ucx_only_where_installed(monkeypatch):
    import importlib.util

    from pylops_distributed.cluster import cuda

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed_ucxx" else real(name, *a))
    assert cuda.default_protocol() == "tcp"
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "distributed_ucxx" else real(name, *a))
    assert cuda.default_protocol() == "ucx"
