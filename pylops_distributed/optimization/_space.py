"""The vector space the solvers are written against: handles that trace a step, and backends.

A solver step is ordinary arithmetic on handles: :class:`Vec` (a model or data vector, one
node per block of a StackedArray) and :class:`Scalar` (a lazy number)::

    a = st.kold / st.qq
    x = st.x + a * st.c
    r = vs.rmatvec(s) - damp * x
    k = vs.sqnorm(r)

The handles record a small graph of the step (linear combinations, element-wise maps,
operator applications, dot products, scalar arithmetic); :meth:`Space.commit` hands the
step's new state to a backend, which turns the graph into work:

- :class:`~pylops_distributed.optimization._plain.PlainSpace`: dask.array expressions, persisted every step; works for any
  operator, with whatever tasks dask.array makes;
- :class:`~pylops_distributed.optimization._fused.FusedSpace`: a few tasks per chunk per
  iteration, from the operators' chunk kernels.

Only :meth:`Space.fetch` brings numbers to the client: it is the one counted round trip.
"""

import math
import numbers
import operator

#: Number of blocking round trips made by :meth:`Space.fetch` in this process (tests, benchmarks).
ROUND_TRIPS = [0]


class Node:
    """One operation of a step: ``op`` names it, ``args`` are its inputs and parameters."""

    __slots__ = ("op", "args", "comp", "__weakref__")

    def __init__(self, op, args, comp=None):
        self.op, self.args, self.comp = op, args, comp

    def __repr__(self):
        return f"<Node {self.op}>"


# --- scalars ---------------------------------------------------------------------------------

def _wrap(v):
    if isinstance(v, Scalar):
        return v.node
    if isinstance(v, numbers.Number):
        return Node("const", (v,))
    raise TypeError(f"expected a number or a Scalar, got {type(v).__name__}")


def safe_div(n, d):
    """``n / d``, 0 where ``d`` is 0 (an exact solution stays put instead of becoming NaN)."""
    return n / d if d != 0 else 0.0 * n


def _rpow(a, b):
    return b ** a


class Scalar:
    """A lazy real or complex number of a solver step."""

    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node

    def _op(self, fn, *others):
        return Scalar(Node("fn", (fn, (self.node,) + tuple(_wrap(o) for o in others))))

    def __add__(self, o):
        return self._op(operator.add, o)

    def __radd__(self, o):
        return Scalar(Node("fn", (operator.add, (_wrap(o), self.node))))

    def __sub__(self, o):
        return self._op(operator.sub, o)

    def __rsub__(self, o):
        return Scalar(Node("fn", (operator.sub, (_wrap(o), self.node))))

    def __mul__(self, o):
        if isinstance(o, Vec):
            return o * self
        return self._op(operator.mul, o)

    def __rmul__(self, o):
        return Scalar(Node("fn", (operator.mul, (_wrap(o), self.node))))

    def __truediv__(self, o):
        return self._op(safe_div, o)

    def __rtruediv__(self, o):
        return Scalar(Node("fn", (safe_div, (_wrap(o), self.node))))

    def __pow__(self, o):
        return self._op(operator.pow, o)

    def __neg__(self):
        return self._op(operator.neg)

    def __abs__(self):
        return self._op(abs)


def as_scalar(v):
    """A Scalar handle for a handle or a plain number."""
    return v if isinstance(v, Scalar) else Scalar(_wrap(v))


def sqrt(s):
    """Lazy square root."""
    return s._op(math.sqrt)


def call(fn, *args, n=None):
    """The lazy result of the module-level function ``fn`` on lazy or plain numbers (with
    ``n``: its ``n`` results, ``fn`` returning a tuple)."""
    if n is None:
        return Scalar(Node("fn", (fn, tuple(_wrap(a) for a in args))))
    pack = Node("pack", (fn, tuple(_wrap(a) for a in args)))
    return tuple(Scalar(Node("item", (pack, i))) for i in range(n))


