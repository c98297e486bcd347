"""Derivatives, Laplacian, Gradient and directional derivatives against PyLops, at every chunking."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, new_tasks, rand

import pylops_distributed as pld

# chunkings: one chunk; regular; a boundary one sample from each edge; chunks smaller than
# some stencils (merged with a neighbour); 3-D with every axis chunked
par1 = dict(dims=(9, 11), chunks=(9, 11))
par2 = dict(dims=(9, 11), chunks=(4, 5))
par3 = dict(dims=(9, 11), chunks=((1, 7, 1), (10, 1)))
par4 = dict(dims=(9, 11), chunks=(1, 2))
par5 = dict(dims=(5, 6, 7), chunks=(2, 3, 4))
PARS = [par1, par2, par3, par4, par5]
IDS = ["one", "regular", "edge1", "tiny", "3d"]
KINDS = ["centered", "forward", "backward"]


@pytest.mark.parametrize("par", PARS, ids=IDS)
@pytest.mark.parametrize("kind,order", [("centered", 3), ("centered", 5), ("forward", 3),
                                        ("backward", 3)])
@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("dtype", DTYPES)
def test_firstderivative(par, kind, edge, order, axis, dtype):
    kw = dict(axis=axis, sampling=0.7, kind=kind, edge=edge, order=order, dtype=dtype)
    Op = pld.FirstDerivative(par["dims"], **kw)
    assert_like_pylops(Op, pylops.FirstDerivative(par["dims"], **kw), par["chunks"], dtype)


@pytest.mark.parametrize("par", PARS, ids=IDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("dtype", DTYPES)
def test_secondderivative(par, kind, edge, axis, dtype):
    kw = dict(axis=axis, sampling=1.3, kind=kind, edge=edge, dtype=dtype)
    Op = pld.SecondDerivative(par["dims"], **kw)
    assert_like_pylops(Op, pylops.SecondDerivative(par["dims"], **kw), par["chunks"], dtype)


@pytest.mark.parametrize("par", PARS, ids=IDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_laplacian(par, kind, edge, dtype):
    nd = len(par["dims"])
    axes = (0, 1) if nd == 2 else (0, 2, 1)
    kw = dict(axes=axes, weights=(1.0, 2.0, 0.5)[:nd], sampling=(1.5, 0.7, 1.1)[:nd], kind=kind,
              edge=edge, dtype=dtype)
    Op = pld.Laplacian(par["dims"], **kw)
    assert_like_pylops(Op, pylops.Laplacian(par["dims"], **kw), par["chunks"], dtype)


@pytest.mark.parametrize("par", PARS, ids=IDS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient(par, kind, edge, dtype):
    sampling = (1.5, 0.7, 1.1)[:len(par["dims"])]
    kw = dict(sampling=sampling, kind=kind, edge=edge, dtype=dtype)
    Op = pld.Gradient(par["dims"], **kw)
    assert Op.dimsd == (len(par["dims"]),) + par["dims"]
    assert_like_pylops(Op, pylops.Gradient(par["dims"], **kw), par["chunks"], dtype)
    y = Op @ da.from_array(rand(par["dims"], dtype), chunks=par["chunks"])
    assert y.chunks[0] == (len(par["dims"]),)


@pytest.mark.parametrize("par", [par1, par3, par5], ids=["one", "edge1", "3d"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("edge", [False, True])
@pytest.mark.parametrize("pointwise", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_directionalderivatives(par, kind, edge, pointwise, dtype):
    dims = par["dims"]
    v = rand((len(dims),) + dims, "float64", seed=5) if pointwise else \
        np.array([0.6, 0.8, 0.3][:len(dims)])
    kw = dict(sampling=(1.5, 0.7, 1.1)[:len(dims)], kind=kind, edge=edge, dtype=dtype)
    for cls in ("FirstDirectionalDerivative", "SecondDirectionalDerivative"):
        Op = getattr(pld, cls)(dims, v, **kw)
        assert_like_pylops(Op, getattr(pylops, cls)(dims, v, **kw), par["chunks"], dtype)


def test_directional_dask_v():
    dims = (9, 11)
    v = rand((2,) + dims, "float64", seed=3)
    Op = pld.SecondDirectionalDerivative(dims, da.from_array(v, chunks=(1, 3, 3)))
    assert_like_pylops(Op, pylops.SecondDirectionalDerivative(dims, v), (4, 5), "float64")


# --- on both schedulers: threads and a 2-process cluster ------------------------------------
par_sched = [
    ("FirstDerivative", dict(axis=0, order=5, edge=True), (12, 10), (5, 4)),
    ("SecondDerivative", dict(axis=1, edge=True), (12, 10), ((1, 11), (1, 8, 1))),
    ("Laplacian", dict(axes=(0, 1, 2), weights=(1, 2, 3), sampling=(1, 2, 3)), (6, 7, 8), (3, 3, 4)),
    ("Gradient", dict(kind="forward"), (6, 7, 8), (3, 7, 4)),
    ("SecondDirectionalDerivative", dict(v=np.array([0.6, 0.8])), (12, 10), (5, 4)),
]


@pytest.mark.parametrize("name,kw,dims,chunks", par_sched, ids=[p[0] for p in par_sched])
@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_schedulers(scheduler, name, kw, dims, chunks, dtype):
    kw = dict(kw)
    v = kw.pop("v", None)
    args = (dims,) if v is None else (dims, v)
    Op = getattr(pld, name)(*args, dtype=dtype, **kw)
    assert_like_pylops(Op, getattr(pylops, name)(*args, dtype=dtype, **kw), chunks, dtype)


# --- graph structure --------------------------------------------------------------------------
@pytest.mark.parametrize("nchunks", [2, 4, 8])
def test_tasks_no_halo_on_unchunked_axis(nchunks):
    """Derivative along an unchunked axis: exactly one task per chunk, no halo exchange."""
    x = da.ones((8 * nchunks, 16), chunks=(8, 16))
    y = pld.FirstDerivative(x.shape, axis=1) @ x
    assert new_tasks(y, x) == nchunks
    assert y.chunks == x.chunks


@pytest.mark.parametrize("nchunks", [2, 4, 8])
def test_tasks_halo_linear(nchunks):
    """Chunked differentiated axes: one kernel task per chunk plus dask's halo exchange, O(chunks)."""
    x = da.ones((8 * nchunks, 32), chunks=(8, 16))
    for Op in (pld.Laplacian(x.shape), pld.Gradient(x.shape), pld.FirstDerivative(x.shape, axis=0)):
        yf = Op @ x
        yd = yf.persist(scheduler="sync")
        for y, inp in ((yf, x), (Op.H @ yd, yd)):
            assert sum(1 for k in dict(y.__dask_graph__()) if k[0] == y.name) == x.npartitions
            # halo exchange: one thin slice per neighbour along each chunked stencil axis
            assert new_tasks(y, inp) <= (1 + 2 * 2) * x.npartitions
    # and linear in the number of chunks
    x2 = da.ones((16 * nchunks, 32), chunks=(8, 16))
    L = pld.Laplacian(x.shape)
    L2 = pld.Laplacian(x2.shape)
    assert new_tasks(L2 @ x2, x2) <= 2 * new_tasks(L @ x, x) + 8


