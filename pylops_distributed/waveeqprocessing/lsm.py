"""Least-squares migration (PyLops' ``LSM``) with our Kirchhoff operator and solvers."""

from pylops_distributed.optimization.cg import cg
from pylops_distributed.optimization.cgls import cgls
from pylops_distributed.optimization.lsqr import lsqr
from pylops_distributed.utils.dottest import dottest as Dottest
from pylops_distributed.waveeqprocessing._solve import run_solver
from pylops_distributed.waveeqprocessing.kirchhoff import Kirchhoff

__all__ = ["LSM"]

_OURS = {"lsqr": lsqr, "cgls": cgls, "cg": cg}


class LSM:
    r"""Least-squares migration (PyLops' :class:`pylops.waveeqprocessing.LSM`): the
    reflectivity that explains the data through Kirchhoff demigration, with our solvers.

    Parameters
    ----------
    z, x, t, srcs, recs, vel, wav, wavcenter, y
        As PyLops'.
    kind : {"kirchhoff"}, optional
        Modelling operator: our :class:`~pylops_distributed.waveeqprocessing.Kirchhoff`,
        distributed over shots (PyLops' ``"twowayac"``, a Devito wave-equation solver, is not
        distributed: ``NotImplementedError``).
    dottest : bool, optional
        Run a dot test of the operator first (``ValueError`` if it fails).
    **kwargs_mod
        Arguments of :class:`~pylops_distributed.waveeqprocessing.Kirchhoff` (``mode``,
        ``dynamic``, ``shot_chunks``, ...).

    Attributes
    ----------
    Demop : Kirchhoff
        The demigration operator.

    Notes
    -----
    Each iteration applies the operator (one task per chunk of shots) and its adjoint (one
    partial image per chunk of shots, reduced by a tree): the shots never meet on one worker.

    Examples
    --------
    >>> import numpy as np, dask, pylops
    >>> from pylops_distributed.waveeqprocessing import LSM
    >>> from pylops_distributed.optimization import cgls
    >>> x, z, t = np.arange(20) * 10.0, np.arange(15) * 10.0, np.arange(60) * 0.004
    >>> srcs = np.vstack([np.linspace(0, 190, 4), np.zeros(4)])
    >>> recs = np.vstack([np.linspace(0, 190, 10), np.zeros(10)])
    >>> wav, _, wc = pylops.utils.wavelets.ricker(t[:21], f0=20)
    >>> lsm = LSM(z, x, t, srcs, recs, 1500.0, wav, wc, mode="analytic", shot_chunks=2)
    >>> m = np.zeros((20, 15)); m[10, 8] = 1.0
    >>> d = lsm.Demop @ m
    >>> with dask.config.set(scheduler="threads"):
    ...     minv = lsm.solve(d, solver=cgls, niter=30, tol=0)
    >>> minv.shape
    (20, 15)
    """

    def __init__(self, z, x, t, srcs, recs, vel, wav, wavcenter, y=None, kind="kirchhoff",
                 dottest=False, **kwargs_mod):
        if kind == "twowayac":
            raise NotImplementedError("LSM: kind='twowayac' (PyLops' Devito AcousticWave2D) is "
                                      "not distributed; use kind='kirchhoff'")
        if kind != "kirchhoff":
            raise ValueError(f"kind must be either 'kirchhoff' or 'twowayac', got {kind}")
        self.y, self.x, self.z = y, x, z
        self.Demop = Kirchhoff(z, x, t, srcs, recs, vel, wav, wavcenter, y=y, **kwargs_mod)
        if dottest:
            Dottest(self.Demop, self.Demop.shape[0], self.Demop.shape[1], raiseerror=True,
                    verb=True)

    def solve(self, d, solver=lsqr, **kwargs_solver):
        """The reflectivity (a lazy dask array of shape ``(nx, nz)``, or ``(ny, nx, nz)``)
        from the data ``d`` (``(ns, nr, nt)`` or flat: NumPy or dask) with ``solver`` (ours,
        default our LSQR with SciPy's defaults as PyLops' SciPy ``lsqr``; PyLops' or SciPy's
        ``lsqr``/``cgls``/``cg`` are replaced by ours)."""
        solver = _OURS.get(getattr(solver, "__name__", None), solver) \
            if getattr(solver, "__module__", "").split(".")[0] in ("pylops", "scipy") else solver
        d = d.reshape(self.Demop.dimsd) if getattr(d, "ndim", 0) == 1 else d
        minv = run_solver(solver, self.Demop, d, kwargs_solver, "LSM")[0]
        if self.y is None:
            return minv.reshape(len(self.x), len(self.z))
        return minv.reshape(len(self.y), len(self.x), len(self.z))
