"""Operators that act along some axes and are independent along the others, applied chunk by
chunk with PyLops' own operator built on each block.

Most of PyLops' signal-processing operators (FFTs, DCT, wavelets, shifts, interpolation...)
take ``dims`` and an ``axis``/``axes``: they transform those axes and treat every index of the
other (*batch*) axes alike. :class:`AlongAxes` gives them a chunk kernel: a block whose acting
axes are whole is transformed by the PyLops operator built for the block's shape (cached per
process), so the maths is PyLops' and the batch axes keep the user's chunks. An input chunked
along an acting axis is rechunked there first (one visible step). Operators without batch axes
(Radon, Seislet, curvelets...) are one task on the whole array.
"""

import collections
import functools
import threading
import warnings

import dask
import dask.array as da
import numpy as np

from pylops_distributed._arrays import get_array_module, is_cupy, meta_like
from pylops_distributed._graph import new_token
from pylops_distributed.kernels import ChunkKernel, aligned
from pylops_distributed.linearoperator import LinearOperator

#: PyLops operators built for blocks, per process: (token, block shape, operand box, module).
_BUILT = collections.OrderedDict()
_BUILT_MAX = 16
_LOCK = threading.Lock()
_WARNINGS_LOCK = threading.RLock()


class AlongAxes(LinearOperator):
    """Base class: PyLops' operator on every block whose acting axes are whole.

    Subclasses call :meth:`_setup` with a ``build`` callable (module-level or a
    ``functools.partial`` of one): ``build(dims, *operand_blocks, xp=module)`` returns the PyLops
    operator for a model block of shape ``dims`` (``xp``: the blocks' array module, NumPy or
    CuPy). Set ``cpu_only`` for operators PyLops runs on NumPy only.
    """

    #: PyLops runs this operator on NumPy arrays only: CuPy chunks raise a clear error.
    cpu_only = False

    def _setup(self, dims, build, axes, *, dtype, name, chunks, operands=(), clinear=True,
               full=None):
        """Build the operator once at full size (PyLops validates the arguments and gives
        ``dimsd``); ``axes``: the model axes it acts on (``None``: all, no batch axes).

        ``operands``: ``(array, axes)`` pairs, arrays cut with the blocks along batch axes:
        ``axes`` is the model axis that the array's first axis follows (``Fredholm1``'s ``G``
        along its slices), or one entry per array axis (a model axis or None: whole);
        ``build`` gets their blocks.
        """
        dims = tuple(int(d) for d in dims)
        full = build(dims, *[a for a, _ in operands], xp=np) if full is None else full
        dimsd = tuple(int(d) for d in np.atleast_1d(getattr(full, "dimsd", full.shape[0])))
        axes = tuple(range(len(dims))) if axes is None else tuple(sorted(axes))
        batch = tuple(a for a in range(len(dims)) if a not in axes)
        if batch and len(dimsd) != len(dims):
            raise ValueError(f"{type(self).__name__}: a PyLops operator with batch axes must keep "
                             f"the number of axes (dims {dims}, dimsd {dimsd})")
        if batch and any(dimsd[a] != dims[a] for a in batch):
            raise ValueError(f"{type(self).__name__}: the batch axes {batch} change length "
                             f"(dims {dims}, dimsd {dimsd})")
        self._along = dict(build=build, axes=axes, batch=batch, operands=tuple(operands),
                           token=new_token())
        super().__init__(dims, dimsd, dtype if dtype is not None else full.dtype, name=name,
                         chunks=chunks, clinear=clinear)
        return full

    @property
    def acting_axes(self):
        """Model axes the operator acts on (read whole by every task)."""
        return self._along["axes"]

    def _whole_inverse(self, x):
        """PyLops' ``inverse`` of an operator without batch axes, on ``x`` (dask, NumPy or
        CuPy, of shape ``dimsd`` or flat): one task on the whole array, a lazy dask array of
        shape ``dims`` out (flat for a flat input)."""
        what = f"{self.label}.inverse"
        x = self._wrap(x, what)
        size = int(np.prod(self.dimsd))
        if x.shape != tuple(self.dimsd) and not (x.ndim == 1 and x.size == size):
            raise ValueError(f"{what}: expected an input of shape {self.dimsd} (or flat "
                             f"({size},)), got shape {x.shape}")
        if self.cpu_only and is_cupy(x):
            raise TypeError(_numpy_only(type(self).__name__))
        flat = x.ndim == 1 and len(self.dimsd) > 1
        dtype = self.chunk_kernel(True).out_dtype(x.dtype)
        a = self._along
        block = x.rechunk(-1).to_delayed(optimize_graph=False).ravel()[0]
        task = dask.delayed(_inverse_block, pure=True)(
            block, build=a["build"], token=a["token"], dims=self.dims, dtype=dtype)
        y = da.from_delayed(task, shape=self.dims, dtype=dtype,
                            meta=meta_like(x, dtype, len(self.dims)))
        return y.reshape(-1) if flat else y

    def _out_dtype(self, adjoint):
        """Input dtype -> output dtype of the kernel (None: the operator's and the input's
        result type)."""
        return None

    def _direct_apply(self, x, adjoint):
        if self.cpu_only and is_cupy(x):  # before any compute (the kernel says it too)
            raise TypeError(_numpy_only(type(self).__name__))
        return None

    def _kernel(self, adjoint):
        a = self._along
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        whole = set(range(len(dims_in))) if not a["batch"] else set(a["axes"])
        follow = tuple(None if (not a["batch"] or k in a["axes"]) else k
                       for k in range(len(dims_out)))
        operands = [aligned(arr, [None if m is None else ("in", m) for m in _operand_axes(arr, ax)])
                    for arr, ax in a["operands"]]
        return ChunkKernel(
            _along_kernel, dims_in, dims_out, dtype=self.dtype, whole=whole, axes=follow,
            out_dtype=self._out_dtype(adjoint),
            name=type(self).__name__.lower() + ("-adjoint" if adjoint else ""),
            token=f"{a['token']}-{int(adjoint)}", operands=operands,
            params=dict(build=a["build"], token=a["token"], adjoint=adjoint, batch=a["batch"],
                        dims=self.dims, dims_out=dims_out, cpu_only=self.cpu_only,
                        opname=type(self).__name__, op_dtype=self.dtype,
                        clinear=self.clinear),
            region=functools.partial(_region, tuple(sorted(whole)), dims_in))


