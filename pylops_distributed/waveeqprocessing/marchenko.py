"""Marchenko redatuming (PyLops' ``pylops.waveeqprocessing.marchenko``) with our MDC,
distributed over blocks of sources, and our solvers."""

import logging

import dask.array as da
import numpy as np
from pylops.waveeqprocessing.marchenko import directwave
from scipy.signal import filtfilt

from pylops_distributed._arrays import get_array_module, is_cupy
from pylops_distributed.basicoperators.block import Block
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.basicoperators.roll import Roll
from pylops_distributed.optimization.cgls import cgls
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.stacked import StackedArray
from pylops_distributed.utils.dottest import dottest as Dottest
from pylops_distributed.waveeqprocessing._solve import run_solver
from pylops_distributed.waveeqprocessing.mdd import MDC, rfft_kernel, source_blocks

__all__ = ["Marchenko", "directwave"]

logger = logging.getLogger(__name__)


class Marchenko:
    r"""Marchenko redatuming (PyLops' :class:`pylops.waveeqprocessing.Marchenko`), solved
    with our MDC (distributed over blocks of sources) and our LSQR.

    Parameters
    ----------
    R : numpy.ndarray, cupy.ndarray or dask.array.Array
        Reflection response (already multiplied by 2), in time, :math:`[n_s \times n_r \times
        n_t]` (real), or in frequency, :math:`[n_s \times n_r \times n_{f_\text{max}}]`
        (complex, two-sided and scaled as PyLops keeps it). A dask array stays lazy: it is
        brought to the frequency domain once, persisted on the cluster, and read by
        block of sources.
    dt : float, optional
        Time sampling.
    nt : int, optional
        Number of time samples (required when ``R`` is in frequency).
    dr : float, optional
        Receiver sampling (integration step).
    nfmax : int, optional
        Index of the maximum frequency kept.
    wav : numpy.ndarray, optional
        Wavelet of the direct arrival made from ``trav`` when ``G0`` is not given.
    toff : float, optional
        Time offset subtracted from the traveltimes of the window.
    nsmooth : int, optional
        Length of the smoothing applied to the window.
    saveRt, prescaled, fftengine, kwargs_fft
        As PyLops (passed to :class:`~pylops_distributed.waveeqprocessing.MDC`).
    dtype : str, optional
        Dtype of the focusing functions.
    chunks : int or tuple, optional
        Source blocks of ``R`` (an int: sources per block, or their lengths). Default: a dask
        ``R`` keeps its chunks along sources and receivers; a NumPy or CuPy ``R``, or a dask
        one in one block, gets as many source blocks as there are threads (those of the
        connected cluster, or of the local scheduler).

    Attributes
    ----------
    ns, nr, nt, nt2, nfmax, t
        As PyLops.
    Rtwosided_fft : numpy.ndarray or dask.array.Array
        The two-sided reflection response in frequency, :math:`[n_{f_\text{max}} \times n_s
        \times n_r]`.

    Notes
    -----
    The operators are PyLops' (a block of multi-dimensional convolutions with ``R`` and its
    correlation, windows and a time reversal) built from ours: each application of the
    Marchenko operator runs the two MDCs, one task per source block of ``R`` (see
    :class:`~pylops_distributed.waveeqprocessing.MDC`). The focusing functions are solved for with our
    :func:`~pylops_distributed.optimization.lsqr` (SciPy's names and defaults, as PyLops runs
    SciPy's ``lsqr``), or our :func:`~pylops_distributed.optimization.cgls` on CuPy data (as
    PyLops). Results are dask arrays; the single-scattering redatuming and the Green's
    functions are computed once and persisted (``dask.compute(*outputs)`` brings them back
    together). :func:`directwave` is PyLops' own.

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops_distributed.waveeqprocessing import Marchenko
    >>> rng = np.random.default_rng(0)
    >>> R = rng.standard_normal((5, 5, 16))
    >>> trav = np.full(5, 0.02)
    >>> G0 = rng.standard_normal((5, 16))
    >>> kw = dict(iter_lim=4, atol=0, btol=0)
    >>> fm, fp = Marchenko(R, dt=0.004, nsmooth=0).apply_onepoint(trav, G0, **kw)
    >>> rm, rp = pylops.waveeqprocessing.Marchenko(R, dt=0.004, nsmooth=0).apply_onepoint(
    ...     trav, G0, **kw)
    >>> np.allclose(fm.compute(), rm) and np.allclose(fp.compute(), rp)
    True
    """

    def __init__(self, R, dt=0.004, nt=None, dr=1.0, nfmax=None, wav=None, toff=0.0,
                 nsmooth=10, saveRt=True, prescaled=False, fftengine="numpy",
                 dtype="float64", kwargs_fft=None, chunks=None):
        if getattr(R, "ndim", None) != 3:
            raise ValueError(f"Marchenko: R must be a 3-D array (ns, nr, nt or nfmax), got "
                             f"shape {getattr(R, 'shape', None)}")
        self.dt, self.dr, self.wav, self.toff, self.nsmooth = dt, dr, wav, toff, nsmooth
        self.saveRt, self.prescaled, self.fftengine = saveRt, prescaled, fftengine
        self.dtype = np.dtype(dtype)
        self.kwargs_fft = {} if kwargs_fft is None else dict(kwargs_fft)
        self.ns, self.nr = (int(n) for n in R.shape[:2])
        if self.ns != self.nr:
            raise ValueError(f"Marchenko: R must have as many sources as receivers (the "
                             f"focusing functions live on both), got ns={self.ns}, "
                             f"nr={self.nr}")
        frequency = np.iscomplexobj(np.empty(0, R.dtype))
        if frequency and nt is None:
            raise ValueError("nt must be provided as R is in frequency")
        self.nt = int(nt) if frequency else int(R.shape[2])
        self.nt2 = 2 * self.nt - 1
        self.t = np.arange(self.nt) * self.dt
        nfmax_allowed = int(np.ceil((self.nt2 + 1) / 2))
        if frequency:
            self.nfmax = int(R.shape[2])
            if self.nfmax > nfmax_allowed:
                raise ValueError(f"Marchenko: R has {self.nfmax} frequencies, more than the "
                                 f"{nfmax_allowed} of a real FFT of 2*nt-1={self.nt2} samples")
            Rf = source_blocks(R.transpose(2, 0, 1), chunks)
        else:
            if nfmax is None or nfmax > nfmax_allowed:
                nfmax = nfmax_allowed
                logger.warning("nfmax set equal to (nt+1)/2=%d", nfmax)
            self.nfmax = int(nfmax)
            xp = da if isinstance(R, da.Array) else get_array_module(R)
            R = xp.concatenate((xp.zeros((self.ns, self.nr, self.nt - 1), dtype=R.dtype), R),
                               axis=-1)
            Rf = rfft_kernel(R, self.nt2, self.nfmax, chunks)
            Rf = Rf / Rf.real.dtype.type(np.sqrt(self.nt2))
        Rf = Rf.persist()  # computed once (and sent once to a cluster), read at every step
        self.Rtwosided_fft = Rf
        self._gpu = is_cupy(R)

    def apply_onepoint(self, trav, G0=None, nfft=None, rtm=False, greens=False,
                       dottest=False, usematmul=False, **kwargs_solver):
        r"""Marchenko redatuming for one point (PyLops' ``apply_onepoint``).

        Parameters
        ----------
        trav : numpy.ndarray
            Traveltime of the direct arrival from the point to the receivers, :math:`[n_r]`.
        G0 : numpy.ndarray, optional
            Direct arrival in time, :math:`[n_r \times n_t]` (default: made from ``trav``,
            ``wav`` and ``nfft`` with :func:`directwave`).
        nfft : int, optional
            FFT length used to make the direct arrival.
        rtm, greens : bool, optional
            Also return the single-scattering redatuming / the Green's functions.
        dottest : bool, optional
            Dot-test the operators first (``ValueError`` if one fails).
        usematmul : bool, optional
            As PyLops (batched matrix products in the MDC).
        **kwargs_solver
            Passed to our :func:`~pylops_distributed.optimization.lsqr` (SciPy's
            ``iter_lim``, ``atol``, ``btol``, ``damp``...; SciPy's defaults otherwise), or to
            :func:`~pylops_distributed.optimization.cgls` on CuPy data.

        Returns
        -------
        f1_inv_minus, f1_inv_plus[, p0_minus][, g_inv_minus, g_inv_plus] : dask.array.Array
            Focusing functions (and single-scattering redatuming, Green's functions), each
            :math:`[n_r \times n_t2]` (:math:`n_t2 = 2 n_t - 1`), as PyLops.
        """
        trav = np.asarray(trav).reshape(-1)
        if G0 is not None:
            if tuple(G0.shape) != (self.nr, self.nt):
                raise ValueError(f"Marchenko: G0 must have shape (nr, nt)=({self.nr}, "
                                 f"{self.nt}), got {tuple(G0.shape)}")
            G0 = G0[:, None, :]
        out = self._apply(trav[:, None], G0, nfft, rtm, greens, dottest, usematmul,
                          kwargs_solver)
        return tuple(o[:, 0] for o in out)

    def apply_multiplepoints(self, trav, G0=None, nfft=None, rtm=False, greens=False,
                             dottest=False, usematmul=False, **kwargs_solver):
        r"""Marchenko redatuming for several points at once (PyLops'
        ``apply_multiplepoints``).

        Parameters
        ----------
        trav : numpy.ndarray
            Traveltimes of the direct arrivals, :math:`[n_r \times n_{vs}]`.
        G0 : numpy.ndarray, optional
            Direct arrivals in time, :math:`[n_r \times n_{vs} \times n_t]`.
        nfft, rtm, greens, dottest, usematmul, **kwargs_solver
            As :meth:`apply_onepoint`.

        Returns
        -------
        f1_inv_minus, f1_inv_plus[, p0_minus][, g_inv_minus, g_inv_plus] : dask.array.Array
            Each :math:`[n_r \times n_{vs} \times n_t2]`, as PyLops.
        """
        trav = np.asarray(trav)
        if trav.ndim != 2:
            raise ValueError(f"Marchenko: trav must have shape (nr, nvs), got {trav.shape}")
        if G0 is not None and tuple(G0.shape) != (self.nr, trav.shape[1], self.nt):
            raise ValueError(f"Marchenko: G0 must have shape (nr, nvs, nt)=({self.nr}, "
                             f"{trav.shape[1]}, {self.nt}), got {tuple(G0.shape)}")
        return self._apply(trav, G0, nfft, rtm, greens, dottest, usematmul, kwargs_solver)

    def _window(self, trav):
        """PyLops' window: ones before the direct arrival (minus ``toff``), mirrored to
        negative times, smoothed; shape (nr, nvs, nt2)."""
        nvs = trav.shape[1]
        it = np.round((trav - self.toff) / self.dt).astype(int)
        w = np.zeros((self.nr, nvs, self.nt), dtype=self.dtype)
        for ir in range(self.nr):
            for ivs in range(nvs):
                w[ir, ivs, : it[ir, ivs]] = 1
        w = np.concatenate((np.flip(w, axis=-1), w[:, :, 1:]), axis=-1)
        if self.nsmooth > 0:
            smooth = np.ones(self.nsmooth, dtype=self.dtype) / self.nsmooth
            w = filtfilt(smooth, 1, w)
        return w

    def _direct(self, trav, nfft):
        if self.wav is None or nfft is None:
            raise ValueError("wav and/or nfft are not provided. Provide either G0 or wav and "
                             "nfft...")
        G0 = np.zeros((self.nr, trav.shape[1], self.nt), dtype=self.dtype)
        for ivs in range(trav.shape[1]):
            G0[:, ivs] = directwave(self.wav, trav[:, ivs], self.nt, self.dt, nfft=nfft,
                                    derivative=True).astype(self.dtype).T
        return G0

    def _apply(self, trav, G0, nfft, rtm, greens, dottest, usematmul, kwargs_solver):
        nr, ns, nt, nt2 = self.nr, self.ns, self.nt, self.nt2
        nvs = trav.shape[1]
        if trav.shape[0] != nr:
            raise ValueError(f"Marchenko: trav must have nr={nr} rows, got {trav.shape[0]}")
        if G0 is None:
            G0 = self._direct(trav, nfft)
        xp = get_array_module(self.Rtwosided_fft)
        w = xp.asarray(self._window(trav).transpose(2, 0, 1).astype(self.dtype))
        kw = dict(dt=self.dt, dr=self.dr, twosided=True, fftengine=self.fftengine,
                  saveGt=self.saveRt, prescaled=self.prescaled, usematmul=usematmul,
                  **self.kwargs_fft)
        Rop = MDC(self.Rtwosided_fft, nt2, nv=nvs, conj=False, **kw)
        R1op = MDC(self.Rtwosided_fft, nt2, nv=nvs, conj=True, **kw)
        Rollop = Roll((nt2, ns, nvs), axis=0, shift=-1, dtype=self.dtype)
        # every block on the MDC's (time, receivers, virtual sources) shape (no reshapes)
        Wop = Diagonal(w, dtype=self.dtype)
        Iop = Identity((nt2, nr, nvs), dtype=self.dtype)
        # PyLops' Block([[I, -W R], [-W Roll R1, I]]) * BlockDiag([W, W]), multiplied out
        Mop = Block([[Wop, -1 * Wop * Rop * Wop], [-1 * Wop * Rollop * R1op * Wop, Wop]],
                    dtype=self.dtype)
        Gop = Block([[Iop, -1 * Rop], [-1 * Rollop * R1op, Iop]], dtype=self.dtype)
        if dottest:
            Dottest(Gop, 2 * ns * nvs * nt2, 2 * nr * nvs * nt2, raiseerror=True, verb=True)
            Dottest(Mop, 2 * ns * nvs * nt2, 2 * nr * nvs * nt2, raiseerror=True, verb=True)

        # the initial focusing function: the time-reversed direct arrival at positive times
        G0 = xp.asarray(G0, dtype=self.dtype)
        fd_plus = xp.concatenate((xp.flip(G0, axis=-1).transpose(2, 0, 1),
                                  xp.zeros((nt - 1, nr, nvs), dtype=self.dtype)))
        fd = da.from_array(fd_plus, chunks=(-1, Rop.G.chunks[2], -1), asarray=False)
        p0 = (Rop @ fd).persist()  # once: the data and the rtm image
        d = StackedArray([Wop @ p0, da.zeros_like(p0)])  # the blocks of Mop's data
        solver = cgls if self._gpu else lsqr
        f1_inv = run_solver(solver, Mop, d, kwargs_solver, "Marchenko")[0]
        f1_inv_tot = f1_inv.ravel().astype(self.dtype, copy=False) + da.concatenate(
            (da.zeros_like(fd).ravel(), fd.ravel()))
        f1_inv_tot = f1_inv_tot.persist()
        f = f1_inv_tot.reshape(2, nt2, nr, nvs)
        out = [f[0].transpose(1, 2, 0), f[1].transpose(1, 2, 0)]
        if rtm:
            out.append(p0.reshape(nt2, ns, nvs).transpose(1, 2, 0))
        if greens:
            g = (Gop @ f1_inv_tot).ravel().reshape(2, nt2, ns, nvs).persist()
            out += [-g[0].transpose(1, 2, 0), da.flip(g[1], axis=0).transpose(1, 2, 0)]
        return tuple(out)