def test_laplacian_is_one_pass():
    """Laplacian and Gradient: a single kernel layer, not a sum of per-axis operators."""
    x = da.ones((16, 16), chunks=8)
    for Op in (pld.Laplacian((16, 16)), pld.Gradient((16, 16))):
        y = Op @ x
        layers = [k for k in y.__dask_graph__().layers if not k.startswith("ones")]
        assert len(layers) == 1, layers
        assert new_tasks(y, x) == x.npartitions + 8  # 4 chunks, 2 neighbours each: 8 slices


def test_chunks_shorter_than_the_halo_are_kept():
    """A chunk shorter than the halo: its neighbours read it whole and beyond, nothing is merged."""
    x = da.from_array(rand((12, 5), "float64"), chunks=((1, 5, 5, 1), (5,)))
    Op = pld.FirstDerivative((12, 5), axis=0, order=5, edge=True)  # halo of 2
    y = Op @ x
    assert y.chunks == x.chunks
    np.testing.assert_allclose((Op.H @ y).compute().ravel(),
                               pylops.FirstDerivative((12, 5), axis=0, order=5, edge=True).H @
                               y.compute().ravel())
    np.testing.assert_allclose(y.compute().ravel(),
                               pylops.FirstDerivative((12, 5), axis=0, order=5, edge=True) @
                               x.compute().ravel())
    y = pld.FirstDerivative((12, 5), axis=1) @ x  # no halo along axis 0: chunks kept
    assert y.chunks == x.chunks


