"""What the post-stack and pre-stack inversions share: user arrays read as dask arrays with the
time axis whole, SciPy's ``lsqr`` arguments run by our LSQR, trace-by-trace least squares
chunk by chunk, and regularisers seen through the explicit operators' model layout."""

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dask, get_array_module, meta_like
from pylops_distributed.optimization._inversion import scipy_lsqr_defaults, solver_kwargs
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.signalprocessing._pylops_build import on_module


def read(x, chunks, what, whole=1, like=None):
    """``x`` as a dask array (NumPy/CuPy wrapped with ``chunks``, or with ``like``'s chunks
    when given and of the same shape), its first ``whole`` axes in one chunk each."""
    if like is not None and not isinstance(x, da.Array) and getattr(x, "shape", None) == like.shape:
        chunks = like.chunks
    x = as_dask(x, chunks, what)
    if x.ndim:
        x = x.rechunk({a: -1 for a in range(min(whole, x.ndim))})
    return x


def host(a):
    """``a`` as a NumPy array (PyLops' small helpers and matrices are built on the host)."""
    return on_module(a, np)


def run_lsqr(Op, y, kwargs, name, x0=None):
    """SciPy's ``lsqr(Op, y, **kwargs)`` as PyLops calls it, run by our LSQR: SciPy's names
    (``iter_lim``, ``atol``, ``btol``, ``conlim``, ``damp``, ``show``) and defaults (``iter_lim``
    twice the unknowns, ``atol = btol = 1e-6``). Returns the estimate (lazy, shape
    ``Op.dims``)."""
    kw, _ = solver_kwargs(kwargs, name, lsqr_allowed=True)
    scipy_lsqr_defaults(kw, None, Op.shape[1], True)
    return lsqr(Op, y, x0=x0, **kw)[0]


def lstsq_traces(A, d, kwargs, PP=None):
    """``scipy.linalg.lstsq(A, d)`` on every trace (column along axis 0) of the dask array
    ``d``: one task per chunk, solving all the chunk's traces at once. With ``PP``, the normal
    equations ``lstsq(PP, A^T d)`` instead. ``A`` and ``PP`` (small dense matrices) are in the
    graph once. Returns a lazy dask array of shape ``(A.shape[1], *d.shape[1:])``."""
    A = host(A)
    d = d.rechunk({0: -1})
    if d.shape[0] != A.shape[0]:
        raise ValueError(f"lstsq: the data have {d.shape[0]} samples along their first axis, "
                         f"the matrix {A.shape[0]} rows")
    mats = [A] if PP is None else [A, host(PP)]
    dtype = np.result_type(d.dtype, *[m.dtype for m in mats])
    dtype = np.result_type(dtype, np.float32)  # LAPACK's smallest
    ind = tuple(range(d.ndim))
    args = [d, ind]
    for k, m in enumerate(mats):
        args += [da.from_array(m, chunks=m.shape), (1000 + 2 * k, 1001 + 2 * k)]
    return da.blockwise(_lstsq_block, ind, *args, adjust_chunks={0: A.shape[1]},
                        concatenate=True, dtype=dtype, meta=meta_like(d, dtype),
                        kwargs=dict(kwargs), out_dtype=dtype)


def _lstsq_block(d, A, PP=None, *, kwargs, out_dtype):
    from pylops.utils.backend import get_lstsq

    xp = get_array_module(d)
    A = on_module(A, xp)
    B = d.reshape(d.shape[0], -1)
    if PP is not None:
        B = xp.dot(A.T, B)
        A = on_module(PP, xp)
    x = get_lstsq(d)(A, B, **kwargs)[0]
    return x.reshape((A.shape[1],) + d.shape[1:]).astype(out_dtype, copy=False)


def seen_as(Op, dims):
    """``Op`` (an operator on ``Op.dims``) applied to a model of shape ``dims`` of the same
    size, its flat vector reinterpreted (PyLops' solvers see flat vectors: this is how its
    regularisers, built on the non-explicit layout, act on an explicit operator's model).
    The operator's kernel is then applied with reshapes around it."""
    if tuple(Op.dims) != tuple(dims):
        same = tuple(Op.dimsd) == tuple(Op.dims)
        Op.dims = dims
        if same:
            Op.dimsd = dims
    return Op


def split_solver_kwargs(kwargs):
    """PyLops' split-Bregman arguments taken out of ``kwargs_solver`` (``mu``,
    ``niter_outer``, ``niter_inner``, with PyLops' defaults) and the rest."""
    kw = dict(kwargs)
    return kw.pop("mu", 1.0), kw.pop("niter_outer", 3), kw.pop("niter_inner", 5), kw


def aslist(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def run_dottest(Op, backend):
    """PyLops' ``dottest`` option: our dot test (computed now, printed, raising)."""
    from pylops_distributed.utils import dottest

    dottest(Op, raiseerror=True, verb=True, backend=backend)
