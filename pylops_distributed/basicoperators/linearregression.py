"""LinearRegression: straight-line regression, a Regression of order 1."""

from pylops_distributed.basicoperators.regression import Regression


class LinearRegression(Regression):
    r"""Linear regression :math:`y_i = x_0 + x_1 t_i`.

    Parameters
    ----------
    taxis : numpy.ndarray, cupy.ndarray or dask.array.Array
        1-D points :math:`t_i`.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks of ``taxis`` (the forward output's chunks) when it is a NumPy/CuPy
        array; also used to wrap NumPy/CuPy inputs.

    Raises
    ------
    TypeError
        If ``taxis`` is not an array.
    ValueError
        If ``taxis`` is not 1-D.

    Notes
    -----
    :class:`~pylops_distributed.Regression` with ``order=1`` (the same kernels): the forward
    is one task per chunk of ``taxis``, the adjoint one partial-sum task per data chunk plus
    one task adding them up.

    Examples
    --------
    >>> import numpy as np
    >>> import pylops_distributed as pld
    >>> Op = pld.LinearRegression(np.arange(4.0), chunks=2)
    >>> (Op @ np.array([1.0, 2.0])).compute()
    array([1., 3., 5., 7.])
    """

    def __init__(self, taxis, dtype="float64", name="L", chunks=None):
        super().__init__(taxis, 1, dtype=dtype, name=name, chunks=chunks)
