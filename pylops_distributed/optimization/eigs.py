"""Eigenvalue estimates on chunks, as :mod:`pylops.optimization.eigs`."""

import math

import dask
import dask.array as da
import numpy as np

from pylops_distributed._arrays import is_cupy
from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.stacked import StackedArray

__all__ = ["power_iteration"]


def power_iteration(Op, niter=10, tol=1e-5, dtype="float32", backend="numpy", check_every=10):
    r"""Largest eigenvalue (in modulus) and its eigenvector by power iteration, as
    :func:`pylops.optimization.eigs.power_iteration`.

    Each iteration ``b <- Op b / ||Op b||`` is lazy; the eigenvalue estimates
    :math:`\lambda_k = \mathbf{b}_k^H \mathbf{Op}\,\mathbf{b}_k` come back to the client only
    every ``check_every`` iterations (with the previous iteration's, so PyLops' stopping test
    :math:`|\lambda_k - \lambda_{k-1}| < tol\,|\lambda_{k-1}|` is applied to each pair that a
    check brings back; the iterations after the first met test are discarded, so the answer is
    PyLops' iterate). The iterate is persisted at each check: the graph never grows.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Square operator.
    niter : int, optional
        Maximum number of iterations.
    tol : float, optional
        Relative tolerance on the change of the eigenvalue.
    dtype : str, optional
        Dtype of the starting vector (complex: a complex start).
    backend : {"numpy", "cupy"}, optional
        Array module of the chunks.
    check_every : int, optional
        Iterations between two checks (round trips to the client).

    Returns
    -------
    maxeig : float or complex
        Largest eigenvalue (a NumPy scalar).
    b_k : dask.array.Array
        Its eigenvector, flat and of unit norm (lazy, persisted).
    iiter : int
        Iterations made.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.optimization.eigs import power_iteration
    >>> np.random.seed(0)
    >>> maxeig, b, it = power_iteration(pld.Diagonal(np.array([1.0, 3.0, 2.0])), niter=200,
    ...                                 tol=1e-10, dtype="float64")
    >>> round(float(maxeig.real), 6)
    3.0
    """
    Op = aslinearoperator(Op)
    if Op.shape[0] != Op.shape[1]:
        raise ValueError(f"power_iteration: the operator must be square, got shape {Op.shape}")
    if int(niter) < 1 or int(check_every) < 1:
        raise ValueError(f"power_iteration: niter and check_every must be >= 1, got {niter} and "
                         f"{check_every}")
    if backend not in ("numpy", "cupy"):
        raise ValueError(f"power_iteration: backend must be 'numpy' or 'cupy', got {backend!r}")
    dtype = np.dtype(dtype)
    b = _start(Op, dtype, backend)
    b = b / da.linalg.norm(b.ravel())  # (PyLops normalises its start the same way)
    maxeig_old, it = None, 0
    while it < niter:
        steps = min(check_every, niter - it)
        eigs, iterates = [], [b]
        for _ in range(steps):
            b1 = Op.matvec(iterates[-1])
            eigs.append(da.vdot(iterates[-1].ravel(), b1.ravel()))
            iterates.append(b1 / da.linalg.norm(b1.ravel()))
        kept = dask.persist(*iterates[1:], *eigs)  # one pass; the values come from memory
        iterates, values = kept[:steps], dask.compute(*kept[steps:])
        for k, maxeig in enumerate(values):
            it += 1
            # PyLops' test, as written (a negative or complex estimate compares as NumPy does)
            if maxeig_old is not None and np.abs(maxeig - maxeig_old) < tol * maxeig_old:
                return maxeig, iterates[k].ravel(), it
            maxeig_old = maxeig
        b = iterates[-1]
    return maxeig_old, b.ravel(), it


def _start(Op, dtype, backend):
    """A random start with the model's shape and chunks: PyLops' (``np.random.rand`` on the
    client, so ``np.random.seed`` gives PyLops' vector) up to 2**24 elements, else drawn chunk
    by chunk from a seed taken from NumPy's global generator."""
    chunks = Op.chunks if Op.chunks is not None else "auto"
    n = int(np.prod(Op.dims))
    cmpx = 1j if dtype.kind == "c" else 0
    if n <= 2 ** 24:
        b = np.random.rand(n).astype(dtype) + cmpx * np.random.rand(n).astype(dtype)
        b = b.astype(dtype).reshape(Op.dims)
        if backend == "cupy":
            import cupy

            b = cupy.asarray(b)
        return da.from_array(b, chunks=chunks, asarray=False)
    rs = da.random.RandomState(np.random.randint(0, 2**31 - 1))
    real_dtype = np.empty(0, dtype).real.dtype
    b = rs.random_sample(tuple(Op.dims), chunks=chunks).astype(real_dtype)
    if cmpx:
        b = b + 1j * rs.random_sample(tuple(Op.dims), chunks=chunks).astype(real_dtype)
    b = b.astype(dtype)
    if backend == "cupy":
        import cupy

        b = b.map_blocks(cupy.asarray, dtype=dtype)
    return b


def step_size(Op, y, eigsdict=None, name="ISTA"):
    """``1 / lambda_max(Op^H Op)``, as PyLops finds it (``Op.eigs``; our ``power_iteration``
    on CuPy chunks)."""
    from scipy.sparse.linalg import ArpackError

    Op1 = Op.H @ Op
    blocks = y.blocks if isinstance(y, StackedArray) else [y]
    try:
        if is_cupy(blocks[0]._meta):
            maxeig = np.abs(power_iteration(Op1, dtype=Op1.dtype, backend="cupy",
                                            **(eigsdict or {}))[0])
        else:
            maxeig = np.abs(Op1.eigs(neigs=1, symmetric=True, **(eigsdict or {}))[0])
    except ArpackError:
        if _operator_is_finite(Op):
            raise
        maxeig = math.nan  # ARPACK fails on NaN
    if not (np.isfinite(maxeig) and maxeig > 0):
        raise FloatingPointError(
            f"{name}: expected a finite, positive largest eigenvalue of Op^H Op for the step "
            f"size alpha = 1 / max eig, got {float(maxeig)} for {Op.label}: the operator "
            "produces NaN or Inf (or only zeros); check its parameters, or give alpha= "
            "yourself")
    return 1.0 / float(maxeig)


def _operator_is_finite(Op):
    """Whether ``Op^H Op`` maps a vector of ones to finite numbers (one compute, only after
    the eigenvalue estimate failed)."""
    ones = np.ones(Op.shape[1], dtype=Op.dtype)
    return bool(np.isfinite(np.asarray((Op.H @ (Op @ ones)).sum().compute())))
