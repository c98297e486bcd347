"""Transpose: permutes the axes of an N-D model."""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator


class Transpose(LinearOperator):
    r"""Transpose (permute) the axes of an N-D model: ``y = x.transpose(axes)``.

    Parameters
    ----------
    dims : tuple of int
        Model shape.
    axes : tuple of int
        Permutation of ``range(len(dims))`` (negative axes allowed); the data has
        shape ``[dims[a] for a in axes]``.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    axesd : list of int
        The inverse permutation, used by the adjoint.

    Raises
    ------
    ValueError
        If ``axes`` is not a permutation of the axes of ``dims``.

    Notes
    -----
    One task per chunk, which transposes its chunk into a new C-contiguous array; the
    chunks are permuted with the axes, nothing is rechunked. The adjoint applies the
    inverse permutation.

    Examples
    --------
    >>> import dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Transpose((2, 3, 4), axes=(2, 0, 1))
    >>> y = Op @ da.ones((2, 3, 4), chunks=(1, 3, 2))
    >>> y.shape, y.chunks
    ((4, 2, 3), ((2, 2), (1, 1), (3,)))
    """

    def __init__(self, dims, axes, dtype="float64", name="T", chunks=None):
        dims = as_dims(dims)
        ndim = len(dims)
        try:
            axes_n = [int(a) for a in axes]
        except TypeError:
            raise TypeError(f"Transpose: axes must be a sequence of ints, got {axes!r}") from None
        in_range = all(-ndim <= a < ndim for a in axes_n)
        if not in_range or sorted(a % ndim for a in axes_n) != list(range(ndim)):
            raise ValueError(f"Transpose: axes={tuple(axes_n)} must contain every axis of dims={dims} "
                             f"exactly once, e.g. axes={tuple(range(ndim))[::-1]}")
        self.axes = [a % ndim for a in axes_n]
        axesd = np.empty(ndim, dtype=int)
        axesd[self.axes] = np.arange(ndim)
        self.axesd = [int(a) for a in axesd]
        dimsd = tuple(dims[a] for a in self.axes)
        self._token = new_token()
        super().__init__(dims, dimsd, dtype, name=name, chunks=chunks)

    def _kernel(self, adjoint):
        axes = tuple(self.axesd if adjoint else self.axes)
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        return ChunkKernel(_transpose_kernel, dims_in, dims_out, dtype=self.dtype, axes=axes,
                           name="transpose" + ("-adjoint" if adjoint else ""),
                           token=f"{self._token}-{int(adjoint)}", params=dict(axes=axes),
                           region=functools.partial(_permuted_region, axes))


def _permuted_region(axes, start, stop):
    """Input box of an output box: output axis ``k`` is input axis ``axes[k]``."""
    istart, istop = [0] * len(axes), [0] * len(axes)
    for k, a in enumerate(axes):
        istart[a], istop[a] = start[k], stop[k]
    return tuple(istart), tuple(istop)


def _transpose_kernel(x, *, where, dtype, axes):
    """``x.transpose(axes)`` as a new C-contiguous array of ``dtype``."""
    return get_array_module(x).array(x.transpose(axes), dtype=dtype, order="C", copy=True)
