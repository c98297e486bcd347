"""What the least-squares wrappers and the solvers built on them (IRLS, split Bregman) share:
``engine`` and SciPy's argument names translated to our solvers, and user vectors read as
dask arrays of a given shape."""

import numpy as np

from pylops_distributed._arrays import as_dask
from pylops_distributed._held import held
from pylops_distributed.stacked import StackedArray

LSQR_ONLY = ("iter_lim", "atol", "btol", "conlim", "calc_var")


def check_engine(engine, name):
    """``None`` (PyLops' default) and ``"pylops"`` run ours; ``"scipy"`` is refused."""
    if engine is None:
        return
    if engine == "scipy":
        raise NotImplementedError(
            f"{name}: engine='scipy' would gather the problem on the client; use "
            "the default (or engine='pylops'), which runs pylops_distributed's solvers on the "
            "chunks (SciPy's argument names such as maxiter and iter_lim are understood)")
    if engine != "pylops":
        raise ValueError(f"{name}: engine must be 'pylops' or None (PyLops' 'scipy' is refused "
                         f"here), got {engine!r}")


def solver_kwargs(kwargs, name, lsqr_allowed):
    """SciPy's argument names as ours; returns (kwargs, use_lsqr)."""
    kw = dict(kwargs)
    for alias in ("maxiter", "iter_lim"):
        if alias in kw:
            if "niter" in kw:
                raise TypeError(f"{name}: give niter or {alias}, not both")
            kw["niter"] = kw.pop(alias)
    use_lsqr = lsqr_allowed and any(k in kwargs for k in LSQR_ONLY)
    if "rtol" in kw:
        raise TypeError(f"{name}: SciPy's relative tolerance rtol has no counterpart here; "
                        "give tol (CG, CGLS) or atol/btol (LSQR)")
    if "show" in kw:
        kw["show"] = bool(kw["show"])
    return kw, use_lsqr


def as_block(v, dims, what):
    """A user vector as a dask array of shape ``dims`` (flat accepted), persisted on a
    distributed client (:func:`pylops_distributed._held.held`)."""
    if isinstance(v, StackedArray):
        return held(v)
    v = as_dask(v, None, what)
    size = int(np.prod(dims))
    if v.shape != tuple(dims):
        if v.size != size:
            raise ValueError(f"{what}: expected shape {tuple(dims)} (or {size} elements), got "
                             f"{v.shape}")
        v = v.reshape(dims)
    return held(v)


def scipy_lsqr_defaults(kw, engine, ncols, scipy_names=False):
    """PyLops' default engine runs SciPy's lsqr with its defaults: with ``engine=None`` and no
    iteration count, or SciPy's argument names (``scipy_names``), our LSQR with the same
    (``iter_lim`` twice the unknowns, ``atol = btol = 1e-6``, no variance) where not given.
    Returns whether LSQR is to be used."""
    if engine is not None or ("niter" in kw and not scipy_names):
        return scipy_names
    kw.update(niter=kw.get("niter", 2 * int(ncols)), atol=kw.get("atol", 1e-6),
              btol=kw.get("btol", 1e-6), calc_var=kw.get("calc_var", False))
    return True
