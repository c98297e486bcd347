"""What the proximal solvers of :mod:`.proximal` share: inputs, the state and its checks,
the operator of the problem and the run (the solvers' own steps are in :mod:`.proximal`)."""

import functools
import math

import dask.array as da
import numpy as np

from pylops_distributed.basicoperators.identity import Identity
from pylops_distributed.linearoperator import aslinearoperator
from pylops_distributed.optimization._progress import solve_with
from pylops_distributed.optimization._proxes import Term, at, first_stop, pick, pick_s, stop_test
from pylops_distributed._held import held
from pylops_distributed.optimization._solver import CheckedSolver, as_vector, predicted_memory
from pylops_distributed.optimization._space import Vec, call
from pylops_distributed.stacked import StackedArray


def _check_niter(name, niter):
    if niter is None or not niter >= 0:
        raise ValueError(f"{name}: niter must be >= 0, got {niter!r}")


def check_positive(name, **values):
    for key, v in values.items():
        if not np.all(np.asarray(v) > 0):
            raise ValueError(f"{name}: {key} must be positive, got {v!r}")


def schedule(v, niter, what, name, positive=True):
    """PyProximal's per-iteration float32 parameter (``v * ones(niter, float32)`` or the
    array): its values and the constant (None when it varies)."""
    _check_niter(name, niter)
    arr = np.asarray(v, dtype=np.float32)
    if arr.size == 1:
        arr = v * np.ones(max(niter, 1), dtype=np.float32)
    elif arr.ndim != 1 or arr.size < niter:
        raise ValueError(f"{name}: {what} has {arr.size} values for niter={niter}")
    if positive:
        check_positive(name, **{what: arr})
    values = tuple(float(e) for e in arr)
    return arr, values, (values[0] if len(set(values)) == 1 else None)


