"""Applying MatrixMult, Diagonal, VStack, BlockDiag and a bridged operator to k chunks builds O(k) tasks."""

import dask.array as da
import pylops
import pytest
from _helpers import new_tasks, rand

import pylops_distributed as pld

NROW, NCOL = 240, 64


def chunked(k):
    """A persisted (NROW, NCOL) array in k row chunks, so its own graph is just k keys."""
    return da.from_array(rand((NROW, NCOL), "float64"), chunks=(NROW // k, NCOL)).persist()


def bridged(k):
    return pld.FromPyLops(pylops.FirstDerivative(NCOL), dims=(NROW, NCOL), axes=1)


OPERATORS = {
    # name: (factory(k), tasks per chunk at most, constant)
    "MatrixMult-numpy": (lambda k: pld.MatrixMult(rand((NROW, NROW), "float64"), otherdims=NCOL), 4, 2),
    "MatrixMult-dask-rows": (lambda k: pld.MatrixMult(da.from_array(
        rand((NROW, NROW), "float64"), chunks=(NROW // k, NROW)).persist(), otherdims=NCOL), 3, 1),
    "Diagonal": (lambda k: pld.Diagonal(rand((NROW, NCOL), "float64")), 1, 0),
    "Diagonal-dask": (lambda k: pld.Diagonal(chunked(k)), 1, 0),
    "bridged": (bridged, 1, 0),
    "VStack": (lambda k: pld.VStack([pld.Diagonal(rand((NROW, NCOL), "float64")), bridged(k)]), 3, 0),
    "BlockDiag": (lambda k: pld.BlockDiag([pld.Diagonal(rand((NROW, NCOL), "float64")), bridged(k)]), 3, 0),
}


@pytest.mark.parametrize("name", OPERATORS)
@pytest.mark.parametrize("k", [4, 16])
def test_tasks_linear_in_chunks(name, k):
    make, per_chunk, const = OPERATORS[name]
    Op = make(k)
    x = chunked(k)
    if name == "BlockDiag":
        x = da.stack([x, x]).persist()  # model (2, NROW, NCOL): 2k chunks
        k = 2 * k
    y = (Op @ x).persist()
    data = [v for v in vars(Op).values() if isinstance(v, da.Array)]  # persisted operator data
    fwd, adj = new_tasks(Op @ x, x, *data), new_tasks(Op.H @ y, y, *data)
    assert fwd <= per_chunk * k + const, (name, k, fwd)
    assert adj <= per_chunk * k + const, (name, k, adj)


def test_tasks_grow_linearly():
    """Quadrupling the chunks at most quadruples the tasks (plus a constant): no k^2 term."""
    Op = OPERATORS["MatrixMult-numpy"][0](0)
    small, large = new_tasks(Op @ chunked(4), chunked(4)), new_tasks(Op @ chunked(16), chunked(16))
    assert large <= 4 * small + 8
