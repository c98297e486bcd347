"""Security of the clusters get_client starts (issue 17.6).

- Local clusters listen on 127.0.0.1 only (scheduler, dashboard, workers and nannies): see
  ``test_progress.py::test_get_client_binds_loopback_and_logs_the_dashboard``, which checks
  every listening socket of this process and its children.
- ``security="temporary"`` on a batch cluster: the certificate, key and CA that the jobs read are
  written with mode 0600, named (not inlined) in the job script, and deleted when the client
  closes.
- A TLS scheduler refuses a plain ``tcp://`` client at once.
- Job scripts hold no secrets: no certificate or key contents, no password or token.

Every server binds 127.0.0.1 and is closed, also on failure.
"""

import re
import stat
import time

import dask
import pytest
from distributed import Client, Security

from pylops_distributed.cli import main as cli_main
from pylops_distributed.cluster import get_client, job_script

pytest.importorskip("dask_jobqueue")
pytest.importorskip("cryptography")  # Security.temporary()

LOOPBACK = {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
#: what must never appear in a job script
SECRET = re.compile(r"-----BEGIN|PRIVATE KEY|CERTIFICATE-----|passw|token|secret", re.I)


def _tls_files(tmp_path):
    """A CA, and a certificate + key in separate files, from a temporary Security."""
    sec = Security.temporary()
    files = {"ca-file": sec.tls_ca_file, "cert": sec.tls_scheduler_cert,
             "key": sec.tls_scheduler_key}
    paths = {}
    for name, text in files.items():
        path = tmp_path / f"{name}.pem"
        path.write_text(text)
        path.chmod(0o600)
        paths[name] = str(path)
    return paths, files


def test_temporary_certificate_of_a_batch_cluster_is_private(tmp_path):
    """get_client("slurm", security="temporary"): the scheduler runs here (nothing submitted);
    the files the jobs would read are 0600, the script names them, and close deletes them."""
    shared = tmp_path / "shared"
    client = get_client("slurm", security="temporary", shared_temp_directory=str(shared),
                        log_directory=str(tmp_path / "logs"), scheduler_options=LOOPBACK)
    try:
        assert client.scheduler.address.startswith("tls://127.0.0.1:")
        files = sorted(shared.glob(".dask-jobqueue.worker.*"))
        kinds = sorted(f.name.split(".")[3] for f in files)
        assert kinds == ["ca_file", "cert", "key"], files
        for f in files:
            mode = stat.S_IMODE(f.stat().st_mode)
            assert mode == 0o600, f"{f.name}: mode {oct(mode)}"
        key = next(f for f in files if ".key." in f.name)
        assert "PRIVATE KEY" in key.read_text()  # the real key: the one that must stay private
        script = client.cluster.job_script()
        for f in files:
            assert str(f) in script
        assert "--protocol tls://" in script
        assert not SECRET.search(script), SECRET.search(script)
    finally:
        client.close()
    assert not list(shared.glob(".dask-jobqueue.worker.*")), "deleted at close"


def test_plain_tcp_client_is_refused_by_a_tls_scheduler():
    with get_client("local", security="temporary", **LOOPBACK) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        plain = "tcp://" + address.split("://", 1)[1]
        start = time.monotonic()
        with pytest.raises((OSError, TimeoutError)):
            Client(plain, timeout="3s", set_as_default=False)
        assert time.monotonic() - start < 10
        start = time.monotonic()
        with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
            with pytest.raises(OSError, match=rf"could not connect to {plain} .*a TLS scheduler "
                                              r"takes tls://HOST:PORT and security="):
                get_client(plain)
        assert time.monotonic() - start < 10
        # the scheduler is unharmed, and answers a TLS client with the certificate
        with get_client(address, security=client.security) as second:
            assert len(second.scheduler_info()["workers"]) == 1


@pytest.mark.parametrize("config", ["slurm", "slurm-gpu", "pbs", "pbs-gpu"])
def test_job_scripts_hold_no_secrets(config, tmp_path):
    paths, contents = _tls_files(tmp_path)
    kwargs = dict(log_directory=str(tmp_path / "logs"))
    if config.endswith("-gpu"):
        kwargs.update(cores=8, memory="64GiB", gpus=2)
    # a temporary certificate exists only in memory before the cluster runs: not in the script
    temporary = job_script(config, security="temporary", **kwargs)
    assert "--protocol tls://" in temporary
    assert not SECRET.search(temporary), SECRET.search(temporary)
    # certificate files: their paths, never their contents
    files = job_script(config, security=paths, **kwargs)
    for name, path in paths.items():
        flag = "--tls-ca-file" if name == "ca-file" else f"--tls-{name}"
        assert f"{flag} {path}" in files
    assert not SECRET.search(files), SECRET.search(files)
    for text in contents.values():
        body = "".join(text.splitlines()[1:-1])[:40]  # base64 of the PEM, not its header
        assert body and body not in files.replace("\n", "")


def test_cli_job_script_with_tls_holds_no_secrets(tmp_path, capsys):
    paths, _ = _tls_files(tmp_path)
    for value in ("temporary", "{ca-file: %s, cert: %s, key: %s}" % (
            paths["ca-file"], paths["cert"], paths["key"])):
        assert cli_main(["job-script", "slurm", "--log-directory", str(tmp_path),
                         "--set", f"security={value}"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("#!/usr/bin/env bash") and "--protocol tls://" in out
        assert not SECRET.search(out), SECRET.search(out)
    assert f"--tls-key {paths['key']}" in out
