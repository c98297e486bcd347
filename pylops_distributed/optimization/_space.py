"""The vector space the solvers are written against, and its plain dask.array backend.

A solver step is ordinary arithmetic on handles: :class:`Vec` (a model or data vector, one
node per block of a StackedArray) and :class:`Scalar` (a lazy number)::

    a = st.kold / st.qq
    x = st.x + a * st.c
    r = vs.rmatvec(s) - damp * x
    k = vs.sqnorm(r)

The handles record a small graph of the step (linear combinations, element-wise maps,
operator applications, dot products, scalar arithmetic); :meth:`Space.commit` hands the
step's new state to a backend, which turns the graph into work:

- :class:`PlainSpace` (here): dask.array expressions, persisted every step; works for any
  operator, with whatever tasks dask.array makes;
- :class:`~pylops_distributed.optimization._fused.FusedSpace`: a few tasks per chunk per
  iteration, from the operators' chunk kernels.

Only :meth:`Space.fetch` brings numbers to the client: it is the one counted round trip.
"""

import math
import numbers
import operator

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed

from pylops_distributed._arrays import flatten, get_array_module
from pylops_distributed.optimization._runner import held
from pylops_distributed.stacked import StackedArray, split_input

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

def space_blocks(arr, comps, name):
    """The blocks of a user's vector for a side of the space made of ``comps`` (a flat
    vector or another cut of the same elements is re-cut to them)."""
    blocks = arr.blocks if isinstance(arr, StackedArray) else (arr,)
    if len(blocks) == len(comps):
        return blocks
    shapes = [c[1] for c in comps]
    if sum(b.size for b in blocks) != sum(int(np.prod(sh)) for sh in shapes):
        raise ValueError(f"{name}: {sum(b.size for b in blocks)} elements for a space of "
                         f"{sum(int(np.prod(sh)) for sh in shapes)}")
    if len(comps) == 1:
        flat = arr.ravel() if isinstance(arr, StackedArray) else arr.reshape(-1)
        return (flat.reshape(shapes[0]),)
    return split_input(arr, shapes)


