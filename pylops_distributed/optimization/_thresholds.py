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
    """:math:`\max(|x| - thresh, 0)` with the sign (complex: the phase) of ``x`` (prox of the
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
