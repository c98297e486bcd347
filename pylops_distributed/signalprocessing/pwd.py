"""PWSprayer2D and PWSmoother2D: spraying along local slopes (PyLops' plane-wave operators)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes


def build_pws(dims, *, xp, kind_name, pws_dims, **kwargs):
    """PyLops' ``PWSprayer2D``/``PWSmoother2D`` (``kind_name``; ``xp`` unused: its numba
    kernels run on NumPy only)."""
    import pylops

    if dims is not None and tuple(dims) != tuple(pws_dims):
        raise ValueError(f"{kind_name}: model block {dims} is not the whole model {pws_dims}")
    return getattr(pylops.signalprocessing, kind_name)(pws_dims, **kwargs)


class _PWS(AlongAxes):
    """Shared constructor of the plane-wave operators."""

    cpu_only = True
    _kind = None

    def __init__(self, dims, sigma, radius=8, alpha=0.9, dtype="float64", name="P",
                 chunks=None):
        dims = tuple(int(d) for d in np.atleast_1d(dims))
        build = functools.partial(build_pws, kind_name=self._kind, pws_dims=dims, sigma=sigma,
                                  radius=radius, alpha=alpha, dtype=dtype)
        full = build(None, xp=np)
        self.sigma, self.radius, self.alpha = sigma, int(radius), float(alpha)
        self._setup(dims, build, None, dtype=full.dtype, name=name, chunks=chunks, full=full)


_DOC_PARAMETERS = r"""
    Parameters
    ----------
    dims : tuple of int
        Model shape ``(nz, nx)``.
    sigma : numpy.ndarray
        Local slope field of shape ``(nz, nx)``, in samples per trace
        (:math:`\Delta z / \Delta x`).
    radius : int, optional
        Number of steps sprayed (or gathered) in each :math:`\pm x` direction.
    alpha : float, optional
        Geometric decay per step (:math:`0 < \alpha \leq 1`).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy inputs.
"""

_DOC_NOTES = """
    Notes
    -----
    A sample is sprayed up to ``radius`` traces away along :math:`x` but along the slopes
    accumulated from its own trace, which can reach any depth: the operator mixes all of the
    :math:`z` axis (and ``2 radius + 1`` traces), so it is one task, PyLops' own operator on the
    whole array (a chunked input is rechunked to one chunk first, a visible step; the output
    is one chunk). ``sigma`` travels with that task. PyLops runs it with numba kernels on NumPy
    arrays only: CuPy chunks raise a ``TypeError`` naming the operator.
"""


class PWSprayer2D(_PWS):
    __doc__ = r"""Plane-wave sprayer (PyLops' ``PWSprayer2D``).

    Forward: every sample is sprayed along the local slopes in the :math:`\pm x` directions
    with a geometric decay; adjoint: the contributions are gathered back along the same
    paths.
    """ + _DOC_PARAMETERS + _DOC_NOTES + """
    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.pwd import PWSprayer2D
    >>> sigma = np.full((20, 16), 0.3)
    >>> Op = PWSprayer2D((20, 16), sigma, radius=4)
    >>> x = np.random.default_rng(0).standard_normal((20, 16))
    >>> y = Op @ da.from_array(x, chunks=(10, 8))  # rechunked whole: one task
    >>> POp = pylops.signalprocessing.PWSprayer2D((20, 16), sigma, radius=4)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    _kind = "PWSprayer2D"


class PWSmoother2D(_PWS):
    __doc__ = r"""Structure-aligned smoother (PyLops' ``PWSmoother2D``): the plane-wave sprayer
    followed by its adjoint, :math:`\mathbf{S}^H\mathbf{S}` (self-adjoint).
    """ + _DOC_PARAMETERS + _DOC_NOTES + """
    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.pwd import PWSmoother2D
    >>> sigma = np.full((20, 16), -0.2)
    >>> Op = PWSmoother2D((20, 16), sigma, radius=3, alpha=0.8)
    >>> x = np.random.default_rng(0).standard_normal((20, 16))
    >>> y = Op @ da.from_array(x, chunks=(10, 8))
    >>> POp = pylops.signalprocessing.PWSmoother2D((20, 16), sigma, radius=3, alpha=0.8)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    _kind = "PWSmoother2D"