def test_lazy_and_flat():
    x = rand((9, 11), "float64")
    Op = pld.Laplacian((9, 11), chunks=(4, 4))
    y = Op @ da.from_array(x.ravel(), chunks=33)
    assert isinstance(y, da.Array) and y.shape == (99,)
    np.testing.assert_allclose(y.compute(), pylops.Laplacian((9, 11)) @ x.ravel())
    y = Op @ x
    assert y.chunks == ((4, 4, 1), (4, 4, 3))


def test_same_graph_same_keys():
    x = da.ones((10, 10), chunks=5)
    Op = pld.Laplacian((10, 10))
    assert (Op @ x).name == (Op @ x).name
    assert (Op @ x).name != (Op.H @ x).name
    assert (Op @ x).name.startswith("laplacian-")


@pytest.mark.parametrize("bad", [
    lambda: pld.FirstDerivative((5, 5), kind="upwind"),
    lambda: pld.FirstDerivative((5, 5), order=4),
    lambda: pld.SecondDerivative((5, 5), axis=2),
    lambda: pld.Laplacian((5, 5), axes=(0, 1), weights=(1.0,)),
    lambda: pld.Gradient((5, 5), sampling=(1.0, 2.0, 3.0)),
    lambda: pld.FirstDirectionalDerivative((5, 5), v=np.ones(3)),
])
def test_errors(bad):
    with pytest.raises(ValueError):
        bad()


def test_axis_too_short():
    with pytest.raises(ValueError, match="FirstDerivative: an axis of 1 samples is too short"):
        pld.FirstDerivative((1, 3), axis=0, edge=True)
    with pytest.raises(ValueError, match="Laplacian"):
        pld.Laplacian((2, 5), edge=True)


def test_bad_input_shape():
    with pytest.raises(ValueError, match="FirstDerivative"):
        pld.FirstDerivative((5, 5)) @ da.ones((5, 4))


def test_algebra():
    """Composition keeps working: regularised normal operator D^H D + L."""
    x = rand((9, 11), "float64")
    D, L = pld.FirstDerivative((9, 11), axis=0), pld.Laplacian((9, 11))
    pD, pL = pylops.FirstDerivative((9, 11), axis=0), pylops.Laplacian((9, 11))
    y = (D.H @ D + 2 * L) @ da.from_array(x, chunks=4)
    with dask.config.set(scheduler="threads"):
        np.testing.assert_allclose(y.compute().ravel(), (pD.H @ pD + 2 * pL) @ x.ravel())


# --- the two CPU kernels agree ------------------------------------------------------------------
@pytest.mark.parametrize("dims,chunks", [((9, 11), (4, 5)), ((5, 6, 7), (2, 6, 4)), ((13,), (4,))])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sliced_path(monkeypatch, dims, chunks, dtype):
    """The sliced NumPy kernel (used without Numba, for 4+ axes and for CuPy fallbacks)."""
    from pylops_distributed import _stencils_numba

    monkeypatch.setattr(_stencils_numba, "ENABLED", False)
    nd = len(dims)
    for name, kw in (("FirstDerivative", dict(axis=0, order=5, edge=True)),
                     ("SecondDerivative", dict(axis=-1, kind="forward")),
                     ("Laplacian", dict(axes=tuple(range(nd)), weights=(1, 2, 3)[:nd],
                                        sampling=(1, 2, 3)[:nd], edge=True))):
        if name == "Laplacian" and nd == 1:
            continue
        Op = getattr(pld, name)(dims, dtype=dtype, **kw)
        assert_like_pylops(Op, getattr(pylops, name)(dims, dtype=dtype, **kw), chunks, dtype)


def test_four_axes():
    dims = (4, 5, 6, 7)
    kw = dict(axes=(0, 1, 2, 3), weights=(1, 2, 3, 4), sampling=(1, 1, 2, 2))
    assert_like_pylops(pld.Laplacian(dims, **kw), pylops.Laplacian(dims, **kw), (2, 5, 3, 4),
                       "float64")
    assert_like_pylops(pld.Gradient(dims, dtype="complex128"), pylops.Gradient(dims, dtype="complex128"),
                       (2, 5, 3, 4), "complex128")


