"""Spread: spreading along parametric curves (and stacking in the adjoint), PyLops' ``Spread``."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes

#: PyLops attributes copied onto ours.
_ATTRS = ("nx0", "nt0", "nx", "nt", "table", "dtable", "fh", "usetable", "interp", "engine")


def build_spread(dims, *, xp, spread_dims, **kwargs):
    """PyLops' ``Spread`` (``xp`` unused: PyLops runs it on NumPy only)."""
    import pylops

    if dims is not None and tuple(dims) != tuple(spread_dims):
        raise ValueError(f"Spread: model block {dims} is not the whole model {spread_dims}")
    return pylops.Spread(spread_dims, **kwargs)


class Spread(AlongAxes):
    r"""Spread values along parametric curves, stack them in the adjoint (PyLops' ``Spread``).

    Parameters
    ----------
    dims : tuple
        Model shape, :math:`[n_{x_0} \times n_{t_0}]` (the first axis is the spreading
        direction).
    dimsd : tuple
        Data shape, :math:`[n_x \times n_t]` (the first axis is the stacking direction).
    table : numpy.ndarray, optional
        Look-up table of time indices, of shape :math:`[n_{x_0} \times n_{t_0} \times n_x]`
        (``None``: use ``fh``).
    dtable : numpy.ndarray, optional
        Look-up table of the decimal remainders for linear interpolation, same shape as
        ``table``.
    fh : callable, optional
        Function of ``(ix0, it0)`` returning the time indices along :math:`x` (and the
        interpolation weights), used instead of ``table``. It travels with every task: with
        a cluster of processes it must be picklable (a module-level function).
    interp : bool, optional
        Linear (``True``) or nearest (``False``) interpolation (``engine="numba"``; inferred
        from ``dtable``/``fh`` with ``engine="numpy"``).
    engine : {"numpy", "numba"}, optional
        PyLops' engine.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy inputs.

    Notes
    -----
    Every curve spreads one model sample over the whole :math:`x` axis of the data and the
    curves reach any time: every output sample may depend on any input sample, so the
    operator is one task, PyLops' own ``Spread`` on the whole array (a chunked input is
    rechunked to one chunk first, a visible step; the output is one chunk). ``table`` and
    ``dtable`` travel with that task. PyLops runs ``Spread`` on NumPy arrays only: CuPy chunks
    raise a ``TypeError`` naming the operator.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.basicoperators.spread import Spread
    >>> table = np.tile(np.arange(10)[None, :, None], (3, 1, 4))  # flat curves
    >>> table[1] = np.minimum(table[1] + np.arange(4), 9)         # dipping ones
    >>> Op = Spread((3, 10), (4, 10), table=table)
    >>> x = np.random.default_rng(0).standard_normal((3, 10))
    >>> y = Op @ da.from_array(x, chunks=(1, 5))
    >>> POp = pylops.Spread((3, 10), (4, 10), table=table)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    cpu_only = True

    def __init__(self, dims, dimsd, table=None, dtable=None, fh=None, interp=None,
                 engine="numpy", dtype="float64", name="S", chunks=None):
        kwargs = dict(dimsd=dimsd, table=table, dtable=dtable, fh=fh, interp=interp,
                      engine=engine, dtype=dtype)
        build = functools.partial(build_spread, spread_dims=tuple(np.atleast_1d(dims)), **kwargs)
        full = build(None, xp=np)
        for attr in _ATTRS:
            if attr in vars(full):
                setattr(self, attr, vars(full)[attr])
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)
