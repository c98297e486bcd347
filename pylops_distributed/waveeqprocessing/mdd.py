"""MDC and MDD: multi-dimensional convolution and deconvolution, distributed over frequencies
(PyLops' ``pylops.waveeqprocessing.mdd``)."""

import functools
import logging

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dask
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.optimization.cgls import cgls
from pylops_distributed.optimization.leastsquares import preconditioned_inversion
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.signalprocessing.fft import FFT
from pylops_distributed.signalprocessing.fredholm1 import Fredholm1
from pylops_distributed.utils.dottest import dottest as Dottest
from pylops_distributed.waveeqprocessing._solve import run_solver
from pylops_distributed.waveeqprocessing._staged import Layout, Staged, even_chunks

__all__ = ["MDC", "MDD"]

logger = logging.getLogger(__name__)


class MDC(Staged):
    r"""Multi-dimensional convolution (PyLops' ``MDC``), distributed over frequencies.

    .. math::
        y(t, s, v) = \sqrt{n_t} \Delta t \Delta r\, \mathscr{F}^{-1} \Big( \sum_{i_r}
        G(f, s, i_r)\, \mathscr{F}(x(t, i_r, v)) \Big)

    Model of shape :math:`[n_t \times n_r \times n_v]`, data :math:`[n_t \times n_s \times
    n_v]`.

    Parameters
    ----------
    G : numpy.ndarray, cupy.ndarray or dask.array.Array
        Kernel in the frequency domain, of shape :math:`[n_{f_\text{max}} \times n_s \times
        n_r]`. A dask array is read piece by piece (it may live in zarr, larger than memory);
        its chunks along frequency set the frequency blocks.
    nt : int
        Number of time samples of model and data (odd when ``twosided=True``).
    nv : int
        Number of virtual sources.
    dt, dr : float, optional
        Time and receiver sampling (integration steps).
    twosided : bool, optional
        Model and data hold negative and positive times (``True``) or positive only.
    fftengine : str, optional
        FFT engine (as PyLops; see :class:`~pylops_distributed.signalprocessing.FFT`).
    saveGt : bool, optional
        Accepted as PyLops does (see :class:`~pylops_distributed.signalprocessing.Fredholm1`:
        no conjugated copy of ``G`` is made).
    conj : bool, optional
        Convolve with the complex conjugate of ``G`` (a correlation).
    usematmul : bool, optional
        ``numpy.matmul`` over the frequencies of a block (``True``) or a loop of ``numpy.dot``.
    prescaled : bool, optional
        ``G`` already carries :math:`\sqrt{n_t} \Delta t \Delta r` (``True``) or not.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to the FFT calls.

    Notes
    -----
    As PyLops, :math:`\mathbf{F}_t^H \mathbf{I}^H \mathbf{G} \mathbf{I} \mathbf{F}_t`
    (time FFT, restriction to the first :math:`n_{f_\text{max}}` frequencies, a batched matrix
    product per frequency, zero padding, inverse FFT), with our
    :class:`~pylops_distributed.signalprocessing.FFT`, :class:`~pylops_distributed.Identity`
    and :class:`~pylops_distributed.signalprocessing.Fredholm1`, applied in three stages:

    - the time FFT on blocks holding time whole, split along receivers (in as many pieces as
      there are frequency blocks);
    - **frequencies**: one task per chunk of ``G``'s frequency axis (per chunk of the virtual
      sources), which reads only its frequencies of ``G``; for a NumPy ``G`` the frequency
      axis is cut in as many blocks as the input has chunks along time and receivers;
    - the inverse time FFT on blocks split along sources.

    Between the stages, one all-to-all exchange (each task gathers its pencil). The virtual
    sources keep the input's chunks throughout. Applied on its own or in a product, the
    operator runs these stages; it has no fused chunk kernel (that would put every frequency,
    and all of ``G``, in every task), so solvers run it on their dask.array backend.
    Model and data are real (as PyLops, whose real FFTs make the operator real).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.waveeqprocessing import MDC
    >>> rng = np.random.default_rng(0)
    >>> G = rng.standard_normal((6, 4, 5)) + 1j * rng.standard_normal((6, 4, 5))
    >>> Op = MDC(da.from_array(G, chunks=(2, 4, 5)), nt=11, nv=3, dt=0.004)
    >>> x = rng.standard_normal((11, 5, 3))
    >>> y = Op @ da.from_array(x, chunks=(11, 5, 3))    # 3 frequency blocks of G
    >>> POp = pylops.waveeqprocessing.MDC(G, nt=11, nv=3, dt=0.004)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, G, nt, nv, dt=1.0, dr=1.0, twosided=True, fftengine="numpy",
                 saveGt=True, conj=False, usematmul=False, prescaled=False, name="M",
                 chunks=None, **kwargs_fft):
        if getattr(G, "ndim", None) != 3:
            raise ValueError(f"MDC: G must be a 3-D array (nfmax, ns, nr), got shape "
                             f"{getattr(G, 'shape', None)}")
        nt, nv = int(nt), int(nv)
        if twosided and nt % 2 == 0:
            raise ValueError(f"nt must be a odd number when twosided=True, got nt={nt}")
        nfmax, ns, nr = (int(n) for n in G.shape)
        nfft = int(np.ceil((nt + 1) / 2))
        if nfmax > nfft:
            raise ValueError(f"MDC: G has {nfmax} frequencies, more than the {nfft} of a real "
                             f"FFT of nt={nt} samples (PyLops' operator cannot compose either); "
                             f"pass G[:{nfft}]")
        cdtype = np.dtype(G.dtype)
        if not np.iscomplexobj(np.empty(0, cdtype)):
            cdtype = np.result_type(cdtype, np.complex64)
        rdtype = np.empty(0, cdtype).real.dtype
        self.G, self.nt, self.nv, self.dt, self.dr = G, nt, nv, dt, dr
        self.twosided, self.conj_, self.prescaled = twosided, conj, prescaled
        self.nfmax, self.ns, self.nr, self.nfft = nfmax, ns, nr, nfft

        Frop = Fredholm1(G, nz=nv, saveGt=saveGt, usematmul=usematmul, dtype=cdtype)
        if conj:
            Frop = Frop.conj()
        if not prescaled:
            Frop = Frop * rdtype.type(dr * dt * np.sqrt(nt))
        kw = dict(engine=fftengine, **kwargs_fft)
        self.Fop = FFT((nt, nr, nv), axis=0, real=True, ifftshift_before=twosided,
                       dtype=rdtype, **kw)
        self.F1op = FFT((nt, ns, nv), axis=0, real=True, ifftshift_before=False,
                        dtype=rdtype, **kw)
        self.Iop = Identity((nfmax, nr, nv), (nfft, nr, nv), dtype=cdtype)
        self.I1op = Identity((nfmax, ns, nv), (nfft, ns, nv), dtype=cdtype)
        self.Frop = Frop
        middle = self.I1op.H @ Frop @ self.Iop
        # frequency blocks: G's chunks (the last one holding the frequencies beyond nfmax)
        fchunks = None
        if isinstance(G, da.Array):
            fchunks = list(G.chunks[0])
            fchunks[-1] += nfft - nfmax
            fchunks = tuple(fchunks)
        self._fchunks = fchunks
        stages = [(self.Fop, Layout((0,), 1)),
                  (middle, _FreqLayout(fchunks, nfmax, nfft)),
                  (self.F1op.H, Layout((0,), 1))]
        super().__init__(stages, (0, 1), dtype=rdtype, name=name, chunks=chunks, real=True,
                         pieces=None if fchunks is None else len(fchunks), clinear=False)


class _FreqLayout(Layout):
    """The middle stage's input: frequency blocks (``G``'s, or as many as the input had
    blocks), the spatial axis whole."""

    def __init__(self, fchunks, nfmax, nfft):
        super().__init__((1,), 0, fchunks)
        self.nfmax, self.nfft = nfmax, nfft

    def target(self, x, k):
        out = [tuple(c) for c in x.chunks]
        out[1] = (x.shape[1],)
        if self.chunks is not None:
            out[0] = self.chunks
        else:
            f = list(even_chunks(self.nfmax, k))
            f[-1] += self.nfft - self.nfmax
            out[0] = tuple(f)
        return tuple(out)


def rfft_kernel(G, nt2, nfmax, chunks):
    """``G`` (ns, nr, nt) to the frequency domain, frequencies first: (nfmax, ns, nr), as
    PyLops; a dask ``G`` stays lazy, with frequency blocks ``chunks`` (default: as many as
    it had chunks along sources and receivers)."""
    if isinstance(G, da.Array):
        G = G.rechunk({2: -1})
        Gf = da.moveaxis(da.fft.rfft(G, n=nt2, axis=-1)[..., :nfmax], -1, 0)
        if chunks is None:
            chunks = even_chunks(Gf.shape[0], int(np.prod(G.numblocks[:2])))
        return Gf.rechunk((chunks, -1, -1))
    Gf = np.moveaxis(np.fft.rfft(G, nt2, axis=-1)[..., :nfmax], -1, 0)
    return Gf if chunks is None else da.from_array(Gf, chunks=(chunks, -1, -1))


def MDD(G, d, dt=0.004, dr=1.0, nfmax=None, wav=None, twosided=True, causality_precond=False,
        adjoint=False, psf=False, dottest=False, saveGt=True, add_negative=True,
        smooth_precond=0, fftengine="numpy", chunks=None, **kwargs_solver):
    r"""Multi-dimensional deconvolution (PyLops' ``MDD``) with our solvers.

    Parameters
    ----------
    G : numpy.ndarray or dask.array.Array
        Kernel in the time domain, :math:`[n_s \times n_r \times n_t]` (or :math:`2n_t-1`
        samples for ``twosided=True`` and ``add_negative=False``).
    d : numpy.ndarray or dask.array.Array
        Data in the time domain, :math:`[n_s \,(\times n_{vs}) \times n_t]` (or
        :math:`2n_t-1`).
    dt, dr : float, optional
        Time and receiver sampling.
    nfmax : int, optional
        Index of the maximum frequency kept.
    wav : numpy.ndarray, optional
        Wavelet convolved with the estimates (centred in its array).
    twosided, causality_precond, adjoint, psf, dottest
        As PyLops.
    saveGt, add_negative, smooth_precond, fftengine
        As PyLops.
    chunks : int or tuple, optional
        Frequency blocks of the kernel (an int: frequencies per block, or their lengths).
        Default: a dask ``G`` gets as many blocks as it has chunks along sources and
        receivers; a NumPy ``G`` stays in memory and :class:`MDC` cuts it in as many blocks as
        the data has chunks.
    **kwargs_solver
        Passed to our :func:`~pylops_distributed.optimization.lsqr` (SciPy's names
        ``iter_lim``/``maxiter`` are ``niter``; without them SciPy's defaults, as PyLops runs
        SciPy's lsqr), or to :func:`~pylops_distributed.optimization.cgls` when ``callback`` is
        given, or to :func:`~pylops_distributed.optimization.leastsquares.preconditioned_inversion`
        with ``causality_precond``.

    Returns
    -------
    minv[, madj][, psfinv][, psfadj] : dask.array.Array
        As PyLops (lazy dask arrays).

    Notes
    -----
    The kernel is brought to the frequency domain once (kept in memory for a NumPy ``G``,
    persisted on the cluster for a dask one), and the problem is solved with
    :class:`MDC` (distributed over frequencies) and our LSQR/CGLS in place of SciPy's
    ``lsqr``: iterations and stopping tests follow our solvers (tolerances checked every
    ``check_every`` iterations), so an estimate matches PyLops' for the same number of
    iterations of the same solver (``iter_lim=n, atol=0, btol=0``).

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops_distributed.waveeqprocessing import MDD
    >>> rng = np.random.default_rng(0)
    >>> G = rng.standard_normal((4, 3, 9))
    >>> m = rng.standard_normal((3, 2, 9))
    >>> Gf = np.moveaxis(np.fft.rfft(np.concatenate([np.zeros((4, 3, 8)), G], -1), 17, -1), -1, 0)
    >>> MOp = pylops.waveeqprocessing.MDC(Gf, 17, nv=2, dt=0.004)
    >>> d = MOp @ np.moveaxis(np.concatenate([np.zeros((3, 2, 8)), m], -1), -1, 0).ravel()
    >>> d = np.moveaxis(d.reshape(17, 4, 2), 0, -1)[..., 8:]
    >>> minv = MDD(G, d, dt=0.004, iter_lim=5, atol=0, btol=0)
    >>> ref = pylops.waveeqprocessing.MDD(G, d, dt=0.004, iter_lim=5, atol=0, btol=0)
    >>> np.allclose(minv.compute(), ref)
    True
    """
    ns, nr, nt = (int(n) for n in G.shape)
    if d.ndim not in (2, 3) or d.shape[0] != ns:
        raise ValueError(f"MDD: d must have shape (ns, [nv,] nt) with ns={ns}, got {d.shape}")
    nv = 1 if d.ndim == 2 else int(d.shape[1])
    if twosided:
        if add_negative:
            nt2 = 2 * nt - 1
        else:
            nt2 = nt
            nt = (nt2 + 1) // 2
        nfmax_allowed = int(np.ceil((nt2 + 1) / 2))
    else:
        nt2 = nt
        nfmax_allowed = nt
    if d.shape[-1] != (nt if twosided and add_negative else nt2):
        raise ValueError(f"MDD: d has {d.shape[-1]} time samples, G {G.shape[-1]}")
    if nfmax is None or nfmax > nfmax_allowed:
        nfmax = nfmax_allowed
        logger.warning("nfmax set equal to ceil[(nt+1)/2=%d]", nfmax)
    lazy = isinstance(G, da.Array)
    if twosided and add_negative:
        xp = da if lazy else np
        G = xp.concatenate((xp.zeros((ns, nr, nt - 1), dtype=G.dtype), G), axis=-1)
        dz = np.zeros((ns, nv, nt - 1) if d.ndim == 3 else (ns, nt - 1), dtype=d.dtype)
        d = da.concatenate((dz, d), axis=-1) if isinstance(d, da.Array) \
            else np.concatenate((dz, d), axis=-1)
    Gfft = rfft_kernel(G, nt2, nfmax, chunks)
    if isinstance(Gfft, da.Array):
        Gfft = Gfft.persist()  # computed once, not at every iteration
    d = da.moveaxis(as_dask(d, None, "MDD: d"), -1, 0)
    if d.ndim == 2:
        d = d[..., None]
    kw = dict(dt=dt, dr=dr, twosided=twosided, saveGt=saveGt, fftengine=fftengine)
    MDCop = MDC(Gfft, nt2, nv=nv, **kw)
    PSFop = MDC(Gfft, nt2, nv=nr, **kw) if psf else None
    if psf:
        Gt = da.moveaxis(as_dask(G, None, "MDD: G"), -1, 0)
    if dottest:
        Dottest(MDCop, nt2 * ns * nv, nt2 * nr * nv, verb=True)
        if psf:
            Dottest(PSFop, nt2 * ns * nr, nt2 * nr * nr, verb=True)

    def shaped(m, n):
        m = m.reshape(nt2, nr, n)
        if n == 1:
            m = m[..., 0]
        return da.moveaxis(m, 0, -1)

    out = []
    if twosided and causality_precond:
        P = np.ones((nt2, nr, nv))
        P[: nt - 1] = 0
        if smooth_precond > 0:
            from scipy.signal import filtfilt

            P = filtfilt(np.ones(smooth_precond) / smooth_precond, 1, P, axis=0)
        Pop = Diagonal(P.astype(MDCop.dtype))
        minv = preconditioned_inversion(MDCop, d, Pop, **kwargs_solver)[0]
    else:
        minv = _solve(MDCop, d, kwargs_solver)
    minv = _with_wavelet(shaped(minv, nv), wav)
    out.append(minv)
    if adjoint:
        out.append(shaped(MDCop.H @ d, nv))
    if psf:
        psfinv = _with_wavelet(shaped(_solve(PSFop, Gt, kwargs_solver, psf=True), nr), wav)
        out.append(psfinv)
        if adjoint:
            out.append(shaped(PSFop.H @ Gt, nr))
    if adjoint and psf:  # PyLops' order: minv, madj, psfinv, psfadj
        return out[0], out[1], out[2], out[3]
    return out[0] if len(out) == 1 else tuple(out)


def _solve(Op, y, kwargs_solver, psf=False):
    """PyLops' choice: SciPy's lsqr (here ours, with SciPy's names and defaults), CGLS when a
    callback is given (not for the PSF, as PyLops)."""
    solver = cgls if "callback" in kwargs_solver and not psf else lsqr
    return run_solver(solver, Op, y, kwargs_solver, "MDD")[0]


def _with_wavelet(m, wav):
    """``m`` convolved with ``wav`` along its last axis (``mode="same"``), as PyLops."""
    if wav is None:
        return m
    from scipy.signal import fftconvolve

    w = np.asarray(wav).reshape((1,) * (m.ndim - 1) + (-1,))
    m = m.rechunk({m.ndim - 1: -1})
    return m.map_blocks(functools.partial(fftconvolve, in2=w, mode="same"), dtype=m.dtype)
