r"""Post-stack seismic modelling and inversion (:mod:`pylops.avo.poststack`) on chunked dask
arrays: the time axis whole, the spatial axes chunked."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._held import held, held_together
from pylops_distributed.avo._inversion import (aslist, host, lstsq_traces, read,
                                               run_dottest, run_lsqr, split_solver_kwargs)
from pylops_distributed.avo.avo import as_spatdims, quiet_convmtx, spatial
from pylops_distributed.basicoperators.firstderivative import FirstDerivative
from pylops_distributed.basicoperators.laplacian import Laplacian
from pylops_distributed.basicoperators.matrixmult import MatrixMult
from pylops_distributed.basicoperators.secondderivative import SecondDerivative
from pylops_distributed.optimization.leastsquares import regularized_in_shape
from pylops_distributed.signalprocessing._pylops_build import on_module

__all__ = ["PoststackLinearModelling", "PoststackInversion"]


def build_poststack(dims, *, xp, wav, kind):
    """PyLops' (non-explicit) post-stack operator for a block of shape ``(nt0, *spatial)``."""
    import pylops

    return pylops.avo.poststack.PoststackLinearModelling(
        on_module(wav, xp), int(dims[0]), spatdims=spatial(dims, 1), explicit=False, kind=kind)


class _Poststack(AlongAxes):
    """PyLops' post-stack operator (wavelet and derivative along time) on every chunk."""

    def __init__(self, wav, nt0, spatdims, kind, name, chunks):
        dims = (int(nt0),) + as_spatdims(spatdims)
        if np.ndim(wav) == 1 and len(wav) > dims[0]:
            raise NotImplementedError(
                f"PoststackLinearModelling: a wavelet of {len(wav)} samples is longer than the "
                f"time axis ({dims[0]}); use explicit=True or a shorter wavelet")
        build = functools.partial(build_poststack, wav=wav, kind=kind)
        full = build_poststack(dims, xp=np, wav=host(wav), kind=kind)
        self.wav, self.kind = wav, kind
        self._setup(dims, build, (0,), dtype=full.dtype, name=name, chunks=chunks, full=full)


def PoststackLinearModelling(wav, nt0, spatdims=None, explicit=False, sparse=False,
                             kind="centered", name=None, chunks=None):
    r"""Post-stack linearized seismic modelling operator (PyLops' ``PoststackLinearModelling``).

    .. math::
        d(t, x, y) = w(t) * \frac{\mathrm{d} m(t, x, y)}{\mathrm{d}t}

    Model and data of shape :math:`[n_{t_0}\,(\times n_x \times n_y)]`.

    Parameters
    ----------
    wav : numpy.ndarray
        Wavelet (odd length, centred), or :math:`[n_{t_0} \times n_\text{wav}]` non-stationary
        wavelets (one per time sample). Its dtype is the operator's.
    nt0 : int
        Number of time samples.
    spatdims : int or tuple of int, optional
        Spatial axis (or axes) lengths; ``None``: a single trace.
    explicit : bool, optional
        A dense matrix along time (``True``, :class:`~pylops_distributed.MatrixMult` with the
        attribute ``A``) or the chained operator (``False``).
    sparse : bool, optional
        A sparse matrix with ``explicit=True``.
    kind : {"centered", "forward"}, optional
        Derivative kind.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Returns
    -------
    Pop : pylops_distributed.LinearOperator
        Post-stack modelling operator.

    Raises
    ------
    NotImplementedError
        If ``kind`` is neither ``forward`` nor ``centered``.
    ValueError
        If ``wav`` is 2-D without ``nt0`` wavelets.

    Notes
    -----
    The spatial axes are batch axes (one task per chunk, their chunks kept, no exchange);
    the time axis is whole in every task. ``explicit=False``: each task applies PyLops' own
    operator built for its chunk (an input chunked along time is rechunked first, one visible
    step). ``explicit=True``: the :math:`n_{t_0} \times n_{t_0}` matrix (PyLops') multiplies
    every trace; a chunked time axis is contracted chunk by chunk and summed. Outputs are
    lazy dask arrays (PyLops returns NumPy arrays).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops.utils.wavelets import ricker
    >>> from pylops_distributed.avo.poststack import PoststackLinearModelling
    >>> wav = ricker(np.arange(21) * 0.004, f0=20)[0]
    >>> m = np.random.default_rng(0).standard_normal((60, 10))
    >>> Op = PoststackLinearModelling(wav, nt0=60, spatdims=10)
    >>> d = Op @ da.from_array(m, chunks=(60, 5))       # 2 tasks of 5 traces
    >>> POp = pylops.avo.poststack.PoststackLinearModelling(wav, nt0=60, spatdims=10)
    >>> np.allclose(d.compute().ravel(), POp @ m.ravel())
    True
    """
    import pylops

    if kind not in ("forward", "centered"):
        raise NotImplementedError(f"{kind} not an available derivative kind...")
    spat = as_spatdims(spatdims)
    if explicit:
        with quiet_convmtx():
            M = pylops.avo.poststack.PoststackLinearModelling(host(wav), int(nt0), explicit=True,
                                                              sparse=sparse, kind=kind).A
        return MatrixMult(M, otherdims=spat or None, dtype=wav.dtype, name=name, chunks=chunks)
    return _Poststack(wav, nt0, spat, kind, name, chunks)


