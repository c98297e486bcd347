"""Report: date, platform and versions of pylops_distributed and its stack (``pylops.Report``)."""

try:
    from scooby import Report as _ScoobyReport
except ImportError:  # scooby is optional: Report then raises a clear error when built
    _ScoobyReport = None

__all__ = ["Report"]

#: Always listed (reported as missing when they cannot be found).
CORE = ["pylops_distributed", "dask", "distributed", "numpy", "scipy", "pylops", "numba"]
#: Listed when installed.
OPTIONAL = ["cupy", "dask_cuda", "zarr", "segyio", "pywt", "torch", "IPython", "matplotlib"]

SCOOBY_MISSING = ("Report needs scooby: install it with pip install scooby, or with our extra: "
                  "pip install 'pylops_distributed[utils]'")


class Report(_ScoobyReport or object):
    """Date, time, platform and package versions, as text or as an HTML table in notebooks.

    Always lists the OS, CPUs, Python, ``pylops_distributed``, ``dask``, ``distributed``,
    ``numpy``, ``scipy``, ``pylops`` and ``numba``; adds, when installed, ``cupy``,
    ``dask_cuda``, ``zarr``, ``segyio``, ``pywt``, ``torch``, ``IPython`` and
    ``matplotlib``, then the packages in ``add_pckg``. Built on ``scooby``, like PyLops'
    ``Report``, with the same parameters.

    Parameters
    ----------
    add_pckg : module, str or list of them, optional
        Further packages to list.
    ncol : int, optional
        Number of package columns in the HTML table (no effect on the text).
    text_width : int, optional
        Width of the text version.
    sort : bool, optional
        Sort the packages by name.

    Raises
    ------
    ImportError
        If ``scooby`` is not installed (``pip install 'pylops_distributed[utils]'``).

    Examples
    --------
    >>> from pylops_distributed.utils import Report
    >>> text = str(Report(["pytest"]))
    >>> all(name in text for name in ("pylops_distributed", "dask", "pylops", "pytest"))
    True
    """

    def __init__(self, add_pckg=None, ncol=3, text_width=80, sort=False):
        if _ScoobyReport is None:
            raise ImportError(SCOOBY_MISSING)
        super().__init__(additional=add_pckg, core=list(CORE), optional=list(OPTIONAL),
                         ncol=ncol, text_width=text_width, sort=sort)
