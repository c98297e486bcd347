"""Numba backend of :mod:`pylops_distributed._stencils` for NumPy chunks of up to 3 axes.

One compiled call per chunk computes every term of a stencil sum, row by row of the output
(a row along the last axis stays in L1 while each tap adds into it): the chunk is read
about once and the output written once, and the call releases the GIL (``nogil``). The
sliced NumPy path makes a few hundred small NumPy calls per chunk instead; in a
``distributed`` worker each of them hands the GIL back and forth with the worker's event
loop, which measured 3-4x slower than the same calls in a plain process (2-process
LocalCluster, 2026-11), while this kernel takes the same time in both. Without Numba
installed the sliced path runs.

Kernels are compiled once per dtype and cached on disk (``cache=True``), so worker processes
load them instead of compiling.
"""

import functools
import importlib.util

import numpy as np


@functools.lru_cache(maxsize=256)
def pack(terms, pad):
    """Flat arrays describing ``terms`` (axes shifted by ``pad``) for the compiled kernel.

    Per term: axis, n, number of head and tail rows, a slice of the interior taps
    (offset, coefficient x scale) and the index of its first explicit row; explicit rows
    (head then tail) as slices of (offset relative to the row, coefficient x scale).
    """
    t_axis, t_n, t_L, t_R, tap_ptr, row_start = [], [], [], [], [0], []
    tap_off, tap_coef, r_ptr, r_off, r_coef = [], [], [0], [], []
    for ax, st, scale in terms:
        L, R = len(st.head), len(st.tail)
        t_axis.append(ax + pad)
        t_n.append(st.n)
        t_L.append(L)
        t_R.append(R)
        for o, c in st.taps:
            tap_off.append(o)
            tap_coef.append(c * scale)
        tap_ptr.append(len(tap_off))
        row_start.append(len(r_ptr) - 1)
        for i, row in enumerate(st.head):
            for j, c in row:
                r_off.append(j - i)
                r_coef.append(c * scale)
            r_ptr.append(len(r_off))
        for r, row in enumerate(st.tail):
            i = st.n - R + r
            for j, c in row:
                r_off.append(st.n + j - i)
                r_coef.append(c * scale)
            r_ptr.append(len(r_off))
    ints = [np.asarray(a, dtype=np.int64) for a in
            (t_axis, t_n, t_L, t_R, tap_ptr, tap_off, row_start, r_ptr, r_off)]
    cdtype = np.complex128 if any(np.iscomplexobj(np.asarray(c)) for c in tap_coef + r_coef) \
        else np.float64
    coefs = [np.asarray(a, dtype=cdtype) for a in (tap_coef, r_coef)]
    t_axis, t_n, t_L, t_R, tap_ptr, tap_off, row_start, r_ptr, r_off = ints
    return (t_axis, t_n, t_L, t_R, tap_ptr, tap_off, coefs[0], row_start, r_ptr, r_off, coefs[1])


def _sum3(x, o, g, out, t_axis, t_n, t_L, t_R, tap_ptr, tap_off, tap_coef, row_start, r_ptr,
          r_off, r_coef):
    """``out[i] = sum_t scale_t S_t x`` for a 3-D output box; see :func:`stencil_sum`.

    The interior loops run over 1-D row views indexed by the loop counter alone: LLVM then
    vectorises them (with 3-D indexing and a signed offset in the index, Numba's negative-index
    wraparound in every access stops it; measured 2-4x slower).
    """
    m0, m1, m2 = out.shape
    o0, o1, o2 = o
    g0, g1, g2 = g
    for i0 in range(m0):
        for i1 in range(m1):
            orow = out[i0, i1]
            for i2 in range(m2):
                orow[i2] = 0
            for t in range(t_axis.shape[0]):
                ax, n, L, R = t_axis[t], t_n[t], t_L[t], t_R[t]
                if ax < 2:
                    gi = g0 + i0 if ax == 0 else g1 + i1
                    if L <= gi < n - R:
                        k0, k1, offs, coefs = tap_ptr[t], tap_ptr[t + 1], tap_off, tap_coef
                    else:
                        r = row_start[t] + (gi if gi < L else L + gi - (n - R))
                        k0, k1, offs, coefs = r_ptr[r], r_ptr[r + 1], r_off, r_coef
                    for k in range(k0, k1):
                        c = coefs[k]
                        j0 = i0 + o0 + (offs[k] if ax == 0 else 0)
                        j1 = i1 + o1 + (offs[k] if ax == 1 else 0)
                        xrow = x[j0, j1, o2:o2 + m2]
                        for i2 in range(m2):
                            orow[i2] += c * xrow[i2]
                else:
                    j0, j1 = i0 + o0, i1 + o1
                    a = min(max(L - g2, 0), m2)
                    b = max(min(n - R - g2, m2), a)
                    inner = orow[a:b]
                    for k in range(tap_ptr[t], tap_ptr[t + 1]):
                        c = tap_coef[k]
                        d = o2 + tap_off[k] + a
                        xrow = x[j0, j1, d:d + b - a]
                        for i2 in range(b - a):
                            inner[i2] += c * xrow[i2]
                    for seg in range(2):  # explicit rows: before and after the interior
                        s0, s1 = (0, a) if seg == 0 else (b, m2)
                        for i2 in range(s0, s1):
                            gi = g2 + i2
                            r = row_start[t] + (gi if gi < L else L + gi - (n - R))
                            for k in range(r_ptr[r], r_ptr[r + 1]):
                                orow[i2] += r_coef[k] * x[j0, j1, i2 + o2 + r_off[k]]


#: Use the compiled kernel when Numba is installed (set False to compare with the sliced path).
#: Numba itself is imported on the first call (it adds ~0.4 s to an import).
ENABLED = importlib.util.find_spec("numba") is not None


@functools.lru_cache(maxsize=1)
def _compiled():
    import numba

    return numba.njit(nogil=True, cache=True)(_sum3)


def available(xb, wouts):
    """Whether the compiled kernel handles this case."""
    return ENABLED and wouts is None and 1 <= xb.ndim <= 3 and isinstance(xb, np.ndarray)


def stencil_sum(xb, borig, terms, ostart, ostop, dtype, out=None):
    """Compiled ``sum_t scale_t S_t x`` on the global box ``[ostart, ostop)`` (see
    :func:`pylops_distributed._stencils.stencil_sum`), into ``out`` if given."""
    pad = 3 - xb.ndim
    shape = tuple(b - a for a, b in zip(ostart, ostop))
    if out is None:
        out = np.empty(shape, dtype=dtype)
    if out.size == 0:
        return out
    x3 = xb[(None,) * pad]
    o = (0,) * pad + tuple(a - b for a, b in zip(ostart, borig))
    g = (0,) * pad + tuple(ostart)
    _compiled()(x3, o, g, out[(None,) * pad], *pack(tuple(terms), pad))
    return out
