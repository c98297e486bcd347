r"""PyProximal's proximal operators on the solvers' vector space (:mod:`.proximal`).

:data:`REGISTRY` maps each supported PyProximal class to a handler that writes its ``prox``,
``proxdual``, value and gradient as handle arithmetic: element-wise functions applied chunk by
chunk (``vs.map``; NumPy or CuPy blocks, scalars as numbers or 0-d arrays, possibly lazy) and
lazy scalars for the few that need one global norm (``Euclidean``, ``EuclideanBall``).
``L2`` with an operator uses the solve's own operator (``vs.matvec`` / ``vs.rmatvec``).

Any other class raises ``NotImplementedError`` before anything is built: e.g. ``L21`` (its
norm runs across the stacked gradient axis, not separable over chunks), ``Simplex`` or
``L1Ball`` (a global sort or bisection), callable or array ``sigma``.
"""

import math
import numbers

import numpy as np

try:
    import pyproximal
except ImportError as err:  # pragma: no cover - the extra is installed in CI
    raise ImportError("pylops_distributed.optimization.proximal needs PyProximal: "
                      "pip install 'pylops_distributed[proximal]'") from err

from pylops_distributed._arrays import get_array_module
from pylops_distributed.optimization import _thresholds
from pylops_distributed.optimization._space import call


# --- per-chunk functions (module level: they travel to the workers) ----------------------------

def _num(t):
    return float(getattr(t, "real", t))


def _out(v, x):
    return v.astype(x.dtype, copy=False)


def soft_g(x, g, t):
    """``soft(x - g, t) + g`` (L1 with an offset)."""
    return _out(_thresholds.soft(x - g, t) + g, x)


def abs_root(x):
    """``sqrt(|x|)``: its squared norm is the l1 norm."""
    return _out(get_array_module(x).sqrt(abs(x)), x)


def clip(x, lo, hi):
    xp = get_array_module(x)
    lo = lo if hasattr(lo, "shape") and lo.ndim else _num(lo)
    hi = hi if hasattr(hi, "shape") and hi.ndim else _num(hi)
    return _out(xp.minimum(xp.maximum(x, lo), hi), x)


def outside(x, lo, hi):
    """1 where ``x`` is outside ``[lo, hi]`` (NaN included), else 0."""
    lo = lo if hasattr(lo, "shape") and lo.ndim else _num(lo)
    hi = hi if hasattr(hi, "shape") and hi.ndim else _num(hi)
    return _out(~((x >= lo) & (x <= hi)), x)


def huber_prox(x, tau, alpha):
    """PyProximal's Huber prox: ``x / (1 + tau / alpha)`` where ``|x| <= alpha``, else
    soft thresholding by ``tau``."""
    tau, alpha = _num(tau), _num(alpha)
    xp = get_array_module(x)
    small = x / (1.0 + tau * (1.0 / alpha))
    return _out(xp.where(abs(x) > alpha, _thresholds.soft(x, tau), small), x)


def huber_root(x, alpha):
    alpha = _num(alpha)
    xp = get_array_module(x)
    a = abs(x)
    return _out(xp.sqrt(xp.where(a > alpha, a - alpha / 2.0, a ** 2 / (2.0 * alpha))), x)


def shift_scale(x, c, d):
    """``(x + c) / d``."""
    return _out((x + _num(c)) / _num(d), x)


def shifted(x, c):
    return _out(x - _num(c), x)


def scaled_diff(x, b, s):
    """``s * (x - b)``."""
    return _out(_num(s) * (x - _num(b)), x)


def ball(x, c, coef):
    """``c + coef (x - c)``."""
    c = _num(c)
    return _out(c + _num(coef) * (x - c), x)


def conj(x):
    return x.conj()


def copy(x):
    """A new block (a vector of its own: stops linear combinations from growing)."""
    return x.copy()


# --- scalar functions --------------------------------------------------------------------------

def _eucl_coef(n2, ts):
    return 1.0 - ts / max(math.sqrt(max(n2, 0.0)), ts)


def _ratio_coef(n2, r):
    return r / max(math.sqrt(max(n2, 0.0)), r)


def _inv_norm(n2, s):
    return s / math.sqrt(n2) if n2 > 0 else math.inf * s


def _within(n2, r):
    return float(math.sqrt(max(n2, 0.0)) <= r)


def _none_out(count):
    return float(count == 0)


def cg_step(kold, cOpc, tol):
    """PyLops' CG step ``kold / |c^H Op1 c|``, 0 once ``kold <= tol`` (its loop has stopped)."""
    return kold / cOpc if kold > tol and cOpc != 0 else 0.0


# --- the proximal solvers' scalars and per-chunk pick -------------------------------------------

