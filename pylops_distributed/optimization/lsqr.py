r"""LSQR (Paige and Saunders), bringing data to the client only at checks."""

import math

import dask.array as da
import numpy as np

from pylops_distributed.optimization._elementwise import add_square, lincomb
from pylops_distributed.optimization._progress import run_options, solve_with
from pylops_distributed.optimization._solver import (CheckedSolver, as_float, is_complex,
                                                    predicted_memory)
from pylops_distributed.optimization._space import call, sqrt
from pylops_distributed.stacked import StackedArray

#: The rotation state carried from one iteration to the next (PyLops' names).
_ROT = ("rhobar", "phibar", "ddnorm", "xxnorm", "z", "cs2", "sn2", "res2", "arnorm0")
#: What a rotation gives besides that state.
_OUT = ("t1", "t2", "inv_rho", "xnorm", "acond", "rnorm", "arnorm", "r1norm", "r2norm")


def rotate(first, alfa2, beta, w2, anorm, damp, rhobar, phibar, ddnorm, xxnorm, z, cs2, sn2,
           res2, arnorm0):
    """LSQR's plane rotations and norm estimates of the iteration whose ``alfa`` is
    ``sqrt(alfa2)`` and ``beta`` is ``beta`` (``w2``: ``||w||^2`` of the direction it moves
    along), in PyLops' order. ``first``: the setup's alfa, nothing to rotate yet.

    Returns the values of ``_OUT`` then of ``_ROT``.
    """
    alfa = math.sqrt(max(alfa2, 0.0))
    if first:
        rot = (alfa, beta, ddnorm, xxnorm, z, cs2, sn2, res2, alfa * beta)
        return (0.0, 0.0, 0.0, 0.0, 0.0, beta, alfa * beta, beta, beta) + rot
    rhobar1 = math.hypot(rhobar, damp)
    rho = math.hypot(rhobar1, beta)
    if rho == 0:  # converged exactly some iterations ago: nothing moves any more
        rnorm = math.sqrt(phibar ** 2 + res2)
        return ((0.0, 0.0, 0.0, math.sqrt(xxnorm), anorm * math.sqrt(ddnorm), rnorm, 0.0, rnorm,
                 rnorm) + (rhobar, phibar, ddnorm, xxnorm, z, cs2, sn2, res2, arnorm0))
    cs1, sn1 = _div(rhobar, rhobar1), _div(damp, rhobar1)
    psi = sn1 * phibar
    phibar = cs1 * phibar
    cs, sn = rhobar1 / rho, beta / rho
    theta = sn * alfa
    rhobar = -cs * alfa
    phi = cs * phibar
    phibar = sn * phibar
    tau = sn * phi
    t1, t2, inv_rho = phi / rho, -theta / rho, 1.0 / rho
    ddnorm = ddnorm + w2 / rho ** 2
    delta = sn2 * rho
    gambar = -cs2 * rho
    rhs = phi - delta * z
    zbar = _div(rhs, gambar)
    xnorm = math.sqrt(xxnorm + zbar ** 2)
    gamma = math.hypot(gambar, theta)
    cs2, sn2 = _div(gambar, gamma), _div(theta, gamma)
    z = _div(rhs, gamma)
    xxnorm = xxnorm + z ** 2
    acond = anorm * math.sqrt(ddnorm)
    res2 = res2 + psi ** 2
    rnorm = math.sqrt(phibar ** 2 + res2)
    arnorm = alfa * abs(tau)
    r1sq = rnorm ** 2 - damp ** 2 * xxnorm
    r1norm = math.sqrt(abs(r1sq)) * (-1.0 if r1sq < 0 else 1.0)
    return ((t1, t2, inv_rho, xnorm, acond, rnorm, arnorm, r1norm, rnorm)
            + (rhobar, phibar, ddnorm, xxnorm, z, cs2, sn2, res2, arnorm0))


def _div(a, b):
    return a / b if b != 0 else 0.0


