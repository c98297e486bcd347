"""Radon3D: 3-D Radon transform in the time-space domain (PyLops' ``Radon3D``)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing._pylops_build import copy_attrs
from pylops_distributed.signalprocessing.radon2d import RADON_ATTRS, build_radon


class Radon3D(AlongAxes):
    r"""Three-dimensional Radon transform (PyLops' ``Radon3D``).

    Forward: spreading a model of :math:`n_{p_y} n_{p_x}` curves by :math:`n_t` intercepts
    along planes, parabolas or hyperbolas into data of :math:`n_y n_x` traces by :math:`n_t`
    samples; adjoint: stacking along them. As in PyLops 2.8, ``dims`` is
    :math:`(n_{p_y} n_{p_x}, n_t)` and ``dimsd`` :math:`(n_y n_x, n_t)` (the operator is a
    ``Spread``): inputs of shape :math:`(n_{p_y}, n_{p_x}, n_t)` are given flat or reshaped.

    Parameters
    ----------
    taxis : numpy.ndarray
        Time axis.
    hyaxis : numpy.ndarray
        Slow spatial axis.
    hxaxis : numpy.ndarray
        Fast spatial axis.
    pyaxis : numpy.ndarray
        Axis of the scanning variable :math:`p_y` of the parametric curve.
    pxaxis : numpy.ndarray
        Axis of the scanning variable :math:`p_x` of the parametric curve.
    kind : {"linear", "parabolic", "hyperbolic"}, optional
        Curve.
    centeredh : bool, optional
        Assume centred spatial axes (``hyaxis``/``hxaxis`` are then ignored).
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
    Every curve crosses every trace and every trace stacks all curves: the transform mixes all
    axes, so it is one task, PyLops' own operator on the whole array (a chunked input is
    rechunked to one chunk first, a visible step; the output is one chunk). The task carries
    only the axes: each process builds PyLops' operator (and its look-up table) once and
    keeps it. PyLops runs Radon3D on NumPy arrays only: CuPy chunks raise a ``TypeError``
    naming the operator; use :class:`FourierRadon3D` on GPUs.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.radon3d import Radon3D
    >>> t, hy, hx = np.arange(20) * 0.004, np.arange(5) * 10.0, np.arange(6) * 10.0
    >>> py, px = np.linspace(-1e-3, 1e-3, 3), np.linspace(-1e-3, 1e-3, 4)
    >>> Op = Radon3D(t, hy, hx, py, px)
    >>> Op.dims, Op.dimsd
    ((12, 20), (30, 20))
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(4, 20))
    >>> POp = pylops.signalprocessing.Radon3D(t, hy, hx, py, px)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    cpu_only = True

    def __init__(self, taxis, hyaxis, hxaxis, pyaxis, pxaxis, kind="linear", centeredh=True,
                 interp=True, onthefly=False, engine="numpy", dtype="float64", name="R",
                 chunks=None):
        build = functools.partial(build_radon, kind_name="Radon3D", taxis=taxis,
                                  hyaxis=hyaxis, hxaxis=hxaxis, pyaxis=pyaxis, pxaxis=pxaxis,
                                  kind=kind, centeredh=centeredh, interp=interp,
                                  onthefly=onthefly, engine=engine, dtype=dtype)
        full = build(None, xp=np)
        copy_attrs(self, full, RADON_ATTRS)
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)
