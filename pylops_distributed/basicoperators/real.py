"""Real: the real part of a complex model (an R-linear operator)."""

import functools

import numpy as np

from pylops_distributed._arrays import as_dims
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator


class Real(LinearOperator):
    r"""Real part: :math:`y_i = \Re\{x_i\}`; adjoint :math:`x_i = \Re\{y_i\} + 0i`.

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
        ``False``: the operator is linear over the reals only, so its dot test compares
        :math:`\Re\langle Op\,u, v\rangle` with :math:`\Re\langle u, Op^H v\rangle`.

    Notes
    -----
    One task per chunk (a pointwise kernel), nothing rechunked. As in PyLops the forward
    returns ``rdtype`` and the adjoint ``dtype`` whatever the input's dtype (with a real
    ``dtype`` the adjoint is simply the real part).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> x = da.from_array(np.array([1 + 2j, 3 - 4j]), chunks=1)
    >>> (pld.Real(2) @ x).compute()
    array([1., 3.])
    >>> (pld.Real(2).H @ x).compute()
    array([1.+0.j, 3.+0.j])
    """

    def __init__(self, dims, dtype="complex128", name="R", chunks=None):
        super().__init__(as_dims(dims), as_dims(dims), dtype, name=name, chunks=chunks,
                         clinear=False)
        self.rdtype = np.real(np.ones(1, self.dtype)).dtype
        self._token = new_token()

    def _kernel(self, adjoint):
        dtype = self.dtype if adjoint else self.rdtype
        return ChunkKernel(_real_part, self.dims, self.dims, pointwise=True,
                           name="real" + ("-adjoint" if adjoint else ""),
                           token=f"{self._token}-{int(adjoint)}",
                           out_dtype=functools.partial(fixed_dtype, dtype))


def fixed_dtype(dtype, in_dtype):
    """The output dtype of an operator whose output dtype does not depend on the input's."""
    return dtype


def _real_part(x, *, where, dtype):
    """Real part of ``x`` as ``dtype`` (zero imaginary part for a complex ``dtype``), a new array."""
    return x.real.astype(dtype)