class ProximalSolver(CheckedSolver):
    """What the proximal solvers share: terms, space, cost, PyProximal's stop, checks.

    A solver's ``setup`` loads its vectors (:meth:`_prepare`) and commits its first state
    (:meth:`_start`); its ``_step`` returns the new iterates, which :meth:`_close` completes
    with the terms' vectors and, with ``tol``, the cost and the stop (frozen after it)."""

    raise_on_nonfinite = False
    step_params = ()
    nbar = 65
    head = "f           g         J=f+g"
    results = ("x", "z")
    with_A = False

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory(self.name, self.Op, 4, 3, show, unit)

    def _prepare(self, terms, y, x0, check_every, niter, tol, rtol, extra=()):
        """Check and load ``y`` (data, maybe a placeholder), ``x0``, the terms' arrays and
        ``extra`` ((name, array, side) with array not None); returns the loaded handles."""
        _check_niter(self.name, niter)
        self._inputs(y, x0, check_every, niter=niter, tol=tol, rtol=rtol)
        self._flat = getattr(x0, "ndim", 0) == 1 and not isinstance(x0, StackedArray)
        self.niter, self.terms, self.tol, self.rtol = niter, terms, tol, rtol
        self.tracking = tol is not None
        extra = [e for e in extra if e[1] is not None]
        extra += [(k, v, t.side) for t in terms for k, v in t.arrays().items()]
        arrays = {}
        for name, arr, side in extra:
            dims = self.Op.dims if side == "model" else self.Op.dimsd
            arrays[name] = (held(as_vector(arr, dims, self.Op.chunks, f"{self.name}: {name}")[0]),
                            side)
        self.vs = vs = self._space()
        return vs.inputs(y=(self.y, "data"), x0=(self.x0, "model"), **arrays)

    def _start(self, ins, state, xcost, gcost, show, lines):
        """Commit the setup's state; the first cost is ``f(xcost) + g(gcost)``."""
        vs = self.vs
        for t in self.terms:
            state.update(t.start(vs, ins, ins.y))
        state.update(y=ins.y, k=0.0)
        self._bind(state)
        pf, pg = self.terms[0].value(xcost), self.terms[1].value(gcost)
        zx = self._zx(state)
        pfg = self._first_cost(pf, pg, zx)
        extras = dict(self._input_norms(ins.y, ins.x0), pfg0=pfg)
        if self.tracking:
            state.update(pf=pf, pg=pg, zx=zx, pfg=pfg, cost0=pfg, kstop=0.0)
        self._start_state(state, extras)
        self.cost, self.cost_iters = [], []
        if show:
            self._print_head(lines)
        return self._x()

    def _zx(self, st):
        return 0.0

    def _first_cost(self, pf, pg, zx):
        return pf + pg + zx

    def _bind(self, st):
        for t in self.terms:
            t.bind(self.vs, st)

    def _at_k(self, sched, k):
        """A per-iteration parameter at iteration ``k`` (lazy when it varies)."""
        _, values, const = sched
        return const if const is not None else call(functools.partial(at, values), k)

    # --- step ----------------------------------------------------------------------------------
    def _iterate(self, st):
        self._bind(st)
        return self._close(st, self._step(st))

    def _close(self, st, out):
        """The step's state: carried terms and data, PyProximal's cost and stop (tracking)."""
        for t in self.terms:
            out.update(t.carry())
        out.update(y=st.y, k=st.k + 1)
        if not self.tracking:
            return out
        vs, frozen = self.vs, st.kstop
        for name, h in out.items():  # after the stop the state stays as it was
            if name in st and h is not st[name] and name != "k":
                out[name] = (vs.map(pick, st[name], h, scalars=(frozen,)) if isinstance(h, Vec)
                             else call(pick_s, frozen, st[name], h))
        pf, pg, zx = self._values(out)
        pfg = self._cost(pf, pg, zx, st.k)
        stop = call(stop_test, st.pfg, pfg, self.tol, math.nan if self.rtol is None else self.rtol,
                    st.cost0)
        out.update({n: call(pick_s, frozen, st[n], v)
                    for n, v in dict(pf=pf, pg=pg, zx=zx, pfg=pfg).items()})
        out.update(cost0=st.cost0, kstop=call(first_stop, st.kstop, stop, st.k + 1))
        return out

    def _values(self, st):
        """Lazy ``f(x)``, ``g(.)`` and ``z^T x`` of a state."""
        self._bind(st)
        return self.terms[0].value(st["x"]), self.terms[1].value(self._gpoint(st)), self._zx(st)

    def _gpoint(self, st):
        return st["x"]

    def _cost(self, pf, pg, zx, k):
        return pf + pg + zx

    # --- checks --------------------------------------------------------------------------------
    def _lazy_check(self, st, show):
        if self.tracking:
            lazy = [st["pf"], st["pg"], st["zx"], st["pfg"], st["kstop"]]
        else:
            pf, pg, zx = self._values(st)
            lazy = [pf, pg, zx, self._cost(pf, pg, zx, st["k"] - 1), 0.0]
        return lazy + ([self.vs.first(st["x"])] if show else [])

    def _check(self, show=False, planned=False):
        if not planned and self._checked != self.iiter:  # a check of the committed state
            self.st = self.vs.commit(dict(self.st), check=self._lazy_check(self.st, show))
            planned = True
        super()._check(show, planned)

    def _on_first_check(self, values):
        self.cost, self.cost_iters = [float(np.real(values["pfg0"]))], [0]

    def _on_check(self, values, show):
        if self.iiter == 0:
            return
        pf, pg, zx, pfg, kstop = (float(np.real(v)) for v in values[:5])
        if kstop > 0:  # PyProximal stopped there: the state froze at that iteration
            self.iiter = self._checked = int(round(kstop))
            self._converged = True
        self.cost.append(pfg)
        self.cost_iters.append(self.iiter)
        if show:
            x0 = values[5]
            strx = f"{x0:1.2e}     " if isinstance(x0, complex) else f"{x0:11.4e}      "
            print(f"{self.iiter:6g}        " + strx + self._row(pf, pg, zx, pfg))

    def _row(self, pf, pg, zx, pfg):
        return f"{pf:10.3e}  {pg:10.3e}  {pfg:10.3e}"

    def _print_head(self, lines):
        f, g = (type(t.P).__name__ for t in self.terms)
        op = [f"Linear operator (A): {self.Op.label}"] if self.with_A else []
        print("\n".join([self.name, "-" * self.nbar, f"Proximal operator (f): {f}",
                         f"Proximal operator (g): {g}", *op, *lines,
                         f"tol = {self.tol}\tniter = {self.niter}\tcheck_every = "
                         f"{self.check_every}", "-" * self.nbar + "\n",
                         "    Itn           x[0]              " + self.head]))

    # --- results -------------------------------------------------------------------------------
    def _vec(self, name):
        v = self.vs.to_dask(self.st[name])
        return v.reshape(-1) if self._flat and not isinstance(v, StackedArray) else v

    def _x(self):
        return self._vec("x")

    def finalize(self, show=False):
        """Finalize: ``cost`` becomes a NumPy array (first cost, then the checks')."""
        self._check_final()
        self._elapsed()
        self.cost = np.array(self.cost)
        if show:
            self._print_finalize(nbar=self.nbar)

    def solve(self, terms, x0, y, *args, show=False, itershow=(10, 10, 10), **kwargs):
        """Run the whole solver; returns the vectors named by ``results`` (persisted)."""
        x = self.setup(terms, x0, y, *args, show=show, **kwargs)
        self.run(x, self.niter, show=show, itershow=itershow)
        self.finalize(show)
        out = self._finish(tuple(self._vec(n) for n in self.results))
        return out if len(out) > 1 else out[0]


