"""PyLops parity, structured operators: PyLops' own test parametrizations, ours against PyLops.

PyLops' ``test_derivative.py``, ``test_smoothing.py`` (even/odd sizes, unit/non-unit sampling,
with and without ``edge``; every axis of 1-D/2-D/3-D models; every stencil kind),
``test_restriction.py``, ``test_causalintegration.py``, ``test_kronecker.py`` and
``test_combine.py`` (VStack, HStack, Block, BlockDiag, also built from raw NumPy and SciPy
matrices, with ``nproc`` and with R-linear blocks): ours against PyLops on the same inputs in
one, several and uneven chunks, the dot test with PyLops' flags and tolerances, and PyLops'
inversions with our ``lsqr`` against PyLops' (see ``_pylops_params.py``).
"""

import dask.array as da
import numpy as np
import pylops
import pytest
import scipy.sparse
from _pylops_params import (BASIC4, CHUNKINGS, INF, REAL2, as_numpy, cflag, check_op,
                            chunks_for, collect, params, rand, solve_lsqr)
from _pylops_params import one_blas_thread  # noqa: F401 - module-wide fixture

import pylops_distributed as pld

# PyLops' test_derivative.py parametrizations
PD = []
for _edge in (False, True):
    for _n in ((10, 30, 40), (11, 51, 61)):
        for _s in ((1.0, 1.0, 1.0), (0.4, 2.0, 0.5)):
            PD.append(dict(zip(("nz", "ny", "nx", "dz", "dy", "dx"), _n + _s), edge=_edge))
DPARS = params(PD, "nz", "dz", "edge")

# (name, dims keys, axis, sampling key) of PyLops' 1D/2D/3D derivative checks
FIRST_GEOMS = [("1d", ("nx",), 0, "dx"), ("2d-axis0", ("ny", "nx"), 0, "dy"),
               ("2d-axis1", ("ny", "nx"), 1, "dx"), ("3d-axis0", ("nz", "ny", "nx"), 0, "dz"),
               ("3d-axis1", ("nz", "ny", "nx"), 1, "dy"),
               ("3d-axis2", ("nz", "ny", "nx"), 2, "dx")]
SECOND_GEOMS = [("1d", ("nx",), 0, "dx"), ("2d-axis0", ("ny", "nx"), 0, "dy"),
                ("2d-axis1", ("ny", "nx"), 1, "dx"), ("3d-axis0", ("ny", "nx", "nz"), 0, "dy"),
                ("3d-axis1", ("ny", "nx", "nz"), 1, "dx"),
                ("3d-axis2", ("ny", "nx", "nz"), 2, "dz")]


def _geoms(geoms):
    return [pytest.param(g, id=g[0]) for g in geoms]


F32 = "float32"


@pytest.mark.parametrize("kind,order", [("centered", 3), ("centered", 5), ("forward", 3),
                              ("backward", 3)], ids=["centered3", "centered5",
                                                     "forward", "backward"])
@pytest.mark.parametrize("geom", _geoms(FIRST_GEOMS))
@pytest.mark.parametrize("par", DPARS)
@collect
def test_FirstDerivative(par, geom, kind, order):
    _, keys, axis, skey = geom
    dims = tuple(par[k] for k in keys)
    kw0 = dict(axis=axis, sampling=par[skey], edge=par["edge"], kind=kind, order=order, dtype=F32)
    mk = lambda **kw: pld.FirstDerivative(dims, **kw0, **kw)  # noqa: E731
    POp = pylops.FirstDerivative(dims, **kw0)
    n = int(np.prod(dims))
    check_op(mk, POp, F32, n, n, rtol_dot=1e-3)


@pytest.mark.parametrize("kind", ["centered", "forward", "backward"])
@pytest.mark.parametrize("geom", _geoms(SECOND_GEOMS))
@pytest.mark.parametrize("par", DPARS)
@collect
def test_SecondDerivative(par, geom, kind):
    _, keys, axis, skey = geom
    dims = tuple(par[k] for k in keys)
    kw0 = dict(axis=axis, sampling=par[skey], edge=par["edge"], kind=kind, dtype=F32)
    mk = lambda **kw: pld.SecondDerivative(dims, **kw0, **kw)  # noqa: E731
    POp = pylops.SecondDerivative(dims, **kw0)
    n = int(np.prod(dims))
    check_op(mk, POp, F32, n, n, rtol_dot=1e-3)


