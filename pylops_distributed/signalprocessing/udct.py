"""UDCT: uniform discrete curvelet transform (PyLops' ``UDCT``, from the ``curvelets`` package)."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes


def build_udct(dims, *, xp, udct_dims, **kwargs):
    """PyLops' ``UDCT`` (``xp`` unused: it runs on NumPy only)."""
    import pylops

    if dims is not None and tuple(dims) != tuple(udct_dims):
        raise ValueError(f"UDCT: model block {dims} is not the whole model {udct_dims}")
    return pylops.signalprocessing.UDCT(udct_dims, **kwargs)


class UDCT(AlongAxes):
    r"""Uniform discrete curvelet transform of an N-D array (PyLops' ``UDCT``, a wrapper of
    the ``curvelets`` package's).

    The data is the flat vector of all curvelet coefficients.

    Parameters
    ----------
    dims : tuple
        Model shape (even lengths).
    num_scales : int, optional
        Number of scales, the low-pass one included (default 3).
    wedges_per_direction : int, optional
        Angular wedges per direction at the coarsest scale (default 3).
    window_overlap : float, optional
        Overlap of the windows (``None``: chosen from ``wedges_per_direction``).
    radial_frequency_params : tuple of 4 float, optional
        Radial frequencies bounding the bands.
    window_threshold : float, optional
        Threshold of the sparse storage of the windows.
    high_frequency_mode : {"curvelet", "wavelet"}, optional
        Curvelets at the finest scale too, or a single band-pass ring there.
    transform_kind : {"real", "complex"}, optional
        ``"real"``: real input, bands holding both signs of frequency (the operator is then
        linear over the reals only, ``clinear=False``); ``"complex"``: the signs in separate
        bands, complex input allowed.
    dtype : str, optional
        Operator dtype: the coefficients are complex, so a real dtype is taken as its complex
        counterpart (PyLops' forward returns complex coefficients whatever ``dtype``).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy inputs.

    Notes
    -----
    The transform windows the N-D Fourier transform of the whole array: it mixes all axes, so
    it is one task, PyLops' own operator on the whole array (a chunked input is rechunked to
    one chunk first, a visible step; the coefficients are one chunk). Each process builds the
    ``curvelets`` transform (its windows) once and keeps it. ``curvelets`` runs on NumPy
    arrays only: CuPy chunks raise a ``TypeError`` naming the operator. :meth:`inverse` is
    PyLops' inverse (the adjoint: the frame is tight), also one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.udct import UDCT
    >>> Op = UDCT((32, 32))
    >>> x = np.random.default_rng(0).standard_normal((32, 32))
    >>> y = Op @ da.from_array(x, chunks=(16, 16))  # rechunked whole: one task
    >>> POp = pylops.signalprocessing.UDCT((32, 32))
    >>> np.allclose(y.compute(), POp @ x.ravel())
    True
    >>> np.allclose(Op.inverse(y).compute(), x)
    True
    """

    cpu_only = True

    def __init__(self, dims, num_scales=None, wedges_per_direction=None, window_overlap=None,
                 radial_frequency_params=None, window_threshold=1e-5,
                 high_frequency_mode="curvelet", transform_kind="real", dtype="complex128",
                 name="C", chunks=None):
        dims = tuple(int(d) for d in np.atleast_1d(dims))
        cdtype = np.result_type(np.dtype(dtype), np.complex64)
        build = functools.partial(build_udct, udct_dims=dims, num_scales=num_scales,
                                  wedges_per_direction=wedges_per_direction,
                                  window_overlap=window_overlap,
                                  radial_frequency_params=radial_frequency_params,
                                  window_threshold=window_threshold,
                                  high_frequency_mode=high_frequency_mode,
                                  transform_kind=transform_kind, dtype=cdtype)
        full = build(None, xp=np)
        self.transform = full.transform
        self._setup(dims, build, None, dtype=cdtype, name=name, chunks=chunks,
                    clinear=bool(full.clinear), full=full)

    def inverse(self, x):
        """PyLops' inverse on ``x`` (dask or NumPy, flat coefficients): one task, a lazy dask
        array of shape ``dims``."""
        return self._whole_inverse(x)
