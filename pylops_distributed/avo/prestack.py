r"""Pre-stack seismic modelling and inversion (:mod:`pylops.avo.prestack`) on chunked dask
arrays: the time, elastic-parameter and angle axes whole, the spatial axes chunked."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._held import held, held_together
from pylops_distributed.avo._inversion import (host, lstsq_traces, read,
                                               run_dottest, run_lsqr, seen_as,
                                               split_solver_kwargs)
from pylops_distributed.avo.avo import as_spatdims, quiet_convmtx, spatial
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.basicoperators.firstderivative import FirstDerivative
from pylops_distributed.basicoperators.laplacian import Laplacian
from pylops_distributed.basicoperators.matrixmult import MatrixMult
from pylops_distributed.basicoperators.secondderivative import SecondDerivative
from pylops_distributed.optimization.leastsquares import regularized_in_shape
from pylops_distributed.signalprocessing._pylops_build import on_module

__all__ = ["PrestackLinearModelling", "PrestackWaveletModelling", "PrestackInversion"]

#: Elastic parameters of each linearization (PyLops').
_NPARS = {"akirich": 3, "fatti": 3, "ps": 3}


class _Rows:
    """PyLops' operators of one model stacked (``VStack``), data seen as ``dimsd``."""

    def __init__(self, ops, dimsd):
        import pylops

        self.op = ops[0] if len(ops) == 1 else pylops.VStack(ops)
        self.dims, self.dimsd, self.dtype = tuple(ops[0].dims), tuple(dimsd), ops[0].dtype
        self.shape = self.op.shape

    def matvec(self, x):
        return self.op.matvec(x)

    def rmatvec(self, x):
        return self.op.rmatvec(x)


def build_prestack(dims, *, xp, wavs, theta, vsvp, linearizations, kind):
    """PyLops' (non-explicit) pre-stack operators, one per ``(wav, linearization)``, for a
    model block of shape ``(nt0, npars, *spatial)``: data ``(n * nt0, ntheta, *spatial)``."""
    import pylops

    spat = spatial(dims, 2)
    theta = on_module(theta, xp)
    vsvp = vsvp if np.isscalar(vsvp) else on_module(vsvp, xp)
    ops = [pylops.avo.prestack.PrestackLinearModelling(
        on_module(w, xp), theta, vsvp=vsvp, nt0=int(dims[0]), spatdims=spat,
        linearization=lin, explicit=False, kind=kind) for w, lin in zip(wavs, linearizations)]
    return _Rows(ops, (len(ops) * int(dims[0]), len(theta)) + (spat or ()))


class _Prestack(AlongAxes):
    """PyLops' pre-stack operator(s) on every chunk of the spatial axes."""

    def __init__(self, wavs, theta, vsvp, nt0, spatdims, linearizations, kind, name, chunks):
        nt0 = len(vsvp) if not np.isscalar(vsvp) else int(nt0)
        for w in wavs:
            if len(w) > nt0:
                raise NotImplementedError(
                    f"PrestackLinearModelling: a wavelet of {len(w)} samples is longer than the "
                    f"time axis ({nt0}); use explicit=True or a shorter wavelet")
        kwargs = dict(wavs=wavs, theta=theta, vsvp=vsvp, linearizations=linearizations,
                      kind=kind)
        spat = as_spatdims(spatdims)
        # PyLops validates the arguments at full size and gives the number of parameters
        # (its builder reads the time and spatial lengths only: 3 is a placeholder)
        full = build_prestack((nt0, 3) + spat, xp=np, wavs=[host(w) for w in wavs],
                              theta=host(theta), vsvp=vsvp if np.isscalar(vsvp) else host(vsvp),
                              linearizations=linearizations, kind=kind)
        self.theta, self.vsvp, self.kind = theta, vsvp, kind
        self._setup(full.dims, functools.partial(build_prestack, **kwargs), (0, 1),
                    dtype=full.dtype, name=name, chunks=chunks, full=full)


