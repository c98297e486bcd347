"""Pressure to velocity conversion, up/down composition and wavefield decomposition
(PyLops' ``pylops.waveeqprocessing.wavedecomposition``), distributed over frequencies."""

import functools
import types

import dask.array as da
import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import as_dask
from pylops_distributed.basicoperators.blockdiag import BlockDiag
from pylops_distributed.basicoperators.diagonal import Diagonal
from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.signalprocessing.fft import FFT
from pylops_distributed.signalprocessing.fftnd import FFTND
from pylops_distributed.utils.dottest import dottest as Dottest
from pylops_distributed.waveeqprocessing._solve import run_solver
from pylops_distributed.waveeqprocessing._staged import Layout, Staged

__all__ = ["PressureToVelocity", "UpDownComposition2D", "UpDownComposition3D",
           "WavefieldDecomposition"]


def _nffts(nt, nr, nffts):
    """PyLops' FFT lengths: per spatial axis then time, ``None`` meaning the axis' length."""
    sizes = (nr,) if np.ndim(nr) == 0 else tuple(nr)
    sizes = tuple(int(n) for n in sizes) + (int(nt),)
    nffts = tuple(nffts) + (None,) * max(0, len(sizes) - len(nffts))
    return tuple(int(f) if f is not None else n for f, n in zip(nffts, sizes))


def _obliquity(nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, composition, dtype):
    r"""PyLops' obliquity factor on the :math:`(k_x[, k_y], f)` grid, of shape ``nffts``:
    :math:`k_z / (\rho |f|)` for composition, :math:`\rho |f| / k_z` for decomposition, with
    :math:`k_z = \sqrt{(f/v)^2 - |k|^2}`, cut beyond ``critical`` percent of the critical angle
    and smoothed by a forward-backward box filter of ``ntaper`` samples along every axis."""
    from scipy.signal import filtfilt

    sampling = ((dr,) if np.ndim(nr) == 0 else tuple(dr)) + (dt,)
    axes = [np.fft.fftfreq(n, d) for n, d in zip(nffts, sampling)]
    grid = np.meshgrid(*axes, indexing="ij")
    F, K = grid[-1], grid[:-1]
    k2 = sum(k ** 2 for k in K)
    Kz = np.sqrt(((F / vel) ** 2 - k2).astype(dtype))
    Kz[np.isnan(Kz)] = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if composition:
            obl = Kz / (rho * np.abs(F))
            obl[F == 0] = 0
        else:
            obl = rho * (np.abs(F) / Kz)
            obl[Kz == 0] = 0
    obl = obl * (np.sqrt(k2) < (critical / 100.0) * np.abs(F) / vel)
    box = np.ones(ntaper) / float(ntaper)
    for axis in range(obl.ndim):
        obl = filtfilt(box, 1, obl, axis=axis)
    return obl


def _spatial_fft(dims, nffts, dtype, engine):
    """Our FFT over the spatial axes (all axes but the last) of ``dims``."""
    if len(dims) == 2:
        return FFT(dims, axis=0, nfft=nffts[0], dtype=dtype)
    return FFTND(dims, axes=(0, 1), nffts=nffts[:2], dtype=dtype, engine=engine)


