"""Imag: the imaginary part of a complex model (an R-linear operator)."""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module
from pylops_distributed._graph import new_token
from pylops_distributed.basicoperators.real import fixed_dtype
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator


class Imag(LinearOperator):
    r"""Imaginary part: :math:`y_i = \Im\{x_i\}`; adjoint :math:`x_i = 0 + i\,\Re\{y_i\}`.

    Parameters
    ----------
    dims : int or tuple of int
        Model (and data) shape.
    dtype : str, optional
        Operator dtype (complex by default).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    rdtype : numpy.dtype
        Real dtype matching ``dtype``: the forward output's dtype.
    clinear : bool
        ``False``: the operator is linear over the reals only.

    Notes
    -----
    One task per chunk (a pointwise kernel), nothing rechunked. As in PyLops the forward
    returns ``rdtype`` and the adjoint ``dtype`` whatever the input's dtype; with a real
    ``dtype`` the adjoint (purely imaginary) is therefore zero.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> x = da.from_array(np.array([1 + 2j, 3 - 4j]), chunks=1)
    >>> (pld.Imag(2) @ x).compute()
    array([ 2., -4.])
    >>> (pld.Imag(2).H @ x).compute()
    array([0.+1.j, 0.+3.j])
    """

    def __init__(self, dims, dtype="complex128", name="I", chunks=None):
        super().__init__(as_dims(dims), as_dims(dims), dtype, name=name, chunks=chunks,
                         clinear=False)
        self.rdtype = np.real(np.ones(1, self.dtype)).dtype
        self._token = new_token()

    def _kernel(self, adjoint):
        dtype = self.dtype if adjoint else self.rdtype
        return ChunkKernel(_times_i if adjoint else _imag_part, self.dims, self.dims, pointwise=True,
                           name="imag" + ("-adjoint" if adjoint else ""),
                           token=f"{self._token}-{int(adjoint)}",
                           out_dtype=functools.partial(fixed_dtype, dtype))


def _imag_part(x, *, where, dtype):
    """Imaginary part of ``x`` (zeros for a real ``x``) as ``dtype``, a new array."""
    return get_array_module(x).imag(x).astype(dtype)


def _times_i(x, *, where, dtype):
    """``1j * real(x)`` as ``dtype`` (zeros when ``dtype`` is real, as in PyLops)."""
    if np.iscomplexobj(np.empty(0, dtype)):
        return (1j * x.real).astype(dtype)
    return get_array_module(x).zeros(x.shape, dtype=dtype)
