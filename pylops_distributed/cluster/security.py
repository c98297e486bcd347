"""TLS for every config: turn a config's ``security:`` value into a :class:`distributed.Security`."""

from __future__ import annotations

import os

__all__ = ["make_security"]

_KEYS = ("ca-file", "cert", "key", "require-encryption")


def make_security(value):
    """Build a :class:`distributed.Security` from a config value.

    Parameters
    ----------
    value : None, False, True, "temporary", dict or distributed.Security
        ``None``/``False``: no TLS. ``True``/``"temporary"``: a self-signed certificate made now,
        held in memory, shared by scheduler, workers and client (needs ``cryptography``; local
        clusters and jobqueue clusters, which write it to ``shared_temp_directory`` for the jobs).
        A dict ``{ca-file: PATH, cert: PATH, key: PATH}``: one CA, certificate and key used by
        every role (``key`` may be omitted when ``cert`` holds both). A ``Security`` is used as is.

    Returns
    -------
    distributed.Security or None

    Raises
    ------
    ValueError
        Unknown keys, or certificate files that do not exist.
    ImportError
        ``"temporary"`` without the ``cryptography`` package.

    Examples
    --------
    >>> make_security(None) is None
    True
    >>> sec = make_security({"ca-file": "ca.pem", "cert": "node.pem"})  # doctest: +SKIP
    >>> sec.require_encryption  # doctest: +SKIP
    True
    """
    from distributed import Security

    if value is None or value is False:
        return None
    if isinstance(value, Security):
        return value
    if value is True or value == "temporary":
        try:
            return Security.temporary()
        except ImportError as err:
            raise ImportError(
                "security='temporary' makes a self-signed certificate and needs the cryptography "
                "package: pip install 'pylops_distributed[tls]'"
            ) from err
    if isinstance(value, dict):
        value = {k.replace("_", "-"): v for k, v in value.items() if v is not None}
        unknown = set(value) - set(_KEYS)
        if unknown or "ca-file" not in value or "cert" not in value:
            raise ValueError(
                f"security must hold 'ca-file' and 'cert' (and optionally 'key', "
                f"'require-encryption'), got keys {sorted(value)}; for example "
                "security={'ca-file': 'ca.pem', 'cert': 'node.pem', 'key': 'node-key.pem'}"
            )
        paths = {k: os.path.expanduser(os.path.expandvars(str(value[k])))
                 for k in ("ca-file", "cert", "key") if value.get(k)}
        missing = [f"{k}={p!r}" for k, p in paths.items() if not os.path.isfile(p)]
        if missing:
            raise ValueError(f"security: files not found: {', '.join(missing)}")
        ca, cert, key = paths["ca-file"], paths["cert"], paths.get("key")
        return Security(
            tls_ca_file=ca,
            tls_client_cert=cert, tls_client_key=key,
            tls_scheduler_cert=cert, tls_scheduler_key=key,
            tls_worker_cert=cert, tls_worker_key=key,
            require_encryption=bool(value.get("require-encryption", True)),
        )
    raise ValueError(
        f"security must be None, 'temporary', a dict of files or a distributed.Security, got "
        f"{value!r}; for example security='temporary' or "
        "security={'ca-file': 'ca.pem', 'cert': 'node.pem', 'key': 'node-key.pem'}"
    )