def stop_test(pfgold, pfg, tol, rtol, cost0):
    """PyProximal's stop after a step: the relative cost change below ``tol``, a NaN or Inf cost
    (CostNanInfCallback), the cost below ``rtol`` times the first (CostToInitialCallback)."""
    s = (pfgold != 0 and abs(1.0 - pfg / pfgold) < tol) or not math.isfinite(pfg)
    return float(s or (rtol == rtol and pfg < rtol * cost0))


def first_stop(kstop, stop, k):
    return kstop if kstop > 0 else (k if stop else 0.0)


def pick_s(frozen, old, new):
    return old if frozen > 0 else new


def pick(old, new, frozen):
    """Per chunk: ``old`` once the solver has stopped (frozen > 0), else ``new``."""
    return (old if float(getattr(frozen, "real", frozen)) > 0 else new).copy()


def at(values, k):
    return values[int(k)]


def vandenberghe(k):
    return k / (k + 3)


def fista_t(t):
    return float((1.0 + np.sqrt(1.0 + 4.0 * t ** 2)) / 2.0)


def pg_cost0(eps0, pf, pg):
    """PyProximal's first cost ``pf + np.sum(epsg[0] * pg)`` (float32 arithmetic there)."""
    return float(pf + np.sum(eps0 * pg))


# --- handlers ----------------------------------------------------------------------------------

def _is_vec(v):
    return v is not None and not isinstance(v, numbers.Number) and np.ndim(v) > 0


def _scalar(P, name):
    """Raise unless the parameter ``name`` of ``P`` is a number (not callable, not an array)."""
    v = getattr(P, name)
    if callable(v) or np.ndim(v) != 0:
        raise NotImplementedError(
            f"{type(P).__name__}: {name} must be a number here (got {type(v).__name__}): a "
            "callable or array-valued parameter is not supported on chunked vectors")


class Handler:
    """How one PyProximal class runs on the space. ``t`` is a :class:`Term` bound to a state."""

    def check(self, P):
        """Raise ``NotImplementedError`` for parameters that cannot run on chunks."""

    def vectors(self, P):
        """Arrays of the prox (name -> array), loaded on the term's side."""
        return {}

    def start(self, t):
        """Extra state vectors (name -> handle) of the term at setup."""
        return {}

    def prox(self, t, x, tau):
        raise NotImplementedError

    def proxdual(self, t, x, tau):
        """Moreau's identity, as ``ProxOperator.proxdual``: ``x - tau prox(x / tau, 1 / tau)``."""
        return x - tau * self.prox(t, x * (1.0 / tau), 1.0 / tau)

    def grad(self, t, x):
        """Gradient of the Moreau envelope, as ``ProxOperator.grad``."""
        s = t.P.sigmame
        return (x - self.prox(t, x, s)) * (1.0 / s)


class L1(Handler):
    def check(self, P):
        _scalar(P, "sigma")

    def vectors(self, P):
        return {"g": P.g} if _is_vec(P.g) else {}

    def prox(self, t, x, tau):
        th = tau * t.P.sigma
        if "g" in t.names:
            return t.vs.map(soft_g, x, t.get("g"), scalars=(th,))
        return t.vs.map(_thresholds.soft, x, scalars=(th,))

    def proxdual(self, t, x, tau):  # L1.proxdual: box(x - tau g)
        s = t.P.sigma
        if "g" in t.names:
            x = x - tau * t.get("g")
        return t.vs.map(clip, x, scalars=(-s, s))

    def value(self, t, x):
        if "g" in t.names:
            x = x - t.get("g")
        return t.P.sigma * t.vs.sqnorm(t.vs.map(abs_root, x))


class Box(Handler):
    def vectors(self, P):
        if not (_is_vec(P.lower) or _is_vec(P.upper)):
            return {}
        ref = P.lower if _is_vec(P.lower) else P.upper
        xp = get_array_module(ref)
        return {k: v if _is_vec(v) else xp.full(ref.shape, v, dtype=ref.dtype)
                for k, v in (("lo", P.lower), ("hi", P.upper))}

    def _bounds(self, t):
        if "lo" in t.names:
            return (t.get("lo"), t.get("hi")), ()
        return (), (float(t.P.lower), float(t.P.upper))

    def prox(self, t, x, tau):
        vecs, sc = self._bounds(t)
        return t.vs.map(clip, x, *vecs, scalars=sc)

    def value(self, t, x):  # PyProximal: True (1) inside the box, False (0) outside
        vecs, sc = self._bounds(t)
        return call(_none_out, t.vs.sqnorm(t.vs.map(outside, x, *vecs, scalars=sc)))


