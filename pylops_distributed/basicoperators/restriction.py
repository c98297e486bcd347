"""Restriction: selects samples of an N-D model at given indices along an axis."""

import warnings

import dask.array as da
import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module, is_cupy, normalize_axis, result_dtype
from pylops_distributed._graph import map_chunks, new_token
from pylops_distributed.linearoperator import LinearOperator


class Restriction(LinearOperator):
    r"""Restriction (sampling): :math:`y_i = x_{l_i}` along ``axis``; adjoint scatters back.

    In adjoint mode the data are placed (added, for repeated indices) at the locations
    :math:`l_i` of an otherwise zero model: :math:`x_j = \sum_{i:\,l_i = j} y_i`.

    Parameters
    ----------
    dims : int or tuple of int
        Model shape.
    iava : sequence of int or numpy/cupy integer array
        Indices of the samples to keep along ``axis``. Any order, repeats allowed,
        negative indices count from the end (as ``numpy.take``).
    axis : int, optional
        Axis along which the restriction is applied.
    inplace : bool, optional
        Accepted for PyLops compatibility (dask arrays are never modified in place).
    forceflat : bool, optional
        See :class:`~pylops_distributed.LinearOperator`. As in PyLops, reset to
        ``None`` (with a warning) when ``len(dims) > 2``.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    iava : numpy.ndarray
        The indices, non-negative.
    repeated : bool
        Whether some index is repeated.

    Raises
    ------
    TypeError
        If ``iava`` is not integer (PyLops fails on float indices at apply time).
    ValueError
        If ``iava`` is not 1-D or an index is out of range for ``dims[axis]``.

    Notes
    -----
    Forward: ``dask.array.take`` along ``axis`` (about one or two tasks per chunk for
    sorted indices, a small shuffle for unsorted ones; output chunks along ``axis``
    of about the input's chunk size). Adjoint: a gather as well, from the data with
    at the inverse index of ``iava``, then one fused task per chunk that zeroes the
    model samples not selected (and adds the gathers of repeated indices, one gather
    per level of repetition). No axis is gathered into one chunk.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Restriction(6, [4, 1, 1])
    >>> (Op @ da.arange(6.0, chunks=4)).compute()
    array([4., 1., 1.])
    >>> (Op.H @ da.ones(3, chunks=2)).compute()
    array([0., 2., 0., 0., 1., 0.])
    """

    def __init__(self, dims, iava, axis=-1, inplace=True, forceflat=None, dtype="float64", name="R",
                 chunks=None):
        dims = as_dims(dims)
        axis = normalize_axis(axis, len(dims), "Restriction")
        iava = iava.get() if is_cupy(iava) else np.asarray(iava)
        if iava.ndim != 1:
            raise ValueError(f"Restriction: iava must be 1-D, got shape {iava.shape}")
        if iava.size and not np.issubdtype(iava.dtype, np.integer):
            raise TypeError(f"Restriction: iava must hold integer indices, got dtype {iava.dtype}; "
                            "use pylops.signalprocessing.Interp for fractional positions")
        n = dims[axis]
        iava = iava.astype(np.int64)
        if iava.size and (iava.min() < -n or iava.max() >= n):
            bad = iava[(iava < -n) | (iava >= n)]
            raise ValueError(f"Restriction: iava values {bad[:5].tolist()} out of range for "
                             f"dims[{axis}] = {n} (dims={dims})")
        if len(dims) > 2 and forceflat is not None:
            warnings.warn(f"Restriction: setting forceflat=None since len(dims)={len(dims)}>2; the "
                          "output is flat for flat inputs and N-D for N-D inputs", stacklevel=2)
            forceflat = None
        self.iava = iava % n if n else iava
        self.axis, self.inplace = axis, inplace
        self.repeated = np.unique(self.iava).size != self.iava.size
        self._token = new_token()
        # adjoint as gathers: level r holds the r-th occurrence of each index
        m = self.iava.size
        order = np.argsort(self.iava, kind="stable")
        srt = self.iava[order]
        first = np.searchsorted(srt, srt, side="left")
        level = np.arange(m) - first
        self._gathers = []
        for r in range(int(level.max()) + 1 if m else 0):
            inv = np.full(n, m, dtype=np.int64)
            sel = level == r
            inv[srt[sel]] = order[sel]
            self._gathers.append(inv)
        dimsd = list(dims)
        dimsd[axis] = m
        super().__init__(dims, dimsd, dtype, forceflat=forceflat, name=name, chunks=chunks)

    def _matvec(self, x):
        return da.take(x, self.iava, axis=self.axis).astype(result_dtype(self.dtype, x.dtype), copy=False)

    def _rmatvec(self, x):
        dtype = result_dtype(self.dtype, x.dtype)
        x = x.astype(dtype, copy=False)
        m = self.iava.size
        if not self._gathers:
            return da.zeros_like(x, shape=self.dims, dtype=dtype)
        parts = [da.take(x, np.where(inv < m, inv, 0), axis=self.axis) for inv in self._gathers]
        chunks = parts[0].chunks[self.axis]
        parts = [p if p.chunks[self.axis] == chunks else p.rechunk({self.axis: chunks}) for p in parts]
        shape = [1] * x.ndim
        shape[self.axis] = self.dims[self.axis]
        masks = [da.from_array((inv < m).reshape(shape), chunks=tuple(
            chunks if a == self.axis else (1,) for a in range(x.ndim))) for inv in self._gathers]
        return map_chunks(_masked_sum, parts[0], *parts[1:], *masks, nlevels=len(parts),
                          prefix="restriction-adjoint", token=self._token, dtype=dtype)


def _masked_sum(*blocks, nlevels):
    """Sum of the gathered ``blocks[:nlevels]``, each zeroed where its mask (the rest) is False."""
    xp = get_array_module(blocks[0])
    out = None
    for part, mask in zip(blocks[:nlevels], blocks[nlevels:]):
        part = xp.where(xp.asarray(mask), part, 0).astype(part.dtype, copy=False)
        out = part if out is None else out + part
    return out
