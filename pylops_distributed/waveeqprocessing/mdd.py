"""MDC and MDD: multi-dimensional convolution and deconvolution, distributed over the blocks of
the kernel (PyLops' ``pylops.waveeqprocessing.mdd``)."""

import functools
import logging

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dask, get_array_module
from pylops_distributed._graph import new_token
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.kernels import ChunkKernel, NoChunkKernel, aligned, place
from pylops_distributed.optimization._runner import threads_available
from pylops_distributed.optimization.cgls import cgls
from pylops_distributed.optimization.leastsquares import preconditioned_inversion
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.signalprocessing.fft import FFT
from pylops_distributed.signalprocessing.fftnd import build_fft
from pylops_distributed.signalprocessing.fredholm1 import Fredholm1
from pylops_distributed.utils.dottest import dottest as Dottest
from pylops_distributed.waveeqprocessing._solve import run_solver
from pylops_distributed.waveeqprocessing._staged import Layout, Staged, even_chunks

__all__ = ["MDC", "MDD"]

logger = logging.getLogger(__name__)


class MDC(Staged):
    r"""Multi-dimensional convolution (PyLops' ``MDC``), distributed over the blocks of ``G``.

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
        its chunks set how the operator is distributed (see Notes).
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
        As PyLops (same results either way). Blocks of sources and receivers always run one
        batched ``matmul`` over their frequencies, the faster; frequency stages follow it.
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
    (time FFT, restriction to the first :math:`n_{f_\text{max}}` frequencies, a matrix
    product per frequency, zero padding, inverse FFT). How it is distributed follows the
    chunks of ``G``:

    - **by blocks of sources and receivers** (a dask ``G`` chunked along its sources or
      receivers, or an in-memory ``G``): one task per block of ``G``, which transforms its
      piece of the input along time, multiplies it by its block at every frequency and
      transforms the result back (SciPy's or CuPy's real FFTs; PyLops' FFT for another
      ``fftengine`` or ``kwargs_fft``). The data are chunked along
      sources like ``G`` (an in-memory ``G`` is cut in as many source blocks as there are
      threads when the operator is made); the model is read whole along time and receivers,
      and the contributions of the receiver blocks (the adjoint's source blocks) are summed
      by a tree, without an exchange. This is a chunk kernel, so products with other
      operators and the solvers fuse around it. A chunked ``G`` is never moved: the input is
      rechunked to its blocks (persist ``G`` on the cluster when it is applied many times).
    - **by frequencies** (a dask ``G`` chunked along frequency only, e.g. computed or stored
      frequency by frequency, larger than memory): in three stages, the time FFT on blocks
      split along receivers, one task per frequency block of ``G`` (reading only its
      frequencies), the inverse FFT on blocks split along sources, with an all-to-all between
      them. No chunk kernel: solvers run it on their dask.array backend. Rechunk ``G`` along
      sources (``G.rechunk((-1, n, -1))``) for the fused path.

    Model and data are real (as PyLops, whose real FFTs make the operator real).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.waveeqprocessing import MDC
    >>> rng = np.random.default_rng(0)
    >>> G = rng.standard_normal((6, 4, 5)) + 1j * rng.standard_normal((6, 4, 5))
    >>> Op = MDC(da.from_array(G, chunks=(6, 2, 5)), nt=11, nv=3, dt=0.004)
    >>> x = rng.standard_normal((11, 5, 3))
    >>> y = Op @ da.from_array(x, chunks=(11, 5, 3))    # 2 source blocks of G: 2 tasks
    >>> y.chunks[1]
    (2, 2)
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
        by_frequency = isinstance(G, da.Array) and G.numblocks[0] > 1 \
            and G.numblocks[1] == G.numblocks[2] == 1
        self._by_frequency = by_frequency
        self._src_chunks = G.chunks[1] if isinstance(G, da.Array) \
            else even_chunks(ns, threads_available())
        self._fft_kw = dict(engine=fftengine, **kwargs_fft)
        self._token = new_token()
        self._scale = 1.0 if prescaled else float(dr * dt * np.sqrt(nt))
        stages = [(self.Fop, Layout((0,), 1)),
                  (middle, _FreqLayout(fchunks, nfmax, nfft)),
                  (self.F1op.H, Layout((0,), 1))]
        super().__init__(stages, (0, 1), dtype=rdtype, name=name, chunks=chunks, real=True,
                         pieces=None if fchunks is None else len(fchunks), clinear=False)

    def _kernel(self, adjoint):
        if self._by_frequency:
            raise NoChunkKernel(f"{self.label}: G is chunked along frequency only; applied in "
                                "stages (time FFT, frequency blocks, inverse FFT) with an "
                                "all-to-all between them")
        G = self.G
        n_in, n_out = (self.ns, self.nr) if adjoint else (self.nr, self.ns)
        dims_in, dims_out = (self.nt, n_in, self.nv), (self.nt, n_out, self.nv)
        lazy = isinstance(G, da.Array)
        rows_in = (G.chunks[1] if adjoint else G.chunks[2]) if lazy else None
        rows_out = (G.chunks[2] if adjoint else G.chunks[1]) if lazy \
            else ((self.nr,) if adjoint else self._src_chunks)
        g_axes = (None, ("in", 1), ("out", 1)) if adjoint else (None, ("out", 1), ("in", 1))
        return ChunkKernel(
            _mdc_kernel, dims_in, dims_out, name="mdc",
            token=f"{self._token}-{int(adjoint)}", dtype=self.dtype,
            params=dict(adjoint=adjoint, nt=self.nt, twosided=self.twosided, conj=self.conj_,
                        scale=self._scale, nfft=self.nfft,
                        fft=self._fft_kw),
            region=functools.partial(_mdc_region, self.nt, n_in),
            chunks=functools.partial(_mdc_chunks, self.nt, rows_out),
            in_chunks=functools.partial(_mdc_chunks, self.nt, rows_in),
            axes=(None, None, 2), operands=[aligned(G, g_axes)], whole=(0,), additive=True)


def _mdc_region(nt, n_in, start, stop):
    """Input box of an MDC output box: time and the contracted axis whole."""
    return (0, 0, start[2]), (nt, n_in, stop[2])


def _mdc_chunks(nt, rows, chunks):
    """Time whole, axis 1 in ``rows`` (as they come when None), the virtual sources as they
    come."""
    return ((nt,), tuple(chunks[1]) if rows is None else tuple(rows), tuple(chunks[2]))


def _mdc_kernel(x, G, *, where, dtype, adjoint, nt, twosided, conj, scale, nfft, fft):
    """MDC (its adjoint) of one block: ``x`` holds the model's receivers (the data's sources)
    of ``G``'s block, maybe a piece of the whole box (the rest taken as zero); the output is
    this piece's contribution on the output box."""
    xp = get_array_module(x)
    if xp.iscomplexobj(x):  # a real operator: on both parts (PyLops drops the imaginary one)
        kw = dict(where=where, dtype=dtype, adjoint=adjoint, nt=nt, twosided=twosided,
                  conj=conj, scale=scale, nfft=nfft, fft=fft)
        return _mdc_kernel(x.real, G, **kw) + 1j * _mdc_kernel(x.imag, G, **kw)
    n_in, nv = x.shape[1], x.shape[2]
    if where.origin[0] != 0 or x.shape[0] != nt:  # a piece along time
        x = place(x, (where.origin[0], 0, 0), (0, 0, 0), (nt, n_in, nv), x.dtype)
    nfmax = G.shape[0]
    n_out = G.shape[2] if adjoint else G.shape[1]
    rdtype = np.empty(0, dtype).real.dtype
    X = _rfft(x.astype(rdtype, copy=False), nfmax, twosided and not adjoint, fft)
    if conj:
        X = X.conj()
    # one batched product whatever usematmul (same maths as PyLops' loop, and faster)
    if adjoint:  # (X^H G)^H: no conjugated copy of G
        Y = xp.matmul(X.conj().transpose(0, 2, 1), G).conj().transpose(0, 2, 1)
    else:
        Y = xp.matmul(G, X)
    if conj:
        Y = Y.conj()
    y = _irfft(Y, nt, nfft, (nt, n_out, nv), twosided and adjoint, fft)
    if scale != 1.0:
        y *= rdtype.type(scale)
    return y[where.start[0]:where.stop[0]].astype(dtype, copy=False)