class Huber(Handler):
    def check(self, P):
        _scalar(P, "alpha")

    def prox(self, t, x, tau):
        return t.vs.map(huber_prox, x, scalars=(tau, t.P.alpha))

    def value(self, t, x):
        return t.vs.sqnorm(t.vs.map(huber_root, x, scalars=(t.P.alpha,)))


class Euclidean(Handler):
    def check(self, P):
        _scalar(P, "sigma")

    def prox(self, t, x, tau):
        return call(_eucl_coef, t.vs.sqnorm(x), tau * t.P.sigma) * x

    def proxdual(self, t, x, tau):
        return call(_ratio_coef, t.vs.sqnorm(x), t.P.sigma) * x

    def grad(self, t, x):
        return call(_inv_norm, t.vs.sqnorm(x), t.P.sigma) * x

    def value(self, t, x):
        return t.P.sigma * call(math.sqrt, t.vs.sqnorm(x))


class EuclideanBall(Handler):
    def check(self, P):
        _scalar(P, "radius")

    def vectors(self, P):
        return {"c": P.center} if _is_vec(P.center) else {}

    def prox(self, t, x, tau):
        r = t.P.radius
        if "c" in t.names:
            d = x - t.get("c")
            return t.get("c") + call(_ratio_coef, t.vs.sqnorm(d), r) * d
        c = float(np.real(t.P.center))
        n2 = t.vs.sqnorm(t.vs.map(shifted, x, scalars=(c,)))
        return t.vs.map(ball, x, scalars=(c, call(_ratio_coef, n2, r)))

    def value(self, t, x):  # PyProximal: True (1) inside the ball
        d = x - t.get("c") if "c" in t.names else \
            t.vs.map(shifted, x, scalars=(float(np.real(t.P.center)),))
        return call(_within, t.vs.sqnorm(d), t.P.radius)


class L2(Handler):
    r"""``sigma/2 ||Op x - b||^2 + alpha q^T x``. With ``Op`` and ``b`` (Op the solve's operator),
    ``prox`` solves :math:`(\mathbf{I} + \tau\sigma\mathbf{Op}^H\mathbf{Op})\mathbf{x} =
    \mathbf{x}_{in} + \tau\sigma\mathbf{Op}^H\mathbf{b} - \tau\alpha\mathbf{q}` with ``niter``
    iterations of PyLops' CG (its ``tol`` from ``kwargs_solver``, default 1e-4), warm started
    as PyProximal (``x0``, ``warm``), unrolled in the step."""

    def check(self, P):
        _scalar(P, "sigma")
        _scalar(P, "alpha")
        if self.with_op(P):
            if not isinstance(P.niter, numbers.Integral):
                raise NotImplementedError("L2: a callable niter is not supported (give an int)")
            extra = set(P.kwargs_solver) - {"tol"}
            if extra:
                raise NotImplementedError(f"L2: kwargs_solver {sorted(extra)} not supported "
                                          "(only 'tol', of the inner CG)")
        elif P.b is not None and not _is_vec(P.b):
            _scalar(P, "b")

    @staticmethod
    def with_op(P):
        return P.Op is not None and P.b is not None

    def vectors(self, P):
        out = {"q": P.q} if _is_vec(P.q) else {}
        if self.with_op(P) and _is_vec(P.x0):
            out["x0"] = P.x0
        elif not self.with_op(P) and _is_vec(P.b):
            out["b"] = P.b
        return out

    def start(self, t):
        if not self.with_op(t.P):
            return {}
        vs = t.vs
        out = {"OpTb": t.P.sigma * vs.rmatvec(t.data)}
        out["w"] = t.vecs["x0"] if "x0" in t.vecs else vs.zeros_like(out["OpTb"])
        return out

    def _q(self, t):
        return t.get("q") if "q" in t.names else None

    def prox(self, t, x, tau):
        P, vs, q = t.P, t.vs, self._q(t)
        ts = tau * P.sigma
        if self.with_op(P):
            return self._solve(t, x + tau * t.get("OpTb") if q is None else
                               x + tau * t.get("OpTb") - (tau * P.alpha) * q, ts)
        if q is not None:
            x = x - (tau * P.alpha) * q
        if "b" in t.names:
            return (x + ts * t.get("b")) * (1.0 / (1.0 + ts))
        b = 0.0 if P.b is None else float(np.real(P.b))
        return vs.map(shift_scale, x, scalars=(ts * b, 1.0 + ts))

    def _solve(self, t, rhs, ts):
        vs, P = t.vs, t.P
        tol = P.kwargs_solver.get("tol", 1e-4)
        x = t.get("w") if P.warm or "x0" not in t.names else t.get("x0")
        r = vs.map(copy, rhs - (x + ts * vs.rmatvec(vs.matvec(x))))
        c, kold = r, vs.sqnorm(r)
        for _ in range(P.niter):  # (each vector a map of its own: the step's graph stays linear)
            Opc = vs.map(copy, c + ts * vs.rmatvec(vs.matvec(c)))
            a = call(cg_step, kold, abs(vs.dot(Opc, c)), tol)
            x = vs.map(copy, x + a * c)
            r = vs.map(copy, r - a * Opc)
            k = vs.sqnorm(r)
            c = vs.map(copy, r + (k / kold) * c)
            kold = k
            if not vs.fused:  # dask.array: persist each inner step (a chain of scalars taken
                # through dask.delayed copies the graph under it at each step); the old
                # state's handles stay valid (these names are the term's own)
                sub = vs.commit({f"{t.role}_cg{n}": h for n, h in zip("xrck", (x, r, c, kold))})
                x, r, c, kold = (sub[f"{t.role}_cg{n}"] for n in "xrck")
        if P.warm:
            t.set("w", x)
        return x

    def _residual(self, t, x):
        P, vs = t.P, t.vs
        if self.with_op(P):
            return vs.matvec(x) - t.data
        if "b" in t.names:
            return x - t.get("b")
        return x if P.b is None else vs.map(shifted, x, scalars=(float(np.real(P.b)),))

    def value(self, t, x):
        P = t.P
        f = (P.sigma / 2.0) * t.vs.sqnorm(self._residual(t, x))
        q = self._q(t)
        if q is not None:
            f = f + P.alpha * call(np.real, t.vs.dot(t.vs.map(conj, q), x))
        return f

    def grad(self, t, x):
        P, vs = t.P, t.vs
        if self.with_op(P):
            g = P.sigma * vs.rmatvec(vs.matvec(x) - t.data)
        elif "b" in t.names or P.b is None:
            g = P.sigma * self._residual(t, x)
        else:
            g = vs.map(scaled_diff, x, scalars=(float(np.real(P.b)), P.sigma))
        q = self._q(t)
        return g + P.alpha * q if q is not None and P.qgrad else g


