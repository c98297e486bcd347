"""SeismicInterpolation: seismic data interpolation with our operators and solvers (PyLops'
``pylops.waveeqprocessing.seismicinterpolation``)."""

import numpy as np

from pylops_distributed._arrays import as_dask
from pylops_distributed.basicoperators.laplacian import Laplacian
from pylops_distributed.basicoperators.real import Real
from pylops_distributed.basicoperators.restriction import Restriction
from pylops_distributed.basicoperators.secondderivative import SecondDerivative
from pylops_distributed.optimization.leastsquares import regularized_inversion
from pylops_distributed.optimization.sparsity import fista
from pylops_distributed.signalprocessing.chirpradon2d import ChirpRadon2D
from pylops_distributed.signalprocessing.chirpradon3d import ChirpRadon3D
from pylops_distributed.signalprocessing.fft2d import FFT2D
from pylops_distributed.signalprocessing.fftnd import FFTND
from pylops_distributed.signalprocessing.interp import Interp
from pylops_distributed.signalprocessing.radon2d import Radon2D
from pylops_distributed.signalprocessing.radon3d import Radon3D
from pylops_distributed.signalprocessing.sliding2d import Sliding2D
from pylops_distributed.signalprocessing.sliding3d import Sliding3D
from pylops_distributed.utils.dottest import dottest as Dottest

__all__ = ["SeismicInterpolation"]

KINDS = ("fk", "spatial", "radon-linear", "radon-parabolic", "radon-hyperbolic",
         "chirpradon-linear", "sliding", "chirp-sliding")


def _restriction(dims, dimsd, iava, iava1, ndims, dtype):
    """PyLops' restriction (integer ``iava``) or linear interpolation (float ``iava``) along
    the receivers (and the second receiver axis with ``iava1``)."""
    iava = np.asarray(iava)
    if iava.dtype == float:
        Rop = Interp(dims, iava, axis=0, kind="linear", dtype=dtype)[0]
        if ndims == 3 and iava1 is not None:
            Rop = Interp((len(iava), dims[1], dimsd[2]), np.asarray(iava1), axis=1,
                         kind="linear", dtype=dtype)[0] @ Rop
    else:
        Rop = Restriction(dims, iava, axis=0, dtype=dtype)
        if ndims == 3 and iava1 is not None:
            Rop = Restriction((len(iava), dims[1], dimsd[2]), iava1, axis=1, dtype=dtype) @ Rop
    return Rop


def _sampling(sampling, axes, kind):
    """``sampling``, or the steps of the given axes."""
    if sampling is not None:
        return sampling
    if any(a is None for a in axes):
        names = "spataxis, spat1axis and taxis" if len(axes) == 3 else "spataxis and taxis"
        raise ValueError(f"Provide either sampling or {names} for kind={kind}")
    return tuple(np.abs(a[1] - a[0]) for a in axes)


def _step(a):
    return None if a is None else np.abs(a[1] - a[0])