class PressureToVelocity(Staged):
    r"""Pressure to vertical velocity conversion (PyLops' ``PressureToVelocity``), or back
    with ``topressure=True``:
    :math:`\mathbf{F}^H \mathrm{diag}(\mathbf{OBL}) \mathbf{F}` with :math:`\mathbf{F}` the
    2-D (3-D) Fourier transform over receivers and time.

    Model and data of shape :math:`[n_r \times n_t]` (or :math:`[n_{r_x} \times n_{r_y}
    \times n_t]` for a tuple ``nr``).

    Parameters
    ----------
    nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, topressure, dtype
        As PyLops.
    backend : str, optional
        Accepted for PyLops compatibility (chunks run on their own module).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The Fourier transform is separable: a time FFT on blocks holding time whole (split
    along receivers), then **frequencies**: one task per block of frequencies holding the
    receivers whole (spatial FFT, obliquity factor, inverse), then the inverse time FFT. The
    frequencies are cut in as many blocks as the input has chunks. One all-to-all exchange
    between stages; no fused chunk kernel (solvers use their dask.array backend).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import PressureToVelocity
    >>> args = (40, 32, 0.004, 10.0, 1000.0, 1500.0)
    >>> Op = PressureToVelocity(*args)
    >>> x = np.random.default_rng(0).standard_normal((32, 40))
    >>> y = Op @ da.from_array(x, chunks=(16, 40))        # 2 frequency blocks
    >>> POp = pylops.waveeqprocessing.PressureToVelocity(*args)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, nt, nr, dt, dr, rho, vel, nffts=(None, None, None), critical=100.0,
                 ntaper=10, topressure=False, backend="numpy", dtype="complex128", name="P",
                 chunks=None):
        nffts = _nffts(nt, nr, nffts)
        dims = ((int(nr),) if np.ndim(nr) == 0 else tuple(int(n) for n in nr)) + (int(nt),)
        self.nffts = nffts
        self.OBL = _obliquity(nt, nr, dt, dr, rho, vel, nffts, critical, ntaper,
                              not topressure, dtype)
        Ft = FFT(dims, axis=-1, nfft=nffts[-1], sampling=dt, dtype=dtype)
        # the spatial FFT acts on the time FFT's complex output, whatever ``dtype`` is (a
        # real-dtype FFT would drop its imaginary part)
        cdtype = np.result_type(dtype, np.complex64)
        Fx = _spatial_fft(dims[:-1] + (nffts[-1],), nffts, cdtype, "scipy")
        middle = Fx.H @ Diagonal(self.OBL.astype(dtype, copy=False), dtype=dtype) @ Fx
        t, space = len(dims) - 1, tuple(range(len(dims) - 1))
        stages = [(Ft, Layout((t,), 0)), (middle, Layout(space, t)), (Ft.H, Layout((t,), 0))]
        super().__init__(stages, tuple(range(len(dims))), dtype=dtype, name=name,
                         chunks=chunks)


def _build_updown(dims, OBL, *, xp, nffts, scaling, dtype, engine):
    """PyLops' up/down composition on a block ``(2, nr..., nf)`` of frequencies (the time
    FFT done): ``BlockDiag([Fx^H, s Fx^H]) Block([[I, I], [OBL, -OBL]]) BlockDiag([Fx, Fx])``
    with ``Fx`` the spatial FFT and ``OBL`` cut to the block."""
    import pylops

    half = tuple(dims[1:])
    if len(half) == 2:
        Fx = pylops.signalprocessing.FFT(half, axis=0, nfft=nffts[0], dtype=dtype)
    else:
        Fx = pylops.signalprocessing.FFTND(half, axes=(0, 1), nffts=nffts[:2], dtype=dtype,
                                           engine=engine)
    n = int(np.prod(Fx.dimsd))
    Iop = pylops.Identity(n, dtype=dtype)
    Dop = pylops.Diagonal(xp.asarray(OBL).ravel(), dtype=dtype)
    return (pylops.BlockDiag([Fx.H, scaling * Fx.H])
            * pylops.Block([[Iop, Iop], [Dop, -Dop]])
            * pylops.BlockDiag([Fx, Fx]))


class _UpDownMiddle(AlongAxes):
    """The frequency stage of :class:`UpDownComposition2D`/``3D``: PyLops' operator on each
    block of frequencies, the halves and receivers whole."""

    def __init__(self, dims, OBL, nffts, scaling, dtype, engine):
        build = functools.partial(_build_updown, nffts=nffts, scaling=scaling, dtype=dtype,
                                  engine=engine)
        t = len(dims) - 1
        full = types.SimpleNamespace(dimsd=tuple(dims), dtype=np.dtype(dtype),
                                     shape=(int(np.prod(dims)),) * 2)
        self._setup(dims, build, tuple(range(t)), dtype=dtype, name="UDf", chunks=None,
                    operands=((OBL, (None,) * (t - 1) + (t,)),), full=full)


class _UpDown(Staged):
    def __init__(self, nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, scaling, fftengine,
                 dtype, name, chunks):
        nffts = _nffts(nt, nr, nffts)
        half = ((int(nr),) if np.ndim(nr) == 0 else tuple(int(n) for n in nr)) + (int(nt),)
        dims = (2,) + half
        self.nffts, self.scaling = nffts, scaling
        self.OBL = _obliquity(nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, True, dtype)
        t = len(dims) - 1
        Ft = FFT(dims, axis=-1, nfft=nffts[-1], sampling=dt, dtype=dtype)
        middle = _UpDownMiddle(dims[:-1] + (nffts[-1],), self.OBL, nffts, scaling, dtype,
                               fftengine)
        stages = [(Ft, Layout((0, t), 1)), (middle, Layout(tuple(range(t)), t)),
                  (Ft.H, Layout((0, t), 1))]
        super().__init__(stages, tuple(range(1, len(dims))), dtype=dtype, name=name,
                         chunks=chunks)


_UPDOWN_NOTES = r"""
    Model :math:`[\mathbf{p}^+; \mathbf{p}^-]` and data :math:`[\mathbf{p};
    \mathbf{v}_z]` of shape :math:`[2 \times n_r \times n_t]` (3-D: :math:`[2 \times
    n_{r_x} \times n_{r_y} \times n_t]`), as PyLops.
