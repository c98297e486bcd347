r"""AVO: the linearized (Aki-Richards, Fatti, PS) reflectivity of elastic parameters
(:mod:`pylops.avo.avo`).

The Zoeppritz solutions and the linearizations (``zoeppritz_scattering``,
``zoeppritz_element``, ``zoeppritz_pp``, ``approx_zoeppritz_pp``, ``akirichards``, ``fatti``,
``ps``) are PyLops' own functions: NumPy helpers on small arrays of angles and
:math:`V_S/V_P` ratios, re-exported unchanged. :class:`AVOLinearModelling` applies them to
chunked dask arrays.
"""

import contextlib
import functools
import warnings

import numpy as np
from pylops.avo.avo import (akirichards, approx_zoeppritz_pp, fatti, ps, zoeppritz_element,
                            zoeppritz_pp, zoeppritz_scattering)

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing._pylops_build import on_module

__all__ = [
    "zoeppritz_scattering",
    "zoeppritz_element",
    "zoeppritz_pp",
    "approx_zoeppritz_pp",
    "akirichards",
    "fatti",
    "ps",
    "AVOLinearModelling",
]


def spatial(dims, first):
    """The spatial axes of a block of shape ``dims`` (those from ``first``), as PyLops'
    ``spatdims`` argument: ``None`` when there are none."""
    spat = tuple(int(n) for n in dims[first:])
    return spat if spat else None


def as_spatdims(spatdims):
    """PyLops' ``spatdims`` (``None``, an int or a sequence) as a tuple (empty for None)."""
    if spatdims is None:
        return ()
    if isinstance(spatdims, (int, np.integer)):
        return (int(spatdims),)
    return tuple(int(n) for n in spatdims)


def host(a):
    """An array argument on the host (NumPy), for PyLops' builders at full size."""
    return on_module(a, np) if a is not None and not np.isscalar(a) else a


@contextlib.contextmanager
def quiet_convmtx():
    """PyLops' builders of explicit matrices call ``convmtx``, which warns (FutureWarning)
    about its v2.2 change on every call: not the user's doing here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A new implementation of convmtx",
                                category=FutureWarning)
        yield


def build_avo(dims, *, xp, theta, vsvp, linearization, dtype):
    """PyLops' ``AVOLinearModelling`` for a model block of shape ``(nt0, npars, *spatial)``."""
    import pylops

    vsvp = vsvp if np.isscalar(vsvp) else on_module(vsvp, xp)
    return pylops.avo.avo.AVOLinearModelling(
        on_module(theta, xp), vsvp, nt0=int(dims[0]), spatdims=spatial(dims, 2),
        linearization=linearization, dtype=dtype)


class AVOLinearModelling(AlongAxes):
    r"""AVO linearized modelling (PyLops' ``AVOLinearModelling``): the pre-stack reflectivity
    of a combination of elastic parameters.

    Maps a model of shape :math:`[n_{t_0} \times N\,(\times n_x \times n_y)]` (:math:`N = 3`
    or 2 elastic parameters) to a reflectivity of shape
    :math:`[n_{t_0} \times n_\theta\,(\times n_x \times n_y)]`:

    .. math::
        r(t, \theta, x, y) = \sum_{i=1}^N G_i(t, \theta)\, m_i(t, x, y)

    Parameters
    ----------
    theta : numpy.ndarray
        Incident angles in degrees.
    vsvp : float or numpy.ndarray, optional
        :math:`V_S/V_P` ratio (constant, or one per time sample).
    nt0 : int, optional
        Number of time samples (when ``vsvp`` is a scalar).
    spatdims : int or tuple of int, optional
        Spatial axis (or axes) lengths; ``None``: no spatial axis.
    linearization : {"akirich", "fatti", "ps"}, optional
        Linearization (see :func:`akirichards`, :func:`fatti`, :func:`ps`).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    nt0, ntheta, npars : int
        Time samples, angles and elastic parameters.
    spatdims : tuple
        Spatial axis lengths.
    G : numpy.ndarray
        AVO coefficients, of shape :math:`[n_{t_0} \times N \times n_\theta \times 1 \ldots]`
        (as PyLops').

    Notes
    -----
    The spatial axes are batch axes: one task per chunk, keeping the input's chunks there,
    each applying PyLops' operator built for the chunk's spatial size (the time and parameter
    axes are read whole: an input chunked along them is rechunked first, one visible step).
    Outputs are lazy dask arrays (PyLops returns NumPy arrays).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.avo.avo import AVOLinearModelling
    >>> theta = np.linspace(0.0, 40.0, 5)
    >>> Op = AVOLinearModelling(theta, vsvp=0.5, nt0=30, spatdims=(8,))
    >>> x = np.random.default_rng(0).standard_normal((30, 3, 8))
    >>> y = Op @ da.from_array(x, chunks=(30, 3, 4))       # 2 tasks, 4 traces each
    >>> y.shape, y.numblocks
    ((30, 5, 8), (1, 1, 2))
    >>> POp = pylops.avo.avo.AVOLinearModelling(theta, vsvp=0.5, nt0=30, spatdims=(8,))
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, theta, vsvp=0.5, nt0=1, spatdims=None, linearization="akirich",
                 dtype="float64", name="A", chunks=None):
        import pylops

        spat = as_spatdims(spatdims)
        build = functools.partial(build_avo, theta=theta, vsvp=vsvp,
                                  linearization=linearization, dtype=dtype)
        # PyLops validates the arguments (linearization) and gives the coefficients
        full = pylops.avo.avo.AVOLinearModelling(host(theta), host(vsvp), nt0=nt0,
                                                 spatdims=spat or None,
                                                 linearization=linearization, dtype=dtype)
        self.theta, self.vsvp, self.linearization = theta, vsvp, linearization
        self.nt0, self.ntheta, self.npars = full.nt0, full.ntheta, full.npars
        self.spatdims, self.G = full.spatdims, full.G
        self._setup(full.dims, build, (0, 1), dtype=full.dtype, name=name, chunks=chunks,
                    full=full)
