"""Seislet: 2-D seislet transform along local slopes (PyLops' ``Seislet``)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing._pylops_build import copy_attrs

#: PyLops attributes copied onto ours.
_ATTRS = ("predict", "pad", "nx", "nt", "level", "levels_size", "levels_cum", "dx", "dt",
          "slopes", "inv")


def build_seislet(dims, *, xp, slopes, **kwargs):
    """PyLops' ``Seislet`` (``xp`` unused: PyLops runs it on NumPy only)."""
    import pylops

    op = pylops.signalprocessing.Seislet(slopes, **kwargs)
    if dims is not None and tuple(dims) != tuple(op.dims):
        raise ValueError(f"Seislet: model block {dims} is not the whole model {op.dims}")
    return op


class Seislet(AlongAxes):
    r"""Two-dimensional seislet transform (PyLops' ``Seislet``).

    A wavelet-like transform along the first (spatial) axis of a model of shape
    :math:`[n_x \times n_t]`, whose predict and update steps follow the local ``slopes``; the
    data has :math:`n_x` padded to the next power of two.

    Parameters
    ----------
    slopes : numpy.ndarray
        Slope field, of the model's shape :math:`[n_x \times n_t]`.
    sampling : tuple, optional
        Sampling steps along x and t.
    level : int, optional
        Number of scaling levels (``None``: as many as the size allows).
    kind : {"haar", "linear"}, optional
        Basis function of the predict and update steps.
    inv : bool, optional
        Apply the inverse transform as the adjoint (``True``; the dot test then fails) or the
        true adjoint (``False``).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy inputs.

    Notes
    -----
    Every level pairs traces and shifts them along the slopes in time, and the levels go up
    to the whole spatial axis: the transform mixes all axes, so it is one task, PyLops' own
    operator on the whole array (a chunked input is rechunked to one chunk first, a visible
    step; the output is one chunk). ``slopes`` travels with that task. PyLops runs Seislet on
    NumPy arrays only: CuPy chunks raise a ``TypeError`` naming the operator.
    :meth:`inverse` is PyLops' inverse, also one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.seislet import Seislet
    >>> slopes = np.full((12, 30), 0.5)
    >>> Op = Seislet(slopes)
    >>> Op.dims, Op.dimsd
    ((12, 30), (16, 30))
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(4, 30))  # rechunked whole: one task
    >>> POp = pylops.signalprocessing.Seislet(slopes)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    >>> np.allclose(Op.inverse(y).compute(), x)
    True
    """

    cpu_only = True

    def __init__(self, slopes, sampling=(1.0, 1.0), level=None, kind="haar", inv=False,
                 dtype="float64", name="S", chunks=None):
        build = functools.partial(build_seislet, slopes=slopes, sampling=sampling, level=level,
                                  kind=kind, inv=inv, dtype=dtype)
        full = build(None, xp=np)
        copy_attrs(self, full, _ATTRS)
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)

    def inverse(self, x):
        """PyLops' inverse on ``x`` (dask or NumPy, shape ``dimsd`` or flat): one task, a lazy
        dask array of shape ``dims`` (flat for a flat input)."""
        return self._whole_inverse(x)
