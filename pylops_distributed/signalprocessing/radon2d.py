"""Radon2D: 2-D Radon transform in the time-space domain (PyLops' ``Radon2D``)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing._pylops_build import copy_attrs

#: PyLops attributes copied onto ours (those of the ``Spread`` PyLops returns).
RADON_ATTRS = ("nx0", "nt0", "nx", "nt", "table", "dtable", "usetable", "interp", "engine")


def build_radon(dims, *, xp, kind_name, **kwargs):
    """PyLops' ``Radon2D``/``Radon3D`` (``kind_name``) for the whole model (``xp`` unused:
    PyLops runs them on NumPy only)."""
    import pylops

    op = getattr(pylops.signalprocessing, kind_name)(**kwargs)
    if dims is not None and tuple(dims) != tuple(op.dims):
        raise ValueError(f"{kind_name}: model block {dims} is not the whole model {op.dims}")
    return op


class Radon2D(AlongAxes):
    r"""Two-dimensional Radon transform (PyLops' ``Radon2D``).

    Forward: spreading a model of shape :math:`[n_{p_x} \times n_t]` along lines, parabolas
    or hyperbolas into data of shape :math:`[n_x \times n_t]`; adjoint: stacking along them.

    Parameters
    ----------
    taxis : numpy.ndarray
        Time axis.
    haxis : numpy.ndarray
        Spatial axis.
    pxaxis : numpy.ndarray
        Axis of the scanning variable :math:`p_x` of the parametric curve.
    kind : {"linear", "parabolic", "hyperbolic"} or callable, optional
        Curve (a callable of :math:`(x, t_0, p_x)` returning :math:`t`; with a cluster of
        processes it must be picklable).
    centeredh : bool, optional
        Assume a centred spatial axis (``haxis`` is then ignored and a new one created).
    interp : bool, optional
        Linear (``True``) or nearest (``False``) interpolation along the curves.
    onthefly : bool, optional
        Compute the curves during the applies (``True``) or once in a look-up table.
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
    A curve through a model sample crosses every trace of the data and a trace stacks samples
    of every :math:`p_x` and any time: the transform mixes all axes, so it is one task, PyLops'
    own operator on the whole array (a chunked input is rechunked to one chunk first, a
    visible step; the output is one chunk). The task carries only the axes: each process
    builds PyLops' operator (and its look-up table) once and keeps it. ``dims``, ``dimsd`` and
    the attributes of PyLops' operator (``table``, ``dtable``, ``interp``...) are copied onto
    this one. PyLops runs Radon2D on NumPy arrays only (its ``Spread`` allocates NumPy
    arrays): CuPy chunks raise a ``TypeError`` naming the operator; use
    :class:`FourierRadon2D` on GPUs.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.radon2d import Radon2D
    >>> t, h = np.arange(40) * 0.004, np.arange(15) * 10.0
    >>> p = np.linspace(-1e-3, 1e-3, 9)
    >>> Op = Radon2D(t, h, p)
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(3, 20))  # rechunked whole: one task
    >>> POp = pylops.signalprocessing.Radon2D(t, h, p)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    cpu_only = True

    def __init__(self, taxis, haxis, pxaxis, kind="linear", centeredh=True, interp=True,
                 onthefly=False, engine="numpy", dtype="float64", name="R", chunks=None):
        build = functools.partial(build_radon, kind_name="Radon2D", taxis=taxis, haxis=haxis,
                                  pxaxis=pxaxis, kind=kind, centeredh=centeredh, interp=interp,
                                  onthefly=onthefly, engine=engine, dtype=dtype)
        full = build(None, xp=np)
        copy_attrs(self, full, RADON_ATTRS)
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)