def PrestackLinearModelling(wav, theta, vsvp=0.5, nt0=1, spatdims=None,
                            linearization="akirich", explicit=False, kind="centered",
                            name=None, chunks=None):
    r"""Pre-stack linearized seismic modelling operator (PyLops' ``PrestackLinearModelling``).

    .. math::
        d(t, \theta, x, y) = w(t) * \sum_{i=1}^{N} G_i(t, \theta)\,
        \frac{\mathrm{d} m_i(t, x, y)}{\mathrm{d}t}

    ``explicit=False``: model of shape :math:`[n_{t_0} \times N\,(\times n_x \times n_y)]`,
    data :math:`[n_{t_0} \times n_\theta\,(\times n_x \times n_y)]`. ``explicit=True`` (as
    PyLops): model :math:`[N n_{t_0}\,(\times n_x \times n_y)]` (parameter-major), data
    :math:`[n_\theta n_{t_0}\,(\times n_x \times n_y)]` (angle-major).

    Parameters
    ----------
    wav : numpy.ndarray
        Wavelet (odd length, centred).
    theta : numpy.ndarray
        Incident angles in degrees; its dtype is the operator's.
    vsvp : float or numpy.ndarray, optional
        :math:`V_S/V_P` ratio (constant, or one per time sample).
    nt0 : int, optional
        Number of time samples (when ``vsvp`` is a scalar).
    spatdims : int or tuple of int, optional
        Spatial axis (or axes) lengths; ``None``: a single gather.
    linearization : {"akirich", "fatti", "ps"} or callable, optional
        Linearization (a callable with ``akirichards``' signature: ``explicit=True`` only,
        as PyLops).
    explicit : bool, optional
        A dense matrix (``True``, :class:`~pylops_distributed.MatrixMult` with the attribute
        ``A``) or the chained operator (``False``).
    kind : {"centered", "forward"}, optional
        Derivative kind.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Returns
    -------
    Preop : pylops_distributed.LinearOperator
        Pre-stack modelling operator.

    Raises
    ------
    NotImplementedError
        If ``linearization`` or ``kind`` is not available.

    Notes
    -----
    The spatial axes are batch axes (one task per chunk, their chunks kept, no exchange).
    ``explicit=False``: each task applies PyLops' operator built for its chunk, the time and
    parameter (angle) axes whole (rechunked first if needed, one visible step).
    ``explicit=True``: PyLops' dense matrix multiplies every gather. Outputs are lazy dask
    arrays (PyLops returns NumPy arrays).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops.utils.wavelets import ricker
    >>> from pylops_distributed.avo.prestack import PrestackLinearModelling
    >>> wav = ricker(np.arange(11) * 0.004, f0=20)[0]
    >>> theta = np.linspace(0.0, 30.0, 4)
    >>> Op = PrestackLinearModelling(wav, theta, vsvp=0.5, nt0=40, spatdims=6)
    >>> m = np.random.default_rng(0).standard_normal((40, 3, 6))
    >>> d = Op @ da.from_array(m, chunks=(40, 3, 2))   # 3 tasks of 2 gathers
    >>> d.shape, d.numblocks
    ((40, 4, 6), (1, 1, 3))
    >>> POp = pylops.avo.prestack.PrestackLinearModelling(wav, theta, vsvp=0.5, nt0=40,
    ...                                                   spatdims=6)
    >>> np.allclose(d.compute().ravel(), POp @ m.ravel())
    True
    """
    import pylops

    if kind not in ("forward", "centered"):
        raise NotImplementedError(f"{kind} not an available derivative kind...")
    spat = as_spatdims(spatdims)
    if explicit:
        with quiet_convmtx():
            M = pylops.avo.prestack.PrestackLinearModelling(
                host(wav), host(theta), vsvp=vsvp if np.isscalar(vsvp) else host(vsvp),
                nt0=nt0, linearization=linearization, explicit=True, kind=kind).A
        return MatrixMult(M, otherdims=spat or None, dtype=theta.dtype, name=name, chunks=chunks)
    if not isinstance(linearization, str):  # PyLops' AVOLinearModelling takes names only
        raise NotImplementedError(f"{linearization} not an available linearization...")
    return _Prestack([wav], theta, vsvp, nt0, spat, [linearization], kind, name, chunks)