# (id, dims keys, axes, weights, sampling keys) of PyLops' Laplacian checks
LAPLACIANS = [("2d-sym", ("ny", "nx"), (0, 1), (1, 1), ("dy", "dx")),
              ("2d-asym", ("ny", "nx"), (0, 1), (1, 2), ("dy", "dx")),
              ("3d-axes01", ("nz", "ny", "nx"), (0, 1), (1, 1), ("dy", "dx")),
              ("3d-all", ("nz", "ny", "nx"), (0, 1, 2), (1, 1, 1), ("dz", "dx", "dx"))]


@pytest.mark.parametrize("geom", _geoms(LAPLACIANS))
@pytest.mark.parametrize("par", DPARS)
@collect
def test_Laplacian(par, geom):
    _, keys, axes, weights, skeys = geom
    dims = tuple(par[k] for k in keys)
    kw0 = dict(axes=axes, weights=weights, sampling=tuple(par[k] for k in skeys),
               edge=par["edge"], dtype=F32)
    mk = lambda **kw: pld.Laplacian(dims, **kw0, **kw)  # noqa: E731
    POp = pylops.Laplacian(dims, **kw0)
    n = int(np.prod(dims))
    check_op(mk, POp, F32, n, n, rtol_dot=1e-3)


KINDS = ["forward", "centered", "backward"]
ND = [pytest.param(("ny", "nx"), id="2d"), pytest.param(("nz", "ny", "nx"), id="3d")]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("keys", ND)
@pytest.mark.parametrize("par", DPARS)
@collect
def test_Gradient(par, keys, kind):
    dims = tuple(par[k] for k in keys)
    kw0 = dict(sampling=tuple(par["d" + k[1]] for k in keys), edge=par["edge"], kind=kind,
               dtype=F32)
    mk = lambda **kw: pld.Gradient(dims, **kw0, **kw)  # noqa: E731
    POp = pylops.Gradient(dims, **kw0)
    n = int(np.prod(dims))
    check_op(mk, POp, F32, len(dims) * n, n, rtol_dot=1e-3)


def _v(ndim):
    return np.sqrt(2.0) / 2.0 * np.ones(2) if ndim == 2 else np.ones(3) / np.sqrt(3)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("keys", ND)
@pytest.mark.parametrize("par", DPARS)
@collect
def test_FirstDirectionalDerivative(par, keys, kind):
    dims = tuple(par[k] for k in keys)
    kw0 = dict(v=_v(len(dims)), sampling=tuple(par["d" + k[1]] for k in keys),
               edge=par["edge"], kind=kind, dtype=F32)
    mk = lambda **kw: pld.FirstDirectionalDerivative(dims, **kw0, **kw)  # noqa: E731
    POp = pylops.FirstDirectionalDerivative(dims, **kw0)
    n = int(np.prod(dims))
    check_op(mk, POp, F32, n, n, rtol_dot=1e-3)


@pytest.mark.parametrize("keys", ND)
@pytest.mark.parametrize("par", DPARS)
@collect
def test_SecondDirectionalDerivative(par, keys):
    dims = tuple(par[k] for k in keys)
    kw0 = dict(v=_v(len(dims)), sampling=tuple(par["d" + k[1]] for k in keys),
               edge=par["edge"], dtype=F32)
    mk = lambda **kw: pld.SecondDirectionalDerivative(dims, **kw0, **kw)  # noqa: E731
    POp = pylops.SecondDirectionalDerivative(dims, **kw0)
    n = int(np.prod(dims))
    check_op(mk, POp, F32, n, n, rtol_dot=1e-3)


@pytest.mark.parametrize("par", DPARS)
@collect
def test_SecondDirectionalDerivative_verticalderivative(par):
    """-D^H D of a vertical first derivative equals the vertical second directional one."""
    dims = (par["ny"], par["nx"])
    Fop = pld.FirstDerivative(dims, axis=0, edge=par["edge"], dtype=F32)
    F2dop = pld.SecondDirectionalDerivative(dims, v=np.array([1, 0]), edge=par["edge"],
                                  dtype=F32)
    x = rand(dims, "float64", 9)
    lhs = (-(Fop.H * Fop) * x.ravel()).compute()
    rhs = (F2dop * x.ravel()).compute()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-5, atol=1e-5)
    # and against PyLops' own pair
    PF = pylops.FirstDerivative(dims, axis=0, edge=par["edge"], dtype=F32)
    np.testing.assert_allclose(lhs, -(PF.H * PF) * x.ravel(), rtol=1e-5, atol=1e-5)


