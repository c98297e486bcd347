"""Real, Imag and Conj (R-linear operators) against PyLops."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, check_kernel_boxes, new_tasks, rand

import pylops_distributed as pld

OPS = [(pld.Real, pylops.Real), (pld.Imag, pylops.Imag), (pld.Conj, pylops.Conj)]

par = [
    dict(dims=(13,), chunks=(4,)),
    dict(dims=(6, 7), chunks=(6, 3)),
    dict(dims=(5, 7, 4), chunks=(2, 7, 3)),
]


def r_dottest(Op, chunks, seed=3):
    """Dot test over the reals: Re<Op u, v> == Re<u, Op^H v> for complex u, v."""
    u = rand(Op.dims, "complex128", seed=seed)
    v = rand(Op.dimsd, "complex128", seed=seed + 1)
    y, x = dask.compute(Op @ da.from_array(u, chunks=chunks), Op.H @ da.from_array(v, chunks=chunks))
    np.testing.assert_allclose(np.vdot(y, v).real, np.vdot(u, x).real, rtol=1e-10)


@pytest.mark.parametrize("ops", OPS, ids=["Real", "Imag", "Conj"])
@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", DTYPES)
def test_like_pylops(ops, p, dtype, scheduler):
    Op, POp = ops[0](p["dims"]), ops[1](p["dims"])      # default complex128 operators
    assert not Op.clinear
    assert_like_pylops(Op, POp, p["chunks"], dtype)  # dottest compares real products (clinear=False)
    if dtype == "complex128":
        r_dottest(Op, p["chunks"])


@pytest.mark.parametrize("ops", OPS, ids=["Real", "Imag", "Conj"])
@pytest.mark.parametrize("opdtype", ["float32", "complex64"])
@pytest.mark.filterwarnings("ignore:Casting complex values to real")
def test_operator_dtype_like_pylops(ops, opdtype):
    """Output dtypes and values follow PyLops for a non-default operator dtype."""
    Op, POp = ops[0](6, dtype=opdtype), ops[1](6, dtype=opdtype)
    x = rand(6, "complex128", seed=4)
    xd = da.from_array(x, chunks=4)
    for mine, ref in ((Op @ xd, POp @ x), (Op.H @ xd, POp.H @ x)):
        out = mine.compute()
        if ops[0] is not pld.Conj:
            assert out.dtype == ref.dtype, (out.dtype, ref.dtype)
        np.testing.assert_allclose(out, ref, rtol=1e-6)


def test_one_task_per_chunk():
    x = da.from_array(rand((8, 30), "complex128"), chunks=(4, 10)).persist()
    for Op in (pld.Real((8, 30)), pld.Imag((8, 30)), pld.Conj((8, 30))):
        for y in (Op @ x, Op.H @ x):
            assert new_tasks(y, x) == 6 and y.chunks == x.chunks


@pytest.mark.parametrize("cls", [pld.Real, pld.Imag, pld.Conj])
def test_bad_input(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}.*expected an input of shape \(4, 5\)"):
        cls((4, 5)) @ da.ones((5, 4))
    with pytest.raises(TypeError, match=rf"{cls.__name__}: input dtype <U1 is not numeric"):
        cls(3, dtype="U1")


@pytest.mark.parametrize("ops", OPS, ids=["Real", "Imag", "Conj"])
@pytest.mark.parametrize("opdtype", ["float32", "complex128"])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.filterwarnings("ignore:Casting complex values to real")
def test_kernels(ops, opdtype, dtype):
    """Pointwise forward and adjoint kernels, exact on any box, returning new arrays."""
    Op, POp = ops[0]((4, 5), dtype=opdtype), ops[1]((4, 5), dtype=opdtype)
    for adjoint in (False, True):
        assert Op.chunk_kernel(adjoint).pointwise
    boxes = [((0, 0), (4, 5)), ((1, 2), (3, 4))]
    check_kernel_boxes(Op, POp, False, dtype, boxes)
    check_kernel_boxes(Op, POp, True, dtype, boxes)
