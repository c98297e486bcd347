"""PyLops parity of the stacks (clinear, dims/dimsd/forceflat, accepted inputs and output
shapes) and of Sum's forceflat, each case built twice, with ``pld`` and with ``pylops``."""

import itertools

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

import pylops_distributed as pld
from pylops_distributed import StackedArray
from pylops_distributed._forceflat import combine_forceflat
from pylops_distributed.stacked import compute_all
from pylops_distributed.utils import dottest

FORCEFLAT = [None, True, False]


def _numbers(a):
    return np.asarray(compute_all(a)[0] if isinstance(a, (da.Array, StackedArray)) else a)


def check_apply(Op, POp, x, adjoint=False):
    """``Op @ x`` (or ``Op.H @ x``) has PyLops' shape and numbers."""
    ours, ref = (Op.H @ x, POp.H @ x) if adjoint else (Op @ x, POp @ x)
    assert tuple(ours.shape) == ref.shape, (ours.shape, ref.shape)
    np.testing.assert_allclose(_numbers(ours).reshape(ref.shape), ref, rtol=1e-10, atol=1e-12)


def check_twins(Op, POp, dtype, seed=0):
    """Same attributes as PyLops; forward and adjoint like PyLops on random N-D and flat
    inputs; dot test (every complexflag for complex dtypes)."""
    assert (Op.dims, Op.dimsd) == (tuple(POp.dims), tuple(POp.dimsd))
    assert (Op.forceflat, Op.clinear) == (POp.forceflat, POp.clinear)
    for adjoint, shape in ((False, Op.dims), (True, Op.dimsd)):
        check_apply(Op, POp, rand(shape, dtype, seed=seed), adjoint)
        check_apply(Op, POp, rand(int(np.prod(shape)), dtype, seed=seed + 1), adjoint)
    for flag in (range(4) if np.iscomplexobj(np.empty(0, dtype)) else [0]):
        assert dottest(Op, complexflag=flag, rtol=1e-8)


# --- 1. R-linear blocks: a stack is complex-linear only if all its blocks are -----------------

def _rlinear_cases(real):
    """Stacks with an R-linear block (``real(m)(n)``: a Real of n from module m)."""
    M = rand((5, 4), "complex128", seed=3)
    big = rand((301, 101), "complex128", seed=4)
    B = rand((4, 5), "complex128", seed=5)
    return {
        "vstack": lambda m: m.VStack([real(m)(4), m.MatrixMult(M, dtype="complex128")]),
        "hstack": lambda m: m.HStack([real(m)(5), m.MatrixMult(M, dtype="complex128")]),
        "blockdiag": lambda m: m.BlockDiag([real(m)(101), m.MatrixMult(big, dtype="complex128")]),
        "block": lambda m: m.Block([[real(m)(5), m.MatrixMult(M, dtype="complex128")],
                                    [m.MatrixMult(B, dtype="complex128"), real(m)(4)]]),
    }


REALS = {"ours": lambda m: lambda n: m.Real(n, dtype="complex128"),
         "pylops-block": lambda m: lambda n: pylops.Real(n, dtype="complex128")}


@pytest.mark.parametrize("which", list(REALS))
@pytest.mark.parametrize("kind", ["vstack", "hstack", "blockdiag", "block"])
def test_stack_of_rlinear_block_is_rlinear(kind, which):
    build = _rlinear_cases(REALS[which])[kind]
    Op, POp = build(pld), build(pylops)
    assert Op.clinear is False and POp.clinear is False
    check_twins(Op, POp, "complex128")


def test_stack_of_clinear_blocks_is_clinear():
    assert pld.VStack([pld.Identity(3), pld.Diagonal(np.arange(3.0))]).clinear is True
    assert pld.Block([[pld.Identity(3), pylops.Identity(3)]]).clinear is True


# --- 2. dims/dimsd/forceflat, accepted inputs and output shapes --------------------------------

