"""A tour of the operators: N-D chunked inputs, PyLops twins, the bridge and stacks.

Run: .venv/bin/python examples/operators_tour.py
"""

import dask.array as da
import numpy as np
import pylops

import pylops_distributed as pld
from pylops_distributed.utils import dottest


def main():
    rng = np.random.default_rng(0)
    nz, nx = 400, 300
    x = da.from_array(rng.standard_normal((nz, nx)), chunks=(100, 300))  # 4 chunks along axis 0
    print("model:", x)

    # a dense matrix along axis 0 (every column of x), kept as 4 row blocks
    A = da.from_array(rng.standard_normal((200, nz)), chunks=(50, nz))
    M = pld.MatrixMult(A, otherdims=nx)
    print(M, "->", (M @ x).chunks)

    # any PyLops operator along axis 1, applied chunk by chunk over axis 0: one task per chunk
    S = pld.FromPyLops(pylops.Smoothing1D(5, dims=nx), dims=(nz, nx), axes=1)
    print(S, "tasks:", len((S @ x).dask) - len(x.dask))

    # stacks keep each block's shape and chunks in a StackedArray
    Op = pld.VStack([S, 0.1 * pld.Diagonal(rng.standard_normal((nz, nx)))])
    y = Op @ x
    print("VStack output:", y)

    # same numbers as PyLops, and adjoints that pass the dot test
    Pop = pylops.VStack([pylops.Smoothing1D(5, dims=(nz, nx), axis=1),
                         0.1 * pylops.Diagonal(Op.ops[1].A.diag)])
    print("matches PyLops:", np.allclose(y.compute(), Pop @ x.compute().ravel()))
    print("dot test:", dottest(Op), dottest(M, complexflag=3))

    # flat inputs give flat outputs, as in PyLops
    print("flat in -> out shape:", (S @ x.ravel()).shape)


if __name__ == "__main__":
    main()