def PoststackInversion(data, wav, m0=None, explicit=False, simultaneous=False, epsI=None,
                       epsR=None, dottest=False, epsRL1=None, chunks=None, **kwargs_solver):
    r"""Post-stack linearized seismic inversion (PyLops' ``PoststackInversion``).

    Parameters
    ----------
    data : dask.array.Array, numpy.ndarray or cupy.ndarray
        Post-stack data, of shape :math:`[n_{t_0}\,(\times n_x \times n_y)]`.
    wav : numpy.ndarray
        Wavelet (1-D), or :math:`[n_{t_0} \times n_h]` non-stationary wavelets.
    m0 : array, optional
        Background model, of the shape of ``data``.
    explicit : bool, optional
        Dense matrix along time (``True``) or chained operator (``False``).
    simultaneous : bool, optional
        With ``explicit=True``: all traces in one iterative solve (``True``) or each trace by
        least squares (``False``).
    epsI : float, optional
        Damping of the normal equations (``explicit=True``, ``epsR=None``): as PyLops,
        :math:`\mathbf{A}^T\mathbf{A} + \epsilon_I \mathbf{I}`.
    epsR : float, optional
        Weight of the Laplacian (spatial) regularisation.
    dottest : bool, optional
        Run the dot test of the operator first (computes).
    epsRL1 : float, optional
        Weight of the blockiness (L1 of the time derivative) term, solved by split Bregman.
    chunks : optional
        Chunks used to wrap NumPy/CuPy ``data`` (and ``m0``).
    **kwargs_solver
        As PyLops: for :func:`scipy.linalg.lstsq` (trace-by-trace solves) or SciPy's ``lsqr``
        (``iter_lim``, ``atol``, ``btol``, ``conlim``, ``damp``...; run by our LSQR, also
        inside :func:`~pylops_distributed.optimization.leastsquares.regularized_inversion` and
        split Bregman, which take ``mu``, ``niter_outer`` and ``niter_inner`` from here).

    Returns
    -------
    minv : dask.array.Array
        Inverted model, of the shape of ``data`` (lazy).
    datar : dask.array.Array
        Residual data (lazy).

    Raises
    ------
    ValueError
        If ``data`` and ``m0`` differ in shape (before anything is computed).

    Notes
    -----
    The solvers are PyLops' choices, ours in place of SciPy's:

    * ``explicit=True, simultaneous=False``: ``scipy.linalg.lstsq`` on the traces (the
      normal equations with ``epsI``), one task per chunk solving all its traces at once;
      the answer equals PyLops' to rounding (``~1e-10`` relative on well-posed problems).
    * ``explicit=True, simultaneous=True``, ``explicit=False`` (``epsR=None``): our LSQR with
      SciPy's arguments and defaults. With ``epsI`` the system is ``(A^T A + epsI I) m = d``,
      as PyLops 2.8 writes it (its right-hand side is the data, not :math:`A^T d`).
    * ``epsR``: :func:`~pylops_distributed.optimization.leastsquares.regularized_inversion`
      with our ``Laplacian`` (``SecondDerivative`` for one trace), from ``m0``.
    * ``epsR`` and ``epsRL1``: split Bregman with a forward time derivative (L1) and a
      spatial second derivative (2-D) or Laplacian (3-D) (L2; none for one trace, where
      PyLops 2.8 fails).

    The iterative solvers run SciPy's LSQR recurrences on the same operators, so they agree
    with PyLops to rounding amplified by the iterations: ``~1e-10`` or better on regularised
    or background-constrained problems (``1e-16`` in the gallery example, 100 iterations).
    The operator is singular (the derivative's null space) and band-limited: iterated
    without regularisation up to about the number of unknowns, LSQR amplifies rounding so
    much that any two implementations (SciPy's and PyLops' own included) then differ by up
    to ``1e-1``; on the normal equations (``simultaneous=True`` with ``epsI``) agreement is
    ``~1e-6``. Our LSQR tests its stopping rule every ``check_every`` iterations (10), so
    with SciPy's tolerances it may run a few more iterations than SciPy's (give ``iter_lim``
    and ``atol=btol=0``, ``conlim=1e30`` for a like-for-like run). ``epsI`` is used with
    ``explicit=True`` and ``epsR=None`` only (as PyLops). Regularisers exchange halos between
    spatial chunks. Data chunked along time are rechunked to whole traces first; the
    results have the data's chunks.

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops.utils.wavelets import ricker
    >>> from pylops_distributed.avo.poststack import PoststackInversion
    >>> wav = ricker(np.arange(21) * 0.004, f0=20)[0]
    >>> m = np.cumsum(np.random.default_rng(0).standard_normal((60, 12)), axis=0)
    >>> d = pylops.avo.poststack.PoststackLinearModelling(wav, 60, spatdims=12) @ m.ravel()
    >>> d = d.reshape(60, 12)
    >>> minv, res = PoststackInversion(d, wav, explicit=True, chunks=(60, 4))  # per trace
    >>> pinv = pylops.avo.poststack.PoststackInversion(d, wav, explicit=True)[0]
    >>> bool(np.abs(minv.compute() - pinv).max() < 1e-6 * np.abs(pinv).max())
    True
    """
    name = "PoststackInversion"
    data = read(data, chunks, f"{name}: data")
    if m0 is not None:
        m0 = read(m0, chunks, f"{name}: m0", like=data)
        if m0.shape != data.shape:
            raise ValueError(f"{name}: data and m0 must have the same shape (data {data.shape}, "
                             f"m0 {m0.shape})")
        m0 = m0.rechunk(data.chunks)
    if data.ndim not in (1, 2, 3):
        raise ValueError(f"{name}: data must have 1 to 3 axes (time, x, y), got shape "
                         f"{data.shape}")
    nt0, spat = data.shape[0], data.shape[1:]
    PPop = PoststackLinearModelling(wav, nt0, spatdims=spat or None, explicit=explicit)
    if dottest:
        run_dottest(PPop, "cupy" if type(data._meta).__module__.startswith("cupy") else "numpy")

    # held once (a distributed client): the solve and the residual read the same copies
    data, m0 = held(data), held(m0)
    datar = data if m0 is None else held(data - PPop @ m0)
    if epsR is None:
        if explicit and not simultaneous:  # trace by trace (normal equations with epsI)
            PP = None if epsI is None else _damped_normal(PPop.A, epsI)
            minv = lstsq_traces(PPop.A, datar, kwargs_solver, PP=PP)
        elif explicit and epsI is not None:  # simultaneous, as PyLops: PP m = d
            PPreg = MatrixMult(_damped_normal(PPop.A, epsI), otherdims=spat or None)
            minv = run_lsqr(PPreg, datar, kwargs_solver, name)
        else:
            minv = run_lsqr(PPop, datar, kwargs_solver, name)
    elif epsRL1 is None:
        Reg = _laplacian(data.shape, PPop.dtype, data.chunks)
        minv = regularized_in_shape(PPop, data, [Reg], [epsR], m0, kwargs_solver, name)
    else:
        from pylops_distributed.optimization.sparsity import splitbregman

        dims, kw = data.shape, dict(dtype=PPop.dtype, chunks=data.chunks)
        RegL1 = FirstDerivative(dims, axis=0, kind="forward", **kw)
        RegsL2 = (None if not spat else  # (x) or (x, y)
                  [SecondDerivative(dims, axis=1, **kw) if len(spat) == 1 else
                   Laplacian(dims, axes=(1, 2), **kw)])
        mu, niter_outer, niter_inner, kw = split_solver_kwargs(kwargs_solver)
        minv = splitbregman(PPop, data, [RegL1], RegsL2=RegsL2, epsRL1s=aslist(epsRL1),
                            epsRL2s=None if RegsL2 is None else aslist(epsR), mu=mu,
                            niter_outer=niter_outer, niter_inner=niter_inner, x0=m0, **kw)[0]
    minv = minv.reshape(data.shape).rechunk(data.chunks)  # (split Bregman's solves are flat)
    datar = (datar if epsR is None else data) - PPop @ minv
    if m0 is not None and epsR is None:
        minv = minv + m0
    return held_together(minv, datar)


def _damped_normal(A, epsI):
    """PyLops' regularized normal matrix :math:`A^T A + \\epsilon_I I`."""
    A = host(A)
    return A.T @ A + epsI * np.eye(A.shape[1], dtype=A.dtype)


def _laplacian(dims, dtype, chunks):
    """PyLops' spatial regulariser: ``SecondDerivative`` (one trace), ``Laplacian`` over
    (time, x) (2-D) or over (x, y) (3-D)."""
    if len(dims) == 1:
        return SecondDerivative(dims, dtype=dtype, chunks=chunks)
    if len(dims) == 2:
        return Laplacian(dims, dtype=dtype, chunks=chunks)
    return Laplacian(dims, axes=(1, 2), dtype=dtype, chunks=chunks)
