"""The plain backend of the solvers' vector space: dask.array expressions, persisted every step.

It works for any operator (no chunk kernels needed), with whatever tasks dask.array makes; the
fused backend (:mod:`._fused`) is the fast path for operators with kernels. See
:mod:`._space` for the handles a solver step is written with.
"""

import math
import numbers
import operator

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed

from pylops_distributed._arrays import flatten, get_array_module
from pylops_distributed._held import held
from pylops_distributed.optimization._space import (ROUND_TRIPS, Space, State, Vec, as_scalar,
                                                    scalar_value)
from pylops_distributed.stacked import StackedArray, split_input


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
