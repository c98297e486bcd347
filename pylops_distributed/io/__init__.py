"""Reading and writing chunked data: SEG-Y files and zarr stores, lazily and from the workers.

- :func:`read_segy` / :func:`write_segy` (:mod:`.segy`, needs segyio): a SEG-Y file as a lazy
  dask array (by inline, crossline, shot or trace) plus its headers (:class:`SegyHeaders`), and
  back.
- :func:`to_zarr` / :func:`from_zarr` (:mod:`.zarrstore`, needs zarr): dask arrays and
  :class:`~pylops_distributed.StackedArray` kept chunked on disk.

Both need the optional extra ``io``: ``pip install 'pylops_distributed[io]'``. Each half is
importable without the other's package; a name whose package is missing raises an ImportError
that says what to install, when it is used.
"""

_SEGY = ("SegyHeaders", "read_segy", "write_segy")
_ZARR = ("to_zarr", "from_zarr")
__all__ = list(_SEGY + _ZARR)


def __getattr__(name):
    # imported on first use, so that `import pylops_distributed.io` needs neither package
    if name in _SEGY:
        from pylops_distributed.io import segy
        return getattr(segy, name)
    if name in _ZARR:
        from pylops_distributed.io import zarrstore
        return getattr(zarrstore, name)
    raise AttributeError(f"module 'pylops_distributed.io' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