def _shape_cases(dtype):
    d34 = rand((3, 4), dtype, seed=6)
    shapes = [(5, 12), (12, 5), (301, 101), (4, 6), (4, 3), (5, 6), (3, 4)]
    mats = {s: rand(s, dtype, seed=10 + i) for i, s in enumerate(shapes)}

    def mm(m, s):
        return m.MatrixMult(mats[s], dtype=dtype)

    def diag(m, d=d34):
        return m.Diagonal(d, dtype=dtype)

    def deriv(m, axis):
        return m.FirstDerivative((3, 4), axis=axis, dtype=dtype)

    return {  # name: build(module, forceflat)
        "vstack-shared-dims": lambda m, f: m.VStack([diag(m), deriv(m, 0)], forceflat=f),
        "vstack-other-dims": lambda m, f: m.VStack([diag(m), mm(m, (5, 12))], forceflat=f),
        "hstack-shared-dimsd": lambda m, f: m.HStack([diag(m), deriv(m, 1)], forceflat=f),
        "hstack-other-dimsd": lambda m, f: m.HStack([diag(m), mm(m, (12, 5))], forceflat=f),
        "blockdiag-shared-both": lambda m, f: m.BlockDiag([diag(m), deriv(m, 0)], forceflat=f),
        "blockdiag-shared-dims": lambda m, f: m.BlockDiag([m.Real(101, dtype=dtype), mm(m, (301, 101))],
                                                          forceflat=f),
        "blockdiag-shared-dimsd": lambda m, f: m.BlockDiag([mm(m, (4, 6)), mm(m, (4, 3))], forceflat=f),
        "blockdiag-none-shared": lambda m, f: m.BlockDiag([diag(m), mm(m, (5, 6))], forceflat=f),
        "block": lambda m, f: m.Block([[diag(m, d34[0]), mm(m, (4, 3))],
                                       [mm(m, (3, 4)), m.Identity(3, dtype=dtype)]], forceflat=f),
    }


CASES = list(_shape_cases("float64"))
def _params():
    for case, ff, dtype, form in itertools.product(CASES, FORCEFLAT, ["float64", "complex128"],
                                                   ["nd", "flat"]):
        yield pytest.param(case, ff, dtype, form, id=f"{case}-{ff}-{dtype}-{form}")


# PyLops' Real with a real dtype casts its complex adjoint back to real (a NumPy warning)
_PYLOPS_REAL_CAST = pytest.mark.filterwarnings("ignore:Casting complex values to real discards")


@_PYLOPS_REAL_CAST
@pytest.mark.parametrize("case, forceflat, dtype, form", list(_params()))
def test_stack_shapes_like_pylops(case, forceflat, dtype, form):
    build = _shape_cases(dtype)[case]
    Op, POp = build(pld, forceflat), build(pylops, forceflat)
    assert (Op.dims, Op.dimsd) == (tuple(POp.dims), tuple(POp.dimsd))
    assert (Op.forceflat, Op.clinear) == (POp.forceflat, POp.clinear)
    for adjoint, shape in ((False, Op.dims), (True, Op.dimsd)):
        x = rand(shape if form == "nd" else int(np.prod(shape)), dtype, seed=7 + adjoint)
        check_apply(Op, POp, x, adjoint)


@pytest.mark.parametrize("case", CASES)
def test_stack_dot_tests(case):
    Op = _shape_cases("complex128")[case](pld, None)
    for flag in range(4):
        assert dottest(Op, complexflag=flag, rtol=1e-8)


@_PYLOPS_REAL_CAST
def test_blockdiag_shared_dims_takes_slabs_like_pylops():
    """The issue's case: BlockDiag([Real(101), MatrixMult(301x101)]) on a (2, 101) model."""
    M = rand((301, 101), "float64", seed=8)
    Op = pld.BlockDiag([pld.Real(101, dtype="float64"), pld.MatrixMult(M)])
    POp = pylops.BlockDiag([pylops.Real(101, dtype="float64"), pylops.MatrixMult(M)])
    assert (Op.dims, Op.dimsd, Op.forceflat) == ((2, 101), (402,), True)
    x = rand((2, 101), "float64", seed=9)
    xd = da.from_array(x, chunks=(1, 50))
    y = Op @ xd
    assert y.shape == (402,) and isinstance(y._meta, np.ndarray)
    np.testing.assert_allclose(y.compute(), POp @ x, rtol=1e-12)
    v = rand(402, "float64", seed=10)
    np.testing.assert_allclose((Op.H @ v).compute(), POp.H @ v, rtol=1e-12)
    # one block per operator also works
    ys = Op @ StackedArray([xd[0], xd[1]])
    np.testing.assert_allclose(_numbers(ys), POp @ x, rtol=1e-12)