"""


class UpDownComposition2D(_UpDown):
    r"""2-D up-down wavefield composition (PyLops' ``UpDownComposition2D``).

    .. math::
        \begin{bmatrix} \mathbf{p} \\ s\mathbf{v}_z \end{bmatrix} =
        \begin{bmatrix} \mathbf{F}^H & \mathbf{0} \\ \mathbf{0} & s\mathbf{F}^H
        \end{bmatrix}
        \begin{bmatrix} \mathbf{I} & \mathbf{I} \\ \mathbf{W}^+ & \mathbf{W}^- \end{bmatrix}
        \begin{bmatrix} \mathbf{F} & \mathbf{0} \\ \mathbf{0} & \mathbf{F} \end{bmatrix}
        \begin{bmatrix} \mathbf{p}^+ \\ \mathbf{p}^- \end{bmatrix}

    Model and data of shape :math:`[2 \times n_r \times n_t]`, as PyLops.

    Parameters
    ----------
    nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, scaling, dtype
        As PyLops.
    backend : str, optional
        Accepted for PyLops compatibility.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    A time FFT on blocks holding time whole (split along receivers), then **frequencies**:
    one task per block of frequencies holding both halves and the receivers whole (PyLops'
    own spatial FFTs and obliquity blocks, with the obliquity factor cut to the block), then
    the inverse time FFT. The frequencies are cut in as many blocks as the input has chunks
    along receivers and time. No fused chunk kernel (solvers use their dask.array backend).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import UpDownComposition2D
    >>> args = (40, 32, 0.004, 10.0, 1000.0, 1500.0)
    >>> Op = UpDownComposition2D(*args)
    >>> x = np.random.default_rng(0).standard_normal((2, 32, 40))
    >>> y = Op @ da.from_array(x, chunks=(2, 16, 40))
    >>> POp = pylops.waveeqprocessing.UpDownComposition2D(*args)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, nt, nr, dt, dr, rho, vel, nffts=(None, None), critical=100.0,
                 ntaper=10, scaling=1.0, backend="numpy", dtype="complex128", name="U",
                 chunks=None):
        super().__init__(nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, scaling, "scipy",
                         dtype, name, chunks)