REGISTRY = {pyproximal.L1: L1(), pyproximal.Box: Box(), pyproximal.Huber: Huber(),
            pyproximal.L2: L2(), pyproximal.Euclidean: Euclidean(),
            pyproximal.EuclideanBall: EuclideanBall()}
SUPPORTED = ", ".join(sorted(c.__name__ for c in REGISTRY))


class Term:
    """A prox applied on one side of a solve (``role``: its name in the state, "f" or "g")."""

    def __init__(self, prox, role, side, solver_name):
        h = REGISTRY.get(type(prox))
        if h is None:
            why = ("its norm couples the elements along the first (stacked) axis, which is not "
                   "separable over chunks" if type(prox).__name__ == "L21" else
                   "it is not one of the element-wise or global-norm operators written for chunks")
            raise NotImplementedError(
                f"{solver_name}: proximal operator {type(prox).__module__}."
                f"{type(prox).__name__} is not supported on chunked vectors ({why}); supported: "
                f"{SUPPORTED}")
        h.check(prox)
        self.P, self.h, self.role, self.side = prox, h, role, side
        self.op = prox.Op if isinstance(h, L2) and L2.with_op(prox) else None
        self.names = ()

    def arrays(self):
        """The prox's arrays to load: state name -> array."""
        return {f"{self.role}_{k}": v for k, v in self.h.vectors(self.P).items()}

    def start(self, vs, ins, data):
        """The term's initial state entries, from the loaded inputs ``ins``."""
        self.vs, self.data, self.new = vs, data, {}
        self.vecs = {k[len(self.role) + 1:]: ins[k] for k in self.arrays()}
        out = dict(self.vecs)
        out.update(self.h.start(self))
        self.names = tuple(out)
        return {f"{self.role}_{k}": v for k, v in out.items()}

    def bind(self, vs, st):
        """Use the term's vectors of state ``st`` (a dict of handles) from now on."""
        self.vs, self.st, self.data, self.new = vs, st, st.get("y"), {}
        return self

    def get(self, name):
        return self.st[f"{self.role}_{name}"] if name not in self.new else self.new[name]

    def set(self, name, v):
        self.new[name] = v

    def carry(self):
        """The term's entries of the next state."""
        return {f"{self.role}_{k}": self.get(k) for k in self.names}

    def prox(self, x, tau):
        return self.h.prox(self, x, tau)

    def proxdual(self, x, tau):
        return self.h.proxdual(self, x, tau)

    def grad(self, x):
        return self.h.grad(self, x)

    def value(self, x):
        return self.h.value(self, x)