def anorm_update(anorm, alfa2, beta, damp):
    """PyLops' running Frobenius norm of ``[Op; damp I]`` (updated when ``beta > 0``)."""
    if beta <= 0:
        return anorm
    return math.sqrt(anorm ** 2 + max(alfa2, 0.0) + beta ** 2 + damp ** 2)


def add_abs2(var, w, c):
    """``var + |c w|^2`` on one block (LSQR's variance estimate)."""
    c = _number(c)
    out = add_square(var, w, c)
    if out is not None:
        return out
    dk = w * c  # complex, CuPy or N-D > 3: the one new array (in place after it)
    if dk.dtype.kind == "c":
        dk = dk.real ** 2 + dk.imag ** 2
    else:
        dk *= dk
    if dk.dtype != var.dtype:
        return var + dk
    dk += var
    return dk


def real_block(a):
    """Zeros of ``a``'s real dtype (the variance of a complex problem is real)."""
    return np.zeros_like(a, dtype=a.real.dtype)


def _move_x(x, w, t1):
    """``x + t1 w`` on one block, one pass."""
    return lincomb([(1, x), (_number(t1), w)], x.dtype)


def _number(c):
    """A Python number of a scalar (a 0-d array from a lazy scalar)."""
    return complex(c) if np.iscomplexobj(c) else float(c)


def _per_block(fn, base, w, c):
    """``fn(base, w, c)`` block by block (``c`` a number or a 0-d dask array), for dask
    arrays and StackedArrays alike."""
    if isinstance(base, StackedArray):
        return StackedArray([_per_block(fn, b, wb, c) for b, wb in zip(base.blocks, w.blocks)])
    if w.chunks != base.chunks:  # the space may hold them in different pieces
        w = w.rechunk(base.chunks)
    return da.map_blocks(fn, base, w, c, dtype=base.dtype, meta=base._meta)


