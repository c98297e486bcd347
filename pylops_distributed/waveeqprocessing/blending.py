"""Blending operators (PyLops' ``pylops.waveeqprocessing.blending``): shots shifted in time
and summed, distributed over sources."""

import functools

import numpy as np

from pylops_distributed._alongaxes import quiet
from pylops_distributed._arrays import get_array_module
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator
from pylops_distributed.waveeqprocessing._staged import even_chunks

__all__ = ["BlendingContinuous", "BlendingGroup", "BlendingHalf"]


def _shift(x, shifts, adjoint, *, dt, real, dtype, kwargs_fft):
    """PyLops' ``Shift`` of each source of ``x`` (sources, receivers, time) by its own
    ``shifts`` (one per source), or its adjoint."""
    import pylops

    shifts = np.broadcast_to(np.asarray(shifts)[:, None], x.shape[:2])
    # (quiet: PyLops' note on complex64 with its NumPy engine would come at every apply)
    Op = quiet(pylops.signalprocessing.Shift, x.shape, np.ascontiguousarray(shifts), axis=-1,
               sampling=dt, real=real, dtype=dtype, **kwargs_fft)
    return (Op.rmatvec if adjoint else Op.matvec)(x.ravel()).reshape(x.shape)


# --- group and half blending: source s -> group group_of[s], shifted by shifts[s] -------------

def _sources_region(sources_of, start, stop):
    """Input box of an output box of groups: the sources those groups sum (and the same
    receivers, the time axis whole)."""
    src = sources_of[start[0]:stop[0]].ravel()
    return ((int(src.min()), start[1], 0), (int(src.max()) + 1, stop[1], stop[2]))


def _groups_region(group_of, start, stop):
    """Input box of an output box of sources: the groups they belong to."""
    g = group_of[start[0]:stop[0]]
    return ((int(g.min()), start[1], 0), (int(g.max()) + 1, stop[1], stop[2]))


def _split_first(n, dims, chunks):
    """Output chunks: the first axis in as many pieces as the input's, receivers followed,
    time whole."""
    return (even_chunks(n, len(chunks[0])), tuple(chunks[1]), (dims[-1],))


def _blend_kernel(x, *, where, dtype, group_of, shifts, shift_kw):
    """Contribution of the sources of ``x`` (a piece of the input box) to the output box of
    groups."""
    xp = get_array_module(x)
    out = xp.zeros(tuple(b - a for a, b in zip(where.start, where.stop)), dtype=dtype)
    src = np.arange(where.origin[0], where.origin[0] + x.shape[0])
    g = group_of[src]
    sel = np.flatnonzero((g >= where.start[0]) & (g < where.stop[0]))
    r0 = where.origin[1] - where.start[1]
    if sel.size:
        y = _shift(x[sel], shifts[src[sel]], False, **shift_kw)
        for k, i in enumerate(sel):
            out[g[i] - where.start[0], r0:r0 + x.shape[1]] += y[k]
    return out


def _deblend_kernel(x, *, where, dtype, group_of, shifts, shift_kw):
    """The sources of the output box: their groups' data shifted back."""
    s = np.arange(where.start[0], where.stop[0])
    r = slice(where.start[1] - where.origin[1], where.stop[1] - where.origin[1])
    xs = x[group_of[s] - where.origin[0], r]
    return _shift(xs, shifts[s], True, **shift_kw).astype(dtype, copy=False)


