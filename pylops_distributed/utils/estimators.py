"""Randomized trace estimators: Hutchinson, Hutch++ and NA-Hutch++ (``pylops.utils.estimators``).

The probes are drawn on the client (``numpy.random.default_rng``); a distributed operator
applies them lazily, one ``Op @ z`` per probe, and each estimator brings back all the
products it needs at once with one ``dask.compute`` per batch of probes (Hutchinson) or one
or two in all (Hutch++, NA-Hutch++). PyLops operators are applied with ``matmat``.
"""

import dask
import numpy as np

from pylops_distributed.linearoperator import LinearOperator

__all__ = ["trace_hutchinson", "trace_hutchpp", "trace_nahutchpp"]

SAMPLERS = ("gaussian", "rayleigh", "rademacher")


def _probes(rng, sampler, m, k, dtype):
    """``k`` random probe vectors of length ``m``, as the columns of an ``(m, k)`` array."""
    if sampler == "rademacher":
        Z = rng.choice(np.array([-1.0, 1.0]), size=(m, k))
    else:
        Z = rng.standard_normal((m, k))
        if sampler == "rayleigh":  # unit-norm columns, scaled so that E[z z^T] = I
            Z *= np.sqrt(m) / np.linalg.norm(Z, axis=0)
    return Z.astype(dtype)


def _images(Op, Z, xp):
    """``Op z`` for every column ``z`` of ``Z``, flat: a list of lazy dask arrays for a
    distributed operator, the columns of one ``Op.matmat(Z)`` for any other operator."""
    if isinstance(Op, LinearOperator):
        return [(Op @ xp.asarray(z).reshape(Op.dims)).ravel() for z in Z.T]
    Y = Op.matmat(xp.asarray(Z)) if hasattr(Op, "matmat") else Op @ xp.asarray(Z)
    return list(Y.T)


def _quadratic_forms(Z, images, xp):
    """``z_j^H (Op z_j)`` for every column (lazy when the images are)."""
    return [(image * xp.asarray(z.conj())).sum() for z, image in zip(Z.T, images)]


def _setup(Op, neval, sampler, samplers, backend, name):
    """Check the operator and arguments; return ``(m, neval, dtype, array module)``."""
    m, n = Op.shape
    if m != n:
        raise ValueError(f"{name}: the trace needs a square operator, got shape {Op.shape}")
    if sampler not in samplers:
        raise NotImplementedError(f"{name}: sampler {sampler!r} not available; "
                                  f"choose one of {', '.join(samplers)}")
    neval = int(np.round(n * 0.1)) if neval is None else int(neval)
    if neval < 1:
        raise ValueError(f"{name}: neval must be at least 1, got {neval} (the default is 10% of "
                         f"shape[1] = {n}); pass a larger neval")
    dtype = np.dtype(Op.dtype)
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype("float64")
    if backend not in ("numpy", "cupy"):
        raise ValueError(f"{name}: backend must be 'numpy' or 'cupy', got {backend!r}")
    if backend == "cupy":
        import cupy as xp
    else:
        xp = np
    return n, neval, dtype, xp


def _scalar(value, dtype):
    """``value`` (NumPy or CuPy 0-d) as a NumPy scalar of ``dtype``, like PyLops' result."""
    return dtype.type(value.item() if hasattr(value, "item") else value)


