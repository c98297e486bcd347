"""PhaseShift and Deghosting: one-way propagation in the frequency-wavenumber domain
(PyLops' ``pylops.waveeqprocessing.oneway``)."""

import numpy as np

from pylops_distributed._arrays import as_dask
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.basicoperators.pad import Pad
from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.signalprocessing.fft import FFT
from pylops_distributed.utils.dottest import dottest as Dottest
from pylops_distributed.waveeqprocessing._solve import run_solver
from pylops_distributed.waveeqprocessing._staged import Layout, Staged

__all__ = ["PhaseShift", "Deghosting"]


def _propagator(vel, dz, freq, kx, ky, cdtype):
    r"""The phase shift :math:`e^{-j 2\pi \Delta z k_z}` on the :math:`(f, k_x[, k_y])` grid,
    with the evanescent region decaying (as PyLops)."""
    grids = np.meshgrid(freq, kx, indexing="ij") if ky is None else \
        np.meshgrid(freq, kx, ky, indexing="ij")
    kh2 = sum(g ** 2 for g in grids[1:])
    kz = np.sqrt(((grids[0] / vel) ** 2 - kh2).astype(cdtype))
    kz = np.real(kz) - 1j * np.sign(dz) * np.abs(np.imag(kz))
    return np.exp(-1j * 2 * np.pi * dz * kz)


