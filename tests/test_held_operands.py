"""Lazy operator operands on a process cluster: computed once, the same futures in every graph.

An operator built on a lazy dask array (``Diagonal(d * 2.0)``) is applied in many graphs by a
solve (the data, the residual, each step, FISTA's power iterations). Each used to compute the
operand again, fused differently, so one key came back to the scheduler as another task
("different run_spec", a deadlock-prone pattern; the ``scheduler`` fixture fails on it).
"""

import dask.array as da
import numpy as np
import pylops
import pytest
from distributed import Client, LocalCluster, get_task_stream
from pylops.optimization import basic as pbasic
from pylops.optimization import sparsity as psparsity

import pylops_distributed as pld
from pylops_distributed.optimization import basic, sparsity

N = 24


def _operators(d, dlazy):
    """(PyLops operator, ours) pairs reading the operand ``d`` / its lazy twin ``dlazy``."""
    return {
        "diagonal": (pylops.Diagonal(d), pld.Diagonal(dlazy)),
        "vstack": (pylops.VStack([pylops.FirstDerivative(N), pylops.Diagonal(d)]),
                   pld.VStack([pld.FirstDerivative(N), pld.Diagonal(dlazy)])),
        "hstack": (pylops.HStack([pylops.Diagonal(d), pylops.Diagonal(d[::-1])]),
                   pld.HStack([pld.Diagonal(dlazy), pld.Diagonal(dlazy[::-1])])),
    }


@pytest.mark.parametrize("name", ["diagonal", "vstack", "hstack"])
def test_solvers_with_a_lazy_operand_like_pylops(name, scheduler):
    rng = np.random.default_rng(3)
    d0 = 1 + rng.random(N)
    POp, Op = _operators(2.0 * d0, da.from_array(d0, chunks=8) * 2.0)[name]
    x = rng.standard_normal(POp.shape[1])
    y = POp @ x
    ylazy = Op @ da.from_array(x, chunks=6)  # lazy, reads the lazy operand too
    for ours, ref in (
            (basic.cgls(Op, ylazy, niter=6, tol=0)[0], pbasic.cgls(POp, y, niter=6, tol=0)[0]),
            (basic.lsqr(Op, ylazy, niter=6)[0], pbasic.lsqr(POp, y, niter=6)[0]),
            (sparsity.fista(Op, ylazy, niter=6, eps=0.1)[0],
             psparsity.fista(POp, y, niter=6, eps=0.1)[0])):
        np.testing.assert_allclose(np.asarray(ours.compute()).ravel(), ref, rtol=1e-8, atol=1e-10)


def test_a_lazy_operand_is_computed_once(process_client):
    """Three solves and a lazy apply on the cluster run the operand's chunk tasks once."""
    rng = np.random.default_rng(4)
    dlazy = da.from_array(1 + rng.random(N), chunks=8) * 2.0
    Op = pld.VStack([pld.FirstDerivative(N), pld.Diagonal(dlazy)])
    with process_client.as_current(), get_task_stream(process_client) as ts:
        y = Op @ da.from_array(rng.standard_normal(N), chunks=6)
        for solve in (basic.cgls, basic.lsqr):
            solve(Op, y, niter=4)[0].compute()
        sparsity.fista(Op, y, niter=4, eps=0.1)[0].compute()
    token = dlazy.name.split("-")[-1]
    ran = [t["key"] for t in ts.data if str(t["key"][0]).endswith(token)]  # fused or not
    assert len(ran) == len(set(ran)), ran  # no chunk of the operand computed twice
    assert {(dlazy.name, i) for i in range(dlazy.npartitions)} <= set(ran)


def test_an_operator_still_applies_after_client_restart():
    """``client.restart()`` cancels every future, the kept operand's too: it is persisted
    again (it failed with "lost dependencies")."""
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address="127.0.0.1:0")
    try:
        with Client(cluster, set_as_default=False) as client, client.as_current():
            d = np.arange(1.0, 13.0)
            Op = pld.Diagonal(da.from_array(d, chunks=4) * 2.0)
            x = da.from_array(np.linspace(0, 1, 12), chunks=6)
            np.testing.assert_allclose((Op @ x).compute(), 2 * d * x.compute())
            client.restart()
            np.testing.assert_allclose((Op @ x).compute(), 2 * d * x.compute())
            np.testing.assert_allclose(basic.cgls(Op, Op @ x, niter=12, tol=0)[0].compute(),
                                       x.compute(), rtol=1e-8)
    finally:
        cluster.close()