# --- vectors -----------------------------------------------------------------------------------

def _terms(node):
    return list(node.args) if node.op == "lin" else [(1, node)]


def _coef_mul(c, s):
    if isinstance(c, numbers.Number) and c == 1:
        return s
    if isinstance(s, numbers.Number) and s == 1:
        return c
    if isinstance(c, numbers.Number) and isinstance(s, numbers.Number):
        return c * s
    return (s * c) if isinstance(s, Scalar) else (c * s)


class Vec:
    """A lazy model or data vector: one node per block (one for a plain dask array)."""

    __slots__ = ("side", "nodes")

    def __init__(self, side, nodes):
        self.side, self.nodes = side, tuple(nodes)

    def _check(self, other):
        # model and data vectors of a square operator share their blocks (CG: y - Op x0)
        if not isinstance(other, Vec) or (other.side != self.side and not (
                len(other.nodes) == len(self.nodes)
                and all(a.comp is b.comp for a, b in zip(self.nodes, other.nodes)))):
            raise TypeError(f"cannot combine a {self.side} vector with a {getattr(other, 'side', other)!r} one")

    def __add__(self, other):
        self._check(other)
        return Vec(self.side, [Node("lin", tuple(_terms(a) + _terms(b)), a.comp)
                               for a, b in zip(self.nodes, other.nodes)])

    def __sub__(self, other):
        return self + other * -1

    def __mul__(self, s):
        if not isinstance(s, (Scalar, numbers.Number)):
            return NotImplemented
        return Vec(self.side, [Node("lin", tuple((_coef_mul(c, s), n) for c, n in _terms(a)), a.comp)
                               for a in self.nodes])

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1


# --- the space ---------------------------------------------------------------------------------

class State(dict):
    """A solver's state: names -> Vec/Scalar handles (attributes too: ``st.x``)."""

    __getattr__ = dict.__getitem__


