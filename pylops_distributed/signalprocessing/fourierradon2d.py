"""FourierRadon2D: 2-D Radon transform in the frequency domain (PyLops' ``FourierRadon2D``)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed.signalprocessing._pylops_build import copy_attrs, on_module

#: PyLops attributes copied onto ours.
_ATTRS = ("taxis", "haxis", "nh", "nt", "dh", "dt", "px", "npx", "nfft", "f", "nfft2",
          "cdtype", "flims")


def block_engine(engine, xp):
    """PyLops' engine for blocks of module ``xp``: ``"cuda"`` on CuPy blocks when asked for,
    ``"numpy"`` on CuPy blocks otherwise (numba runs on the host) and on NumPy blocks instead
    of ``"cuda"`` (same maths)."""
    if xp is np:
        return "numpy" if engine == "cuda" else engine
    return "cuda" if engine == "cuda" else "numpy"


def build_fourierradon(dims, *, xp, kind_name, engine, taxis, spatial, **kwargs):
    """PyLops' ``FourierRadon2D``/``FourierRadon3D`` (``kind_name``) for the whole model, on
    blocks of module ``xp``: the spatial and slowness axes (``spatial``, a dict) as ``xp``
    arrays, the time axis on the host (PyLops computes its frequencies with NumPy)."""
    import pylops

    spatial = {k: on_module(v, xp) for k, v in spatial.items()}
    op = getattr(pylops.signalprocessing, kind_name)(
        taxis=on_module(taxis, np), engine=block_engine(engine, xp), **spatial, **kwargs)
    if dims is not None and tuple(dims) != tuple(op.dims):
        raise ValueError(f"{kind_name}: model block {dims} is not the whole model {op.dims}")
    return op


class FourierRadon2D(AlongAxes):
    r"""Two-dimensional Radon transform applied in the frequency domain (PyLops'
    ``FourierRadon2D``).

    Model of shape :math:`[n_{p_x} \times n_t]`, data of shape :math:`[n_x \times n_t]`; the
    same conventions as :class:`Radon2D`.

    Parameters
    ----------
    taxis : numpy.ndarray
        Time axis.
    haxis : numpy.ndarray
        Spatial axis.
    pxaxis : numpy.ndarray
        Axis of the scanning variable :math:`p_x` of the parametric curve.
    nfft : int
        Number of samples of the Fourier transform.
    flims : tuple, optional
        Indices of the lower and upper limits of the frequencies used (``None``: all).
    kind : {"linear", "parabolic"}, optional
        Curve.
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
    The time axis is Fourier transformed and, at each frequency, every :math:`p_x` mixes
    with every trace: the transform mixes all axes, so it is one task, PyLops' own operator on
    the whole array (a chunked input is rechunked to one chunk first, a visible step; the
    output is one chunk). The task carries only the axes; each process builds PyLops' operator
    once and keeps it. CuPy chunks are supported (the axes are moved to the GPU for them).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.fourierradon2d import FourierRadon2D
    >>> t, h = np.arange(40) * 0.004, np.arange(15) * 10.0
    >>> p = np.linspace(-1e-3, 1e-3, 9)
    >>> Op = FourierRadon2D(t, h, p, nfft=64)
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(3, 20))  # rechunked whole: one task
    >>> POp = pylops.signalprocessing.FourierRadon2D(t, h, p, nfft=64)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, taxis, haxis, pxaxis, nfft, flims=None, kind="linear", engine="numpy",
                 num_threads_per_blocks=(32, 32), dtype="float64", name="R", chunks=None):
        build = functools.partial(build_fourierradon, kind_name="FourierRadon2D",
                                  engine=engine, taxis=taxis,
                                  spatial=dict(haxis=haxis, pxaxis=pxaxis), nfft=nfft,
                                  flims=flims, kind=kind,
                                  num_threads_per_blocks=num_threads_per_blocks, dtype=dtype)
        full = build(None, xp=np)
        copy_attrs(self, full, _ATTRS)
        self.engine, self.num_threads_per_blocks = engine, num_threads_per_blocks
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)