def _plain_fft(fft):
    """Whether the FFTs are PyLops' defaults (then run directly with SciPy or CuPy)."""
    return set(fft) == {"engine"} and fft["engine"] in ("numpy", "scipy")


def _fft_module(x):
    if get_array_module(x) is np:
        import scipy.fft

        return scipy.fft
    return get_array_module(x).fft


def _rfft(x, nfmax, shift, fft):
    """The first ``nfmax`` frequencies of PyLops' real FFT along axis 0 (ifftshifted first
    with ``shift``), without PyLops' sqrt(2) weights: they cancel against those of the
    inverse transform of the other side, which :func:`_irfft` leaves out too."""
    if not _plain_fft(fft):
        op = build_fft(x.shape, xp=get_array_module(x), kind="FFT", axis=0, real=True,
                       ifftshift_before=shift, dtype=x.dtype, **fft)
        X = op.matvec(x.ravel()).reshape((op.nfft // 2 + 1,) + x.shape[1:])[:nfmax]
        X[1:1 + (op.nfft - 1) // 2] /= np.sqrt(2)
        return X
    mod = _fft_module(x)
    if shift:
        x = mod.ifftshift(x, axes=0)
    return mod.rfft(x, axis=0, norm="ortho")[:nfmax]


def _irfft(Y, nt, nfft, shape, shift, fft):
    """The adjoint of :func:`_rfft` (its frequencies beyond ``Y``'s taken as zero)."""
    if not _plain_fft(fft):
        xp = get_array_module(Y)
        op = build_fft(shape, xp=xp, kind="FFT", axis=0, real=True, ifftshift_before=shift,
                       dtype=Y.real.dtype, **fft)
        Z = xp.zeros((nfft,) + shape[1:], dtype=op.cdtype)
        Z[:Y.shape[0]] = Y
        Z[1:1 + (nt - 1) // 2] *= np.sqrt(2)
        y = op.rmatvec(Z.ravel()).reshape(shape)
        return y.real if xp.iscomplexobj(y) else y
    mod = _fft_module(Y)
    y = mod.irfft(Y, n=nt, axis=0, norm="ortho")
    return mod.fftshift(y, axes=0) if shift else y


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
    PyLops, as a lazy dask array in source blocks (see :func:`source_blocks`): a dask ``G``
    keeps its chunks along sources and receivers."""
    if isinstance(G, da.Array):
        G = G.rechunk({2: -1})
        Gf = da.moveaxis(da.fft.rfft(G, n=nt2, axis=-1)[..., :nfmax], -1, 0)
    else:
        Gf = np.moveaxis(np.fft.rfft(G, nt2, axis=-1)[..., :nfmax], -1, 0)
    return source_blocks(Gf, chunks)


def source_blocks(Gf, chunks=None):
    """The kernel in frequency, (nfmax, ns, nr), as a dask array with frequencies whole and
    ``chunks`` along sources (an int: sources per block, or their lengths); by default its own
    chunks along sources and receivers when it has several, else as many source blocks as
    there are threads (the connected cluster's, or the local scheduler's). So :class:`MDC`
    runs one task per block (see its notes)."""
    lazy = isinstance(Gf, da.Array)
    if chunks is None and lazy and Gf.numblocks[1] * Gf.numblocks[2] > 1:
        return Gf.rechunk({0: -1})
    if chunks is None:
        chunks = even_chunks(Gf.shape[1], threads_available())
    if lazy:
        return Gf.rechunk((-1, chunks, -1))
    return da.from_array(Gf, chunks=(-1, chunks, -1), asarray=False, name=False)


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
        Source blocks of the kernel (an int: sources per block, or their lengths). Default: a
        dask ``G`` keeps its chunks along sources and receivers; a NumPy ``G`` gets as many
        source blocks as there are threads (the connected cluster's, or the local
        scheduler's).
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
    The kernel is brought to the frequency domain once and persisted (on the cluster when
    one is connected) in blocks of sources (and receivers), and the data is chunked like
    them; the problem is solved with :class:`MDC` (one task per block of the kernel, fused
    into the solver's iterations) and our LSQR/CGLS in place of SciPy's
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
    Gfft = rfft_kernel(G, nt2, nfmax, chunks).persist()  # computed once, not at every step
    d = da.moveaxis(as_dask(d, None, "MDD: d"), -1, 0)
    if d.ndim == 2:
        d = d[..., None]
    d = d.rechunk({0: -1, 1: Gfft.chunks[1]})  # the data's sources as the kernel's
    kw = dict(dt=dt, dr=dr, twosided=twosided, saveGt=saveGt, fftengine=fftengine)
    MDCop = MDC(Gfft, nt2, nv=nv, **kw)
    PSFop = MDC(Gfft, nt2, nv=nr, **kw) if psf else None
    if psf:
        Gt = da.moveaxis(as_dask(G, None, "MDD: G"), -1, 0).rechunk({0: -1, 1: Gfft.chunks[1]})
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
