"""ChirpRadon3D: 3-D linear Radon transform with FFTs and chirps (PyLops' ``ChirpRadon3D``)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing._pylops_build import copy_attrs, on_module

#: PyLops attributes copied onto ours.
_ATTRS = ("ny", "nx", "nt", "dt", "dy", "dx", "pmax", "kwargs_fftw")


def build_chirpradon3d(dims, *, xp, taxis, hyaxis, hxaxis, pmax, engine, dtype, kwargs_fftw):
    """PyLops' ``ChirpRadon3D`` (it follows its input's module; ``"fftw"`` on NumPy only)."""
    import pylops

    op = pylops.signalprocessing.ChirpRadon3D(
        on_module(taxis, np), on_module(hyaxis, np), on_module(hxaxis, np), pmax,
        engine=engine if xp is np else "numpy", dtype=dtype, **kwargs_fftw)
    if dims is not None and tuple(dims) != tuple(op.dims):
        raise ValueError(f"ChirpRadon3D: model block {dims} is not the whole model {op.dims}")
    return op


class ChirpRadon3D(AlongAxes):
    r"""Three-dimensional linear Radon transform with FFTs and chirp functions (PyLops'
    ``ChirpRadon3D``).

    Model and data of shape :math:`[n_y \times n_x \times n_t]`.

    Parameters
    ----------
    taxis : numpy.ndarray
        Time axis.
    hyaxis : numpy.ndarray
        Slow spatial axis.
    hxaxis : numpy.ndarray
        Fast spatial axis.
    pmax : numpy.ndarray
        Two maximum slopes (:math:`\tan` of the maximum stacking angles along y and x).
    engine : {"numpy", "fftw"}, optional
        PyLops' engine (CuPy chunks run ``"numpy"`` with ``cupy``).
    dtype : str, optional
        Operator dtype (real).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs (keyword only: PyLops' ``**kwargs_fftw``
        follows ``name``).
    **kwargs_fftw
        Passed to ``pyfftw`` (``engine="fftw"``).

    Notes
    -----
    The transform is a product of FFTs over all axes and chirp multiplications: it mixes all
    axes, so it is one task, PyLops' own operator on the whole array (a chunked input is
    rechunked to one chunk first, a visible step; the output is one chunk). CuPy chunks are
    supported. :meth:`inverse` is PyLops' fast inverse, also one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.chirpradon3d import ChirpRadon3D
    >>> t, hy, hx = np.arange(20) * 0.004, np.arange(6) * 10.0, np.arange(8) * 10.0
    >>> Op = ChirpRadon3D(t, hy, hx, (1e-3, 1e-3))
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(3, 8, 20))
    >>> POp = pylops.signalprocessing.ChirpRadon3D(t, hy, hx, (1e-3, 1e-3))
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, taxis, hyaxis, hxaxis, pmax, engine="numpy", dtype="float64", name="C",
                 chunks=None, **kwargs_fftw):
        build = functools.partial(build_chirpradon3d, taxis=taxis, hyaxis=hyaxis,
                                  hxaxis=hxaxis, pmax=pmax, engine=engine, dtype=dtype,
                                  kwargs_fftw=kwargs_fftw)
        full = build(None, xp=np)
        copy_attrs(self, full, _ATTRS)
        self.engine = engine
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)

    def inverse(self, x):
        """PyLops' fast inverse on ``x`` (dask, NumPy or CuPy, shape ``dimsd`` or flat): one
        task, a lazy dask array of shape ``dims`` (flat for a flat input)."""
        return self._whole_inverse(x)
