"""Kronecker of two dense matrices: its chunk kernel against PyLops, and the solvers on it.

(Factors of other kinds keep the two-stage path: tests/test_basic_kronecker.py.)
"""

import logging
import warnings

import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import DTYPES, assert_like_pylops, check_kernel_boxes, new_tasks, rand
from distributed import wait
from pylops.optimization.basic import lsqr as plsqr
from test_solver_engine import _count

import pylops_distributed as pld
from pylops_distributed.kernels import NoChunkKernel
from pylops_distributed.optimization import LSQR, lsqr
from pylops_distributed.utils import dottest

A = rand((7, 5), "float64", seed=10)    # Op1: dims[0] = 5 -> dimsd[0] = 7
B = rand((6, 9), "float64", seed=11)    # Op2: dims[1] = 9 -> dimsd[1] = 6

par = [  # rows: the output's row chunks (as many as the input's, axis 1 in one chunk)
    dict(chunks=(5, 9), rows=(7,)),       # one chunk
    dict(chunks=(2, 9), rows=(3, 2, 2)),  # along axis 0 (contracted piece by piece), odd
    dict(chunks=(5, 4), rows=(7,)),       # along axis 1 (merged first)
    dict(chunks=(3, 5), rows=(4, 3)),     # both
]


def _factors(dtype, seed=0):
    """Two dense matrices of ``dtype`` (complex ones for complex dtypes)."""
    return rand((7, 5), dtype, seed=10 + seed), rand((6, 9), dtype, seed=11 + seed)


def _pair(Am, Bm, dtype="float64"):
    """Ours and PyLops' Kronecker of ``MatrixMult(Am)`` and ``MatrixMult(Bm)``."""
    P1, P2 = pylops.MatrixMult(Am, dtype=dtype), pylops.MatrixMult(Bm, dtype=dtype)
    return pld.Kronecker(P1, P2, dtype=dtype), pylops.Kronecker(P1, P2, dtype=dtype)


@pytest.mark.parametrize("p", par)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dense_factors_like_pylops(p, dtype, scheduler):
    Am, Bm = _factors(dtype)
    Op, POp = _pair(Am, Bm, dtype)
    assert Op.dims == (5, 9) and Op.dimsd == (7, 6)
    Op.chunk_kernel(False), Op.chunk_kernel(True)  # both have one
    assert_like_pylops(Op, POp, p["chunks"], dtype)
    x = da.from_array(rand((5, 9), dtype, seed=3), chunks=p["chunks"])
    y = Op @ x
    assert y.chunks == (p["rows"], (6,))
    assert y.dtype == (POp @ x.compute().ravel()).dtype == np.dtype(dtype)
    assert isinstance(y._meta, np.ndarray)


@pytest.mark.parametrize("kinds", ["pld,pld", "frompylops,pylops", "pld,frompylops"])
def test_every_kind_of_matrix_factor_has_a_kernel(kinds, scheduler):
    wrap = {"pld": pld.MatrixMult, "pylops": pylops.MatrixMult,
            "frompylops": lambda M: pld.FromPyLops(pylops.MatrixMult(M))}
    k1, k2 = kinds.split(",")
    Op = pld.Kronecker(wrap[k1](A), wrap[k2](B))
    Op.chunk_kernel(False), Op.chunk_kernel(True)
    assert_like_pylops(Op, _pair(A, B)[1], (2, 4), "float64")


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_complex_and_mixed_factors(dtype):
    """A complex factor beside a real one, through an operator of dtype ``dtype``; real and
    complex inputs: PyLops' values and dtypes."""
    Ac, Br = rand((7, 5), "complex128", seed=20), rand((6, 9), "float64", seed=21)
    with warnings.catch_warnings():  # PyLops' MatrixMult says it upcasts a real dtype
        warnings.simplefilter("ignore", UserWarning)
        P1 = pylops.MatrixMult(Ac, dtype=dtype)
    Op = pld.Kronecker(P1, pylops.MatrixMult(Br), dtype=dtype)
    POp = pylops.Kronecker(P1, pylops.MatrixMult(Br), dtype=dtype)
    for xdtype in ("float64", "complex128"):
        x, y = rand((5, 9), xdtype, seed=1), rand((7, 6), xdtype, seed=2)
        fwd = (Op @ da.from_array(x, chunks=(2, 9))).compute()
        adj = (Op.H @ da.from_array(y, chunks=(3, 6))).compute()
        want_f, want_a = POp @ x.ravel(), POp.H @ y.ravel()
        assert fwd.dtype == want_f.dtype == np.complex128 and adj.dtype == want_a.dtype
        np.testing.assert_allclose(fwd.ravel(), want_f, rtol=1e-12)
        np.testing.assert_allclose(adj.ravel(), want_a, rtol=1e-12)
    assert dottest(Op, complexflag=3, rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "complex128"])