@pytest.mark.parametrize("name", ["FirstDirectionalDerivative", "SecondDirectionalDerivative"])
@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_directional_output_dtype_like_pylops(name, dtype):
    """With a float64 per-point ``v``, the output dtype follows PyLops (which differs per operator)."""
    v = np.random.default_rng(3).standard_normal((2, 8, 9))
    x = np.random.default_rng(4).standard_normal((8, 9)).astype(dtype)
    Op, POp = getattr(pld, name)((8, 9), v, dtype=dtype), getattr(pylops, name)((8, 9), v, dtype=dtype)
    out, ref = (Op @ x).compute(), POp @ x
    assert out.dtype == ref.dtype
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def _dtype_cases():
    dims = (6, 5)
    rng = np.random.default_rng(5)
    v_const, v_point = np.array([0.3, 0.7]), rng.standard_normal((2,) + dims)
    return {
        "FirstDerivative": lambda m, dt: m.FirstDerivative(dims, axis=0, dtype=dt),
        "SecondDerivative": lambda m, dt: m.SecondDerivative(dims, axis=1, dtype=dt),
        "Laplacian": lambda m, dt: m.Laplacian(dims, dtype=dt),
        "Gradient": lambda m, dt: m.Gradient(dims, dtype=dt),
        "FirstDirectional-const": lambda m, dt: m.FirstDirectionalDerivative(dims, v_const, dtype=dt),
        "FirstDirectional-point": lambda m, dt: m.FirstDirectionalDerivative(dims, v_point, dtype=dt),
        "SecondDirectional-const": lambda m, dt: m.SecondDirectionalDerivative(dims, v_const, dtype=dt),
        "SecondDirectional-point": lambda m, dt: m.SecondDirectionalDerivative(dims, v_point, dtype=dt),
        "Smoothing1D": lambda m, dt: m.Smoothing1D(3, dims, dtype=dt),
        "Smoothing2D": lambda m, dt: m.Smoothing2D((3, 3), dims, dtype=dt),
    }


@pytest.mark.parametrize("name", list(_dtype_cases()))
@pytest.mark.parametrize("op_dtype,x_dtype", [("float32", "float64"), ("float64", "float32"),
                                              ("float32", "float32"), ("complex128", "float32")])
def test_output_dtype_like_pylops_for_real_inputs(name, op_dtype, x_dtype):
    """Real input: the output dtype is PyLops' (the operator's for derivatives, promoted for
    smoothing, with the directions' for FirstDirectionalDerivative's forward), values too."""
    make = _dtype_cases()[name]
    Op, POp = make(pld, op_dtype), make(pylops, op_dtype)
    for adjoint in (False, True):
        n = POp.shape[0] if adjoint else POp.shape[1]
        x = rand(n, x_dtype, seed=7)
        ref = POp.rmatvec(x) if adjoint else POp.matvec(x)
        out = (Op.rmatvec(x) if adjoint else Op.matvec(x))
        assert out.dtype == ref.dtype, (adjoint, out.dtype, ref.dtype)
        got = out.compute()
        assert got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_complex_input_through_real_operator_keeps_its_imaginary_part():
    """PyLops' derivatives drop the imaginary part of a complex input to a real operator (and
    their adjoints raise); ours apply the operator to both parts."""
    Op, POp = pld.Laplacian((7, 6)), pylops.Laplacian((7, 6))
    x = rand((7, 6), "complex128", seed=8)
    out = (Op @ da.from_array(x, chunks=(3, 6))).compute()
    assert out.dtype == np.complex128
    ref = (POp @ x.real.ravel() + 1j * (POp @ x.imag.ravel())).reshape(7, 6)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    back = (Op.H @ da.from_array(x, chunks=(3, 6))).compute()
    ref = (POp.H @ x.real.ravel() + 1j * (POp.H @ x.imag.ravel())).reshape(7, 6)
    np.testing.assert_allclose(back, ref, rtol=1e-12)


def test_complex_constant_direction_on_a_real_operator():
    """A complex ``v`` makes the output complex (PyLops' forward does so too)."""
    v = np.array([0.3 + 1j, 0.7])
    Op, POp = (pld.FirstDirectionalDerivative((8, 6), v),
               pylops.FirstDirectionalDerivative((8, 6), v))
    x = rand((8, 6), "float64", seed=9)
    out = (Op @ da.from_array(x, chunks=(3, 6))).compute()
    ref = POp @ x.ravel()
    assert out.dtype == ref.dtype == np.complex128
    np.testing.assert_allclose(out.ravel(), ref, rtol=1e-12)
    y = rand((8, 6), "complex128", seed=10)  # the adjoint: the exact transpose (PyLops raises)
    lhs = np.vdot(out.ravel(), y.ravel())
    rhs = np.vdot(x.ravel(), (Op.H @ da.from_array(y, chunks=(3, 6))).compute().ravel())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)
