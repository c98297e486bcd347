"""The README's Python example runs as a script, as printed: exit 0, the promised output, and no
warning about lost tasks or a cluster left running."""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_example_runs_as_a_script(tmp_path):
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), flags=re.S)
    assert blocks, "the README has a Python example"
    script = tmp_path / "readme_example.py"
    script.write_text(blocks[0])
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    data_error, error = (float(line.split(":")[-1]) for line in out.stdout.strip().splitlines()[-2:])
    assert 0 < error < data_error
    # distributed logs a heartbeat that was in flight when a worker closed, with its traceback:
    # a shutdown race inside distributed (a logged error, nothing lost), not ours to promise away
    stderr = re.sub(r"[^\n]*Failed to communicate with scheduler during heartbeat.*?"
                    r"distributed\.comm\.core\.CommClosedError: [^\n]*\n", "", out.stderr, flags=re.S)
    for bad in ("lose already computed", "Nanny failed", "Traceback"):
        assert bad not in stderr, out.stderr[-3000:]
