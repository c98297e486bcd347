"""LinearOperator: algebra against PyLops, flat and N-D inputs, laziness, bad input, repr."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, rand

import pylops_distributed as pld
from pylops_distributed import StackedArray


def twins(dtype):
    """Two pairs of (distributed, PyLops) operators on dims (6, 5)."""
    A = rand((6, 6), dtype, seed=1)
    d = rand((6, 5), dtype, seed=2)
    return ((pld.MatrixMult(A, otherdims=5, dtype=dtype), pylops.MatrixMult(A, otherdims=5, dtype=dtype)),
            (pld.Diagonal(d, dtype=dtype), pylops.Diagonal(d, dtype=dtype)))


ALGEBRA = {
    "product": lambda A, B: A @ B,
    "sum": lambda A, B: A + B,
    "difference": lambda A, B: A - B,
    "scaled": lambda A, B: 2.5 * A + B * (-1.5),
    "complex-scaled": lambda A, B: (1 - 2j) * A,
    "adjoint": lambda A, B: A.H @ B,
    "transpose": lambda A, B: A.T + B.T,
    "conj": lambda A, B: A.conj() @ B,
    "power": lambda A, B: (A + B) ** 3,
    "negation": lambda A, B: -A,
    # PyLops reads Op / y as a solve; ours also divides by a scalar
    "division-by-scalar": lambda A, B: A / 4 if isinstance(A, pld.LinearOperator) else A * 0.25,
    "nested": lambda A, B: (A.H @ (B + A.T)).H - 3 * B.conj().T,
}


@pytest.mark.parametrize("expr", ALGEBRA)
@pytest.mark.parametrize("dtype", DTYPES)
def test_algebra_like_pylops(expr, dtype, scheduler):
    (A, PA), (B, PB) = twins(dtype)
    f = ALGEBRA[expr]
    rtol = 1e-3 if dtype == "float32" else None
    assert_like_pylops(f(A, B), f(PA, PB), (4, 2), dtype, rtol=rtol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_todense_and_matmat(dtype):
    (A, PA), (B, PB) = twins(dtype)
    Op, POp = A @ B + B, PA @ PB + PB
    np.testing.assert_allclose(Op.todense(), POp.todense(), rtol=1e-4)
    X = rand((30, 3), dtype, seed=3)
    np.testing.assert_allclose(Op.matmat(X).compute(), POp.matmat(X), rtol=1e-4)
    np.testing.assert_allclose((Op @ X).compute(), POp @ X, rtol=1e-4)
    np.testing.assert_allclose(Op.rmatmat(X).compute(), POp.rmatmat(X), rtol=1e-4)


def test_flat_and_nd_inputs_like_pylops():
    (A, PA), _ = twins("float64")
    x = rand((6, 5), "float64")
    assert (A @ x).shape == (PA @ x).shape == (6, 5)
    assert (A @ x.ravel()).shape == (PA @ x.ravel()).shape == (30,)
    assert (A.dot(da.from_array(x.ravel(), chunks=10))).shape == (30,)
    np.testing.assert_allclose((A @ x.ravel()).compute(), PA @ x.ravel())
    # forceflat: always flat output
    Af = pld.MatrixMult(rand((6, 6), "float64"), forceflat=True)
    assert (Af @ rand(6, "float64")).shape == (6,)


def test_numpy_input_is_wrapped_with_operator_chunks():
    Op = pld.Diagonal(rand(12, "float64"), chunks=4)
    y = Op @ rand(12, "float64")
    assert isinstance(y, da.Array) and y.chunks == ((4, 4, 4),)


def test_applies_are_lazy():
    """Building applies on an array whose computation fails must not fail: nothing is computed."""
    def boom(block):
        raise RuntimeError("computed!")

    x = da.ones((6, 5), chunks=3).map_blocks(boom, dtype=float)
    (A, _), (B, _) = twins("float64")
    Op = pld.VStack([A @ B, 2 * B]) 
    y = Op @ x
    z = Op.H @ y
    assert isinstance(y, StackedArray) and isinstance(z, da.Array)
    with pytest.raises(RuntimeError, match="computed!"):
        z.compute()


def test_repr_shows_shape_dtype_chunks():
    Op = pld.Diagonal(rand((6, 5), "float32"), dtype="float32", chunks=(3, 5), name="W")
    r = repr(Op)
    assert "30x30" in r and "Diagonal('W')" in r and "float32" in r and "chunks=(3, 5)" in r


# --- bad input: errors at graph-building time, naming the operator and the shapes --------------

def test_wrong_size_input():
    Op = pld.Diagonal(rand((6, 5), "float64"), name="W")
    with pytest.raises(ValueError, match=r"Diagonal\('W'\)\.matvec: expected an input of shape \(6, 5\) \(or flat \(30,\)\), got shape \(6, 4\)"):
        Op @ da.ones((6, 4))
    with pytest.raises(ValueError, match=r"Diagonal\(.W.\)\.H\.matvec: expected an input of shape \(6, 5\) \(or flat \(30,\)\), got shape \(31,\)"):
        Op.H @ np.ones(31)
    with pytest.raises(ValueError, match="got a StackedArray of size 20"):
        Op @ StackedArray([da.ones(10), da.ones(10)])


def test_non_array_input():
    Op = pld.Identity(3)
    with pytest.raises(TypeError, match=r"Identity\('I'\)\.matvec: expected a dask, NumPy or CuPy array, got list"):
        Op @ [1.0, 2.0, 3.0]


def test_non_numeric_dtype():
    Op = pld.Identity(3)
    with pytest.raises(TypeError, match=r"Identity\('I'\)\.matvec: input dtype <U1 is not numeric"):
        Op @ np.array(["a", "b", "c"])
    with pytest.raises(TypeError, match="input dtype bool is not numeric"):
        Op @ da.ones(3, dtype=bool)
    with pytest.raises(TypeError, match="dtype object is not numeric"):
        pld.Identity(3, dtype=object)


def test_composition_shape_mismatch():
    with pytest.raises(ValueError, match=r"MatrixMult\('M'\) @ Identity\('I'\): shapes \(4, 3\) and \(5, 5\) do not compose"):
        pld.MatrixMult(np.ones((4, 3))) @ pld.Identity(5)
    with pytest.raises(ValueError, match=r"Identity\('I'\) \+ Identity\('I'\): shapes \(4, 4\) and \(5, 5\) differ"):
        pld.Identity(4) + pld.Identity(5)
    with pytest.raises(ValueError, match="must be square"):
        pld.MatrixMult(np.ones((4, 3))) ** 2


def test_pylops_operators_compose():
    (A, PA), _ = twins("float64")
    P = pylops.FirstDerivative((6, 5), axis=1)
    Op, POp = A @ P, PA @ P
    x = rand((6, 5), "float64")
    np.testing.assert_allclose((Op @ x).compute(), POp @ x)
    np.testing.assert_allclose(dask.compute((A + P).H @ x)[0], (PA + P).H @ x)


@pytest.mark.parametrize("chunks", [None, (4, 8, 1), (11, 3, 2)])
def test_dims_shaped_block_of_vectors_like_pylops(chunks):
    """``Op @ x`` with ``x`` of shape ``(*dims, k)``: k vectors, ``(*dimsd, k)`` out (PyLops)."""
    x = rand((11, 8, 3), "float64", seed=11)
    xin = x if chunks is None else da.from_array(x, chunks=chunks)
    for Op, POp in ((pld.FirstDerivative((11, 8), axis=0), pylops.FirstDerivative((11, 8), axis=0)),
                    (pld.Gradient((11, 8)), pylops.Gradient((11, 8))),
                    (pld.Diagonal(rand((11, 8), "float64", seed=12)),
                     pylops.Diagonal(rand((11, 8), "float64", seed=12)))):
        ref = POp @ x
        out = Op @ xin
        assert out.shape == ref.shape
        np.testing.assert_allclose(out.compute(), ref, rtol=1e-12)