def trace_hutchinson(Op, neval=None, batch_size=None, sampler="rademacher", backend="numpy"):
    r"""Trace of a square operator estimated with Hutchinson's method.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Square operator.
    neval : int, optional
        Number of operator applications (probes); default 10% of ``shape[1]``.
    batch_size : int, optional
        Probes brought back per ``dask.compute`` (default 100, at most ``neval``; with
        ``"unitvector"`` also at most ``shape[1]``). Each batch holds ``batch_size`` dense
        probes of length ``shape[1]`` in memory.
    sampler : {"rademacher", "gaussian", "rayleigh", "unitvector"}, optional
        Probe distribution: random signs, standard normal, standard normal scaled to norm
        :math:`\sqrt{m}`, or canonical vectors :math:`\mathbf{e}_i` drawn without replacement.
    backend : {"numpy", "cupy"}, optional
        Array module of the probes (match the operator's chunks).

    Returns
    -------
    trace : numpy scalar
        Estimated trace, of the operator's dtype.

    Raises
    ------
    ValueError
        If the operator is not square or ``neval`` is smaller than 1.
    NotImplementedError
        If ``sampler`` is not one of the samplers above.

    Notes
    -----
    With :math:`k` probes :math:`\mathbf{z}_i`, the estimate is
    :math:`\frac{1}{k}\sum_i \mathbf{z}_i^T\,\mathbf{Op}\,\mathbf{z}_i` [1]_. With
    ``"unitvector"``, :math:`\frac{m}{k}\sum_i (\mathbf{Op}\,\mathbf{e}_i)_i` over
    :math:`k = \min(\texttt{neval}, m)` distinct indices, exact when ``neval >= shape[1]``.
    Rademacher probes give the exact trace of a diagonal operator.

    .. [1] Hutchinson, M. F. (1990). *A stochastic estimator of the trace of the influence
       matrix for laplacian smoothing splines*. Communications in Statistics - Simulation
       and Computation, 19(2), 433-450.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.utils import trace_hutchinson
    >>> D = pld.Diagonal(np.arange(1.0, 101.0), chunks=30)
    >>> float(trace_hutchinson(D, neval=10))
    5050.0
    """
    m, neval, dtype, xp = _setup(Op, neval, sampler, SAMPLERS + ("unitvector",), backend,
                                 "trace_hutchinson")
    rng = np.random.default_rng()
    batch_size = min(neval, 100 if batch_size is None else int(batch_size))
    if batch_size < 1:
        raise ValueError(f"trace_hutchinson: batch_size must be at least 1, got {batch_size}")
    if sampler == "unitvector":
        neval = min(neval, m)
        batch_size = min(batch_size, m)
        indices = rng.choice(m, size=neval, replace=False)
    total = 0
    for start in range(0, neval, batch_size):
        k = min(batch_size, neval - start)
        if sampler == "unitvector":
            idx = indices[start:start + k]
            Z = np.zeros((m, k), dtype)
            Z[idx, np.arange(k)] = 1
            forms = [image[i] for i, image in zip(idx, _images(Op, Z, xp))]
        else:
            Z = _probes(rng, sampler, m, k, dtype)
            forms = _quadratic_forms(Z, _images(Op, Z, xp), xp)
        total += sum(dask.compute(*forms))
    scale = m / neval if sampler == "unitvector" else 1 / neval
    return _scalar(total * scale, dtype)


def trace_hutchpp(Op, neval=None, sampler="rademacher", backend="numpy"):
    r"""Trace of a square operator estimated with the Hutch++ method.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Square operator.
    neval : int, optional
        Number of operator applications; default 10% of ``shape[1]``. A third sketches the
        range, a third estimates the rest (at least 3).
    sampler : {"rademacher", "gaussian", "rayleigh"}, optional
        Probe distribution (see :func:`trace_hutchinson`).
    backend : {"numpy", "cupy"}, optional
        Array module of the probes.

    Returns
    -------
    trace : numpy scalar
        Estimated trace, of the operator's dtype.

    Raises
    ------
    ValueError
        If the operator is not square or ``neval`` is smaller than 3.
    NotImplementedError
        If ``sampler`` is not one of the samplers above.

    Notes
    -----
    Algorithm 1 of [1]_ with :math:`b = \lfloor k/3 \rfloor`: the orthonormal basis
    :math:`\mathbf{Q}` of :math:`\mathbf{Op}\,\mathbf{S}` (``S`` of :math:`b` probes) gives
    :math:`\operatorname{tr}(\mathbf{Q}^T\mathbf{Op}\,\mathbf{Q}) + \frac{1}{b}
    \operatorname{tr}(\mathbf{G}^T\mathbf{Op}\,\mathbf{G})` with :math:`b` probes
    :math:`\mathbf{G}` projected out of :math:`\mathbf{Q}`. Two ``dask.compute`` calls:
    :math:`\mathbf{Op}\,\mathbf{S}`, then both traces. The dense :math:`m \times b` sketch
    lives on the client, as in PyLops.

    .. [1] Meyer, R. A., Musco, C., Musco, C., & Woodruff, D. P. (2021). *Hutch++: Optimal
       Stochastic Trace Estimation*. SOSA, 142-155.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.utils import trace_hutchpp
    >>> U = np.random.default_rng(0).standard_normal((60, 5))
    >>> Op = pld.MatrixMult(U @ U.T, chunks=20)  # rank 5: the sketch captures it all
    >>> bool(np.isclose(trace_hutchpp(Op, neval=30), np.trace(U @ U.T)))
    True
    """
    m, neval, dtype, xp = _setup(Op, neval, sampler, SAMPLERS, backend, "trace_hutchpp")
    batch = neval // 3
    if batch < 1:
        raise ValueError(f"trace_hutchpp: neval must be at least 3, got {neval}")
    rng = np.random.default_rng()
    S = _probes(rng, sampler, m, batch, dtype)
    G = _probes(rng, sampler, m, batch, dtype)
    Q, _ = np.linalg.qr(_to_numpy(xp.stack(dask.compute(*_images(Op, S, xp)), axis=1)))
    G -= Q @ (Q.conj().T @ G)
    forms_q, forms_g = dask.compute(_quadratic_forms(Q, _images(Op, Q, xp), xp),
                                    _quadratic_forms(G, _images(Op, G, xp), xp))
    return _scalar(sum(forms_q) + sum(forms_g) / batch, dtype)


