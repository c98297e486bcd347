"""The plain backend on dask's local schedulers, run eagerly.

An operator without a chunk kernel (``FunctionOperator``, ``MemoizeOperator``, a ``Kronecker``
of general factors...) is solved with dask.array expressions. With a distributed client
those are persisted every step (:class:`~._plain.PlainSpace`); on a local scheduler the data
is in this process anyway, and a graph per step and per scalar cost ~0.3 s an iteration.
Here the vectors are in-memory NumPy blocks: each apply of the operator is one dask compute
(the operator's own graph, on the active local scheduler), and the linear combinations,
element-wise maps and scalars are plain NumPy.
"""

import dask
import dask.array as da
import numpy as np

from pylops_distributed._arrays import get_array_module
from pylops_distributed.optimization._plain import PlainSpace, space_blocks, to_number, transformed
from pylops_distributed.optimization._space import ROUND_TRIPS, State, Vec, as_scalar, scalar_value
from pylops_distributed.stacked import StackedArray


class EagerSpace(PlainSpace):
    """:class:`~._plain.PlainSpace` with in-memory blocks (local schedulers, NumPy chunks)."""

    def __init__(self, Op, y, x0=None):
        super().__init__(Op, y, x0)
        self.block_chunks = {}  # (side, block) -> chunks the dask arrays given out take

    def inputs(self, **arrays):
        out = State()
        for name, (arr, side) in arrays.items():
            comps = self.model if side == "model" else self.data
            blocks = space_blocks(arr, comps, name)
            values = dask.compute(*blocks)
            for i, (b, v) in enumerate(zip(blocks, values)):
                self.values[(name, i)] = np.asarray(v)
                self.block_chunks.setdefault((side, i), getattr(b, "chunks", None))
            out[name] = self.leaf_vec(name, side)
        return out

    def _dask(self, value, side, i):
        chunks = self.block_chunks.get((side, i))
        if chunks is None or tuple(sum(c) for c in chunks) != value.shape:
            chunks = value.shape or ()
        return da.from_array(value, chunks=chunks, name=False)

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
                if coef != 1:
                    dtype = term.dtype
                    if np.iscomplexobj(coef) and dtype.kind != "c":
                        dtype = np.result_type(dtype, np.complex64)
                    term = (term * coef).astype(dtype, copy=False)
                v = term if v is None else v + term  # (never in place: values are shared)
        elif op == "map":
            fn, vecs, scalars, dtype = node.args
            arrays = [self._eval(n, env) for n in vecs]
            v = fn(*arrays, *[self._scalar(s, env) for s in scalars])
            xp = get_array_module(arrays[0])
            v = xp.asarray(v).astype(dtype or arrays[0].dtype, copy=False)
        elif op == "zeros":
            v = np.zeros_like(self._eval(node.args[0], env))
        elif op == "apply":
            v = self._apply(node, env)
        elif op == "xapply":
            Op, adjoint, vin = node.args
            a = self._eval(vin, env)
            v = np.asarray(dask.compute(transformed(Op, adjoint, da.from_array(a, chunks=a.shape,
                                                                                name=False)))[0])
        else:  # pragma: no cover
            raise ValueError(op)
        env[node] = v
        return v

    def _apply(self, node, env):
        adjoint, i, inputs = node.args
        key = ("apply", adjoint, inputs)
        if key not in env:
            side_in, side_out = ("data", "model") if adjoint else ("model", "data")
            blocks = self._apply_blocks(adjoint, [self._dask(self._eval(n, env), side_in, k)
                                                  for k, n in enumerate(inputs)])
            for k, b in enumerate(blocks):
                self.block_chunks.setdefault((side_out, k), b.chunks)
            env[key] = [np.asarray(v) for v in dask.compute(*blocks)]
        return env[key][i]

    def _scalar(self, node, env):
        return scalar_value(node, env, self.values.__getitem__,
                            lambda n: self._reduce(n, env), lambda n: self._first(n, env))

    def _reduce(self, n, env):
        """A dot product, squared norm or ``Space.reduce`` node's value."""
        if n.op == "reduce":
            part, combine, vecs = n.args
            return combine([part(self._eval(m, env)) for m in vecs])
        a = self._eval(n.args[0], env)
        if n.op == "sqnorm":
            return float(np.vdot(a, a).real)
        return np.vdot(a, self._eval(n.args[1], env))

    def _first(self, n, env):
        return self._eval(n.args[0], env).flat[0]

    def _commit(self, outputs, check):
        env = {}
        new = {}
        for name, h in outputs.items():
            if isinstance(h, Vec):
                for i, n in enumerate(h.nodes):
                    new[(name, i)] = self._eval(n, env)
            else:
                new[name] = self._scalar(h.node, env)
        self._checks = [self._scalar(s.node, env) for s in check]
        self.values.update(new)

    def fetch_later(self, *scalars):
        env = {}
        return [self._scalar(as_scalar(s).node, env) for s in scalars]

    def check_values(self, also=None):
        ROUND_TRIPS[0] += 1
        return [to_number(v) for v in self._checks], [to_number(v) for v in (also or ())]

    def fetch(self, *scalars, also=None):
        ROUND_TRIPS[0] += 1
        env = {}
        out = [to_number(self._scalar(as_scalar(s).node, env)) for s in scalars]
        if also is None:
            return out
        return out, [to_number(v) for v in also]

    def lazy(self, s):
        return da.from_array(np.asarray(to_number(self._scalar(s.node, {}))), chunks=())

    def to_dask(self, v, copy=True):
        blocks = [self._dask(self.values[n.args] if n.op == "leaf" else self._eval(n, {}), v.side, k)
                  for k, n in enumerate(v.nodes)]
        if len(blocks) > 1 or (self.stacked_data and v.side == "data"):
            return StackedArray(blocks)
        return blocks[0]
