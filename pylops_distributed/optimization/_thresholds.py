"""Element-wise thresholds of the sparse solvers (proximal operators of the l0, l1 and l1/2
quasi-norms), applied block by block to NumPy or CuPy chunks.

Each takes a block and the threshold ``thresh`` (a number or a 0-d array: a lazy scalar of
the solver) and returns a new block of the same dtype.
"""

import math

import numpy as np

from pylops_distributed._arrays import get_array_module


def _value(thresh):
    return float(np.real(thresh))


def hard(x, thresh):
    """Zero where :math:`|x| \\le \\sqrt{2\\,thresh}`, ``x`` elsewhere (prox of the l0 norm)."""
    xp = get_array_module(x)
    return xp.where(xp.abs(x) <= math.sqrt(2 * _value(thresh)), 0, x).astype(x.dtype, copy=False)


def soft(x, thresh):
    r""":math:`\max(|x| - thresh, 0)` with the sign (complex: the phase) of ``x`` (prox of the
    l1 norm); NaN and Inf stay NaN and Inf."""
    xp = get_array_module(x)
    shrunk = xp.maximum(xp.abs(x) - _value(thresh), 0)
    if x.dtype.kind == "c":
        out = shrunk * xp.exp(1j * xp.angle(x))
    else:
        out = xp.sign(x) * shrunk
    return out.astype(x.dtype, copy=False)


def half(x, thresh):
    """Half thresholding (prox of :math:`\\|x\\|_{1/2}^{1/2}`, Xu et al., 2012): zero where
    :math:`|x| \\le (54^{1/3}/4)\\,thresh^{2/3}`, else
    :math:`\\tfrac23 x (1 + \\cos(\\tfrac{2\\pi}{3} - \\tfrac23\\arccos(\\tfrac{thresh}{8}
    (|x|/3)^{-3/2})))`."""
    xp = get_array_module(x)
    t = _value(thresh)
    a = xp.abs(x)
    keep = ~(a <= (54 ** (1 / 3) / 4) * t ** (2 / 3))  # (NaN kept: it stays NaN)
    safe = xp.where(keep, a, 1)  # the formula only where it is defined and used
    arg = xp.clip((t / 8) * (safe / 3) ** (-1.5), -1, 1)
    phi = (2 / 3) * xp.arccos(arg)
    out = xp.where(keep, (2 / 3) * x * (1 + xp.cos(2 * math.pi / 3 - phi)), 0)
    return out.astype(x.dtype, copy=False)


KINDS = {"hard": hard, "soft": soft, "half": half}


def unit(x):
    """``x / |x|`` (0 where ``x`` is 0): ``sum(conj(unit(x)) x)`` is the l1 norm of ``x``."""
    xp = get_array_module(x)
    a = xp.abs(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        return xp.where(a > 0, x / xp.where(a > 0, a, 1), 0).astype(x.dtype, copy=False)


# --- percentile thresholds ---------------------------------------------------------------------
# PyLops' percentile kinds threshold with ``np.percentile(|x|, 100 - perc)`` of the whole
# vector. It is exact here without gathering the vector: the order statistics it interpolates
# are among the largest ``n - floor(index)`` magnitudes, and those are among each chunk's own
# largest as many (``top_abs``); one task combines the chunks' tops (``percentile_of_tops``).

def percentile_index(n, q):
    """NumPy's virtual index of the ``q``-th percentile (method "linear") of ``n`` values,
    and the number of largest values that hold the two order statistics it reads."""
    quantile = np.true_divide(q, 100)
    virtual = (n - 1) * quantile
    lower = min(max(int(np.floor(virtual)), 0), n - 1)
    return float(virtual), n - lower


def top_abs(keep, block):
    """The ``keep`` largest magnitudes of a block (all of them if it is smaller), as NumPy."""
    xp = get_array_module(block)
    a = xp.abs(block).ravel()
    if a.size > keep:
        a = xp.partition(a, a.size - keep)[a.size - keep:]
    return a.get() if hasattr(a, "get") else np.asarray(a)


def percentile_of_tops(n, q, tops):
    """``np.percentile(|x|, q)`` of the ``n`` values of ``x`` from the chunks' :func:`top_abs`."""
    virtual, keep = percentile_index(n, q)
    cand = np.sort(np.concatenate(tops))
    if cand.size and np.isnan(cand[-1]):
        return math.nan
    top = cand[cand.size - keep:]  # ascending order statistics lower .. n - 1

    def stat(j):  # the j-th smallest of the n values (j >= lower)
        return top[min(j, n - 1) - (n - keep)]

    if virtual >= n - 1:
        return float(stat(n - 1))
    if virtual < 0:
        return float(stat(0))
    lower = int(np.floor(virtual))
    prev, nxt = top.dtype.type(stat(lower)), top.dtype.type(stat(lower + 1))
    gamma = virtual - math.floor(virtual)  # a Python float: float32 values stay float32
    diff = nxt - prev
    out = prev + diff * gamma if gamma < 0.5 else nxt - diff * (1 - gamma)
    return float(out)


def percentile_threshold(kind, thresh):
    """The threshold argument of ``kind`` from a percentile value, as PyLops' percentile
    kinds pass it (hard: ``thresh**2 / 2``; half: ``(4 thresh / 54^(1/3))^(3/2)``)."""
    if kind == "hard":
        return 0.5 * thresh ** 2
    if kind == "half":
        return (4.0 / 54 ** (1.0 / 3.0) * thresh) ** 1.5
    return thresh
