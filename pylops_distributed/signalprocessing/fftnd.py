"""FFTND: N-D Fourier transform over some axes, with a pencil scheme over chunked axes."""

import functools

import numpy as np

from pylops_distributed._alongaxes import AlongAxes, quiet
from pylops_distributed._arrays import as_dims
from pylops_distributed._graph import apply_kernel, apply_terms
from pylops_distributed.signalprocessing._pylops_build import copy_attrs

#: PyLops attributes copied onto our operators (frequency axes and normalised arguments).
_ATTRS = ("axis", "axes", "nfft", "nffts", "sampling", "norm", "real", "ifftshift_before",
          "fftshift_after", "f", "f1", "f2", "fs", "rdtype", "cdtype", "doifftpad")


def build_fft(dims, *, xp, kind, engine, **kwargs):
    """PyLops' ``kind`` (``"FFT"``, ``"FFT2D"`` or ``"FFTND"``) for a block of shape ``dims``.

    NumPy blocks run SciPy's FFTs (``engine="scipy"``, the fastest PyLops engine here; same
    maths as the others) unless an FFT is shorter than its axis (PyLops' SciPy engine does not
    truncate then), CuPy blocks ``cupy.fft`` (PyLops' ``"numpy"`` engine on CuPy arrays),
    ``engine="mkl_fft"`` is kept as asked.
    """
    import pylops

    # PyLops' FFT2D scales its SciPy engine's adjoint differently: FFTND is the same maths
    make = getattr(pylops.signalprocessing, "FFTND" if kind == "FFT2D" else kind)
    if engine == "mkl_fft":
        return make(dims, engine=engine, **kwargs)
    op = make(dims, engine="numpy", **kwargs)
    if _plain(op, kwargs):
        return OrthoFFT(dims, tuple(int(a) for a in _axes_of(op)), op.cdtype, xp)
    if xp is np and not getattr(op, "doifftpad", False):
        op = make(dims, engine="scipy", **kwargs)
    return op


def _plain(op, kwargs):
    """Whether PyLops' FFT ``op`` is a plain orthonormal complex FFT (complex-linear: not of
    a real dtype; no padding, shift or one-sided axis, no extra FFT arguments)."""
    axes = _axes_of(op)
    nffts = np.atleast_1d(op.nffts if hasattr(op, "nffts") else op.nfft)
    return (op.norm.name == "ORTHO" and not op.real and getattr(op, "clinear", True)
            and not np.any(op.ifftshift_before)
            and not np.any(op.fftshift_after)
            and all(int(n) == op.dims[a] for a, n in zip(axes, nffts))
            and not set(kwargs) - {"axis", "axes", "nfft", "nffts", "sampling", "norm", "real",
                                   "ifftshift_before", "fftshift_after", "dtype"})


def _axes_of(op):
    return np.atleast_1d(op.axes if hasattr(op, "axes") else op.axis)


class OrthoFFT:
    """PyLops' FFT in its plain case (orthonormal, complex, no padding or shifts) as one
    ``fftn``/``ifftn`` call on the block, without PyLops' extra copy: SciPy's on NumPy blocks,
    CuPy's on CuPy blocks."""

    def __init__(self, dims, axes, cdtype, xp):
        self.dims, self.axes, self.cdtype = tuple(dims), axes, np.dtype(cdtype)
        if xp is np:
            import scipy.fft as fft
        else:
            fft = xp.fft
        self.fft = fft

    def matvec(self, x):
        y = self.fft.fftn(x.reshape(self.dims), axes=self.axes, norm="ortho")
        return y.astype(self.cdtype, copy=False).ravel()

    def rmatvec(self, x):
        y = self.fft.ifftn(x.reshape(self.dims), axes=self.axes, norm="ortho")
        return y.astype(self.cdtype, copy=False).ravel()