def trace_nahutchpp(Op, neval=None, sampler="rademacher", c1=1.0 / 6.0, c2=1.0 / 3.0,
                    backend="numpy"):
    r"""Trace of a square operator estimated with the non-adaptive NA-Hutch++ method.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Square operator.
    neval : int, optional
        Number of operator applications; default 10% of ``shape[1]``.
    sampler : {"rademacher", "gaussian", "rayleigh"}, optional
        Probe distribution (see :func:`trace_hutchinson`).
    c1 : float, optional
        Fraction of ``neval`` in the sketch :math:`\mathbf{S}`.
    c2 : float, optional
        Fraction of ``neval`` in the sketch :math:`\mathbf{R}` (ideally at least twice
        ``c1``); the rest goes to the Hutchinson probes :math:`\mathbf{G}`.
    backend : {"numpy", "cupy"}, optional
        Array module of the probes.

    Returns
    -------
    trace : numpy scalar
        Estimated trace, of the operator's dtype.

    Raises
    ------
    ValueError
        If the operator is not square, or ``neval`` leaves one of the three sketches empty.
    NotImplementedError
        If ``sampler`` is not one of the samplers above.

    Notes
    -----
    Algorithm 2 of [1]_: with :math:`\mathbf{Z} = \mathbf{Op}\,\mathbf{R}`,
    :math:`\mathbf{W} = \mathbf{Op}\,\mathbf{S}` and
    :math:`\mathbf{Y} = (\mathbf{S}^T\mathbf{Z})^+`, the estimate is
    :math:`\operatorname{tr}(\mathbf{Y}\mathbf{W}^T\mathbf{Z}) + \frac{1}{c_3 k}
    [\operatorname{tr}(\mathbf{G}^T\mathbf{Op}\,\mathbf{G}) -
    \operatorname{tr}(\mathbf{G}^T\mathbf{Z}\mathbf{Y}\mathbf{W}^T\mathbf{G})]`. All the
    operator applications are independent: one ``dask.compute``.

    .. [1] Meyer, R. A., Musco, C., Musco, C., & Woodruff, D. P. (2021). *Hutch++: Optimal
       Stochastic Trace Estimation*. SOSA, 142-155.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.utils import trace_nahutchpp
    >>> U = np.random.default_rng(0).standard_normal((60, 4))
    >>> Op = pld.MatrixMult(U @ U.T, chunks=20)
    >>> bool(np.isclose(trace_nahutchpp(Op, neval=48), np.trace(U @ U.T)))
    True
    """
    m, neval, dtype, xp = _setup(Op, neval, sampler, SAMPLERS, backend, "trace_nahutchpp")
    n_s, n_r = int(np.round(neval * c1)), int(np.round(neval * c2))
    n_g = neval - n_s - n_r
    if min(n_s, n_r, n_g) < 1:
        raise ValueError(f"trace_nahutchpp: neval = {neval} with c1 = {c1}, c2 = {c2} leaves "
                         f"sketches of {n_s}, {n_r} and {n_g} probes; each needs at least 1")
    rng = np.random.default_rng()
    S, R, G = (_probes(rng, sampler, m, k, dtype) for k in (n_s, n_r, n_g))
    W, Z, forms_g = dask.compute(_images(Op, S, xp), _images(Op, R, xp),
                                 _quadratic_forms(G, _images(Op, G, xp), xp))
    W, Z = (_to_numpy(xp.stack(cols, axis=1)) for cols in (W, Z))
    Y = np.linalg.pinv(S.T @ Z)
    YWt = Y @ W.conj().T
    correction = np.trace(G.T @ Z @ YWt @ G)
    return _scalar(np.trace(YWt @ Z) + (sum(forms_g) - correction) / n_g, dtype)


def _to_numpy(x):
    """A small client-side matrix as NumPy (CuPy arrays are copied to the host)."""
    return x.get() if hasattr(x, "get") else np.asarray(x)