# --- 3. Sum: dims, dimsd and forceflat for every axis; forceflat of products and sums -----------

def _sum_params():
    for dims in [(7,), (5, 6), (3, 4, 5)]:
        ndim = max(len(dims), 2)
        for axis, ff in itertools.product(range(-ndim, ndim), FORCEFLAT):
            yield pytest.param(dims, axis, ff, id=f"{dims}-axis{axis}-{ff}")


@pytest.mark.parametrize("dims, axis, forceflat", list(_sum_params()))
def test_sum_like_pylops(dims, axis, forceflat):
    POp = pylops.Sum(dims, axis=axis, forceflat=forceflat)
    if len(dims) > 2 and forceflat is not None:
        with pytest.warns(UserWarning, match="Sum: setting forceflat=None"):
            Op = pld.Sum(dims, axis=axis, forceflat=forceflat)
    else:
        Op = pld.Sum(dims, axis=axis, forceflat=forceflat)
    for dtype in ["float64", "complex128"]:
        check_twins(Op, POp, dtype)


PARS = [dict(ny=11, nx=11, imag=0), dict(ny=21, nx=11, imag=0), dict(ny=11, nx=11, imag=1j),
        dict(ny=21, nx=11, imag=1j), dict(ny=11, nx=21, imag=0)]  # PyLops' test_Sum2D_forceflat


@pytest.mark.parametrize("par", PARS)
def test_sum2d_forceflat_shapes(par):
    """PyLops' test_Sum2D_forceflat, the applies."""
    ny, nx = par["ny"], par["nx"]
    rng = np.random.default_rng(10)
    x = rng.standard_normal(ny * nx) + par["imag"] * rng.standard_normal(ny * nx)
    for ff, xadj_shape in ((True, (ny * nx,)), (None, (ny, nx)), (False, (ny, nx))):
        S = pld.Sum((ny, nx), axis=-1, forceflat=ff)
        y = S @ x
        assert y.shape == (ny,) and (S.H @ y).shape == xadj_shape
        np.testing.assert_allclose(y.compute(), pylops.Sum((ny, nx), axis=-1) @ x, rtol=1e-12)


@pytest.mark.parametrize("par", PARS)
def test_sum2d_forceflat_products(par):
    """PyLops' test_Sum2D_forceflat, the products."""
    S = {ff: pld.Sum((par["ny"], par["nx"]), axis=-1, forceflat=ff) for ff in FORCEFLAT}
    with pytest.raises(ValueError, match="conflicting forceflat"):
        S[True] * S[False].H
    assert (S[True] * S[None].H).forceflat is True
    assert (S[False] * S[None].H).forceflat is False
    assert (S[None] * S[None].H).forceflat is None


@pytest.mark.parametrize("fa, fb", list(itertools.product(FORCEFLAT, FORCEFLAT)))
def test_combine_forceflat_like_pylops(fa, fb):
    ours = [pld.Sum((3, 4), axis=0, forceflat=f) for f in (fa, fb)]
    theirs = [pylops.Sum((3, 4), axis=0, forceflat=f) for f in (fa, fb)]
    cases = [("@", ours[0], ours[1].H, lambda: theirs[0] * theirs[1].H),
             ("+", ours[0], ours[1], lambda: theirs[0] + theirs[1])]
    for what, a, b, pylops_op in cases:
        try:
            want = pylops_op().forceflat
        except ValueError:
            with pytest.raises(ValueError, match=r"Sum\('S'\) .* Sum\('S'\).*conflicting forceflat"):
                combine_forceflat(a, b, what)
        else:
            assert combine_forceflat(a, b, what) is want
            assert combine_forceflat(theirs[0], theirs[1], what) is want  # PyLops operators too


def test_combine_forceflat_message_names_both_operators():
    A = pld.MatrixMult(np.eye(3), forceflat=True, name="A")
    B = pld.Identity(3, forceflat=False, name="B")
    with pytest.raises(ValueError, match=r"MatrixMult\('A'\) @ Identity\('B'\): conflicting "
                                         r"forceflat, MatrixMult\('A'\) has forceflat=True and "
                                         r"Identity\('B'\) has forceflat=False"):
        combine_forceflat(A, B, "@")