def _operand_axes(array, axes):
    """Per axis of an operand, the model axis it follows (or None)."""
    if isinstance(axes, int):
        return (axes,) + (None,) * (array.ndim - 1)
    return tuple(axes)


def _region(whole, dims, start, stop):
    """Input box of an output box: the ``whole`` axes entire, the batch axes as the output's
    (same positions: operators with batch axes keep the number of axes)."""
    return (tuple(0 if a in whole else start[a] for a in range(len(dims))),
            tuple(n if a in whole else stop[a] for a, n in enumerate(dims)))


def block_operator(build, token, dims, operands, xp):
    """PyLops' operator for a model block of shape ``dims``, cached per process; one built on
    operand blocks (a piece of ``G``) is not cached, so that no worker keeps them alive."""
    if operands:
        return quiet(build, tuple(dims), *operands, xp=xp)
    key = (token, tuple(dims), xp.__name__)
    with _LOCK:
        op = _BUILT.get(key)
        if op is not None:
            _BUILT.move_to_end(key)
            return op
    op = quiet(build, tuple(dims), *operands, xp=xp)
    with _LOCK:
        _BUILT[key] = op
        while len(_BUILT) > _BUILT_MAX:
            _BUILT.popitem(last=False)
    return op


def quiet(build, *args, **kwargs):
    """``build(*args, **kwargs)`` without PyLops' warnings on its arguments: the operator's
    constructor gave them once already, for the whole array (the blocks' would repeat them at
    every apply, in the workers' logs). Serialised, as ``catch_warnings`` is process-wide."""
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build(*args, **kwargs)


def _along_kernel(x, *operands, where, dtype, build, token, adjoint, batch, dims, dims_out,
                  cpu_only, opname, op_dtype, clinear):
    """PyLops' operator (or its adjoint) on one block whose acting axes are whole, cut to
    the output box."""
    xp = get_array_module(x)
    if cpu_only and xp is not np:
        raise TypeError(_numpy_only(opname))
    # PyLops computes in the input's precision: a float32 block for a complex128 output
    # would be transformed in single precision
    x = x.astype(np.result_type(x.dtype, np.empty(0, dtype).real.dtype), copy=False)
    block_dims = tuple(x.shape[a] if a in batch else n for a, n in enumerate(dims))
    Op = block_operator(build, token, block_dims, operands, xp)
    if xp.iscomplexobj(x) and not np.iscomplexobj(np.empty(0, op_dtype)) and clinear:
        # real PyLops operators reject complex input: both parts, as a real-linear map
        y = _apply(Op, x.real, adjoint) + 1j * _apply(Op, x.imag, adjoint)
    else:
        y = _apply(Op, x, adjoint)
    out_block = tuple(x.shape[a] if a in batch else n for a, n in enumerate(dims_out)) \
        if batch else tuple(dims_out)
    y = y.reshape(out_block)
    cut = tuple(slice(None) if a in batch else slice(s, e)
                for a, (s, e) in enumerate(zip(where.start, where.stop)))
    y = y[cut]
    return y.astype(dtype, copy=bool(xp.may_share_memory(y, x)))


def _inverse_block(x, *, build, token, dims, dtype):
    Op = block_operator(build, token, dims, (), get_array_module(x))
    return Op.inverse(x.ravel()).reshape(dims).astype(dtype, copy=False)


def _numpy_only(opname):
    return (f"{opname}: PyLops runs this operator on NumPy arrays only and its input chunks "
            "are CuPy arrays; move them to the host first (e.g. x.map_blocks(cupy.asnumpy))")


def _apply(Op, x, adjoint):
    return (Op.rmatvec if adjoint else Op.matvec)(x.ravel())
