"""ChirpRadon2D: 2-D linear Radon transform with FFTs and chirps (PyLops' ``ChirpRadon2D``)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing._pylops_build import copy_attrs, on_module

#: PyLops attributes copied onto ours.
_ATTRS = ("nh", "nt", "dt", "dh", "pmax")


def build_chirpradon2d(dims, *, xp, taxis, haxis, pmax, dtype):
    """PyLops' ``ChirpRadon2D`` (it follows its input's module: NumPy or CuPy)."""
    import pylops

    op = pylops.signalprocessing.ChirpRadon2D(on_module(taxis, np), on_module(haxis, np),
                                              pmax, dtype=dtype)
    if dims is not None and tuple(dims) != tuple(op.dims):
        raise ValueError(f"ChirpRadon2D: model block {dims} is not the whole model {op.dims}")
    return op


class ChirpRadon2D(AlongAxes):
    r"""Two-dimensional linear Radon transform with FFTs and chirp functions (PyLops'
    ``ChirpRadon2D``).

    Model and data of shape :math:`[n_x \times n_t]` (the slopes are sampled like the traces,
    up to ``pmax``).

    Parameters
    ----------
    taxis : numpy.ndarray
        Time axis.
    haxis : numpy.ndarray
        Spatial axis.
    pmax : float
        Maximum slope, :math:`\tan` of the maximum stacking angle.
    dtype : str, optional
        Operator dtype (real).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The transform is a product of FFTs over both axes and chirp multiplications: it mixes all
    axes, so it is one task, PyLops' own operator on the whole array (a chunked input is
    rechunked to one chunk first, a visible step; the output is one chunk). CuPy chunks are
    supported (PyLops follows its input's module). :meth:`inverse` is PyLops' fast inverse,
    also one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.chirpradon2d import ChirpRadon2D
    >>> t, h = np.arange(40) * 0.004, np.arange(16) * 10.0
    >>> Op = ChirpRadon2D(t, h, pmax=1e-3)
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(4, 20))  # rechunked whole: one task
    >>> POp = pylops.signalprocessing.ChirpRadon2D(t, h, pmax=1e-3)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    >>> np.allclose(Op.inverse(y).compute().ravel(), POp.inverse(POp @ x.ravel()))
    True
    """

    def __init__(self, taxis, haxis, pmax, dtype="float64", name="C", chunks=None):
        build = functools.partial(build_chirpradon2d, taxis=taxis, haxis=haxis, pmax=pmax,
                                  dtype=dtype)
        full = build(None, xp=np)
        copy_attrs(self, full, _ATTRS)
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)

    def inverse(self, x):
        """PyLops' fast inverse on ``x`` (dask, NumPy or CuPy, shape ``dimsd`` or flat): one
        task, a lazy dask array of shape ``dims`` (flat for a flat input)."""
        return self._whole_inverse(x)