class PlainSpace(Space):
    """dask.array expressions, persisted every step (any operator; no kernels needed)."""

    def __init__(self, Op, y, x0=None):
        super().__init__(Op)
        self.y_like = y
        self.square = tuple(Op.dims) == tuple(Op.dimsd)
        yb = y.blocks if isinstance(y, StackedArray) else (y,)
        self.data = [("data", b.shape, b.dtype) for b in yb]
        self.model = [("model", tuple(Op.dims), np.dtype(np.result_type(y.dtype, Op.dtype)))]
        if self.square:
            self.model = self.data
        self.stacked_data = isinstance(y, StackedArray)
        self.values = {}
        self.out_chunks = {}
        self.meta = (yb[0]._meta if hasattr(yb[0], "_meta") else np.empty(0))

    def inputs(self, **arrays):
        """Leaf handles for the user's arrays (``y``, ``x0``...), sides given as ``name=(array, side)``."""
        out = State()
        for name, (arr, side) in arrays.items():
            comps = self.model if side == "model" else self.data
            blocks = [held(b) for b in space_blocks(arr, comps, name)]  # same futures each step
            for i, b in enumerate(blocks):
                self.values[(name, i)] = b
            out[name] = self.leaf_vec(name, side)
        return out

    def _eval(self, node, env):
        if node in env:
            return env[node]
        op = node.op
        if op == "leaf":
            v = self.values[node.args]
        elif op == "lin":
            v = None
            for c, n in node.args:
                term = self._eval(n, env)
                coef = self._coef(c, env)
                if not isinstance(coef, numbers.Number):  # a 0-d float64 array: keep float32
                    term = (coef * term).astype(_coef_dtype(term.dtype, coef.dtype))
                elif coef != 1:
                    term = coef * term
                v = term if v is None else v + term
        elif op == "map":
            fn, vecs, scalars, dtype = node.args
            arrays = [self._eval(n, env) for n in vecs]
            # map_blocks pairs blocks by index: vectors the space holds in other pieces
            arrays = [a if a.chunks == arrays[0].chunks else a.rechunk(arrays[0].chunks)
                      for a in arrays]
            sc = [self._scalar(s, env) for s in scalars]
            v = da.map_blocks(fn, *arrays, *sc, dtype=dtype or arrays[0].dtype)
        elif op == "zeros":
            v = da.zeros_like(self._eval(node.args[0], env))
        elif op == "apply":
            adjoint, i, inputs = node.args
            key = ("apply", adjoint, inputs)
            if key not in env:
                env[key] = self._apply_blocks(adjoint, [self._eval(n, env) for n in inputs])
            v = env[key][i]
        elif op == "xapply":
            Op, adjoint, vin = node.args
            v = transformed(Op, adjoint, self._eval(vin, env))
        else:  # pragma: no cover
            raise ValueError(op)
        env[node] = v
        return v

    def _apply_blocks(self, adjoint, arrays):
        """``Op`` (``Op^H`` with ``adjoint``) of the dask blocks ``arrays``: one dask array per
        block of the output side, in its shape (a flat output is cut into them)."""
        x = StackedArray(arrays) if len(arrays) > 1 else arrays[0]
        if len(arrays) == 1 and self.stacked_data and adjoint:
            x = StackedArray(arrays)
        y = self.Op.rmatvec(x) if adjoint else self.Op.matvec(x)
        out_comps = self.model if adjoint else self.data
        blocks = list(y.blocks) if isinstance(y, StackedArray) else [y]
        if len(blocks) != len(out_comps):  # a flat (forceflat) output, or one block stacked
            flat = y.ravel() if isinstance(y, StackedArray) else flatten(y)
            ends = np.cumsum([0] + [int(np.prod(c[1])) for c in out_comps])
            if ends[-1] != flat.size:
                raise ValueError("operator output does not match the space's blocks")
            blocks = [flat[a:b] for a, b in zip(ends[:-1], ends[1:])]
        out = []
        for k, (b, c) in enumerate(zip(blocks, out_comps)):
            b = b.reshape(c[1]) if b.shape != tuple(c[1]) else b
            # every output of a side in the pieces of the first: operators whose terms are cut
            # differently would otherwise refine the vectors' chunks at every step
            want = self.out_chunks.setdefault((c[0], k), b.chunks)
            out.append(b.rechunk(want) if b.chunks != want else b)
        return out

    def _coef(self, c, env):
        if isinstance(c, numbers.Number):
            return c
        return self._scalar(c.node, env)

    def _scalar(self, node, env):
        def leaf(name):
            return self.values[name]

        def reduce(n):
            if n.op == "reduce":
                part, combine, vecs = n.args
                # unoptimised: the chunks keep the step's keys (computed once, shared with
                # the rest of the step) and a persisted array's results
                parts = [dask.delayed(part, pure=True)(c) for m in vecs
                         for c in self._eval(m, env).to_delayed(optimize_graph=False).ravel()]
                return da.from_delayed(dask.delayed(combine, pure=False)(parts), (),
                                       dtype=np.float64, meta=_meta0(self.meta))
            if n.op == "dot":
                a, b = (self._eval(m, env) for m in n.args)
                if np.iscomplexobj(np.empty(0, a.dtype)):
                    a = a.conj()
                return (a * b).sum()
            a = self._eval(n.args[0], env)
            if np.iscomplexobj(np.empty(0, a.dtype)):
                return (a.real ** 2 + a.imag ** 2).sum()
            return (a * a).sum()

        def first(n):
            a = self._eval(n.args[0], env)
            return a[(0,) * a.ndim]

        if node in env:
            return env[node]
        if node.op in ("fn", "pack"):
            fn, args = node.args[0], [self._scalar(a, env) for a in node.args[1]]
            # impure: the same scalar function of equal inputs in another solve's graph gets
            # its own key (a pure one is resubmitted with other dependencies: the scheduler's
            # "different run_spec" warning)
            d = dask.delayed(_call_numbers, pure=False)(fn, *map(_unoptimised, args))
            dtype = _scalar_dtype(fn, args)
            v = d if node.op == "pack" else da.from_delayed(d, (), dtype=dtype,
                                                            meta=_meta0(self.meta, dtype))
        elif node.op == "item":
            pack = self._scalar(node.args[0], env)
            v = da.from_delayed(dask.delayed(operator.getitem)(pack, node.args[1]), (),
                                dtype=np.float64, meta=_meta0(self.meta))
        else:
            return scalar_value(node, env, leaf, reduce, first)
        env[node] = v
        return v

    def _commit(self, outputs, check):
        env = {}
        new = {}
        for name, h in outputs.items():
            if isinstance(h, Vec):
                for i, n in enumerate(h.nodes):
                    new[(name, i)] = self._eval(n, env)
            else:
                new[name] = self._scalar(h.node, env)
        checks = [self._scalar(s.node, env) for s in check]
        keys = list(new)
        done = dask.persist(*[new[k] for k in keys], *checks)
        self.values.update(dict(zip(keys, done)))
        self._checks = done[len(keys):]

    def fetch_later(self, *scalars):
        """Start computing scalars of the current state; :meth:`fetch` or
        :meth:`check_values` bring them back (``also=``) with their own round trip."""
        env = {}
        return dask.persist(*[self._scalar(as_scalar(s).node, env) for s in scalars])

    def check_values(self, also=None):
        """The values of the last commit's ``check`` scalars (and of ``also``, from
        :meth:`fetch_later`): one blocking round trip."""
        ROUND_TRIPS[0] += 1
        n = len(self._checks)
        out = [to_number(v) for v in dask.compute(*self._checks, *(also or ()))]
        return out[:n], out[n:]

    def fetch(self, *scalars, also=None):
        """Python numbers of lazy scalars: one graph, one blocking round trip (with ``also``:
        the values and those of :meth:`fetch_later`'s handle)."""
        ROUND_TRIPS[0] += 1
        env = {}
        vals = [self._scalar(as_scalar(s).node, env) for s in scalars]
        out = [to_number(v) for v in dask.compute(*vals, *(also or ()))]
        if also is None:
            return out
        return out[:len(vals)], out[len(vals):]

    def lazy(self, s):
        """A lazy scalar as a 0-d dask array (no round trip)."""
        return self._scalar(s.node, {})

    def to_dask(self, v, copy=True):
        blocks = [self.values[n.args] if n.op == "leaf" else self._eval(n, {}) for n in v.nodes]
        if len(blocks) > 1 or (self.stacked_data and v.side == "data"):
            return StackedArray(blocks)
        return blocks[0]

    def release(self):
        self.values = {}


