"""Conj: complex conjugation (an R-linear operator)."""

from pylops_distributed._arrays import as_dims, get_array_module
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel
from pylops_distributed.linearoperator import LinearOperator


class Conj(LinearOperator):
    r"""Complex conjugate: :math:`y_i = \Re\{x_i\} - i\Im\{x_i\}`, and the same in adjoint.

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
    clinear : bool
        ``False``: the operator is linear over the reals only.

    Notes
    -----
    One task per chunk (a pointwise kernel), nothing rechunked; the operator is
    self-adjoint. Outputs have ``result_type(dtype, input dtype)``.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> x = da.from_array(np.array([1 + 2j, 3 - 4j]), chunks=1)
    >>> (pld.Conj(2) @ x).compute()
    array([1.-2.j, 3.+4.j])
    """

    def __init__(self, dims, dtype="complex128", name="C", chunks=None):
        super().__init__(as_dims(dims), as_dims(dims), dtype, name=name, chunks=chunks,
                         clinear=False)
        self._token = new_token()

    def _kernel(self, adjoint):
        return ChunkKernel(_conj, self.dims, self.dims, dtype=self.dtype, pointwise=True,
                           name="conj", token=f"{self._token}-{int(adjoint)}")


def _conj(x, *, where, dtype):
    """``conj(x)`` as ``dtype``, a new array (CuPy's ``conj`` of a real array is the array)."""
    y = x.conj()
    return y.astype(dtype, copy=bool(get_array_module(x).may_share_memory(y, x)))