def PrestackWaveletModelling(m, theta, nwav, wavc=None, vsvp=0.5, linearization="akirich",
                             name=None, chunks=None):
    r"""Pre-stack linearized seismic modelling operator for the wavelet (PyLops'
    ``PrestackWaveletModelling``).

    .. math::
        d(t, \theta) = \sum_{i=1}^N G_i(t, \theta)\, \frac{\mathrm{d} m_i(t)}{\mathrm{d}t} * w(t)

    Model: the wavelet (``nwav`` samples); data: :math:`[n_\theta n_{t_0}]` (angle-major).

    Parameters
    ----------
    m : numpy.ndarray
        Elastic parameter profiles, of shape :math:`[n_{t_0} \times N]`; its dtype is the
        operator's (a dask array is computed: the profiles build the matrix).
    theta : numpy.ndarray
        Incident angles in degrees.
    nwav : int
        Number of samples of the wavelet.
    wavc : int, optional
        Index of the centre of the wavelet (default ``nwav // 2``).
    vsvp : float or numpy.ndarray, optional
        :math:`V_S/V_P` ratio.
    linearization : {"akirich", "fatti", "ps"} or callable, optional
        Linearization.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Returns
    -------
    Mconv : pylops_distributed.MatrixMult
        The :math:`n_\theta n_{t_0} \times n_\text{wav}` matrix of PyLops' operator (the
        matrices of its ``VStack`` stacked), attribute ``A``.

    Notes
    -----
    A small dense operator (the model is the wavelet): the data come out in one chunk.

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops_distributed.avo.prestack import PrestackWaveletModelling
    >>> m = np.random.default_rng(0).standard_normal((50, 3))
    >>> theta = np.linspace(0.0, 30.0, 4)
    >>> Op = PrestackWaveletModelling(m, theta, nwav=11)
    >>> w = np.hanning(11)
    >>> POp = pylops.avo.prestack.PrestackWaveletModelling(m, theta, nwav=11)
    >>> Op.shape, np.allclose((Op @ w).compute(), POp @ w)
    ((200, 11), True)
    """
    import pylops

    m = host(m)
    with quiet_convmtx():
        P = pylops.avo.prestack.PrestackWaveletModelling(
            m, host(theta), nwav, wavc=wavc, vsvp=vsvp if np.isscalar(vsvp) else host(vsvp),
            linearization=linearization)
    A = np.vstack([host(op.A) for op in P.ops])
    return MatrixMult(A, dtype=m.dtype, name=name, chunks=chunks)