def test_kernel_on_boxes_and_pieces(dtype):
    """The kernel straight on output boxes, and on pieces of its input (additive)."""
    Op, POp = _pair(*_factors(dtype), dtype)
    check_kernel_boxes(Op, POp, False, dtype, [((0, 0), (7, 6)), ((2, 0), (5, 6)),
                                               ((6, 1), (7, 4))])
    check_kernel_boxes(Op, POp, True, dtype, [((0, 0), (5, 9)), ((1, 0), (4, 9)),
                                              ((0, 3), (1, 9))])


def test_flat_and_numpy_inputs():
    Op, POp = _pair(A, B)
    x = rand(45, "float64", seed=4)
    y = Op @ da.from_array(x, chunks=9)
    assert y.shape == (42,)
    np.testing.assert_allclose(y.compute(), np.kron(A, B) @ x, rtol=1e-12)
    adj = Op.H @ (np.kron(A, B) @ x)  # a NumPy vector, wrapped
    np.testing.assert_allclose(adj.compute(), POp.H @ (POp @ x), rtol=1e-12)


def test_in_compositions(scheduler):
    """Products, sums, scalings and transposes keep one fused kernel and PyLops' values."""
    d = rand((7, 6), "float64", seed=5)
    D, PD = pld.Diagonal(d), pylops.Diagonal(d.ravel())
    Op, POp = _pair(A, B)
    Sq, PSq = _pair(rand((5, 5), "float64", seed=6), rand((9, 9), "float64", seed=7))
    for ours, theirs in ((D @ Op, PD @ POp), (2.0 * Op.H @ D, 2.0 * POp.H @ PD),
                         (Sq + 0.5 * Op.H @ Op, PSq + 0.5 * POp.H @ POp), (Op.T, POp.T)):
        ours.chunk_kernel(False), ours.chunk_kernel(True)
        assert_like_pylops(ours, theirs, (2, 3), "float64")


def test_one_chunk_is_one_task_and_slabs_are_pairs():
    Op = pld.Kronecker(pylops.MatrixMult(rand((40, 40), "float64")),
                       pylops.MatrixMult(rand((30, 40), "float64")))
    for chunks, most in (((40, 40), 1), ((10, 40), 4 * 4 + 4)):  # a partial per slab pair, a sum
        x = da.from_array(rand((40, 40), "float64"), chunks=chunks).persist()
        y = Op @ x
        assert new_tasks(y, x) <= most, (chunks, new_tasks(y, x))
        assert y.numblocks == (x.numblocks[0], 1)


def test_other_factors_keep_the_staged_path(scheduler):
    """Not two in-memory dense matrices: no kernel, the two-stage path, PyLops' values."""
    Ad = da.from_array(A, chunks=(4, 5))
    cases = [
        (pld.Kronecker(pylops.MatrixMult(A), pylops.FirstDerivative(9)),
         pylops.Kronecker(pylops.MatrixMult(A), pylops.FirstDerivative(9)), (7, 9)),
        (pld.Kronecker(pld.MatrixMult(Ad), pylops.MatrixMult(B)), _pair(A, B)[1], (7, 6)),
        (pld.Kronecker(pylops.MatrixMult(A, otherdims=2), pylops.MatrixMult(B)),
         pylops.Kronecker(pylops.MatrixMult(A, otherdims=2), pylops.MatrixMult(B)), (14, 6)),
    ]
    for Op, POp, dimsd in cases:
        with pytest.raises(NoChunkKernel, match=r"Kronecker\('K'\) has no chunk kernel"):
            Op.chunk_kernel()
        assert Op.dimsd == dimsd
        assert_like_pylops(Op, POp, (2, 4), "float64")