class FFTND(AlongAxes):
    r"""N-dimensional Fourier transform over ``axes`` (PyLops' ``FFTND``).

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    axes : int or tuple of int, optional
        Axes transformed.
    nffts : int or tuple of int, optional
        FFT lengths per axis (default: ``dims`` along ``axes``).
    sampling : float or tuple of float, optional
        Sampling steps per axis (for the frequency axes ``fs``).
    norm : {"ortho", "none", "1/n"}, optional
        Normalisation (as PyLops).
    real : bool, optional
        Real model: one-sided transform along the last axis of ``axes``.
    ifftshift_before, fftshift_after : bool or tuple of bool, optional
        Shifts per axis, before the transform and after it.
    engine : str, optional
        Accepted for PyLops compatibility; NumPy chunks run ``scipy.fft``, CuPy chunks
        ``cupy.fft`` (``"mkl_fft"`` is honoured).
    dtype : str, optional
        Operator dtype (complex).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.
    **kwargs_fft
        Passed to the FFT calls, as in PyLops.

    Notes
    -----
    Each task transforms a block whose ``axes`` are whole with PyLops' own operator; the other
    axes keep their chunks (no exchange). When the input is chunked along ``axes``:

    - if another (batch) axis is chunked, ``axes`` are rechunked to one chunk (one visible
      step, the batch chunks kept);
    - otherwise (the transform covers the chunked axes, as a 2-D FFT of an array chunked
      along its rows) a *pencil* scheme: every task transforms the axes that are whole in its
      block, one all-to-all rechunk makes the remaining axes whole (the chunks moving onto an
      axis already transformed), and a second transform finishes. One rechunk when one
      transformed axis is chunked, two when all are; the output is chunked along a
      transformed axis, and the adjoint of that output comes back to the input's chunking.
      With ``real=True`` the one-sided axis (the last of ``axes``) is transformed first
      (last in the adjoint), which may add a rechunk.

    In a product with other operators (inside a solver), ``axes`` are rechunked whole.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> import pylops_distributed as pld
    >>> x = np.random.default_rng(0).standard_normal((8, 16, 32))
    >>> Op = pld.signalprocessing.FFTND((8, 16, 32), axes=(1, 2), real=True)
    >>> y = Op @ da.from_array(x, chunks=(2, 16, 32))
    >>> POp = pylops.signalprocessing.FFTND((8, 16, 32), axes=(1, 2), real=True)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    _kind = "FFTND"

    def __init__(self, dims, axes=(-3, -2, -1), nffts=None, sampling=1.0, norm="ortho",
                 real=False, ifftshift_before=False, fftshift_after=False, engine="scipy",
                 dtype="complex128", name="F", chunks=None, **kwargs_fft):
        self._fft_init(dims, dict(axes=axes, nffts=nffts, sampling=sampling, norm=norm,
                                  real=real, ifftshift_before=ifftshift_before,
                                  fftshift_after=fftshift_after, dtype=dtype, **kwargs_fft),
                       engine, name, chunks)

    def _fft_init(self, dims, kwargs, engine, name, chunks):
        dims = as_dims(dims)
        self._fft_kwargs, self.engine = kwargs, engine
        build = functools.partial(build_fft, kind=self._kind, engine=engine, **kwargs)
        import pylops

        full = getattr(pylops.signalprocessing, self._kind)(dims, **kwargs)
        copy_attrs(self, full, _ATTRS)
        acting = np.atleast_1d(full.axis if hasattr(full, "axis") else full.axes)
        self._setup(dims, build, [int(a) % len(dims) for a in acting], dtype=full.dtype,
                    name=name, chunks=chunks, clinear=bool(getattr(full, "clinear", True)),
                    full=full)

    def _out_dtype(self, adjoint):
        # as PyLops: the adjoint of a one-sided transform, or of a real-dtype one, is real
        if adjoint and (self.real or not self.clinear):
            return functools.partial(_real_part_dtype, np.dtype(self.dtype))
        return None

    # --- pencil scheme ----------------------------------------------------------------------
    def _per_axis(self):
        """PyLops' normalised per-axis arguments: axis -> (nfft, sampling, ifftshift, fftshift)."""
        axes = np.atleast_1d(self.axis if self._kind == "FFT" else self.axes)
        nffts = np.atleast_1d(self.nfft if self._kind == "FFT" else self.nffts)
        sampling = np.broadcast_to(np.asarray(self._fft_kwargs.get("sampling", 1.0), float),
                                   (len(axes),))
        before = np.broadcast_to(np.asarray(self.ifftshift_before), (len(axes),))
        after = np.broadcast_to(np.asarray(self.fftshift_after), (len(axes),))
        return {int(a) % len(self.dims): (int(n), float(s), bool(b), bool(f))
                for a, n, s, b, f in zip(axes, nffts, sampling, before, after)}

    def _stage(self, dims, group):
        """Our FFTND over ``group`` (ordered as in ``axes``) on an intermediate shape."""
        per = self._per_axis()
        order = [a for a in per if a in group]
        kw = {k: v for k, v in self._fft_kwargs.items()
              if k not in ("axes", "axis", "nffts", "nfft", "sampling", "real",
                           "ifftshift_before", "fftshift_after")}
        last = list(per)[-1]
        return quiet(FFTND, dims, axes=order, nffts=[per[a][0] for a in order],
                     sampling=[per[a][1] for a in order],
                     real=bool(self.real) and last in group,
                     ifftshift_before=[per[a][2] for a in order],
                     fftshift_after=[per[a][3] for a in order], engine=self.engine, **kw)

    def _direct_apply(self, x, adjoint):
        """Pencil scheme (see Notes) when only transformed axes are chunked; None otherwise."""
        acting = self.acting_axes
        chunked = [a for a in range(x.ndim) if len(x.chunks[a]) > 1]
        if len(acting) < 2 or not chunked or any(a not in acting for a in chunked):
            return None
        nblocks = int(np.prod([len(x.chunks[a]) for a in chunked]))
        real_axis = list(self._per_axis())[-1] if self.real else None
        # p: the axis left chunked for the first transform (not the one-sided axis, which
        # goes first forward and last in the adjoint)
        allowed = [a for a in acting if a != real_axis] if not adjoint or real_axis is None \
            else [real_axis]
        pick = [a for a in chunked if a in allowed and len(chunked) == 1]
        p = pick[0] if pick else max(allowed, key=lambda a: x.shape[a])
        q = max((a for a in acting if a != p), key=lambda a: x.shape[a])
        first = [a for a in acting if a != p]
        stages = [(p, first), (q, [p])]
        dims_in = list(self.dimsd if adjoint else self.dims)
        y = x
        for axis, group in stages:
            if adjoint:  # a stage's model shape from its data shape
                op = self._stage(self._model_shape(dims_in, group), group)
                dims_in = list(op.dims)
            else:
                op = self._stage(tuple(dims_in), group)
                dims_in = list(op.dimsd)
            kernel = op.chunk_kernel(adjoint)
            target = _chunked_only_along(y, axis, nblocks)
            if target == y.chunks:
                y = apply_kernel(kernel, y)
            else:  # the all-to-all: each task gathers its pencil from the pieces (one copy)
                y = apply_terms([(kernel.replace(whole=frozenset()), y)], kernel.chunks(target),
                                kernel.out_dtype(y.dtype))
        return y

    def _model_shape(self, data_shape, group):
        """Model shape of a stage over ``group`` whose data has ``data_shape``."""
        dims = list(data_shape)
        for a in group:
            dims[a] = self.dims[a]
        return tuple(dims)


def _chunked_only_along(x, axis, nblocks):
    """The chunks of ``x`` chunked along ``axis`` only (``nblocks`` chunks at most), the
    other axes whole: ``x.chunks`` when it already is."""
    if all(len(c) == 1 for a, c in enumerate(x.chunks) if a != axis):
        return x.chunks
    n = x.shape[axis]
    k = max(1, min(nblocks, n))
    size = -(-n // k)
    along = (size,) * (n // size) + ((n % size,) if n % size else ())
    return tuple(along if a == axis else (s,) for a, s in enumerate(x.shape))


def _real_part_dtype(op_dtype, dtype):
    return np.empty(0, np.result_type(op_dtype, dtype)).real.dtype
