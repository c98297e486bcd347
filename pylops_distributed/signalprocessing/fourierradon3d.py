"""FourierRadon3D: 3-D Radon transform in the frequency domain (PyLops' ``FourierRadon3D``)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing.fourierradon2d import build_fourierradon
from pylops_distributed.signalprocessing._pylops_build import copy_attrs

#: PyLops attributes copied onto ours.
_ATTRS = ("taxis", "hyaxis", "hxaxis", "nhy", "nhx", "nt", "py", "px", "npy", "npx", "nfft",
          "dt", "dhy", "dhx", "f", "nfft2", "cdtype", "flims")


class FourierRadon3D(AlongAxes):
    r"""Three-dimensional Radon transform applied in the frequency domain (PyLops'
    ``FourierRadon3D``).

    Model of shape :math:`[n_{p_y} \times n_{p_x} \times n_t]`, data of shape
    :math:`[n_y \times n_x \times n_t]`.

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
    nfft : int
        Number of samples of the Fourier transform.
    flims : tuple, optional
        Indices of the lower and upper limits of the frequencies used (``None``: all).
    kind : tuple of str, optional
        Curves along the y and x axes (``"linear"`` or ``"parabolic"`` each).
    engine : {"numpy", "numba", "cuda"}, optional
        PyLops' engine: ``"cuda"`` runs on CuPy chunks (NumPy chunks then run ``"numpy"``,
        the same maths); CuPy chunks run ``"numpy"`` (with ``cupy``) unless ``"cuda"``.
    num_threads_per_blocks : tuple, optional
        CUDA threads per block (``engine="cuda"``).
    dtype : str, optional
        Operator dtype (real).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The time axis is Fourier transformed and, at each frequency, every :math:`(p_y, p_x)`
    mixes with every trace: the transform mixes all axes, so it is one task, PyLops' own
    operator on the whole array (a chunked input is rechunked to one chunk first, a visible
    step; the output is one chunk). The task carries only the axes; each process builds
    PyLops' operator once and keeps it. CuPy chunks are supported (the axes are moved to the
    GPU for them).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.fourierradon3d import FourierRadon3D
    >>> t, hy, hx = np.arange(20) * 0.004, np.arange(5) * 10.0, np.arange(6) * 10.0
    >>> py, px = np.linspace(-1e-3, 1e-3, 3), np.linspace(-1e-3, 1e-3, 4)
    >>> Op = FourierRadon3D(t, hy, hx, py, px, nfft=32)
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(1, 4, 20))
    >>> POp = pylops.signalprocessing.FourierRadon3D(t, hy, hx, py, px, nfft=32)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, taxis, hyaxis, hxaxis, pyaxis, pxaxis, nfft, flims=None,
                 kind=("linear", "linear"), engine="numpy", num_threads_per_blocks=(2, 16, 16),
                 dtype="float64", name="R", chunks=None):
        build = functools.partial(build_fourierradon, kind_name="FourierRadon3D",
                                  engine=engine, taxis=taxis,
                                  spatial=dict(hyaxis=hyaxis, hxaxis=hxaxis, pyaxis=pyaxis,
                                               pxaxis=pxaxis),
                                  nfft=nfft, flims=flims, kind=kind,
                                  num_threads_per_blocks=num_threads_per_blocks, dtype=dtype)
        full = build(None, xp=np)
        copy_attrs(self, full, _ATTRS)
        self.engine, self.num_threads_per_blocks = engine, num_threads_per_blocks
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)