# --- smoothing (test_smoothing.py) -----------------------------------------------------------

PS = [{"nz": nz, "ny": ny, "nx": nx, "axis": ax}
      for ax in (0, 1, 2) for nz, ny, nx in ((10, 30, 20), (11, 51, 31))]
S1_GEOMS = [pytest.param(("nx",), id="1d"), pytest.param(("ny", "nx"), id="2d"),
            pytest.param(("nz", "ny", "nx"), id="3d")]


@pytest.mark.parametrize("keys", S1_GEOMS)
@pytest.mark.parametrize("par", params([p for p in PS if p["axis"] < 2], "ny", "axis"))
@collect
def test_Smoothing1D(par, keys):
    dims = tuple(par[k] for k in keys)
    axis = 0 if len(dims) == 1 else par["axis"]
    mk = lambda **kw: pld.Smoothing1D(nsmooth=5, dims=dims, axis=axis, dtype="float64",  # noqa
                            **kw)
    POp = pylops.Smoothing1D(nsmooth=5, dims=dims, axis=axis, dtype="float64")
    n = int(np.prod(dims))
    Op = check_op(mk, POp, "float64", n, n, rtol_dot=1e-3 if len(dims) == 3 else 1e-6)
    x = np.random.default_rng(0).normal(0, 1, dims).ravel()
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 3, "lsqr(Smoothing1D)", damp=1e-10,
               niter=100, atol=1e-8, btol=1e-8)


# PyLops runs the 2-D case for axis 0 and 1 only, the 3-D case for every axis
S2_CASES = [pytest.param(p, nd, id=f"ny{p['ny']}-axis{p['axis']}-{nd}d")
            for p in PS for nd in (2, 3) if nd == 3 or p["axis"] < 2]


@pytest.mark.parametrize("par,nd", S2_CASES)
@collect
def test_Smoothing2D(par, nd):
    if nd == 2:
        dims, axes = (par["ny"], par["nx"]), (-2, -1)
    else:
        dims = (par["nz"], par["ny"], par["nx"])
        axes = tuple(a for a in range(3) if a != par["axis"])
    mk = lambda **kw: pld.Smoothing2D(nsmooth=(5, 5), dims=dims, axes=axes,  # noqa: E731
                            dtype="float64", **kw)
    POp = pylops.Smoothing2D(nsmooth=(5, 5), dims=dims, axes=axes, dtype="float64")
    n = int(np.prod(dims))
    Op = check_op(mk, POp, "float64", n, n, rtol_dot=1e-3 if nd == 2 else 1e-6)
    x = np.zeros(dims)
    x[tuple(d // 2 for d in dims)] = 1.0
    x = x.ravel()
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 1, "lsqr(Smoothing2D)", damp=1e-10,
               niter=400, atol=1e-8, btol=1e-8)


def _gmat(par, seed=10, dtype="float32"):
    rng = np.random.default_rng(seed)
    G = rng.normal(0, 10, (par["ny"], par["nx"])).astype(dtype)
    if par["imag"] != 0:
        G = G + par["imag"] * rng.normal(0, 10, (par["ny"], par["nx"])).astype(dtype)
    return G


def _ones(n, par):
    return np.ones(n) + par["imag"] * np.ones(n)


# --- Restriction (test_restriction.py) -------------------------------------------------------

PR = [{"ny": 21, "nx": 11, "nt": 20, "imag": im, "dtype": dt, "inplace": ip}
      for ip in (True, False) for im, dt in ((0, "float64"), (1j, "complex128"))]
R_GEOMS = ([pytest.param(("nx",), 0, id="1d")]
           + [pytest.param(("nx", "nt"), a, id=f"2d-axis{a}") for a in range(2)]
           + [pytest.param(("ny", "nx", "nt"), a, id=f"3d-axis{a}") for a in range(3)])


def _iava(n, seed=10):
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(np.arange(n))[: int(np.round(n * 0.4))])


