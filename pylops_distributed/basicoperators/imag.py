"""Imag: the imaginary part of a complex model (an R-linear operator)."""

import numpy as np

from pylops_distributed._arrays import as_dims, get_array_module
from pylops_distributed._graph import map_chunks, new_token
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
    One task per chunk, nothing rechunked. As in PyLops the forward returns
    ``rdtype`` and the adjoint ``dtype`` whatever the input's dtype; with a real
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

    def _matvec(self, x):
        return map_chunks(_imag_part, x, self.rdtype, prefix="imag", token=self._token, dtype=self.rdtype)

    def _rmatvec(self, x):
        return map_chunks(_times_i, x, self.dtype, prefix="imag-adjoint", token=self._token,
                          dtype=self.dtype)


def _imag_part(chunk, dtype):
    """Imaginary part of ``chunk`` (zeros for a real chunk) as ``dtype``."""
    return get_array_module(chunk).imag(chunk).astype(dtype)


def _times_i(chunk, dtype):
    """``1j * real(chunk)`` as ``dtype`` (zeros when ``dtype`` is real, as in PyLops)."""
    xp = get_array_module(chunk)
    if np.iscomplexobj(np.empty(0, dtype)):
        return (1j * chunk.real).astype(dtype)
    return xp.zeros(chunk.shape, dtype=dtype)
