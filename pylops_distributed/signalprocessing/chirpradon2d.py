"""ChirpRadon2D: 2-D linear Radon transform with FFTs and chirps (PyLops' ``ChirpRadon2D``)."""

import functools

import dask
import dask.array as da
import numpy as np

from pylops_distributed._alongaxes import AlongAxes, block_operator
from pylops_distributed._arrays import get_array_module, meta_like
from pylops_distributed.signalprocessing.radon2d import copy_attrs, on_module

#: PyLops attributes copied onto ours.
_ATTRS = ("nh", "nt", "dt", "dh", "pmax")


def build_chirpradon2d(dims, *, xp, taxis, haxis, pmax, dtype):
    """PyLops' ``ChirpRadon2D`` (it follows its input's module: NumPy or CuPy)."""
    import pylops

    op = pylops.signalprocessing.ChirpRadon2D(on_module(taxis, np), on_module(haxis, np),
                                              pmax, dtype=dtype)
    if dims is not None and tuple(dims) != tuple(op.dims):
        raise ValueError(f"ChirpRadon2D: model block {dims} is not the whole model {op.dims}")
    return op


def whole_inverse(op, x):
    """PyLops' ``inverse`` of an :class:`AlongAxes` operator without batch axes, on ``x``
    (dask, NumPy or CuPy, of shape ``dimsd`` or flat): one task on the whole array, a lazy
    dask array of shape ``dims`` out (flat for a flat input)."""
    what = f"{op.label}.inverse"
    x = op._wrap(x, what)
    size = int(np.prod(op.dimsd))
    if x.shape != tuple(op.dimsd) and not (x.ndim == 1 and x.size == size):
        raise ValueError(f"{what}: expected an input of shape {op.dimsd} (or flat ({size},)), "
                         f"got shape {x.shape}")
    flat = x.ndim == 1 and len(op.dimsd) > 1
    dtype = op.chunk_kernel(True).out_dtype(x.dtype)
    a = op._along
    block = x.rechunk(-1).to_delayed().ravel()[0]
    task = dask.delayed(_inverse_block, pure=True)(
        block, build=a["build"], token=a["token"], dims=op.dims, dtype=dtype,
        cpu_only=op.cpu_only, opname=type(op).__name__)
    y = da.from_delayed(task, shape=op.dims, dtype=dtype, meta=meta_like(x, dtype, len(op.dims)))
    return y.reshape(-1) if flat else y


def _inverse_block(x, *, build, token, dims, dtype, cpu_only, opname):
    xp = get_array_module(x)
    if cpu_only and xp is not np:
        raise TypeError(f"{opname}: PyLops runs this operator on NumPy arrays only and its "
                        "input is a CuPy array; move it to the host first")
    Op = block_operator(build, token, dims, (), (), xp)
    return Op.inverse(x.ravel()).reshape(dims).astype(dtype, copy=False)


class ChirpRadon2D(AlongAxes):
    r"""Two-dimensional linear Radon transform with FFTs and chirp functions (PyLops'
    ``ChirpRadon2D``).

    Model and data of shape :math:`[n_x \times n_t]` (the slopes are sampled like the traces,
    up to ``pmax``).

    Parameters
    ----------
    taxis : numpy.ndarray
        Time axis.
    haxis : numpy.ndarray
        Spatial axis.
    pmax : float
        Maximum slope, :math:`\tan` of the maximum stacking angle.
    dtype : str, optional
        Operator dtype (real).
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The transform is a product of FFTs over both axes and chirp multiplications: it mixes all
    axes, so it is one task, PyLops' own operator on the whole array (a chunked input is
    rechunked to one chunk first, a visible step; the output is one chunk). CuPy chunks are
    supported (PyLops follows its input's module). :meth:`inverse` is PyLops' fast inverse,
    also one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.chirpradon2d import ChirpRadon2D
    >>> t, h = np.arange(40) * 0.004, np.arange(16) * 10.0
    >>> Op = ChirpRadon2D(t, h, pmax=1e-3)
    >>> x = np.random.default_rng(0).standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(4, 20))  # rechunked whole: one task
    >>> POp = pylops.signalprocessing.ChirpRadon2D(t, h, pmax=1e-3)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    >>> np.allclose(Op.inverse(y).compute().ravel(), POp.inverse(POp @ x.ravel()))
    True
    """

    def __init__(self, taxis, haxis, pmax, dtype="float64", name="C", chunks=None):
        build = functools.partial(build_chirpradon2d, taxis=taxis, haxis=haxis, pmax=pmax,
                                  dtype=dtype)
        full = build(None, xp=np)
        copy_attrs(self, full, _ATTRS)
        self._setup(full.dims, build, None, dtype=full.dtype, name=name, chunks=chunks,
                    full=full)

    def inverse(self, x):
        """PyLops' fast inverse on ``x`` (dask, NumPy or CuPy, shape ``dimsd`` or flat): one
        task, a lazy dask array of shape ``dims`` (flat for a flat input)."""
        return whole_inverse(self, x)