@pytest.mark.parametrize("names,axis", R_GEOMS)
@pytest.mark.parametrize("par", params(PR, "dtype", "inplace"))
@collect
def test_Restriction(par, names, axis):
    dims = tuple(par[n] for n in names)
    iava = _iava(dims[axis])
    mk = lambda **kw: pld.Restriction(dims, iava, axis=axis, inplace=par["inplace"],  # noqa: E731
                            dtype=par["dtype"], **kw)
    POp = pylops.Restriction(dims, iava, axis=axis, inplace=par["inplace"], dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], POp.shape[0], POp.shape[1], complexflag=cflag(par))
    x = np.ones(dims) + par["imag"] * np.ones(dims)
    x1 = as_numpy(Op.H @ (Op @ x.ravel())).reshape(dims)
    sel = (slice(None),) * axis + (iava,)
    np.testing.assert_array_equal(x1[sel], x[sel])


@pytest.mark.parametrize("names,axis", R_GEOMS)
@collect
def test_Restriction_mask(names, axis):
    """PyLops' Restriction.mask: the model with the samples not kept set to zero."""
    par = PR[0]
    dims = tuple(par[n] for n in names)
    iava = _iava(dims[axis])
    Op = pld.Restriction(dims, iava, axis=axis)
    POp = pylops.Restriction(dims, iava, axis=axis)
    x = rand(dims, "float64", 8)
    for xx in (x, x.ravel()):
        np.testing.assert_array_equal(as_numpy(Op.mask(xx)), np.asarray(POp.mask(xx)))


# --- CausalIntegration (test_causalintegration.py) -------------------------------------------

PC = [{"nt": nt, "nx": 101, "dt": dt, "imag": im, "dtype": dtp}
      for im, dtp in ((0, "float64"), (1j, "complex128")) for dt in (1.0, 0.3) for nt in (20, 21)]
KINDS_RF = [pytest.param(k, rf, id=f"{k}-rf{int(rf)}") for k in ("full", "half", "trapezoidal")
            for rf in (False, True)]


@pytest.mark.parametrize("kind,rf", KINDS_RF)
@pytest.mark.parametrize("nd", [1, 2], ids=["1d", "2d"])
@pytest.mark.parametrize("par", params(PC, "nt", "dt", "dtype"))
@collect
def test_CausalIntegration(par, nd, kind, rf):
    dt = par["dt"] if nd == 1 else 0.2 * par["dt"]
    dims = par["nt"] if nd == 1 else (par["nt"], par["nx"])
    kw0 = dict(sampling=dt, kind=kind, removefirst=rf, dtype=par["dtype"])
    if nd == 2:
        kw0["axis"] = 0
    mk = lambda **kw: pld.CausalIntegration(dims, **kw0, **kw)  # noqa: E731
    POp = pylops.CausalIntegration(dims, **kw0)
    Op = check_op(mk, POp, par["dtype"], POp.shape[0], POp.shape[1], complexflag=cflag(par))
    if kind == "full" or rf:
        return
    t = np.arange(par["nt"]) * dt
    x = t + par["imag"] * t if nd == 1 else (
        np.outer(np.sin(t), np.ones(par["nx"])) * (1 + par["imag"])).ravel()
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 4 if nd == 1 else 2,
               f"lsqr(CausalIntegration {kind})", niter=100, atol=0, btol=0, conlim=INF)


# --- Kronecker (test_kronecker.py) -----------------------------------------------------------

@pytest.mark.parametrize("par", BASIC4)
@collect
def test_Kronecker(par):
    G1 = _gmat(par, 10).astype(par["dtype"])
    G2 = _gmat(par, 11).astype(par["dtype"])
    mk = lambda **kw: pld.Kronecker(pld.MatrixMult(G1, dtype=par["dtype"]),  # noqa: E731
                                    pld.MatrixMult(G2, dtype=par["dtype"]),
                                    dtype=par["dtype"], **kw)
    POp = pylops.Kronecker(pylops.MatrixMult(G1, dtype=par["dtype"]),
                           pylops.MatrixMult(G2, dtype=par["dtype"]), dtype=par["dtype"])
    Op = check_op(mk, POp, par["dtype"], par["ny"] ** 2, par["nx"] ** 2, complexflag=cflag(par))
    x = _ones(par["nx"] ** 2, par)
    solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, 2, "lsqr(Kronecker)", damp=1e-20,
               niter=300, atol=0, btol=0, conlim=INF)


