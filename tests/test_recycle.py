"""Recycled buffers of the fused engine: only arrays that nothing else holds are reused."""

import gc
import pickle

import dask.array as da
import numpy as np
import pylops
from pylops.optimization.basic import cgls as pcgls

import pylops_distributed as pld
from pylops_distributed.optimization import CGLS
from pylops_distributed.optimization import _recycle

from _helpers import rand


def test_recycling_is_on_here():
    """On CPython 3.11-3.13 with the GIL the reference counts are as the pool assumes."""
    assert _recycle.ENABLED and _recycle._counts_as_expected()


def test_state_gives_back_only_free_arrays():
    token = "test-free"
    with _recycle.using(token) as pool:
        for shape in ((12, 10), (10, 10)):  # shapes the solve allocates
            assert _recycle.empty(shape, "float64").shape == shape
        held = rand((10, 10), "float64")
        ext = rand((12, 10), "float64", seed=1)
        ext_id, free_id = id(ext), None
        free = rand((10, 10), "float64", seed=2)
        free_id = id(free)
        st = _recycle.ChunkState(token, x=free, s=[held], c=ext[1:11], dots=(1.0, 2.0))
        del free, ext
        del st
        gc.collect()
        spare = {k: [id(a) for a in v] for k, v in pool.free.items()}
        assert spare[((12, 10), np.dtype("float64"))] == [ext_id]  # the base of the view
        assert spare[((10, 10), np.dtype("float64"))] == [free_id]  # not `held`
        # the next allocation of that shape reuses it
        assert id(_recycle.empty((12, 10), "float64")) == ext_id
        before = held.copy()
    np.testing.assert_array_equal(held, before)


def test_pool_keeps_only_reusable_arrays_of_wanted_shapes():
    pool = _recycle.Pool()
    assert pool.take((5,), np.dtype("float64")) is None  # now (5,) float64 is wanted
    readonly = np.zeros(5)
    readonly.flags.writeable = False
    for a in (np.zeros(6), np.zeros(5, "float32"), readonly, np.zeros(10)[::2],
              np.asfortranarray(np.zeros((5, 1)))[:, 0]):
        pool.give(a)
    assert pool.free == {}
    ok = np.zeros(5)
    pool.give(ok)
    assert pool.take((5,), np.dtype("float64")) is ok


def test_solve_releases_its_states_and_pool(scheduler):
    n0, n1 = 24, 10
    Op, POp = pld.Laplacian((n0, n1)), pylops.Laplacian((n0, n1))
    y = (POp @ rand(n0 * n1, "float64", seed=6)).reshape(n0, n1)
    gc.collect()
    before = set(_recycle._POOLS)
    solver = CGLS(Op)
    x = solver.solve(da.from_array(y, chunks=(6, n1)), niter=4, tol=0)[0]
    assert solver.fused
    del solver
    gc.collect()
    # the result does not hold the solver's states: their pools are gone (in this process;
    # workers drop theirs alike)
    assert set(_recycle._POOLS) <= before
    np.testing.assert_allclose(np.ravel(x.compute()),
                               np.ravel(pcgls(POp, y.ravel(), niter=4, tol=0)[0]), rtol=1e-9)


def test_pool_lives_as_long_as_the_states():
    token = "test-lifetime"
    st = _recycle.ChunkState(token, x=np.ones(5))
    assert token in _recycle._POOLS
    del st
    gc.collect()
    assert token not in _recycle._POOLS


def test_state_pickles_without_its_pool():
    token = "test-pickle"
    st = _recycle.ChunkState(token, x=np.arange(4.0), s=[np.ones(3)], dots=(1.0,))
    back = pickle.loads(pickle.dumps(st))
    assert set(vars(back)) == {"x", "s", "dots", "_token", "_pool"}
    assert back._pool is st._pool  # same process: the same solve's pool
    np.testing.assert_array_equal(back.x, st.x)


def test_every_iterate_kept_by_a_callback_stays_right(scheduler):
    """Recycling must never touch a state the user can still reach: keep every iterate,
    compute them after the solve, compare each with PyLops after as many iterations."""
    n0, n1 = 24, 10
    Op, POp = pld.Laplacian((n0, n1)), pylops.Laplacian((n0, n1))
    y = (POp @ rand(n0 * n1, "float64", seed=5)).reshape(n0, n1)
    # chunks that own their memory, of the shapes the solver allocates (as data read from disk)
    yd = da.from_array(y, chunks=(6, n1)).map_blocks(np.copy).persist()
    y_before = yd.compute()
    iterates = []
    solver = CGLS(Op)
    solver.callback = iterates.append
    solver.solve(yd, niter=6, tol=0, check_every=3)
    assert solver.fused
    computed = da.compute(*iterates)
    for k, xk in enumerate(computed, start=1):
        ref = np.ravel(pcgls(POp, y.ravel(), niter=k, tol=0)[0])
        np.testing.assert_allclose(np.ravel(xk), ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(yd.compute(), y_before)
