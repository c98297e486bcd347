"""Dot test: checks that an operator's adjoint matches its forward."""

import numpy as np

from pylops_distributed.stacked import compute_all


def dottest(Op, nr=None, nc=None, rtol=1e-6, atol=1e-21, complexflag=0, raiseerror=True,
            verb=False, backend="numpy"):
    r"""Dot test of a distributed operator: :math:`(\mathbf{Op}\,\mathbf{u})^H\mathbf{v} =
    \mathbf{u}^H(\mathbf{Op}^H\mathbf{v})` on random vectors, computed in one pass.

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator
        Operator to test.
    nr, nc : int, optional
        Number of rows and columns (default ``Op.shape``); given values must match.
    rtol, atol : float, optional
        Relative and absolute tolerance.
    complexflag : {0, 1, 2, 3}, optional
        0: real u and v; 1: complex data v; 2: complex model u; 3: both complex.
    raiseerror : bool, optional
        Raise an AssertionError when the test fails (else return False).
    verb : bool, optional
        Print the two dot products.
    backend : {"numpy", "cupy"}, optional
        Array module of the random vectors.

    Returns
    -------
    passed : bool

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> from pylops_distributed.utils import dottest
    >>> dottest(pld.MatrixMult(np.random.randn(6, 4)), complexflag=3)
    True
    """
    nr = Op.shape[0] if nr is None else nr
    nc = Op.shape[1] if nc is None else nc
    if (nr, nc) != Op.shape:
        raise ValueError(f"dottest: nr, nc = {(nr, nc)} do not match {Op.label} shape {Op.shape}")
    rng = np.random  # NumPy's global generator, as PyLops' dottest: np.random.seed repeats it
    rdtype = np.ones(1, Op.dtype).real.dtype
    xp = np
    if backend == "cupy":
        import cupy as xp

    def rand(shape, cplx):
        v = rng.standard_normal(shape).astype(rdtype)
        if cplx:
            v = v + 1j * rng.standard_normal(shape).astype(rdtype)
        return xp.asarray(v)

    u = rand(Op.dims, complexflag in (2, 3))
    v = rand(Op.dimsd, complexflag in (1, 3))
    y, x = compute_all(Op.matvec(u), Op.rmatvec(v))  # wrapped with the operator's chunks
    y, x, u, v = (xp.asarray(a).ravel() for a in (y, x, u, v))
    if getattr(Op, "clinear", True):
        yy, uu = complex(xp.vdot(y, v)), complex(xp.vdot(u, x))
    else:  # only R-linear: complex numbers as elements of R^2
        yy = complex(xp.dot(y.real, v.real) + xp.dot(y.imag, v.imag))
        uu = complex(xp.dot(u.real, x.real) + xp.dot(u.imag, x.imag))
    if verb:
        print(f"Dot test: (Op u)^H v = {yy:.6e}, u^H (Op^H v) = {uu:.6e}")
    ok = np.isclose(yy, uu, rtol=rtol, atol=atol)
    if not ok and raiseerror:
        raise AssertionError(f"Dot test failed for {Op.label}: (Op u)^H v = {yy} vs u^H (Op^H v) = {uu}")
    return bool(ok)