@pytest.mark.parametrize("par", BASIC4)
@collect
def test_Kronecker_dense(par):
    """PyLops' comparison with np.kron: ``Kop * np.eye(nx**2)``."""
    G1 = _gmat(par, 10).astype(par["dtype"])
    G2 = _gmat(par, 11).astype(par["dtype"])
    Op = pld.Kronecker(pld.MatrixMult(G1, dtype=par["dtype"]),
                       pld.MatrixMult(G2, dtype=par["dtype"]), dtype=par["dtype"])
    np.testing.assert_array_almost_equal(as_numpy(Op * np.eye(par["nx"] ** 2)),
                               np.kron(G1, G2), decimal=3)


@pytest.mark.parametrize("par", REAL2)
@collect
def test_Kronecker_Derivative(par):
    ny, nx = par["ny"], par["nx"]
    Kop = pld.Kronecker(pld.FirstDerivative(ny, sampling=1, edge=True, dtype="float32"),
                        pld.Identity(nx, dtype=par["dtype"]), dtype=par["dtype"])
    D2op = pld.FirstDerivative((ny, nx), axis=0, sampling=1, edge=True, dtype="float32")
    x = np.zeros((ny, nx))
    x[ny // 2, nx // 2] = 1
    for how in CHUNKINGS:
        xd = da.from_array(x.ravel(), chunks=chunks_for((x.size,), how))
        np.testing.assert_array_equal(as_numpy(Kop @ xd), as_numpy(D2op @ xd), err_msg=how)


# ---------------------------------------------------------------------------------------------
# stacks (test_combine.py)
# ---------------------------------------------------------------------------------------------

C1 = {"ny": 101, "nx": 101, "imag": 0, "dtype": "float64"}
C2 = {"ny": 301, "nx": 101, "imag": 0, "dtype": "float64"}
C1J = {"ny": 101, "nx": 101, "imag": 1j, "dtype": "complex128"}
C2J = {"ny": 301, "nx": 101, "imag": 1j, "dtype": "complex128"}
COMBINE = params([C1, C2, C1J, C2J], "ny", "nx", "dtype")
COMBINE_TALL = params([C2, C2J], "ny", "nx", "dtype")


def _g(par, seed, dtype=None, cols=None):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 10, (par["ny"], cols or par["nx"])).astype(dtype or par["dtype"])


def _sp(par, seed):
    rng = np.random.default_rng(seed)
    G = scipy.sparse.random(par["ny"], par["nx"], density=0.4, random_state=rng)
    return G.astype("float32")


def _mm(lib, G, par):
    return lib.MatrixMult(G, dtype=par["dtype"])


@collect
def test_VStack_inconsistent_columns():
    G1, G2 = _g(C1, 0), _g(C1, 1, cols=C1["nx"] + 1)
    for lib in (pylops, pld):
        with pytest.raises(ValueError):
            lib.VStack([_mm(lib, G1, C1), _mm(lib, G2, C1)], dtype=C1["dtype"])


@collect
def test_HStack_inconsistent_rows():
    G1 = _g(C1, 0)
    G2 = np.random.default_rng(1).normal(0, 10, (C1["ny"] + 1, C1["nx"]))
    for lib in (pylops, pld):
        with pytest.raises(ValueError):
            lib.HStack([_mm(lib, G1, C1), _mm(lib, G2, C1)], dtype=C1["dtype"])


def _stack(lib, kind, blocks, par, **kw):
    """``blocks`` holds matrices; ``("op", G)`` entries are wrapped in ``lib.MatrixMult``."""
    def conv(b):
        return _mm(lib, b[1], par) if isinstance(b, tuple) else b
    if kind == "Block":
        ops = [[conv(b) for b in row] for row in blocks]
    else:
        ops = [conv(b) for b in blocks]
    return getattr(lib, kind)(ops, dtype=par["dtype"], **kw)


def _stack_case(kind, par, blocks, nr, nc, solve=None):
    mk = lambda **kw: _stack(pld, kind, blocks, par, **kw)  # noqa: E731
    POp = _stack(pylops, kind, blocks, par)
    Op = check_op(mk, POp, par["dtype"], nr, nc, complexflag=cflag(par))
    if solve:
        x = np.ones(nc) + par["imag"] * np.ones(nc)
        solve_lsqr(Op, POp, POp @ x, np.zeros_like(x), x, solve[1], f"lsqr({kind})", damp=1e-20,
                   niter=solve[0], atol=1e-8, btol=1e-8)


