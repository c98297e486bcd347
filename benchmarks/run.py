"""`make bench`: the project's CPU benchmarks in one run (solvers, then derivatives).

    python benchmarks/run.py                 # everything
    python benchmarks/run.py --cases a,b     # options go to bench_solvers
"""

import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_solvers  # noqa: E402

if __name__ == "__main__":
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()}: "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    bench_solvers.main(sys.argv[1:])
    if not sys.argv[1:] and os.path.exists(os.path.join(os.path.dirname(__file__), "bench_derivatives.py")):
        import bench_derivatives

        bench_derivatives.main(["cpu"])