class _GroupBlending(LinearOperator):
    """Sources ``(ns, nr, nt)`` shifted and summed into groups ``(n_groups, nr, nt)``."""

    def __init__(self, nt, nr, ns, dt, times, group_size, n_groups, src_index, dtype, name,
                 chunks, kwargs_fft):
        times = np.asarray(times)
        if times.shape[0] != group_size:
            raise ValueError(f"The first dimension of times must equal group_size, got "
                             f"{times.shape[0]} / {group_size}")
        if times.shape != (group_size, n_groups) or ns != group_size * n_groups:
            raise ValueError(f"{type(self).__name__}: times must have shape (group_size, "
                             f"n_groups) = {(group_size, n_groups)} and ns = group_size * "
                             f"n_groups = {group_size * n_groups}; got {times.shape}, ns={ns}")
        self.nt, self.nr, self.ns, self.dt, self.times = nt, nr, ns, dt, times
        self.group_size, self.n_groups = group_size, n_groups
        j, i = np.meshgrid(np.arange(group_size), np.arange(n_groups), indexing="ij")
        src = src_index(i, j)  # (group_size, n_groups): the source of group i, position j
        self._group_of = np.empty(ns, dtype=int)
        self._group_of[src.ravel()] = i.ravel()
        self._shifts = np.empty(ns)
        self._shifts[src.ravel()] = times.ravel()
        self._sources_of = src.T.copy()  # (n_groups, group_size)
        self._shift_kw = dict(dt=dt, real=False, dtype=dtype, kwargs_fft=dict(kwargs_fft))
        self._token = new_token()
        super().__init__((ns, nr, nt), (n_groups, nr, nt), dtype, name=name, chunks=chunks,
                         clinear=False)

    def _kernel(self, adjoint):
        params = dict(group_of=self._group_of, shifts=self._shifts, shift_kw=self._shift_kw)
        common = dict(dtype=self.dtype, token=f"{self._token}-{int(adjoint)}", params=params,
                      axes=(None, 1, 2), whole=(2,))
        if adjoint:
            return ChunkKernel(_deblend_kernel, self.dimsd, self.dims, name="deblending",
                               region=functools.partial(_groups_region, self._group_of),
                               chunks=functools.partial(_split_first, self.ns, self.dims),
                               **common)
        return ChunkKernel(_blend_kernel, self.dims, self.dimsd, name="blending", additive=True,
                           region=functools.partial(_sources_region, self._sources_of),
                           chunks=functools.partial(_split_first, self.n_groups, self.dimsd),
                           **common)


_NOTES = """
    Notes
    -----
    Distributed over sources: forward, one task per chunk of groups (and of receivers),
    with one partial sum per chunk of sources holding some of its shots (PyLops' ``Shift``
    on each shot), added up; the groups are cut in as many chunks as the sources. Adjoint,
    one task per chunk of sources, reading the data of their groups. Time is whole in every
    task (an input chunked along time is rechunked first).
"""


class BlendingGroup(_GroupBlending):
    r"""Group blending (PyLops' ``BlendingGroup``): the ``group_size`` consecutive sources
    of group :math:`i` (source :math:`i\,n_{group} + j`) shifted by ``times[j, i]`` and
    summed.

    Model of shape :math:`[n_s \times n_r \times n_t]`, data :math:`[n_{groups} \times n_r
    \times n_t]`.

    Parameters
    ----------
    nt, nr, ns, dt, times, group_size, n_groups, dtype
        As PyLops.
    nproc : int, optional
        Accepted for PyLops compatibility (dask spreads the tasks).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to PyLops' ``Shift``.
    """ + _NOTES + """
    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import BlendingGroup
    >>> times = np.random.default_rng(0).uniform(0, 0.02, (2, 3))
    >>> Op = BlendingGroup(30, 4, 6, 0.004, times, group_size=2, n_groups=3)
    >>> x = np.random.default_rng(1).standard_normal((6, 4, 30))
    >>> y = Op @ da.from_array(x, chunks=(2, 4, 30))       # 3 chunks of sources
    >>> POp = pylops.waveeqprocessing.BlendingGroup(30, 4, 6, 0.004, times, 2, 3)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, nt, nr, ns, dt, times, group_size, n_groups, nproc=1, dtype="float64",
                 name="B", chunks=None, **kwargs_fft):
        super().__init__(nt, nr, ns, dt, times, group_size, n_groups,
                         lambda i, j: i * group_size + j, dtype, name, chunks, kwargs_fft)


class BlendingHalf(_GroupBlending):
    r"""Half blending (PyLops' ``BlendingHalf``): source :math:`j\,n_{groups} + i` shifted
    by ``times[j, i]`` into group :math:`i`.

    Model of shape :math:`[n_s \times n_r \times n_t]`, data :math:`[n_{groups} \times n_r
    \times n_t]`.

    Parameters
    ----------
    nt, nr, ns, dt, times, group_size, n_groups, dtype
        As PyLops.
    nproc : int, optional
        Accepted for PyLops compatibility (dask spreads the tasks).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to PyLops' ``Shift``.
    """ + _NOTES + """
    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import BlendingHalf
    >>> times = np.random.default_rng(0).uniform(0, 0.02, (2, 3))
    >>> Op = BlendingHalf(30, 4, 6, 0.004, times, group_size=2, n_groups=3)
    >>> x = np.random.default_rng(1).standard_normal((6, 4, 30))
    >>> y = Op @ da.from_array(x, chunks=(3, 4, 30))
    >>> POp = pylops.waveeqprocessing.BlendingHalf(30, 4, 6, 0.004, times, 2, 3)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, nt, nr, ns, dt, times, group_size, n_groups, nproc=1, dtype="float64",
                 name="B", chunks=None, **kwargs_fft):
        super().__init__(nt, nr, ns, dt, times, group_size, n_groups,
                         lambda i, j: j * n_groups + i, dtype, name, chunks, kwargs_fft)


