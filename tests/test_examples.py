"""The example scripts run from a fresh interpreter and print what they promise."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("script,expect", [
    ("operators_tour.py", "matches PyLops: True"),
    ("regularized_inversion.py", "regularized_inversion"),
])
def test_example_runs(script, expect):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert expect in out.stdout
    if script == "regularized_inversion.py":  # every wrapper agrees with PyLops
        diffs = [float(line.split("vs PyLops")[1]) for line in out.stdout.splitlines()
                 if "vs PyLops" in line]
        assert len(diffs) == 3 and max(diffs) < 1e-6