# --- the solve's operator and the user-facing functions -------------------------------------------

def _operator(name, terms, x0, A=None):
    """The solve's operator and data: ``A``, else the one ``L2(Op, b)`` operator, else an
    Identity on ``x0``'s shape (``x0`` as placeholder data)."""
    with_op = [t for t in terms if t.op is not None]
    if A is not None:
        if any(t.op is not A or t.side != "model" for t in with_op):
            raise NotImplementedError(
                f"{name}: L2 with an operator other than A (or on A's data side) needs a second "
                "operator in the iteration, which is not supported; use an L2 of A or without Op")
        return aslinearoperator(A), (with_op[0].P.b if with_op else None)
    if len({id(t.op) for t in with_op}) > 1 or len({id(t.P.b) for t in with_op}) > 1:
        raise NotImplementedError(f"{name}: proxf and proxg are L2 terms of different operators "
                                  "or data (one operator and one data vector per solve)")
    if with_op:
        return aslinearoperator(with_op[0].op), with_op[0].P.b
    if x0 is None or not hasattr(x0, "shape"):
        raise ValueError(f"{name}: x0 must be an array")
    dtype = np.result_type(x0.dtype, *[getattr(v, "dtype", np.asarray(v).dtype) for t in terms
                                       for v in t.arrays().values()])
    return Identity(tuple(x0.shape), dtype=dtype), x0


def _placeholder(Op, b, x0, data0):
    """Data for the space of ``A``: the L2's ``b``, the user's data-side start, or zeros in
    the chunks of ``A x0`` (a graph of their own: no key shared with ``x0``'s)."""
    for v in (b, data0):
        if v is not None:
            return v
    y = Op.matvec(as_vector(x0, Op.dims, Op.chunks, "x0")[0])
    if isinstance(y, StackedArray):
        return StackedArray([da.zeros_like(v) for v in y.blocks])
    return da.zeros_like(y)  # (NumPy or CuPy chunks, as y's)


def run_proximal(cls, proxf, proxg, x0, A, callback, tol, rtol, data0=None, cbvec=None,
                 progress=False, performance_report=None, checkpoint=None, checkpoint_every=1,
                 **kwargs):
    """Check the proxes, choose the operator, run ``cls`` as PyProximal's wrapper runs its
    class (``tol or (0.0 if rtol else None)``, ``rtol`` with it), with the progress bar and
    the performance report asked for."""
    terms = [Term(proxf, "f", "model", cls.name),
             Term(proxg, "g", "model" if A is None else "data", cls.name)]
    Op, y = _operator(cls.name, terms, x0, A)
    if A is not None:
        y = _placeholder(Op, y, x0, data0)
    solver = cls(Op)
    if callback is not None:
        solver.callback = (lambda x: callback(x, solver._vec(cbvec))) if cbvec else callback
    tol = tol or (0.0 if rtol else None)
    return solve_with(solver, None, progress, performance_report, checkpoint, checkpoint_every,
                      terms=terms, x0=x0, y=y,
                      tol=tol, rtol=rtol if tol is not None else None, **kwargs)


# --- ProximalGradient --------------------------------------------------------------------------
