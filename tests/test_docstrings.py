"""Every docstring example in the operator modules runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import pylops_distributed

SKIP = ("pylops_distributed.cluster", "pylops_distributed.cli")  # examples there start clusters
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pylops_distributed.__path__, "pylops_distributed.")
    if not m.name.startswith(SKIP) and not m.name.endswith("_cupy")  # CuPy-only kernels
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ImportError as err:  # an optional extra (pyproximal) not installed
        if "pip install" not in str(err):
            raise
        pytest.skip(str(err))
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
