"""FromPyLops: PyLops operators applied chunk by chunk over the axes they do not act on."""

import dask.array as da
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, new_tasks, rand

import pylops_distributed as pld

par = [
    # (PyLops op on the sub-array, dims, axes, full-array PyLops twin, chunks)
    dict(make=lambda dt: pylops.FirstDerivative(9, dtype=dt), dims=(9, 8), axes=0,
         twin=lambda dt: pylops.FirstDerivative((9, 8), axis=0, dtype=dt), chunks=(9, 3)),
    dict(make=lambda dt: pylops.FirstDerivative(9, dtype=dt), dims=(9, 8), axes=0,
         twin=lambda dt: pylops.FirstDerivative((9, 8), axis=0, dtype=dt), chunks=(4, 3)),  # axis chunked
    dict(make=lambda dt: pylops.Restriction(8, [1, 4, 6], dtype=dt), dims=(5, 8, 3), axes=1,
         twin=lambda dt: pylops.Restriction((5, 8, 3), [1, 4, 6], axis=1, dtype=dt), chunks=(2, 8, 1)),
    dict(make=lambda dt: pylops.Transpose((4, 6), (1, 0), dtype=dt), dims=(3, 4, 6), axes=(1, 2),
         twin=lambda dt: pylops.BlockDiag([pylops.Transpose((4, 6), (1, 0), dtype=dt)] * 3), chunks=(1, 2, 6)),
]


@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", DTYPES)
def test_like_full_pylops_operator(p, dtype, scheduler):
    Op = pld.FromPyLops(p["make"](dtype), dims=p["dims"], axes=p["axes"])
    assert_like_pylops(Op, p["twin"](dtype), p["chunks"], dtype)


def test_whole_operator_default():
    P = pylops.FirstDerivative((6, 5), axis=1)
    Op = pld.FromPyLops(P)
    assert Op.dims == (6, 5) and Op.dimsd == (6, 5)
    assert_like_pylops(Op, P, (2, 5), "float64")


def test_one_task_per_chunk():
    x = da.from_array(rand((50, 400), "float64"), chunks=(50, 25)).persist()  # 16 chunks
    Op = pld.FromPyLops(pylops.FirstDerivative(50), dims=(50, 400), axes=0)
    assert new_tasks(Op @ x, x) == 16
    assert new_tasks(Op.H @ x, x) == 16


def test_size_mismatch():
    with pytest.raises(ValueError, match=r"FromPyLops: FirstDerivative has 9 columns but dims \(8, 8\)"):
        pld.FromPyLops(pylops.FirstDerivative(9), dims=(8, 8), axes=0)


def test_task_names_are_readable():
    x = da.ones((9, 8), chunks=(9, 4))
    y = pld.FromPyLops(pylops.FirstDerivative(9), dims=(9, 8), axes=0) @ x
    assert y.name.startswith("frompylops-firstderivative-")