class UpDownComposition3D(_UpDown):
    r"""3-D up-down wavefield composition (PyLops' ``UpDownComposition3D``): as
    :class:`UpDownComposition2D` with two receiver axes, model and data of shape
    :math:`[2 \times n_{r_x} \times n_{r_y} \times n_t]`.

    Parameters
    ----------
    nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, scaling, fftengine, dtype
        As PyLops (``nr`` and ``dr`` pairs).
    backend : str, optional
        Accepted for PyLops compatibility.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    As :class:`UpDownComposition2D`: one task per block of frequencies holding both halves
    and both receiver axes whole, between the time FFT and its inverse.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import UpDownComposition3D
    >>> args = (20, (12, 11), 0.004, (10.0, 10.0), 1000.0, 1500.0)
    >>> Op = UpDownComposition3D(*args, ntaper=3)
    >>> x = np.random.default_rng(0).standard_normal((2, 12, 11, 20))
    >>> y = Op @ da.from_array(x, chunks=(2, 6, 11, 20))
    >>> POp = pylops.waveeqprocessing.UpDownComposition3D(*args, ntaper=3)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, nt, nr, dt, dr, rho, vel, nffts=(None, None, None), critical=100.0,
                 ntaper=10, scaling=1.0, fftengine="scipy", backend="numpy",
                 dtype="complex128", name="U", chunks=None):
        super().__init__(nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, scaling,
                         fftengine, dtype, name, chunks)


def WavefieldDecomposition(p, vz, nt, nr, dt, dr, rho, vel, nffts=(None, None, None),
                           critical=100.0, ntaper=10, scaling=1.0, kind="inverse",
                           restriction=None, sptransf=None, solver=lsqr, dottest=False,
                           dtype="complex128", chunks=None, **kwargs_solver):
    r"""Up/down wavefield decomposition of pressure and vertical velocity (PyLops'
    ``WavefieldDecomposition``), with our operators and solvers.

    Parameters
    ----------
    p, vz : numpy.ndarray or dask.array.Array
        Pressure and vertical velocity, of shape :math:`[n_r \times n_t]` (or
        :math:`[n_{r_x} \times n_{r_y} \times n_t]`).
    nt, nr, dt, dr, rho, vel, nffts, critical, ntaper, scaling, kind, dottest, dtype
        As PyLops (``nffts`` entries left ``None`` are the axes' lengths, also for
        ``kind="analytical"``).
    restriction, sptransf : LinearOperator, optional
        Restriction (on the ``[2, nr..., nt]`` data) and sparsifying operators (ours, or
        PyLops' wrapped with :class:`~pylops_distributed.FromPyLops`).
    solver : callable, optional
        One of our solvers (default :func:`~pylops_distributed.optimization.lsqr`; SciPy's
        names ``iter_lim``/``maxiter`` understood, SciPy's defaults without them).
    chunks : optional
        Chunks used to wrap NumPy ``p`` and ``vz``.
    **kwargs_solver
        Passed to ``solver``.

    Returns
    -------
    pup, pdown : dask.array.Array
        Up- and down-going wavefields (lazy), of the shape of ``p``.

    Notes
    -----
    ``kind="analytical"``: :math:`p^\pm = (p \mp \mathbf{F}^H \mathbf{OBL}\,\mathbf{F}
    v_z)/2` with :class:`PressureToVelocity` (``topressure=True``); ``kind="inverse"``:
    :class:`UpDownComposition2D`/``3D`` inverted with ``solver``. Both are distributed over
    frequencies.

    Examples
    --------
    >>> import numpy as np, pylops
    >>> from pylops_distributed.waveeqprocessing import WavefieldDecomposition
    >>> rng = np.random.default_rng(0)
    >>> p, vz = rng.standard_normal((32, 40)), rng.standard_normal((32, 40))
    >>> args = (40, 32, 0.004, 10.0, 1000.0, 1500.0)
    >>> pup, pdown = WavefieldDecomposition(p, vz, *args, iter_lim=4, atol=0, btol=0)
    >>> ref = pylops.waveeqprocessing.WavefieldDecomposition(p, vz, *args, iter_lim=4,
    ...                                                      atol=0, btol=0)
    >>> np.allclose(pup.compute(), ref[0]), np.allclose(pdown.compute(), ref[1])
    (True, True)
    """
    if kind not in ("inverse", "analytical"):
        raise KeyError(f"kind must be either 'analytical' or 'inverse', got {kind}")
    half = ((int(nr),) if np.ndim(nr) == 0 else tuple(int(n) for n in nr)) + (int(nt),)
    for name, a in (("p", p), ("vz", vz)):
        if tuple(a.shape) != (half if restriction is None or kind == "analytical"
                              else tuple(p.shape)):
            raise ValueError(f"WavefieldDecomposition: {name} must have shape {half}, got "
                             f"{tuple(a.shape)}")
    p = as_dask(p, chunks, "WavefieldDecomposition: p")
    vz = as_dask(vz, chunks, "WavefieldDecomposition: vz")
    if kind == "analytical":
        Cop = PressureToVelocity(nt, nr, dt, dr, rho, vel, nffts=nffts, critical=critical,
                                 ntaper=ntaper, topressure=True, dtype=dtype)
        vz_obl = (Cop @ vz).real
        return (p - vz_obl) / 2, (p + vz_obl) / 2
    composition = UpDownComposition2D if len(half) == 2 else UpDownComposition3D
    UDop = composition(nt, nr, dt, dr, rho, vel, nffts=nffts, critical=critical,
                       ntaper=ntaper, scaling=scaling, dtype=dtype)
    d = da.stack([p, scaling * vz])
    if restriction is not None:
        UDop = aslinearoperator(restriction) @ UDop
    Sop = None
    if sptransf is not None:
        sptransf = aslinearoperator(sptransf)
        Sop = BlockDiag([sptransf, sptransf])
        UDop = UDop @ Sop
        UDop.dtype = np.empty(0, UDop.dtype).real.dtype
    if dottest:
        Dottest(UDop, UDop.shape[0], UDop.shape[1], complexflag=2, verb=True)
    dud = run_solver(solver, UDop, d.ravel(), kwargs_solver, "WavefieldDecomposition")[0]
    dud = dud.real
    if Sop is not None:
        dud = Sop @ dud
    dud = dud.reshape((2,) + half)
    return dud[1], dud[0]