class Space:
    """The vector space of one solve (base of the backends).

    ``model`` and ``data`` hold one component per block of the model and data vectors
    (backend-specific descriptions); ``square`` operators (``dims == dimsd``) share them.
    """

    fused = False

    def __init__(self, Op):
        self.Op = Op
        self.step_count = 0

    # building
    def leaf_vec(self, name, side):
        comps = self.model if side == "model" else self.data
        return Vec(side, [Node("leaf", (name, i), c) for i, c in enumerate(comps)])

    def leaf_scalar(self, name):
        return Scalar(Node("sleaf", (name,)))

    def apply(self, v, adjoint=False):
        """Lazy ``Op v`` (``Op^H v`` with ``adjoint``)."""
        want = "data" if adjoint else "model"
        if v.side != want and not (self.square and v.side in ("model", "data")):
            raise TypeError(f"{'rmatvec' if adjoint else 'matvec'} needs a {want} vector")
        out = self.model if adjoint else self.data
        side = "model" if adjoint else "data"
        return Vec(side, [Node("apply", (adjoint, i, v.nodes), c) for i, c in enumerate(out)])

    def matvec(self, v):
        return self.apply(v, False)

    def rmatvec(self, v):
        return self.apply(v, True)

    def dot(self, a, b):
        """Lazy ``<a, b> = sum(conj(a) * b)``."""
        out = None
        for na, nb in zip(a.nodes, b.nodes):
            s = Scalar(Node("dot", (na, nb)))
            out = s if out is None else out + s
        return out

    def sqnorm(self, a):
        """Lazy real ``||a||^2``."""
        out = None
        for na in a.nodes:
            s = Scalar(Node("sqnorm", (na,)))
            out = s if out is None else out + s
        return out

    def map(self, fn, *vecs, scalars=(), dtype=None):
        """Lazy element-wise ``fn(*blocks, *scalars)`` (``fn`` module-level; ``dtype``: the
        result's, default the first vector's)."""
        side = vecs[0].side
        return Vec(side, [Node("map", (fn, tuple(v.nodes[i] for v in vecs),
                                       tuple(_wrap(s) for s in scalars), dtype), n.comp)
                          for i, n in enumerate(vecs[0].nodes)])

    def reduce(self, part, combine, v):
        """Lazy ``combine([part(chunk) for every chunk of v])``: a reduction other than a
        sum of products (``part`` and ``combine`` module-level; ``combine`` returns a real
        number). Plain backends only: a solver using it runs on plain dask.array."""
        self._plain_only("reduce")
        return Scalar(Node("reduce", (part, combine, v.nodes)))

    def transform(self, Op, v, side, adjoint=False):
        """Lazy ``Op v`` (``Op^H v``) for a second operator (ISTA's ``SOp``), a vector of
        ``side`` in ``v``'s block shape when sizes agree, else flat. Plain backends only, one
        block."""
        self._plain_only("transform")
        if len(v.nodes) != 1:
            raise NotImplementedError("a second operator on stacked (multi-block) vectors")
        return Vec(side, [Node("xapply", (Op, adjoint, v.nodes[0]))])

    def _plain_only(self, what):
        if self.fused:  # pragma: no cover - the solvers pick the plain space for these
            raise NotImplementedError(f"Space.{what} is not available on the fused backend")

    def zeros_like(self, v):
        """Lazy zeros with the blocks, shapes and chunks of ``v``."""
        return Vec(v.side, [Node("zeros", (n,), n.comp) for n in v.nodes])

    def first(self, v):
        """Lazy first element of a vector (``x[0]`` in PyLops' tables)."""
        return Scalar(Node("first", (v.nodes[0],)))

    def commit(self, outputs, check=None, replay_as=None):
        """Make ``outputs`` (names -> handles or numbers) the new state; return it as leaf
        handles. ``check``: scalars of this step that :meth:`check_values` will bring back
        (computed with the step, so the check adds no work to the cluster). ``replay_as``:
        a key under which :meth:`replay` may repeat this step."""
        self.step_count += 1
        outputs = {k: Scalar(_wrap(v)) if isinstance(v, numbers.Number) else v
                   for k, v in outputs.items()}
        self._commit(outputs, [as_scalar(c) for c in check or ()])
        kinds = tuple((name, h.side if isinstance(h, Vec) else None) for name, h in outputs.items())
        if replay_as is not None:
            self._record(replay_as, kinds)
        return self._leaf_state(kinds)

    def replay(self, key):
        """The state after one more step like the one committed with ``replay_as=key`` from
        a state of the same structure, without tracing it again (a step whose graph depends
        only on the structure of its state and on ``key``); ``None`` when no such step is
        known, or the backend does not replay: the caller then traces and commits it."""
        return None

    def _record(self, key, kinds):
        """Remember the step just committed under ``key`` (backends that replay)."""

    def _leaf_state(self, kinds):
        st = State()
        for name, side in kinds:
            st[name] = self.leaf_vec(name, side) if side is not None else self.leaf_scalar(name)
        return st


def scalar_value(node, env, leaf, reduce, first=None):
    """Evaluate a scalar node (shared by the backends): ``leaf(name)``, ``reduce(node)`` and
    ``first(node)`` give the values of leaves, dot products and first elements."""
    if node in env:
        return env[node]
    op = node.op
    if op == "const":
        v = node.args[0]
    elif op == "sleaf":
        v = leaf(node.args[0])
    elif op in ("dot", "sqnorm", "reduce"):
        v = reduce(node)
    elif op in ("fn", "pack"):
        fn, args = node.args
        v = fn(*[scalar_value(a, env, leaf, reduce, first) for a in args])
    elif op == "item":
        v = scalar_value(node.args[0], env, leaf, reduce, first)[node.args[1]]
    elif op == "first":
        v = first(node)
    else:  # pragma: no cover
        raise ValueError(op)
    env[node] = v
    return v


# --- plain backend -------------------------------------------------------------------------------