def transformed(Op, adjoint, v):
    """``Op v`` (``Op^H v``) of a dask array ``v``, in ``v``'s shape when sizes agree."""
    out = (Op.rmatvec if adjoint else Op.matvec)(v.reshape(-1))
    out = out.reshape(-1)
    return out.reshape(v.shape) if out.size == v.size else out


def _coef_dtype(vec, coef):
    """The dtype a lazy coefficient takes to scale a vector of dtype ``vec`` without
    promoting it (a complex coefficient of a real vector: complex at its precision)."""
    if np.dtype(coef).kind == "c" and np.dtype(vec).kind != "c":
        return np.result_type(vec, np.complex64)
    return vec


def _meta0(meta, dtype=np.float64):
    """A 0-d empty array of ``meta``'s module (NumPy or CuPy), so that scalar * vector keeps
    the vector's chunk type."""
    return get_array_module(meta).empty((), dtype=dtype)


def _unoptimised(a):
    """A 0-d dask array as its chunk's Delayed, unoptimised (see ``docs/engine.md``: fused
    twice, dask's task names are cut to a 4-digit hash and two steps' tasks share keys)."""
    if isinstance(a, da.Array):
        return a.to_delayed(optimize_graph=False).ravel()[0]
    return a


def _call_numbers(fn, *args):
    return fn(*[to_number(a) for a in args])


def _scalar_dtype(fn, args):
    if fn in (abs, math.sqrt):
        return np.dtype(np.float64)
    return np.result_type(np.float64, *[getattr(a, "dtype", type(a)) for a in args
                                        if not isinstance(a, Delayed)])


def to_number(v):
    """NumPy/CuPy scalars and 0-d arrays as Python floats (complex where complex)."""
    if type(v).__module__.split(".")[0] == "cupy":
        v = v.get()
    if isinstance(v, (list, tuple)):
        return type(v)(to_number(e) for e in v)
    v = np.asarray(v)
    v = v[()] if v.ndim == 0 else v
    if isinstance(v, np.ndarray):
        return v
    return complex(v) if np.iscomplexobj(v) else float(v)