def _transform(kind, ndims, dims, dtype, cdtype, nffts, sampling, spataxis, spat1axis, taxis,
               paxis, p1axis, centeredh, nwins, nwin, nover, engine):
    """PyLops' sparsifying transform ``Pop`` for ``kind`` and the model shape ``dimsp``."""
    dspat, dspat1, dt = _step(spataxis), _step(spat1axis), _step(taxis)
    if kind == "fk":
        if ndims == 3:
            sampling = _sampling(sampling, (spataxis, spat1axis, taxis), kind)
            return FFTND(dims=dims, nffts=nffts, sampling=sampling, dtype=cdtype).H, nffts
        sampling = _sampling(sampling, (spataxis, taxis), kind)
        return FFT2D(dims=dims, nffts=nffts, sampling=sampling, dtype=cdtype).H, nffts
    if kind == "chirpradon-linear":
        if ndims == 3:
            pmax = (np.max(paxis) * dspat / dt, np.max(p1axis) * dspat1 / dt)
            return (ChirpRadon3D(taxis, spataxis, spat1axis, pmax, dtype=dtype).H,
                    (spataxis.size, spat1axis.size, taxis.size))
        return (ChirpRadon2D(taxis, spataxis, np.max(paxis) * dspat / dt, dtype=dtype).H,
                (spataxis.size, taxis.size))
    if kind.startswith("radon"):
        kindradon = kind.split("-")[-1]
        if ndims == 3:
            return (Radon3D(taxis, spataxis, spat1axis, paxis, p1axis, centeredh=centeredh,
                            kind=kindradon, engine=engine, dtype=dtype),
                    (paxis.size, p1axis.size, taxis.size))
        return (Radon2D(taxis, spataxis, paxis, centeredh=centeredh, kind=kindradon,
                        engine=engine, dtype=dtype), (paxis.size, taxis.size))
    # sliding, chirp-sliding: local linear Radon transforms on overlapping windows
    if ndims == 3:
        local = np.linspace(-dspat * nwin[0] // 2, dspat * nwin[0] // 2, nwin[0])
        local1 = np.linspace(-dspat1 * nwin[1] // 2, dspat1 * nwin[1] // 2, nwin[1])
        dimsslid = (spataxis.size, spat1axis.size, taxis.size)
        if kind == "sliding":
            npx, npx1 = paxis.size, p1axis.size
            Op = Radon3D(taxis, local, local1, paxis, p1axis, centeredh=True, kind="linear",
                         engine=engine, dtype=dtype)
        else:
            npx, npx1 = nwin[0], nwin[1]
            pmax = (np.max(paxis) * dspat / dt, np.max(p1axis) * dspat1 / dt)
            Op = ChirpRadon3D(taxis, local, local1, pmax, dtype=dtype).H
        dimsp = (nwins[0] * npx, nwins[1] * npx1, dimsslid[2])
        Pop = Sliding3D(Op, dimsp, dimsslid, nwin, nover, (npx, npx1), tapertype="cosine")
        return Pop, (nwins[0], nwins[1], npx, npx1, dimsslid[2])
    local = np.linspace(-dspat * nwin // 2, dspat * nwin // 2, nwin)
    dimsslid = (spataxis.size, taxis.size)
    if kind == "sliding":
        npx = paxis.size
        Op = Radon2D(taxis, local, paxis, centeredh=True, kind="linear", engine=engine,
                     dtype=dtype)
    else:
        npx = nwin
        Op = ChirpRadon2D(taxis, local, np.max(paxis) * dspat / dt).H
    dimsp = (nwins * npx, dimsslid[1])
    return Sliding2D(Op, dimsp, dimsslid, nwin, nover, tapertype="cosine"), dimsp


def SeismicInterpolation(data, nrec, iava, iava1=None, kind="fk", nffts=None, sampling=None,
                         spataxis=None, spat1axis=None, taxis=None, paxis=None, p1axis=None,
                         centeredh=True, nwins=None, nwin=None, nover=None, engine="numba",
                         dottest=False, chunks=None, **kwargs_solver):
    r"""Seismic interpolation (or regularization) with our operators and solvers (PyLops'
    ``SeismicInterpolation``).

    Parameters
    ----------
    data : numpy.ndarray or dask.array.Array
        Data of shape :math:`[n_{r,sub} \times n_t]` (or :math:`[n_{r_x,sub} \times
        n_{r_y,sub} \times n_t]`).
    nrec, iava, iava1, kind, nffts, sampling
        As PyLops (a float ``iava`` gives linear interpolation).
    spataxis, spat1axis, taxis, paxis, p1axis, centeredh, nwins, nwin, nover, engine, dottest
        As PyLops.
    chunks : optional
        Chunks used to wrap a NumPy ``data``.
    **kwargs_solver
        Passed to our :func:`~pylops_distributed.optimization.leastsquares.regularized_inversion`
        (``kind="spatial"``) or :func:`~pylops_distributed.optimization.sparsity.fista`
        (the other kinds).

    Returns
    -------
    recdata : dask.array.Array
        Reconstructed data, of shape :math:`[n_r \times n_t]` (or :math:`[n_{r_x} \times
        n_{r_y} \times n_t]`).
    recprec : dask.array.Array
        Reconstructed data in the sparse domain (``None`` for ``kind="spatial"``).
    cost : numpy.ndarray
        Cost function of FISTA at its checks (``None`` for ``kind="spatial"``).

    Notes
    -----
    The operators are ours (restriction or interpolation along receivers, and the Fourier,
    Radon or sliding Radon transform), each distributed as its own documentation says, and
    the problem is solved by our solvers: iterations and stopping tests follow them
    (FISTA's tolerances are checked every ``check_every`` iterations). ``kind="spatial"``
    solves with our regularized inversion (LSQR with SciPy's defaults unless ``niter`` is
    given, as PyLops runs SciPy's ``lsqr``).

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops_distributed.waveeqprocessing import SeismicInterpolation
    >>> rng = np.random.default_rng(0)
    >>> nr, nt = 20, 32
    >>> iava = np.sort(rng.permutation(nr)[:12])
    >>> data = rng.standard_normal((12, nt))
    >>> kw = dict(kind="fk", nffts=(32, 32), sampling=(1.0, 0.004), niter=5, eps=0.1)
    >>> rec, prec, cost = SeismicInterpolation(data, nr, iava, **kw)
    >>> ref = pylops.waveeqprocessing.SeismicInterpolation(data, nr, iava, **kw)
    >>> np.allclose(rec.compute(), ref[0]), np.allclose(prec.compute(), ref[1])
    (True, True)
    """
    dtype = np.dtype(data.dtype)
    cdtype = (np.ones(1, dtype=dtype) + 1j * np.ones(1, dtype=dtype)).dtype
    ndims = data.ndim
    if ndims == 1 or ndims > 3:
        raise ValueError(f"data must have 2 or 3 dimensions, got {ndims}")
    if kind not in KINDS:
        raise KeyError("kind must be either 'spatial', 'fk', 'radon-linear', "
                       "'chirpradon-linear', radon-parabolic', 'radon-hyperbolic', 'sliding', "
                       f"or 'chirp-sliding', got {kind}")
    dimsd = tuple(int(n) for n in data.shape)
    dims = (int(nrec), dimsd[1]) if ndims == 2 else (int(nrec[0]), int(nrec[1]), dimsd[2])
    ropdtype = cdtype if kind == "fk" else dtype
    Rop = _restriction(dims, dimsd, iava, iava1, ndims, ropdtype)
    if tuple(Rop.dimsd) != dimsd:
        raise ValueError(f"SeismicInterpolation: data of shape {dimsd} does not match the "
                         f"restriction's output {tuple(Rop.dimsd)}")
    if kind == "fk":
        Rop = Real(dimsd, dtype=ropdtype) @ Rop
    data = as_dask(data, chunks, "SeismicInterpolation: data")
    if kind == "spatial":
        if ndims == 3 and iava1 is not None:
            Regop = Laplacian(dims=dims, axes=(0, 1), dtype=dtype)
        else:
            Regop = SecondDerivative(dims, axis=0, dtype=dtype)
        if dottest:
            Dottest(Rop, int(np.prod(dimsd)), int(np.prod(dims)), complexflag=0, verb=True)
        recdata = regularized_inversion(Rop, data.ravel(), [Regop], **kwargs_solver)
        if isinstance(recdata, tuple):
            recdata = recdata[0]
        return recdata.reshape(dims), None, None
    Pop, dimsp = _transform(kind, ndims, dims, dtype, cdtype, nffts, sampling, spataxis,
                            spat1axis, taxis, paxis, p1axis, centeredh, nwins, nwin, nover,
                            engine)
    SIop = Rop @ Pop
    if kind == "fk":
        data = data.astype(SIop.dtype)
    if dottest:
        Dottest(SIop, int(np.prod(dimsd)), int(np.prod(Pop.dims)),
                complexflag=1 if kind == "fk" else 0, verb=True)
    recprec, _, cost = fista(SIop, data.ravel(), **kwargs_solver)
    recdata = (Pop @ recprec).real.reshape(dims)
    return recdata, recprec.reshape(dimsp), cost