# --- continuous blending: every source shifted into one long record ---------------------------

def _overlap_region(starts, nt, start, stop):
    """Sources whose record window overlaps the output box of times (one source when none
    does: it then contributes zeros)."""
    hit = np.flatnonzero((starts < stop[1]) & (starts + nt + 1 > start[1]))
    lo, hi = (int(hit.min()), int(hit.max()) + 1) if hit.size else (0, 1)
    return ((lo, start[0], 0), (hi, stop[0], nt))


def _window_region(starts, nt, nttot, start, stop):
    """The record times that the output box of sources reads."""
    s = starts[start[0]:stop[0]]
    return ((start[1], int(s.min())), (stop[1], min(int(s.max()) + nt + 1, nttot)))


def _continuous_chunks(n_out, nt, chunks):
    return (tuple(chunks[1]), even_chunks(n_out, len(chunks[0])))


def _continuous_adjoint_chunks(ns, nt, chunks):
    return (even_chunks(ns, len(chunks[1])), tuple(chunks[0]), (nt,))


def _fractional(x, diffs, shifted, adjoint, shift_kw):
    """Shots of ``x`` (time ``nt + 1``) through PyLops' ``Shift`` where ``shifted``."""
    y = x.astype(np.result_type(x.dtype, shift_kw["dtype"]), copy=True)
    if shifted.any():
        y[shifted] = _shift(x[shifted], diffs[shifted], adjoint, **shift_kw)
    return y


def _continuous_kernel(x, *, where, dtype, starts, diffs, shifted, nt, shift_kw):
    xp = get_array_module(x)
    (T0, T1), r0 = (where.start[1], where.stop[1]), where.origin[1] - where.start[0]
    out = xp.zeros(tuple(b - a for a, b in zip(where.start, where.stop)), dtype=dtype)
    src = np.arange(where.origin[0], where.origin[0] + x.shape[0])
    sel = np.flatnonzero((starts[src] < T1) & (starts[src] + nt + 1 > T0))
    if not sel.size:
        return out
    xpad = xp.zeros((sel.size, x.shape[1], nt + 1), dtype=x.dtype)
    xpad[..., :nt] = x[sel]
    y = _fractional(xpad, diffs[src[sel]], shifted[src[sel]], False, shift_kw)
    for k, s in enumerate(src[sel]):
        a, b = max(starts[s], T0), min(starts[s] + nt + 1, T1)
        out[r0:r0 + x.shape[1], a - T0:b - T0] += y[k, :, a - starts[s]:b - starts[s]]
    return out


def _continuous_adjoint_kernel(x, *, where, dtype, starts, diffs, shifted, nt, shift_kw):
    xp = get_array_module(x)
    s = np.arange(where.start[0], where.stop[0])
    r = slice(where.start[1] - where.origin[0], where.stop[1] - where.origin[0])
    win = xp.zeros((s.size, r.stop - r.start, nt + 1), dtype=x.dtype)
    for k, si in enumerate(s):
        a = starts[si] - where.origin[1]
        piece = x[r, a:a + nt + 1]
        win[k, :, :piece.shape[1]] = piece
    y = _fractional(win, diffs[s], shifted[s], True, shift_kw)
    return y[..., :nt].astype(dtype, copy=False)