def PrestackInversion(data, theta, wav, m0=None, linearization="akirich", explicit=False,
                      simultaneous=False, epsI=None, epsR=None, dottest=False,
                      returnres=False, epsRL1=None, kind="centered", vsvp=0.5, chunks=None,
                      **kwargs_solver):
    r"""Pre-stack linearized seismic inversion (PyLops' ``PrestackInversion``).

    Parameters
    ----------
    data : dask.array.Array, numpy.ndarray or cupy.ndarray
        Angle gathers, of shape :math:`[(n_\text{lins} \times)\, n_{t_0} \times n_\theta\,
        (\times n_x \times n_y)]` (the leading axis with a list of linearizations).
    theta : numpy.ndarray
        Incident angles in degrees.
    wav : numpy.ndarray or list
        Wavelet (one per linearization with a list).
    m0 : array, optional
        Background model, of shape :math:`[n_{t_0} \times N\,(\times n_x \times n_y)]`.
    linearization : {"akirich", "fatti", "ps"} or list, optional
        Linearization, or a list of them (one per leading data slice).
    explicit, simultaneous, epsI, epsR, dottest, epsRL1 : optional
        As :func:`~pylops_distributed.avo.poststack.PoststackInversion` (``epsI`` may be a
        list of :math:`N` weights with ``epsR``).
    returnres : bool, optional
        Return the residual too.
    kind : {"centered", "forward"}, optional
        Derivative kind (single linearization).
    vsvp : float or numpy.ndarray, optional
        :math:`V_S/V_P` ratio.
    chunks : optional
        Chunks used to wrap NumPy/CuPy ``data`` (and ``m0``).
    **kwargs_solver
        As PyLops (see :func:`~pylops_distributed.avo.poststack.PoststackInversion`).

    Returns
    -------
    minv : dask.array.Array
        Inverted model, of shape :math:`[n_{t_0} \times N\,(\times n_x \times n_y)]` (lazy).
    datar : dask.array.Array
        Residual, of the shape of ``data`` (lazy; with ``returnres=True``).

    Raises
    ------
    ValueError
        If ``data`` and ``m0`` differ in their time or spatial axes (before anything is
        computed), or ``epsI`` is a list of the wrong length.
    NotImplementedError
        Without ``m0`` nor ``linearization``.

    Notes
    -----
    The solvers and their agreement with PyLops are those of
    :func:`~pylops_distributed.avo.poststack.PoststackInversion`. As PyLops, with
    ``explicit=True`` the model is parameter-major and the data angle-major; the
    regularisers (built on the non-explicit layout) see the explicit model's flat vector.
    With one trace and ``epsRL1`` (where PyLops 2.8 fails), the L1 term is the derivative
    of the flat model and there is no L2 term (but ``epsI``'s). With a list of
    linearizations the residual keeps the leading axis (PyLops squeezes it).

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops.utils.wavelets import ricker
    >>> from pylops_distributed.avo.prestack import PrestackInversion
    >>> wav = ricker(np.arange(11) * 0.004, f0=20)[0]
    >>> theta = np.linspace(0.0, 30.0, 6)
    >>> m = np.cumsum(np.random.default_rng(0).standard_normal((50, 3, 4)), axis=0)
    >>> POp = pylops.avo.prestack.PrestackLinearModelling(wav, theta, nt0=50, spatdims=4)
    >>> d = (POp @ m.ravel()).reshape(50, 6, 4)
    >>> kw = dict(epsI=1e-2, explicit=True)                      # trace by trace
    >>> minv = PrestackInversion(d, theta, wav, chunks=(50, 6, 2), **kw)
    >>> pinv = pylops.avo.prestack.PrestackInversion(d, theta, wav, **kw)
    >>> bool(np.abs(minv.compute() - pinv).max() < 1e-8 * np.abs(pinv).max())
    True
    """
    name = "PrestackInversion"
    if m0 is None and linearization is None:
        raise NotImplementedError("Either m0 or linearization must be provided")
    multi = isinstance(linearization, (list, tuple))
    lead = int(multi)
    data = read(data, chunks, f"{name}: data", whole=2 + lead)
    if data.ndim - lead not in (2, 3, 4):
        raise ValueError(f"{name}: data must have {2 + lead} to {4 + lead} axes "
                         f"({'linearization, ' if multi else ''}time, angle, x, y), got shape "
                         f"{data.shape}")
    nlins = data.shape[0] if multi else 1
    nt0, ntheta, spat = data.shape[lead], data.shape[lead + 1], data.shape[lead + 2:]
    if multi and len(linearization) != nlins:
        raise ValueError(f"{name}: {len(linearization)} linearizations for {nlins} data slices")
    if m0 is not None:
        m0 = read(m0, None, f"{name}: m0", whole=2)  # (rechunked like the data below)
        if m0.ndim != 2 + len(spat) or m0.shape[0] != nt0 or m0.shape[2:] != spat:
            raise ValueError(f"{name}: data and m0 must have the same time and space axes "
                             f"(data {data.shape}, m0 {m0.shape})")
        m0 = m0.rechunk(m0.chunks[:2] + data.chunks[lead + 2:])
        nm = m0.shape[1]
    else:
        first = linearization[0] if multi else linearization
        if not isinstance(first, str) or first not in _NPARS:
            raise NotImplementedError(f"{name}: {first!r} is not an available linearization "
                                      f"({', '.join(_NPARS)}); give m0 with a callable")
        nm = _NPARS[first]
    vsvp = vsvp if np.isscalar(vsvp) else host(vsvp)

    # the operator, and the data (and model) in its layout
    lins = list(linearization) if multi else [linearization]
    wavs = list(wav) if isinstance(wav, (list, tuple)) else [wav] * nlins
    kind = kind if not multi else "centered"  # (PyLops' choice with a list)
    if explicit:
        ops = [PrestackLinearModelling(w, theta, vsvp=vsvp, nt0=nt0, linearization=lin,
                                       explicit=True, kind=kind) for w, lin in zip(wavs, lins)]
        A = np.vstack([op.A for op in ops])
        PPop = MatrixMult(A, otherdims=spat or None, dtype=ops[0].dtype)
        D = data.swapaxes(lead, lead + 1).reshape((A.shape[0],) + spat)
    else:
        PPop = _Prestack(wavs, theta, vsvp, nt0, spat, lins, kind, None, None)
        D = data.reshape((nlins * nt0, ntheta) + spat)
    mdims = (nt0, nm) + spat
    npars = PPop.dims[0] // nt0 if explicit else PPop.dims[1]
    if npars != nm:
        raise ValueError(f"{name}: m0 has {nm} elastic parameters, the linearization {npars}")
    # held once (a distributed client): the solve and the residual read the same copies
    D, M0 = held(D), held(None if m0 is None else _to_model(m0, explicit))
    if dottest:
        run_dottest(PPop, "cupy" if type(data._meta).__module__.startswith("cupy") else "numpy")

    if epsR is None:
        datar = D if M0 is None else held(D - PPop @ M0)
        if explicit and epsI is not None:
            PP = PPop.A.T @ PPop.A + epsI * np.eye(PPop.A.shape[1], dtype=PPop.A.dtype)
        if explicit and not simultaneous:  # trace by trace (normal equations with epsI)
            minv = lstsq_traces(PPop.A, datar, kwargs_solver, PP=None if epsI is None else PP)
        elif explicit and epsI is not None:  # simultaneous normal equations
            rhs = MatrixMult(PPop.A.T, otherdims=spat or None) @ datar
            minv = run_lsqr(MatrixMult(PP, otherdims=spat or None), rhs, kwargs_solver, name)
        else:
            minv = run_lsqr(PPop, datar, kwargs_solver, name)
    else:
        minv = _regularized(PPop, D, M0, mdims, explicit, epsI, epsR, epsRL1, kwargs_solver,
                            data.chunks[lead + 2:])

    schunks = data.chunks[lead + 2:]  # the spatial chunks
    xinv = minv.reshape(PPop.dims).rechunk(tuple((n,) for n in PPop.dims[:-len(spat) or None])
                                           + schunks)  # (split Bregman's solves are flat)
    minv = _from_model(xinv, explicit, mdims)
    if m0 is not None and epsR is None:
        minv = minv + m0
    if not returnres:
        return minv
    res = (datar if epsR is None else D) - PPop @ xinv
    if explicit:
        res = res.reshape((nlins, ntheta, nt0) + spat).swapaxes(1, 2)
    return held_together(minv, res.reshape(data.shape))


