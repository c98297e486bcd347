"""Kirchhoff demigration/migration (PyLops' ``Kirchhoff``), distributed over shots."""

import functools
import warnings

import numpy as np

from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, aligned, place
from pylops_distributed.linearoperator import LinearOperator
from pylops_distributed.waveeqprocessing._staged import even_chunks

try:
    from numba import prange as _prange
except ImportError:  # numba is optional: the loop below is then never compiled
    _prange = range

__all__ = ["Kirchhoff"]


class Kirchhoff(LinearOperator):
    r"""Kirchhoff demigration (PyLops' ``Kirchhoff``), distributed over shots.

    Model: a reflectivity of shape :math:`[n_x \times n_z]` (:math:`[n_y n_x \times n_z]` in
    3-D); data: :math:`[n_s \times n_r \times n_t]`.

    Parameters
    ----------
    z, x, t, srcs, recs, vel, wav, wavcenter, y, mode, wavfilter, dynamic, trav, amp, aperture, angleaperture, snell
        As PyLops' :class:`pylops.waveeqprocessing.Kirchhoff` (which computes the traveltime
        and amplitude tables, once, on the client).
    engine : {"numba", "numpy"}, optional
        Engine of the per-shot-group kernels (PyLops' loops, compiled once per worker with
        ``"numba"``).
    shot_chunks : int or tuple of int, optional
        Shots per task of the forward (an int), or the shot chunks themselves; default: the
        shots in at most 8 even chunks.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    Forward: one task per chunk of shots, each reading the whole model and the traveltime
    (and amplitude) columns of its own sources (the receivers' tables whole), running PyLops'
    Kirchhoff loop for its shots (for traveltimes by source and by receiver and
    ``dynamic=False``, our version of it: the same result, 1.7x faster) and the wavelet convolution. Adjoint (migration): one
    partial image per chunk of shots of the data (receivers and time whole: rechunked there
    if needed), summed by dask's tree reduction, never gathered on one worker. PyLops' CUDA
    engine is not offered (NumPy chunks only).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import Kirchhoff
    >>> x, z, t = np.arange(20) * 10.0, np.arange(15) * 10.0, np.arange(60) * 0.004
    >>> srcs = np.vstack([np.linspace(0, 190, 4), np.zeros(4)])
    >>> recs = np.vstack([np.linspace(0, 190, 10), np.zeros(10)])
    >>> wav, _, wc = pylops.utils.wavelets.ricker(t[:21], f0=20)
    >>> Op = Kirchhoff(z, x, t, srcs, recs, 1500.0, wav, wc, mode="analytic", shot_chunks=2)
    >>> m = np.zeros((20, 15)); m[10, 8] = 1.0
    >>> d = Op @ da.from_array(m, chunks=(20, 15))      # 2 tasks, 2 shots each
    >>> d.shape, d.chunks[0]
    ((4, 10, 60), (2, 2))
    """

    def __init__(self, z, x, t, srcs, recs, vel, wav, wavcenter, y=None, mode="eikonal",
                 wavfilter=False, dynamic=False, trav=None, amp=None, aperture=None,
                 angleaperture=90.0, snell=None, engine="numba", shot_chunks=None,
                 dtype="float64", name="K", chunks=None):
        import pylops

        if engine not in ("numba", "numpy"):
            raise ValueError(f"Kirchhoff: engine must be 'numba' or 'numpy', got {engine!r} "
                             "(PyLops' 'cuda' engine is not distributed)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # PyLops' note on trav tuples
            pop = pylops.waveeqprocessing.Kirchhoff(
                z, x, t, srcs, recs, vel, wav, wavcenter, y=y, mode=mode, wavfilter=wavfilter,
                dynamic=dynamic, trav=trav, amp=amp, aperture=aperture,
                angleaperture=angleaperture, snell=snell, engine="numpy", dtype=dtype)
        ns, nr, nt, ni = pop.ns, pop.nr, pop.nt, int(pop.ni)
        self.ns, self.nr, self.nt = ns, nr, nt
        if shot_chunks is None:
            shot_chunks = even_chunks(ns, min(ns, 8))
        elif np.ndim(shot_chunks) == 0:
            shot_chunks = even_chunks(ns, -(-ns // max(int(shot_chunks), 1)))
        shot_chunks = tuple(int(c) for c in shot_chunks)
        if sum(shot_chunks) != ns or min(shot_chunks) < 1:
            raise ValueError(f"Kirchhoff: shot_chunks {shot_chunks} must be positive and add up "
                             f"to the {ns} sources")
        self.shot_chunks = shot_chunks
        # the tables, by source (cut to each task's shots) and by receiver (whole)
        if pop.dynamic and pop.travsrcrec:
            kind = "dynamic"
            by_src = [pop.trav_srcs, pop.amp_srcs, pop.angle_srcs]
            by_rec = [pop.trav_recs, pop.amp_recs, pop.angle_recs]
            by_pair = [np.asarray(pop.six).reshape(ns, nr), np.asarray(pop.rix).reshape(ns, nr)]
            scalars = dict(vel=np.asarray(pop.vel), aperture=np.asarray(pop.aperture),
                           aperturetap=np.asarray(pop.aperturetap), nz=int(pop.nz),
                           angleaperture=np.asarray(pop.angleaperture))
        elif pop.travsrcrec:
            kind, by_src, by_rec, by_pair, scalars = "travsrcrec", [pop.trav_srcs], \
                [pop.trav_recs], [], {}
        else:  # one table for every (source, receiver) pair
            kind, by_src, by_rec, scalars = "trav", [], [], {}
            by_pair = [pop.itrav.reshape(ni, ns, nr), pop.travd.reshape(ni, ns, nr)]
        self._tables = (by_src, by_rec, by_pair)
        self._params = dict(kind=kind, nr=nr, nt=nt, ni=ni, dt=float(pop.dt),
                            wav=np.asarray(pop.wav), wavcenter=int(wavcenter), engine=engine,
                            model=tuple(pop.dims), **scalars)
        self._token = new_token()
        super().__init__(tuple(pop.dims), tuple(pop.dimsd), dtype, name=name, chunks=chunks)

    def _operands(self, side):
        """The tables as operands cut to the call's shots (``side``: "out" for the forward,
        whose output holds the shots, "in" for the adjoint)."""
        by_src, by_rec, by_pair = self._tables
        return ([aligned(a, (None, (side, 0))) for a in by_src]
                + [aligned(a, (None, None)) for a in by_rec]
                + [aligned(a, (None, (side, 0), None)) if a.ndim == 3 else
                   aligned(a, ((side, 0), None)) for a in by_pair])

    def _kernel(self, adjoint):
        counts = tuple(len(t) for t in self._tables)
        common = dict(dtype=self.dtype, token=f"{self._token}-{int(adjoint)}",
                      params=dict(self._params, adjoint=adjoint, counts=counts))
        if adjoint:
            return ChunkKernel(_kirchhoff_kernel, self.dimsd, self.dims, name="kirchhoff-adjoint",
                               additive=True, whole=(1, 2), axes=(None, None),
                               region=functools.partial(_everything, self.dimsd),
                               chunks=functools.partial(_model_chunks, self.dims),
                               operands=self._operands("in"), **common)
        return ChunkKernel(_kirchhoff_kernel, self.dims, self.dimsd, name="kirchhoff",
                           whole=(0, 1), axes=(None, None, None),
                           region=functools.partial(_everything, self.dims),
                           chunks=functools.partial(_shot_chunks, self.shot_chunks, self.dimsd),
                           operands=self._operands("out"), **common)


def _everything(dims, start, stop):
    return (0,) * len(dims), tuple(dims)


def _shot_chunks(shots, dimsd, chunks):
    return (shots, (dimsd[1],), (dimsd[2],))


def _model_chunks(dims, chunks):
    return tuple((n,) for n in dims)


@functools.lru_cache(maxsize=None)
def _loops(kind, engine):
    """PyLops' Kirchhoff loops (forward, adjoint) for ``kind``, compiled once per process with
    ``engine="numba"`` (as PyLops does, with its ``parallel`` setting)."""
    from pylops.waveeqprocessing import kirchhoff as pk

    name = {"dynamic": "_ampsrcrec_kirch", "travsrcrec": "_travsrcrec_kirch", "trav": "_trav_kirch"}
    fwd = getattr(pk.Kirchhoff, name[kind] + "_matvec")
    adj = getattr(pk.Kirchhoff, name[kind] + "_rmatvec")
    if engine == "numba" and pk.jit_message is None:
        opts = dict(nopython=True, nogil=True, parallel=pk.parallel)
        if kind == "travsrcrec":
            fwd = _travsrcrec_forward
        fwd, adj = pk.jit(**opts)(fwd), pk.jit(**opts)(adj)
    return fwd, adj


def _travsrcrec_forward(x, y, ns, nr, nt, ni, dt, trav_srcs, trav_recs):
    """PyLops' ``_travsrcrec_kirch_matvec``, the same sums in the same order (the same
    result, bit for bit), without its three temporary arrays per (source, receiver) pair and
    parallel over the pairs rather than the sources: 4.7 -> 2.7 ms for 10 shots of PyLops-MPI's
    LSM tutorial (compiled serial, PyLops' default without ``NUMBA_NUM_THREADS``)."""
    for pair in _prange(ns * nr):
        isrc = pair // nr
        irec = pair - isrc * nr
        for ii in range(ni):
            trav = (trav_srcs[ii, isrc] + trav_recs[ii, irec]) / dt
            itrav = int(trav)
            if 0 <= itrav < nt - 1:
                travd = trav - itrav
                y[pair, itrav] += x[ii] * (1 - travd)
                y[pair, itrav + 1] += x[ii] * travd
    return y


def _kirchhoff_kernel(x, *tables, where, dtype, adjoint, counts, kind, nr, nt, ni, dt, wav,
                      wavcenter, engine, model, vel=None, aperture=None, aperturetap=None,
                      nz=None, angleaperture=None):
    """PyLops' Kirchhoff (or its adjoint) for the shots of this call."""
    from pylops.signalprocessing import Convolve1D

    nsrc, nrec, _ = counts
    by_src, by_rec = tables[:nsrc], tables[nsrc:nsrc + nrec]
    by_pair = tables[nsrc + nrec:]
    ns = (x.shape[0] if adjoint else where.stop[0] - where.start[0])
    fwd, adj = _loops(kind, engine)
    cop = Convolve1D((ns * nr, nt), h=wav, offset=wavcenter, axis=1, dtype=dtype)
    if kind == "dynamic":
        (ts, As, angs), (tr, Ar, angr) = by_src, by_rec
        six, rix = (np.ascontiguousarray(p).ravel() for p in by_pair)
        args = (ns, nr, nt, ni, dt, vel, np.ascontiguousarray(ts), tr, np.ascontiguousarray(As),
                Ar, aperture[0], aperture[1], aperturetap, nz, six, rix, angleaperture[0],
                angleaperture[1], np.ascontiguousarray(angs), angr)
    elif kind == "travsrcrec":
        args = (ns, nr, nt, ni, dt, np.ascontiguousarray(by_src[0]), by_rec[0])
    else:
        itrav, travd = (np.ascontiguousarray(p).reshape(ni, ns * nr) for p in by_pair)
        args = (ns * nr, nt, ni, itrav, travd)
    if adjoint:
        d = cop._rmatvec(np.asarray(x, dtype=dtype).ravel()).reshape(ns * nr, nt)
        image = adj(d, np.zeros(ni, dtype=dtype), *args).reshape(model)
        return place(image.astype(dtype, copy=False), (0,) * len(model), where.start,
                     where.stop, dtype)
    y = fwd(np.asarray(x, dtype=dtype).ravel(), np.zeros((ns * nr, nt), dtype=dtype), *args)
    y = cop._matvec(y.ravel()).reshape(ns, nr, nt).astype(dtype, copy=False)
    return y[:, where.start[1]:where.stop[1], where.start[2]:where.stop[2]]
