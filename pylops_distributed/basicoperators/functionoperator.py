"""FunctionOperator: a linear operator made of a forward and an adjoint function."""

import numbers
import uuid

import dask.array as da
import numpy as np

from dask.base import tokenize

from pylops_distributed._arrays import get_array_module, is_array, meta_like
from pylops_distributed.linearoperator import LinearOperator

_CALLS = ("FunctionOperator(f, n), FunctionOperator(f, n, m), FunctionOperator(f, fc, n) "
          "or FunctionOperator(f, fc, n, m)")


class FunctionOperator(LinearOperator):
    r"""Linear operator from a forward function ``f`` and an adjoint function ``fc``
    (PyLops' ``FunctionOperator``).

    ``f`` maps a model of shape ``m`` to data of shape ``n`` and ``fc`` maps data back,
    :math:`f:\mathbb{F}^m \to \mathbb{F}_c^n`, :math:`f_c:\mathbb{F}_c^n \to \mathbb{F}^m`.
    Called as in PyLops: ``FunctionOperator(f, n)``, ``FunctionOperator(f, n, m)``,
    ``FunctionOperator(f, fc, n)`` or ``FunctionOperator(f, fc, n, m)``; without ``m`` the
    operator is square, without ``fc`` it has no adjoint.

    Parameters
    ----------
    f : callable
        Forward function, called on the whole model (an in-memory array of shape ``m``).
    fc : callable or None, optional
        Adjoint function, called on the whole data (an in-memory array of shape ``n``). ``None``:
        the adjoint raises ``NotImplementedError``.
    n : int or tuple of int
        Data shape (PyLops: the number of rows). A tuple gives an N-D data shape.
    m : int or tuple of int, optional
        Model shape (PyLops: the number of columns); default ``n``.
    dtype : str, optional
        Operator dtype (keyword only, as in PyLops).
    name : str, optional
        Operator name (keyword only).
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs (keyword only).

    Raises
    ------
    TypeError
        If ``f`` (or a given ``fc``) is not callable, for a number of positional arguments
        other than the four forms above, or for shapes that are not ints or tuples of ints.
    NotImplementedError
        From ``rmatvec`` (and ``Op.H @ y``) of an operator built without ``fc``.
    ValueError
        When computed, if ``f`` or ``fc`` returns an array whose size is not that of the
        output.

    Notes
    -----
    ``f`` and ``fc`` are called, as in PyLops, on the whole input in memory (a NumPy or
    CuPy array of shape ``m`` or ``n``), in one task of the graph: building ``Op @ x``
    computes nothing, and the result is what the function gives (bit for bit), cast to
    ``result_type(dtype, x.dtype)`` and reshaped to the output's shape, in one chunk.

    The operator has no per-chunk kernel (``f`` is opaque): inside products and sums it is
    applied with dask.array expressions, and the solvers use their plain backend.

    See Also
    --------
    MemoizeOperator, pylops_distributed.FromPyLops

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> def f(x):                     # running sum
    ...     return np.cumsum(x)
    >>> def fc(y):                    # its adjoint: running sum from the end
    ...     return np.cumsum(y[::-1])[::-1]
    >>> A = pld.FunctionOperator(f, fc, 4)
    >>> y = A @ da.arange(4.0, chunks=2)  # lazy: f runs in one task when computed
    >>> y.compute()
    array([0., 1., 3., 6.])
    >>> (A.H @ da.ones(4, chunks=2)).compute()
    array([4., 3., 2., 1.])
    """

    def __init__(self, f, *args, dtype="float64", name="F", chunks=None):
        if not callable(f):
            raise TypeError(f"FunctionOperator: f must be callable, got {type(f).__name__}; "
                            f"call as {_CALLS}")
        if len(args) == 1:
            fc, n, m = None, args[0], args[0]
        elif len(args) == 2 and (args[0] is None or callable(args[0])):
            fc, n, m = args[0], args[1], args[1]
        elif len(args) == 2:
            fc, (n, m) = None, args
        elif len(args) == 3:
            fc, n, m = args
        else:
            raise TypeError(f"FunctionOperator: got {len(args)} positional arguments after f; "
                            f"call as {_CALLS}")
        if fc is not None and not callable(fc):
            raise TypeError(f"FunctionOperator: fc must be callable or None, got "
                            f"{type(fc).__name__}; call as {_CALLS}")
        dimsd, dims = _shape(n, "n"), _shape(m, "m")
        self.f, self.fc = f, fc
        # this operator's own token: an id() is reused by another function once this one is
        # freed, and its tasks would take keys the scheduler may still hold
        self._token = uuid.uuid4().hex
        super().__init__(dims, dimsd, dtype, name=name, chunks=chunks)

    def _matvec(self, x):
        return self._call(self.f, "f", x, self.dimsd)

    def _rmatvec(self, x):
        if self.fc is None:
            raise NotImplementedError(f"{self.label}: Adjoint not implemented (built without fc); "
                                      f"pass the adjoint function, e.g. FunctionOperator(f, fc, "
                                      f"{self.dimsd}, {self.dims})")
        return self._call(self.fc, "fc", x, self.dims)

    def _call(self, fn, which, x, dims_out):
        """``fn`` on the whole input, in one task: a dask array of ``dims_out``."""
        dtype = np.result_type(self.dtype, x.dtype)
        dims_in = tuple(x.shape)
        whole = x.rechunk(-1) if x.ndim else x
        y = da.map_blocks(_call_on_block, whole, fn=fn, what=f"{self.label}: {which}",
                          dims_out=tuple(dims_out), out_dtype=dtype, dtype=dtype,
                          chunks=tuple((d,) for d in dims_out), drop_axis=list(range(len(dims_in))),
                          new_axis=list(range(len(dims_out))), meta=meta_like(x._meta, dtype, len(dims_out)),
                          name=f"functionoperator-{which}-{tokenize(self._token, x.name, dtype)}")
        return y


def _call_on_block(x, fn, what, dims_out, out_dtype):
    """``fn(x)`` on the in-memory input, as an array of ``dims_out`` and ``out_dtype``."""
    y = fn(x)
    if not is_array(y) and not hasattr(y, "__array__"):
        raise TypeError(f"{what} returned {type(y).__name__}; expected a NumPy or CuPy array")
    xp = get_array_module(x)
    y = xp.asarray(y)
    size = int(np.prod(dims_out))
    if y.size != size:
        raise ValueError(f"{what} returned an array of shape {y.shape}; expected shape "
                         f"{dims_out} (or {size} elements)")
    return y.reshape(dims_out).astype(out_dtype, copy=False)


def _shape(v, what):
    if isinstance(v, numbers.Integral):
        return (int(v),)
    if isinstance(v, (tuple, list)) and v and all(isinstance(d, numbers.Integral) for d in v):
        return tuple(int(d) for d in v)
    raise TypeError(f"FunctionOperator: {what} must be an int or a tuple of ints, got {v!r}; "
                    f"call as {_CALLS}")