def _to_model(m, explicit):
    """A model ``(nt0, N, *spatial)`` in the operator's layout."""
    if not explicit:
        return m
    return m.swapaxes(0, 1).reshape((m.shape[0] * m.shape[1],) + m.shape[2:])


def _from_model(x, explicit, mdims):
    """The operator's model as ``(nt0, N, *spatial)``."""
    if not explicit:
        return x.reshape(mdims)
    nt0, nm = mdims[:2]
    return x.reshape((nm, nt0) + mdims[2:]).swapaxes(0, 1)


def _regularized(PPop, D, M0, mdims, explicit, epsI, epsR, epsRL1, kwargs_solver, schunks):
    """PyLops' spatially regularized (and blocky) pre-stack problems, by our solvers
    (``schunks``: the spatial chunks)."""
    nt0, nm, spat = mdims[0], mdims[1], mdims[2:]
    dtype = PPop.dtype
    RegI = None
    if epsI is not None:
        if isinstance(epsI, (list, tuple)):
            if len(epsI) != nm:
                raise ValueError(f"epsI must be a scalar or a list of size nm, got {epsI}")
            weights = np.array(epsI)
        else:
            weights = np.full(nm, epsI)
        RegI = Diagonal(weights, dims=mdims, axis=1, dtype=dtype)

    def layout(Op):  # PyLops' regularisers act on the explicit model's flat vector
        if explicit:
            Op = seen_as(Op, PPop.dims)
        Op.chunks = tuple((n,) for n in Op.dims[:len(Op.dims) - len(spat)]) + schunks
        return Op

    if epsRL1 is None:
        if not spat:
            Reg = SecondDerivative(mdims, axis=0, dtype=dtype)
        elif len(spat) == 1:
            Reg = Laplacian(mdims, axes=(0, 2), dtype=dtype)
        else:
            Reg = Laplacian(mdims, axes=(2, 3), dtype=dtype)
        Regs, epsRs = ([Reg], [epsR]) if RegI is None else ([Reg, RegI], [epsR, 1])
        return regularized_in_shape(PPop, D, [layout(R) for R in Regs], epsRs, M0,
                                    kwargs_solver, "PrestackInversion")
    if not spat:
        RegL1 = seen_as(FirstDerivative(nt0 * nm, dtype=dtype), mdims)
        RegsL2, epsRs = ([RegI], [1]) if RegI is not None else (None, None)
    else:
        RegL1 = FirstDerivative(mdims, axis=0, dtype=dtype)
        RegL2 = (SecondDerivative(mdims, axis=2, dtype=dtype) if len(spat) == 1 else
                 Laplacian(mdims, axes=(2, 3), dtype=dtype))
        RegsL2, epsRs = ([RegL2], [epsR]) if RegI is None else ([RegL2, RegI], [epsR, 1])
    from pylops_distributed.optimization.sparsity import splitbregman

    mu, niter_outer, niter_inner, kw = split_solver_kwargs(kwargs_solver)
    return splitbregman(PPop, D, [layout(RegL1)],
                        RegsL2=None if RegsL2 is None else [layout(R) for R in RegsL2],
                        epsRL1s=[epsRL1], epsRL2s=epsRs, mu=mu, niter_outer=niter_outer,
                        niter_inner=niter_inner, x0=M0, **kw)[0]