class PhaseShift(Staged):
    r"""Phase shift with a constant velocity (PyLops' ``PhaseShift``): forward propagation by
    ``dz`` in ``matvec``, backward in ``rmatvec``.

    .. math::
        \mathbf{d} = \mathbf{F}_t^H \mathbf{F}_x^H \mathbf{P} \mathbf{F}_x \mathbf{F}_t
        \mathbf{m}, \quad P(f, k_x, k_y) = e^{-j \Delta z \sqrt{\omega^2/v^2 - k_x^2 - k_y^2}}

    Model and data of shape :math:`[n_t \times n_x \,(\times n_y)]`.

    Parameters
    ----------
    vel : float
        Constant velocity.
    dz : float
        Depth step.
    nt : int
        Number of time samples.
    freq : numpy.ndarray
        Positive frequency axis (``rfftfreq(nt, dt)``).
    kx : numpy.ndarray
        Horizontal wavenumber axis (centred around 0).
    ky : numpy.ndarray, optional
        Second horizontal wavenumber axis (3-D).
    dtype : str, optional
        Model and data dtype (real).
    name : str, optional
        Operator name.
    fftengine : str, optional
        FFT engine (as PyLops).
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to the FFT calls.

    Notes
    -----
    Applied in three stages (see :class:`MDC`): the time FFT on blocks holding time whole
    (split along :math:`x`), then **frequencies**: one task per block of frequencies holding
    the wavenumbers whole (spatial FFTs, phase shift, inverse spatial FFTs, as PyLops' own
    operators), then the inverse time FFT. The frequencies are cut in as many blocks as the
    input has chunks. One all-to-all exchange between stages; no fused chunk kernel (solvers
    use their dask.array backend).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import PhaseShift
    >>> nt, nx, dt, dx = 21, 16, 0.004, 10.0
    >>> freq, kx = np.fft.rfftfreq(nt, dt), np.fft.fftshift(np.fft.fftfreq(nx, dx))
    >>> Op = PhaseShift(1500.0, 20.0, nt, freq, kx)
    >>> x = np.random.default_rng(0).standard_normal((nt, nx))
    >>> y = Op @ da.from_array(x, chunks=(nt, 8))          # 2 frequency blocks
    >>> POp = pylops.waveeqprocessing.PhaseShift(1500.0, 20.0, nt, freq, kx)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, vel, dz, nt, freq, kx, ky=None, dtype="float64", name="P",
                 fftengine="numpy", chunks=None, **kwargs_fft):
        freq, kx = np.asarray(freq), np.asarray(kx)
        nt = int(nt)
        if freq.size != nt // 2 + 1:
            raise ValueError(f"PhaseShift: freq must hold the {nt // 2 + 1} frequencies of a "
                             f"real FFT of nt={nt} samples, got {freq.size}")
        cdtype = (np.ones(1, dtype=dtype) + 1j * np.ones(1, dtype=dtype)).dtype
        self.vel, self.dz, self.nt = vel, dz, nt
        if ky is None:
            dims, dimsfft = (nt, kx.size), (freq.size, kx.size)
        else:
            ky = np.asarray(ky)
            dims, dimsfft = (nt, kx.size, ky.size), (freq.size, kx.size, ky.size)
        self.gazx = _propagator(vel, dz, freq, kx, ky, cdtype)
        self.Fop = FFT(dims, axis=0, nfft=nt, real=True, dtype=dtype)
        spatial = [FFT(dimsfft, axis=1, nfft=kx.size, ifftshift_before=True, dtype=cdtype)]
        if ky is not None:
            spatial.append(FFT(dimsfft, axis=2, nfft=ky.size, ifftshift_before=True,
                               engine=fftengine, dtype=cdtype, **kwargs_fft))
        middle = Diagonal(self.gazx.astype(cdtype, copy=False), dtype=cdtype)
        for K in reversed(spatial):  # Kx Ky P Ky^H Kx^H
            middle = K @ middle @ K.H
        space = tuple(range(1, len(dims)))
        stages = [(self.Fop, Layout((0,), 1)), (middle, Layout(space, 0)),
                  (self.Fop.H, Layout((0,), 1))]
        super().__init__(stages, tuple(range(len(dims))), dtype=dtype, name=name,
                         chunks=chunks, real=True)


def Deghosting(p, nt, nr, dt, dr, vel, zrec, kind="p", pd=None, win=None, npad=(11, 11),
               ntaper=(11, 11), restriction=None, sptransf=None, solver=lsqr, dottest=False,
               dtype="complex128", chunks=None, **kwargs_solver):
    r"""Wavefield deghosting of single-component data (PyLops' ``Deghosting``), with our
    operators and solvers.

    Parameters
    ----------
    p : numpy.ndarray or dask.array.Array
        Pressure (or vertical velocity) data of shape :math:`[n_t \times n_r]` (or
        :math:`[n_t \times n_{r_x} \times n_{r_y}]`), as PyLops reads it.
    nt, nr, dt, dr, vel, zrec, kind, pd, win, npad, ntaper, dottest, dtype
        As PyLops.
    restriction, sptransf : LinearOperator, optional
        Restriction and sparsifying operators (ours, or PyLops' wrapped with
        :class:`~pylops_distributed.FromPyLops`).
    solver : callable, optional
        One of our solvers (default :func:`~pylops_distributed.optimization.lsqr`; SciPy's
        names ``iter_lim``/``maxiter`` understood, SciPy's defaults without them).
    chunks : optional
        Chunks used to wrap a NumPy ``p``.
    **kwargs_solver
        Passed to ``solver``.

    Returns
    -------
    pup, pdown : dask.array.Array
        Up- and down-going wavefields (lazy, of shape :math:`[n_t \times n_r \,(\times
        n_{r_y})]`).

    Notes
    -----
    :math:`\mathbf{p} - \mathbf{p}_d = (\mathbf{I} \pm \boldsymbol\Phi)\,\mathbf{p}^-`, with
    :math:`\boldsymbol\Phi` our :class:`PhaseShift` by :math:`2 z_{rec}` (distributed over
    frequencies) between a taper and padding, solved with our solver.

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops_distributed.waveeqprocessing import Deghosting
    >>> p = np.random.default_rng(0).standard_normal((41, 30))
    >>> args = (41, 30, 0.004, 10.0, 1500.0, 15.0)
    >>> pup, pdown = Deghosting(p, *args, win=np.ones_like(p), npad=5, ntaper=5,
    ...                         iter_lim=5, atol=0, btol=0)
    >>> ref = pylops.waveeqprocessing.Deghosting(p, *args, win=np.ones_like(p), npad=5,
    ...                                          ntaper=5, iter_lim=5, atol=0, btol=0)
    >>> np.allclose(pup.compute(), ref[0]), np.allclose(pdown.compute(), ref[1])
    (True, True)
    """
    from pylops.utils.tapers import taper2d, taper3d

    if kind not in ("p", "vz"):
        raise ValueError(f"kind must be either 'p' or 'vz', got {kind}")
    if p.ndim == 2:
        dims, nrs = (nt, nr), nr
        nkx = nr + 2 * npad
        kx, ky = np.fft.ifftshift(np.fft.fftfreq(nkx, dr)), None
        taper = taper2d(nt, nr, ntaper).T
        pads = ((0, 0), (npad, npad))
    else:
        dims, nrs = (nt, nr[0], nr[1]), nr[0] * nr[1]
        kx = np.fft.ifftshift(np.fft.fftfreq(nr[0] + 2 * npad[0], dr[0]))
        ky = np.fft.ifftshift(np.fft.fftfreq(nr[1] + 2 * npad[1], dr[1]))
        taper = taper3d(nt, nr, ntaper).transpose(2, 0, 1)
        pads = ((0, 0), (npad[0], npad[0]), (npad[1], npad[1]))
    if tuple(p.shape) != dims:
        raise ValueError(f"Deghosting: p must have shape {dims} (nt, nr...), got {p.shape}")
    freq = np.fft.rfftfreq(nt, dt)
    Padop = Pad(dims, pads)
    Pop = -Padop.H @ PhaseShift(vel, 2 * zrec, nt, freq, kx, ky) @ Padop \
        @ Diagonal(np.asarray(taper).astype(dtype), dtype=dtype)
    Ident = Identity(dims, dtype=p.dtype)
    Dupop = Ident + Pop if kind == "p" else Ident - Pop
    if dottest:
        Dottest(Dupop, nt * nrs, nt * nrs, verb=True)
    Dupop_norestr = Dupop
    if restriction is not None:
        Dupop = aslinearoperator(restriction) @ Dupop
    if sptransf is not None:
        sptransf = aslinearoperator(sptransf)
        Dupop_norestr = Dupop_norestr @ sptransf
        Dupop = Dupop @ sptransf
    p = as_dask(p, chunks, "Deghosting: p")
    d = p - pd if pd is not None else win * p
    pup = run_solver(solver, Dupop, d.ravel(), kwargs_solver, "Deghosting")[0]
    if sptransf is not None:
        p = (Dupop_norestr @ pup).real.reshape(dims)
        pup = sptransf @ pup
    pup = pup.real.reshape(dims)
    return pup, p - pup