def _blocks(kind, par, variant):
    """PyLops' blocks of each stack: all operators, or one raw NumPy / SciPy sparse matrix."""
    if kind == "HStack":
        G1, G2 = _g(par, 0, "float32"), _g(par, 1, "float32")
    else:
        G1, G2, G3, G4 = (_g(par, s) for s in range(4))
    raw = {"ops": None, "numpy": None, "sparse": _sp(par, 5)}[variant]
    if kind == "Block":
        first = ("op", G1) if variant == "ops" else (G1 if raw is None else raw)
        last = ("op", G4) if variant == "ops" else G4
        return [[first, ("op", G2)], [("op", G3), last]]
    if kind == "BlockDiag":
        return [("op", G1), ("op", G2) if variant == "ops" else (G2 if raw is None else raw)]
    return [("op", G1) if variant == "ops" else (G1 if raw is None else raw), ("op", G2)]


STACK_CASES = ([pytest.param(k, p.values[0], id=f"{k}-{p.id}")
                for k in ("VStack", "Block", "BlockDiag") for p in COMBINE]
               + [pytest.param("HStack", p.values[0], id=f"HStack-{p.id}") for p in COMBINE_TALL])
SHAPES = {"VStack": (2, 1), "HStack": (1, 2), "Block": (2, 2), "BlockDiag": (2, 2)}


@pytest.mark.parametrize("kind,par", STACK_CASES)
@collect
def test_stack(kind, par):
    a, b = SHAPES[kind]
    niter, decimal = (500, 3) if kind in ("Block", "BlockDiag") else (300, 4)
    _stack_case(kind, par, _blocks(kind, par, "ops"), a * par["ny"], b * par["nx"],
                solve=(niter, decimal))


@pytest.mark.parametrize("variant", ["numpy", "sparse"], ids=["raw-numpy", "raw-sparse"])
@pytest.mark.parametrize("kind,par", STACK_CASES)
@collect
def test_stack_raw_matrices(kind, par, variant):
    """PyLops' stacks accept NumPy and SciPy matrices among their blocks."""
    a, b = SHAPES[kind]
    _stack_case(kind, par, _blocks(kind, par, variant), a * par["ny"], b * par["nx"])


MULTI = {"VStack": lambda op: [op] * 4, "HStack": lambda op: [op] * 4,
         "Block": lambda op: [[op] * 2] * 4, "BlockDiag": lambda op: [op] * 4}


@pytest.mark.parametrize("kind,par", STACK_CASES)
@collect
def test_stack_multiproc(kind, par):
    """nproc=2 gives what PyLops' single-process stack gives."""
    G = _g(par, 0)
    mk = lambda **kw: getattr(pld, kind)(MULTI[kind](_mm(pld, G, par)), nproc=2,  # noqa: E731
                               dtype=par["dtype"], **kw)
    POp = getattr(pylops, kind)(MULTI[kind](_mm(pylops, G, par)), dtype=par["dtype"])
    check_op(mk, POp, par["dtype"], POp.shape[0], POp.shape[1], complexflag=cflag(par))


@pytest.mark.parametrize("kind", ["VStack", "HStack", "BlockDiag"])
@pytest.mark.parametrize("par", params([C1J, C2J], "ny", "nx"))
@collect
def test_stack_rlinear(par, kind):
    rng = np.random.default_rng(0)
    G = (rng.normal(0, 10, (par["ny"], par["nx"]))
         + 1j * rng.normal(0, 10, (par["ny"], par["nx"]))).astype(par["dtype"])
    n = par["ny"] if kind == "HStack" else par["nx"]

    def build(lib, **kw):
        return getattr(lib, kind)([lib.Real(n, dtype=par["dtype"]), _mm(lib, G, par)],
                                  dtype=par["dtype"], **kw)
    POp = build(pylops)
    Op = build(pld)
    assert POp.clinear is False
    assert Op.clinear is False
    check_op(lambda **kw: build(pld, **kw), POp, par["dtype"], POp.shape[0], POp.shape[1],
             complexflag=3)