class BlendingContinuous(LinearOperator):
    r"""Continuous blending (PyLops' ``BlendingContinuous``): every source fired at its time
    ``times[i]`` into one continuous record.

    Model of shape :math:`[n_s \times n_r \times n_t]`, data :math:`[n_r \times
    n_{t,tot}]`.

    Parameters
    ----------
    nt, nr, ns, dt, times, shiftall, nttot, dtype
        As PyLops (``shiftall`` picks how PyLops shifts; the maths, and ours, are the same).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to PyLops' ``Shift``.

    Notes
    -----
    Distributed over sources: forward, one task per chunk of the record (time cut in as
    many chunks as the sources, receivers followed), with one partial sum per chunk of
    sources firing in it (PyLops' ``Shift`` for the fractional part of each shot's time),
    added up. Adjoint, one task per chunk of sources (cut in as many chunks as the record
    has along time), reading the record windows of its shots. The model's time axis is
    whole in every task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.waveeqprocessing import BlendingContinuous
    >>> times = np.array([0.0, 0.0213, 0.05, 0.0711])
    >>> Op = BlendingContinuous(30, 3, 4, 0.004, times)
    >>> x = np.random.default_rng(1).standard_normal((4, 3, 30))
    >>> y = Op @ da.from_array(x, chunks=(2, 3, 30))
    >>> y.chunks
    ((3,), (24, 24))
    >>> POp = pylops.waveeqprocessing.BlendingContinuous(30, 3, 4, 0.004, times)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, nt, nr, ns, dt, times, shiftall=False, nttot=None, dtype="float64",
                 name="B", chunks=None, **kwargs_fft):
        times = np.asarray(times)
        if times.shape != (ns,):
            raise ValueError(f"BlendingContinuous: times must have shape (ns,) = ({ns},), got "
                             f"{times.shape}")
        self.nt, self.nr, self.ns, self.dt, self.times = nt, nr, ns, dt, times
        self.shiftall = shiftall
        self.nttot = nttot if nttot is not None else int(np.max(times) / dt + nt + 1)
        if shiftall:
            starts = (times // dt).astype(np.int32)
            diffs = ((times / dt - starts) * dt).astype(dtype)
            shifted = np.ones(ns, dtype=bool)
        else:
            starts = np.array([int(t // dt) for t in times])
            diffs = np.array([(t / dt - int(t // dt)) * dt for t in times])
            shifted = diffs != 0
        self.shifts = starts
        # as PyLops: a shot shifted by a fraction of a sample takes one more sample
        if starts.min() < 0 or (starts + nt + shifted).max() > self.nttot:
            raise ValueError(f"BlendingContinuous: the shots (times {times.min()} to "
                             f"{times.max()}) do not fit in nttot={self.nttot} samples")
        self._params = dict(starts=starts.astype(int), diffs=diffs, shifted=shifted, nt=nt,
                            shift_kw=dict(dt=dt, real=True, dtype=dtype,
                                          kwargs_fft=dict(kwargs_fft)))
        self._token = new_token()
        # PyLops' real-FFT shifts are linear over the reals only
        super().__init__((ns, nr, nt), (nr, self.nttot), dtype, name=name, chunks=chunks,
                         clinear=False)

    def _kernel(self, adjoint):
        p, common = self._params, dict(dtype=self.dtype, token=f"{self._token}-{int(adjoint)}")
        if adjoint:
            return ChunkKernel(_continuous_adjoint_kernel, self.dimsd, self.dims,
                               name="deblending", params=p, axes=(None, 0, None),
                               region=functools.partial(_window_region, p["starts"], self.nt,
                                                        self.nttot),
                               chunks=functools.partial(_continuous_adjoint_chunks, self.ns,
                                                        self.nt), **common)
        return ChunkKernel(_continuous_kernel, self.dims, self.dimsd, name="blending",
                           params=p, axes=(1, None), whole=(2,), additive=True,
                           region=functools.partial(_overlap_region, p["starts"], self.nt),
                           chunks=functools.partial(_continuous_chunks, self.nttot, self.nt),
                           **common)
