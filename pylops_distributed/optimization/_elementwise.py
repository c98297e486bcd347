"""Element-wise work of the fused engine: linear combinations and dot products, one pass each.

``y = sum(c_i a_i)`` over a few chunk-sized blocks is most of a solver's arithmetic. NumPy
would make a temporary per term and run several passes, each a few hundred microseconds
inside a worker where fresh arrays are page-faulted in; here one compiled loop (Numba, no
GIL) reads every input once and writes into a recycled buffer. CuPy blocks get one generated
element-wise kernel. Blocks may be views of any strides (the part of a grown block that is the
rank's own chunk).
"""

import functools
import importlib.util
import numbers

import numpy as np

from pylops_distributed.optimization._recycle import empty as recycled_empty

_NUMBA = importlib.util.find_spec("numba") is not None


def lincomb(terms, dtype, out=None):
    """``sum(c * a for c, a in terms)`` as a new array (or into ``out``)."""
    a0 = terms[0][1]
    if type(a0).__module__.split(".")[0] == "cupy":
        t = np.dtype(dtype).name
        kernel = _cupy_lincomb(len(terms), t)
        args = [a for _, a in terms] + [np.dtype(dtype).type(c) for c, _ in terms]
        return kernel(*args) if out is None else kernel(*args, out)
    if out is None:
        out = recycled_empty(a0.shape, dtype)
    if out.size == 0:
        return out
    if _compilable(terms, out):
        _compiled(len(terms))(_as3(out), np.array([c for c, _ in terms], dtype=out.dtype),
                              *[_as3(a) for _, a in terms])
        return out
    _numpy_lincomb(terms, out)
    return out


def lincomb_sqnorm(terms, dtype):
    """``(y, ||y||^2)`` of ``y = lincomb(terms)``: one pass where it compiles (a solver's
    squared norms mostly follow the update that makes the vector)."""
    a0 = terms[0][1]
    if type(a0).__module__.split(".")[0] != "cupy" and np.dtype(dtype).kind == "f":
        out = recycled_empty(a0.shape, dtype)
        if out.size and _compilable(terms, out):
            sq = _compiled_sq(len(terms))(_as3(out), np.array([c for c, _ in terms], dtype=out.dtype),
                                          *[_as3(a) for _, a in terms])
            return out, float(sq)
    out = lincomb(terms, dtype)
    return out, dot(out, out, True)


def add_square(base, a, c):
    """``base + (c a)^2`` as a new array, one pass where it compiles (real NumPy blocks of one
    dtype; LSQR's variance estimate), else ``None``."""
    if not (_NUMBA and isinstance(a, np.ndarray) and isinstance(base, np.ndarray)
            and a.dtype.kind == "f" and base.dtype == a.dtype and a.ndim <= 3
            and base.shape == a.shape):
        return None
    out = recycled_empty(a.shape, a.dtype)
    if out.size:
        _compiled_add_square()(_as3(out), _as3(base), _as3(a), a.dtype.type(c))
    return out


def _add_square(out, base, a, c):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                v = c * a[i, j, k]
                out[i, j, k] = base[i, j, k] + v * v


@functools.lru_cache(maxsize=None)
def _compiled_add_square():
    import numba

    return numba.njit(nogil=True, cache=True)(_add_square)


def _compilable(terms, out):
    a0 = terms[0][1]
    return (_NUMBA and len(terms) <= 4 and a0.ndim <= 3 and all(a.dtype == out.dtype for _, a in terms)
            and (out.dtype.kind == "c" or not any(isinstance(c, complex) for c, _ in terms)))


def _as3(a):
    return a.reshape((1,) * (3 - a.ndim) + a.shape)


def _numpy_lincomb(terms, out):
    first = True
    for c, a in terms:
        if first:
            if isinstance(c, numbers.Number) and c == 1:
                out[...] = a
            else:
                np.multiply(a, c, out=out, casting="unsafe")
            first = False
        elif c == 1:
            out += a
        elif c == -1:
            out -= a
        else:
            out += c * a


def _lin1(out, c, a0):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                out[i, j, k] = c[0] * a0[i, j, k]


def _lin2(out, c, a0, a1):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                out[i, j, k] = c[0] * a0[i, j, k] + c[1] * a1[i, j, k]


def _lin3(out, c, a0, a1, a2):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                out[i, j, k] = c[0] * a0[i, j, k] + c[1] * a1[i, j, k] + c[2] * a2[i, j, k]


def _lin4(out, c, a0, a1, a2, a3):
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                out[i, j, k] = (c[0] * a0[i, j, k] + c[1] * a1[i, j, k] + c[2] * a2[i, j, k]
                                + c[3] * a3[i, j, k])


def _lin1sq(out, c, a0):
    acc = 0.0
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                v = c[0] * a0[i, j, k]
                out[i, j, k] = v
                acc += v * v
    return acc


def _lin2sq(out, c, a0, a1):
    acc = 0.0
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                v = c[0] * a0[i, j, k] + c[1] * a1[i, j, k]
                out[i, j, k] = v
                acc += v * v
    return acc


def _lin3sq(out, c, a0, a1, a2):
    acc = 0.0
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                v = c[0] * a0[i, j, k] + c[1] * a1[i, j, k] + c[2] * a2[i, j, k]
                out[i, j, k] = v
                acc += v * v
    return acc


def _lin4sq(out, c, a0, a1, a2, a3):
    acc = 0.0
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            for k in range(out.shape[2]):
                v = (c[0] * a0[i, j, k] + c[1] * a1[i, j, k] + c[2] * a2[i, j, k]
                     + c[3] * a3[i, j, k])
                out[i, j, k] = v
                acc += v * v
    return acc


@functools.lru_cache(maxsize=None)
def _compiled_sq(n):
    """The compiled loop for ``n`` terms that also sums the squares (in float64; the sum may
    be reassociated, as NumPy's own reductions do)."""
    import numba

    return numba.njit(nogil=True, cache=True, fastmath={"reassoc", "nsz", "contract"})(
        (_lin1sq, _lin2sq, _lin3sq, _lin4sq)[n - 1])


@functools.lru_cache(maxsize=None)
def _compiled(n):
    """The compiled loop for ``n`` terms (cached on disk: worker processes load it)."""
    import numba

    return numba.njit(nogil=True, cache=True)((_lin1, _lin2, _lin3, _lin4)[n - 1])


@functools.lru_cache(maxsize=None)
def _cupy_lincomb(n, t):
    import cupy

    ins = ", ".join([f"{t} a{i}" for i in range(n)] + [f"{t} c{i}" for i in range(n)])
    body = "out = " + " + ".join(f"c{i} * a{i}" for i in range(n))
    return cupy.ElementwiseKernel(ins, f"{t} out", body, f"pld_lincomb_{n}_{t}")


def dot(a, b, sq):
    """Python number ``<a, b>`` (``||a||^2`` with ``sq``), NumPy or CuPy blocks of any strides."""
    if type(a).__module__.split(".")[0] == "cupy":
        v = (a.conj() * b).sum() if not sq else (abs(a) ** 2).sum()
        v = v.get()[()]
    else:
        if a.size == 0:
            return 0.0
        if np.iscomplexobj(a):
            v = np.vdot(a, b) if not sq else np.vdot(a, a).real
        else:
            # einsum's own loop, not BLAS (OpenBLAS' threaded dot oversubscribes the cores
            # when several tasks run at once)
            sub = "abcdefghijklmnop"[:a.ndim]
            v = np.einsum(f"{sub},{sub}->", a, a if sq else b)
    return complex(v) if np.iscomplexobj(v) and not sq else float(np.real(v))