class LSQR(CheckedSolver):
    r"""LSQR (Paige and Saunders) for least-squares problems.

    Minimises :math:`\|\mathbf{y} - \mathbf{Op}\,\mathbf{x}\|_2^2 + \epsilon^2\|\mathbf{x}\|_2^2`
    as :class:`pylops.optimization.basic.LSQR` does, with data on a Dask cluster.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to invert.
    callbacks : sequence of pylops.optimization.callback.Callbacks, optional
        Called around ``setup``, every ``step`` and ``run`` with the lazy model.

    Notes
    -----
    An iteration needs two norms in a row (``beta`` of ``u = Op v - alfa u``, then ``alfa``
    of ``v = Op^H u - beta v``) before it can move ``x``; here the move of iteration ``k``
    (the plane rotations, ``x += t1 w``, ``w = v + t2 w``) runs at the start of iteration
    ``k + 1``, beside ``Op v``. So an iteration is two stages of one task per chunk each,
    plus a small task per chunk with what the neighbours read (4 tasks per chunk with an
    operator that has chunk kernels), and the last move is made when ``x`` is asked for.
    The scalar recurrences run in each task on Python floats; the stopping tests
    (``atol``, ``btol``, ``conlim``) are evaluated on the client at checks.
    """

    step_params = ("damp", "calc_var")
    progress_label = "residual"

    def __init__(self, Op, callbacks=None):
        super().__init__(Op, callbacks)
        self.msg = (
            "The exact solution is x = 0                               ",
            "Op x - b is small enough, given atol, btol                 ",
            "The least-squares solution is good enough, given atol     ",
            "The estimate of cond(Opbar) has exceeded conlim            ",
            "Op x - b is small enough for this machine                  ",
            "The least-squares solution is good enough for this machine",
            "Cond(Opbar) seems to be too large for this machine         ",
            "The iteration limit has been reached                      ",
        )

    def memory_usage(self, show=False, unit="B"):
        return predicted_memory("LSQR", self.Op, 5, 2, show, unit)

    def setup(self, y, x0=None, damp=0.0, atol=1e-08, btol=1e-08, conlim=100000000.0, niter=10,
              calc_var=True, preallocate=False, show=False, check_every=10):
        r"""Set up the solver (lazy, except with ``show=True``, which fetches row 0).

        Parameters
        ----------
        y : array-like
            Data, of shape ``Op.dimsd`` or flat.
        x0 : array-like, optional
            Initial guess (default zeros).
        damp : float, optional
            Damping :math:`\epsilon`.
        atol, btol, conlim : float, optional
            Stopping tolerances, as in PyLops, tested at checks.
        niter : int, optional
            Number of iterations.
        calc_var : bool, optional
            Estimate the diagonal of :math:`(\mathbf{Op}^H\mathbf{Op} + \epsilon^2\mathbf{I})^{-1}`.
        preallocate : bool, optional
            Accepted for PyLops compatibility.
        show : bool, optional
            Print the table header.
        check_every : int, optional
            Iterations between convergence checks.

        Returns
        -------
        x : dask.array.Array or StackedArray
            Initial guess.
        """
        self._inputs(y, x0, check_every, niter=niter, damp=damp, atol=atol, btol=btol,
                     conlim=conlim)
        damp = as_float(damp)
        self.damp, self.atol, self.btol, self.conlim = damp, atol, btol, conlim
        self.niter, self.calc_var, self.preallocate = niter, calc_var, preallocate
        self.ctol = 1.0 / conlim if conlim > 0 else 0.0
        self.istop = 0
        vs, y, x0 = self._load()
        u = y if x0 is None else y - vs.matvec(x0)
        beta = sqrt(vs.sqnorm(u))
        vraw = vs.rmatvec(u) * (1 / beta)
        x = vs.zeros_like(vraw) if x0 is None else x0
        state = dict(x=x, w=vs.zeros_like(vraw), u=u, vraw=vraw, alfa2=vs.sqnorm(vraw),
                     beta=beta, bnorm=beta, anorm=0.0, w2=0.0, first=1.0, rhobar=0.0, phibar=0.0,
                     ddnorm=0.0, xxnorm=0.0, z=0.0, cs2=-1.0, sn2=0.0, res2=0.0, arnorm0=0.0,
                     damp=damp)
        if calc_var:
            state["var"] = vs.map(real_block, x, dtype=self._rdtype)
        self._start_state(state, self._input_norms(y, x0))
        self._move = (0.0, 0.0)  # (t1, inv_rho) of the move still to make on x and var
        self.cost_iters = []
        if show:
            self._check(show=False)
            self._print_setup(is_complex(np.result_type(self.y.dtype, self.Op.dtype)))
        return self._x()

    def _iterate(self, st):
        vs, damp = self.vs, self.damp
        # the rotation of the previous iteration, with that iteration's damping
        rot = call(rotate, st.first, st.alfa2, st.beta, st.w2, st.anorm, st.damp,
                   *[st[k] for k in _ROT], n=len(_OUT) + len(_ROT))
        t1, t2, inv_rho = rot[:3]
        alfa = sqrt(st.alfa2)
        inv_alfa = 1 / alfa
        x = st.x + t1 * st.w                      # the previous iteration's move
        w = inv_alfa * st.vraw + t2 * st.w
        # u and v are kept unnormalised (u / beta and vraw / alfa are PyLops' u and v): the
        # scalings ride on the operator's output, Op (c v) = c Op v, instead of a pass each
        u = inv_alfa * vs.matvec(st.vraw) - (alfa / st.beta) * st.u
        beta = sqrt(vs.sqnorm(u))
        vraw = (1 / beta) * vs.rmatvec(u) - (beta * inv_alfa) * st.vraw
        out = dict(x=x, w=w, u=u, vraw=vraw, alfa2=vs.sqnorm(vraw), beta=beta, w2=vs.sqnorm(w),
                   anorm=call(anorm_update, st.anorm, st.alfa2, beta, damp),
                   bnorm=st.bnorm, first=0.0, damp=damp)
        out.update(zip(_ROT, rot[len(_OUT):]))
        if self.calc_var:
            out["var"] = vs.map(add_abs2, st.var, st.w, scalars=(inv_rho,), dtype=self._rdtype)
        return out

    # --- x and var: the move of the last iteration made lazily -----------------------------------
    def _x(self):
        return self._output(self._moved("x"))

    def _moved(self, name):
        """``x + t1 w`` (or ``var + |w / rho|^2``) with the last iteration's rotation."""
        vs, st = self.vs, self.st
        base, w = vs.to_dask(st[name]), vs.to_dask(st.w)
        if self._checked == self.iiter:
            t1, inv_rho = self._move
        else:
            rot = call(rotate, st.first, st.alfa2, st.beta, st.w2, st.anorm, st.damp,
                       *[st[k] for k in _ROT], n=3)
            t1, inv_rho = vs.lazy(rot[0]), vs.lazy(rot[2])
        if name == "x":
            return _per_block(_move_x, base, w, t1)
        return _per_block(add_abs2, base, w, inv_rho)

    # --- checks --------------------------------------------------------------------------------
    def _lazy_check(self, st, show):
        vs = self.vs
        lazy = [st[k] for k in ("first", "alfa2", "beta", "w2", "anorm", "bnorm", "damp") + _ROT]
        if show:
            lazy += [vs.first(st["x"]), vs.first(st["w"])]
        return lazy

    def _on_check(self, values, show):
        first, alfa2, beta, w2, anorm, bnorm, damp = values[:7]
        rot = values[7:7 + len(_ROT)]
        out = dict(zip(_OUT + _ROT, rotate(first, alfa2, beta, w2, anorm, damp, *rot)))
        self._move = (out["t1"], out["inv_rho"])
        self.anorm, self.bnorm = anorm, bnorm
        self.alfa, self.beta = math.sqrt(max(alfa2, 0.0)), beta
        for k in ("acond", "xnorm", "arnorm", "rnorm", "r1norm", "r2norm"):
            setattr(self, k, out[k])
        if not self.cost and self.iiter > 0:
            self.cost.append(bnorm)
            self.cost_iters.append(0)
        self.cost.append(abs(out["r1norm"]) if self.iiter > 0 else out["rnorm"])
        self.cost_iters.append(self.iiter)
        if self.iiter == 0:
            self._row = values[-2] if show else None
            return
        bn = bnorm if bnorm > 0 else 1.0
        arnorm0 = out["arnorm0"]
        self.test1 = out["rnorm"] / bn
        self.test2 = out["arnorm"] / arnorm0 if arnorm0 > 0 else 0.0
        self.test3 = 1.0 / out["acond"] if out["acond"] > 0 else np.inf
        t1 = self.test1 / (1.0 + anorm * out["xnorm"] / bn)
        self.rtol = self.btol + self.atol * anorm * out["xnorm"] / bn
        istop = 0
        if 1 + self.test3 <= 1:
            istop = 6
        if 1 + self.test2 <= 1:
            istop = 5
        if 1 + t1 <= 1:
            istop = 4
        if self.test3 <= self.ctol:
            istop = 3
        if self.test2 <= self.atol:
            istop = 2
        if self.test1 <= self.rtol:
            istop = 1
        self.istop = istop
        if istop != 0:
            self._converged = True
        if show:
            x0v = values[-2] + out["t1"] * values[-1]
            strx = f"{x0v:1.2e}   " if isinstance(x0v, complex) else f"{x0v:11.4e}"
            print(f"{self.iiter:6g} " + strx + f" {self.r1norm:10.3e} {self.r2norm:10.3e}"
                  + f"  {self.test1:8.1e} {self.test2:8.1e}"
                  + f" {self.anorm:8.1e} {self.acond:8.1e}")

    def _print_setup(self, xcomplex=False):
        self._print_solver(nbar=90)
        print(f"damp = {self.damp:20.14e}     calc_var = {self.calc_var:6g}")
        print(f"atol = {self.atol:8.2e}                 conlim = {self.conlim:8.2e}")
        print(f"btol = {self.btol:8.2e}                 niter = {self.niter:8g}"
              f"   check_every = {self.check_every}")
        print("-" * 90)
        head2 = " Compatible   LS     Norm A   Cond A"
        head1 = ("   Itn     x[0]      r1norm     r2norm  " if not xcomplex else
                 "   Itn        x[0]              r1norm    r2norm  ")
        print(head1 + head2)

    def _print_finalize(self):
        print(" ")
        print(f"LSQR finished, {self.msg[self.istop]}")
        print(" ")
        print(f"istop ={self.istop:8g}   r1norm ={self.r1norm:8.1e}   "
              f"anorm ={self.anorm:8.1e}   arnorm ={self.arnorm:8.1e}")
        print(f"itn   ={self.iiter:8g}   r2norm ={self.r2norm:8.1e}   "
              f"acond ={self.acond:8.1e}   xnorm  ={self.xnorm:8.1e}")
        print(f"Total time (s) = {self.telapsed:.2f}")
        print("-" * 90 + "\n")

    def finalize(self, show=False):
        """Finalize: ``cost`` becomes a NumPy array."""
        self._check_final()
        self._elapsed()
        self.cost = np.array(self.cost)
        if show:
            self._print_finalize()

    def solve(self, y, x0=None, damp=0.0, atol=1e-08, btol=1e-08, conlim=100000000.0, niter=10,
              calc_var=True, preallocate=False, show=False, itershow=(10, 10, 10), check_every=10):
        r"""Run the whole solver: ``setup``, ``run``, ``finalize``.

        Returns
        -------
        x, istop, iit, r1norm, r2norm, anorm, acond, arnorm, xnorm, var, cost
            As :func:`pylops.optimization.basic.lsqr`; ``x`` and ``var`` are (persisted) dask
            arrays, ``cost`` holds ``r1norm`` at iteration 0 and at each check.
        """
        x = self.setup(y=y, x0=x0, damp=damp, atol=atol, btol=btol, conlim=conlim, niter=niter,
                       calc_var=calc_var, preallocate=preallocate, show=show,
                       check_every=check_every)
        x = self.run(x, niter=niter, show=show, itershow=itershow)
        self.finalize(show)
        x = self._x()
        var = self._output(self._moved("var")) if self.calc_var else None
        x, var = self._finish((x, var))
        return (x, self.istop, self.iiter, self.r1norm, self.r2norm, self.anorm,
                self.acond, self.arnorm, self.xnorm, var, self.cost)


@run_options("residual")
def lsqr(Op, y, x0=None, damp=0.0, atol=1e-08, btol=1e-08, conlim=100000000.0, niter=10,
         calc_var=True, show=False, itershow=(10, 10, 10), callback=None, preallocate=False,
         check_every=10, progress=False,
         performance_report=None, checkpoint=None, checkpoint_every=1):
    r"""LSQR (see :class:`LSQR`).

    Takes the parameters of :meth:`LSQR.solve`, and these:

    Parameters
    ----------
    {run_options}

    Returns
    -------
    x, istop, iit, r1norm, r2norm, anorm, acond, arnorm, xnorm, var, cost
        As :func:`pylops.optimization.basic.lsqr`; ``cost`` holds the values at checks.
    """
    return solve_with(LSQR(Op), callback, progress, performance_report, checkpoint,
                      checkpoint_every,
                      y=y, x0=x0, damp=damp, atol=atol, btol=btol, conlim=conlim, niter=niter,
                      calc_var=calc_var, preallocate=preallocate, show=show, itershow=itershow,
                      check_every=check_every)