# --- solvers -----------------------------------------------------------------------------------

#: Damping of the 121 x 121 solves: with it, 300 iterations are well defined (neither solver
#: stops early, and rounding does not decide the iterate; see benchmarks/bench_kronecker.py).
DAMP = 0.5


def _problem_121(dtype="float64"):
    """Ours and PyLops' Kronecker of two Gaussian 11 x 11 matrices (121 x 121), and data."""
    Am, Bm = rand((11, 11), dtype, seed=40), rand((11, 11), dtype, seed=41)
    Op, POp = _pair(Am, Bm, dtype)
    return Op, POp, POp @ rand(121, dtype, seed=42)


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_lsqr_121_fused_like_pylops(dtype, scheduler, caplog):
    """300 LSQR iterations on 121 x 121 run on the fused engine (no warning), PyLops' answer."""
    Op, POp, y = _problem_121(dtype)
    with caplog.at_level(logging.WARNING, "pylops_distributed.optimization"):
        solver = LSQR(Op)
        out = solver.solve(y, niter=300, damp=DAMP, atol=0, btol=0, conlim=0)
    assert solver.fused
    assert not [r.message for r in caplog.records
                if r.name.startswith("pylops_distributed") and r.levelno >= logging.WARNING]
    ref = plsqr(POp, y, niter=300, damp=DAMP, atol=0, btol=0, conlim=0)
    assert out[2] == ref[2] == 300
    x = out[0].compute()
    assert x.shape == (121,) and x.dtype == ref[0].dtype
    np.testing.assert_allclose(x, ref[0], rtol=1e-6, atol=1e-6 * np.abs(ref[0]).max())


def test_lsqr_at_most_4_tasks_per_chunk_per_iteration(process_client):
    """LSQR on row slabs (data in 4 chunks along axis 0) on the 2-process cluster: <= 4 tasks
    per chunk and iteration (niter 30 minus niter 10, checks every 10 included), and the
    iterate PyLops has after as many iterations."""
    Am, Bm = rand((48, 64), "float64", seed=30), rand((30, 40), "float64", seed=31)
    Op, POp = _pair(Am, Bm)
    yv = POp @ rand(64 * 40, "float64", seed=32)
    with process_client.as_current():
        y = process_client.persist(da.from_array(yv.reshape(48, 30), chunks=(12, 30)))
        wait(y)
        solver = LSQR(Op)
        x = solver.solve(y, niter=30, atol=0, btol=0, conlim=0)[0]
        assert solver.fused
        xs = process_client.compute(x, sync=True)
        solve = lambda n: list(lsqr(Op, y, niter=n, atol=0, btol=0, conlim=0)[::9])  # noqa: E731
        (n30, _), (n10, _) = _count(process_client, lambda: solve(30)), _count(process_client,
                                                                             lambda: solve(10))
    per = (n30 - n10) / 20 / y.npartitions
    assert per <= 4.0, per
    ref = plsqr(POp, yv, niter=30, atol=0, btol=0, conlim=0)[0]
    np.testing.assert_allclose(xs.ravel(), ref, rtol=1e-7, atol=1e-9 * np.abs(ref).max())


def test_lsqr_121_on_chunked_data(scheduler):
    """Data chunked along both axes (one rank on the threaded scheduler, two on the cluster):
    PyLops' solution (well-conditioned factors: both converge within 60 iterations)."""
    Am, Bm = (np.eye(11) + 0.1 * rand((11, 11), "float64", seed=s) for s in (43, 44))
    Op, POp = _pair(Am, Bm)
    y = POp @ rand(121, "float64", seed=45)
    ref = plsqr(POp, y, niter=60, atol=0, btol=0, conlim=0)[0]
    solver = LSQR(Op)
    x = solver.solve(da.from_array(y.reshape(11, 11), chunks=(3, 5)), niter=60, atol=0, btol=0,
                     conlim=0)[0]
    assert solver.fused
    np.testing.assert_allclose(x.compute().ravel(), ref, rtol=1e-9, atol=1e-12)
