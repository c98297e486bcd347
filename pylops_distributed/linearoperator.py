"""LinearOperator: the lazy base class every distributed operator derives from.

An operator maps dask arrays of shape ``dims`` to dask arrays of shape ``dimsd``
without computing anything. Subclasses publish their maths once, as a per-chunk kernel
(``_kernel``, see :mod:`pylops_distributed.kernels`), which this class applies (one task per
chunk) and which the solvers fuse into their iterations; an operator that cannot have a
kernel implements ``_matvec``/``_rmatvec`` on N-D dask arrays instead. This class owns input
checks and wrapping, PyLops-style flat inputs, and the operator algebra
(``@ + - * ** .H .T .conj()``), whose results keep their children's kernels.
"""

import numbers

import dask.array as da
import numpy as np

from pylops_distributed import _kernel_algebra, kernels
from pylops_distributed._arrays import as_dask, as_dims, check_numeric, flatten
from pylops_distributed._columns import matmat_kernel
from pylops_distributed._forceflat import combine_forceflat
from pylops_distributed._graph import apply_kernel, apply_terms, rechunk_whole
from pylops_distributed._matrixviews import MatrixViews
from pylops_distributed._reassigned_dims import ReassignableDims, native_shape
from pylops_distributed.kernels import NoChunkKernel, StackKernel
from pylops_distributed.stacked import StackedArray, split_input


class LinearOperator(MatrixViews, ReassignableDims):
    """Lazy linear operator on N-D chunked dask arrays.

    Parameters
    ----------
    dims : int or tuple of int
        Shape of the model (input of ``matvec``).
    dimsd : int or tuple of int
        Shape of the data (output of ``matvec``).
    dtype : str or numpy.dtype
        Operator dtype; outputs have ``result_type(dtype, input dtype)``.
    explicit : bool, optional
        Whether the operator is backed by an explicit matrix.
    forceflat : bool, optional
        ``True``: outputs are always flat; ``None`` (default) or ``False``: flat for flat
        inputs, N-D for N-D inputs, as in PyLops (``False`` differs from ``None`` only when
        operators are combined: ``True`` and ``False`` conflict).
    chunks : int, tuple or dict, optional
        Chunks used to wrap NumPy/CuPy inputs (default ``"auto"``, dask's
        ``array.chunk-size``). Dask inputs keep their own chunks.
    name : str, optional
        Name shown in the repr and in error messages.
    clinear : bool, optional
        Whether the operator is complex-linear (``False`` for operators such as
        ``Real`` that are only linear over the reals; the dot test then compares
        real inner products).

    Notes
    -----
    Every apply is lazy: ``Op @ x`` returns a dask array (or a
    :class:`StackedArray` for stacked operators); call ``.compute()`` or
    ``.persist()`` when you want the numbers.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> import pylops_distributed as pld
    >>> Op = pld.Diagonal(np.arange(1.0, 5.0))
    >>> y = Op @ da.ones(4, chunks=2)
    >>> y.compute()
    array([1., 2., 3., 4.])
    >>> (Op.H @ y).compute()
    array([ 1.,  4.,  9., 16.])
    """

    #: Which applies take a StackedArray as input: (matvec, rmatvec). Stacks set this.
    _stacked_input = (False, False)

    def __init__(self, dims, dimsd, dtype="float64", explicit=False, forceflat=None,
                 chunks=None, name=None, clinear=True):
        self._dims, self._dimsd = as_dims(dims), as_dims(dimsd)
        self.dtype = np.dtype(dtype)
        check_numeric(self.dtype, type(self).__name__)
        self.explicit = explicit
        self.forceflat = forceflat
        self.chunks = chunks
        self.name = name
        self.clinear = clinear
        if min(self._dims + self._dimsd, default=0) < 0:
            raise ValueError(f"{self.label}: dims must be non-negative integers, got "
                             f"dims={self._dims}, dimsd={self._dimsd}")
        self.reset_count()

    # --- shape --------------------------------------------------------------------------------
    @property
    def shape(self):
        return (int(np.prod(self.dimsd)), int(np.prod(self.dims)))

    @property
    def label(self):
        """Class name plus user name, for messages."""
        cls = type(self).__name__.lstrip("_")
        return f"{cls}({self.name!r})" if self.name else cls

    def __repr__(self):
        chunks = "auto" if self.chunks is None else self.chunks
        return (f"<{self.shape[0]}x{self.shape[1]} {self.label} dims={self.dims} "
                f"dimsd={self.dimsd} dtype={self.dtype} chunks={chunks}>")

    @property
    def model_stacked(self):
        """Whether the model is a :class:`StackedArray` (``HStack``, ``Block``...)."""
        return bool(self._stacked_input[0])

    @property
    def data_stacked(self):
        """Whether the data is a :class:`StackedArray` (``VStack``, ``Block``...)."""
        return bool(self._stacked_input[1])

    # --- kernel -------------------------------------------------------------------------------
    def chunk_kernel(self, adjoint=False):
        """The operator's per-chunk kernel (or its adjoint's).

        Returns
        -------
        pylops_distributed.kernels.ChunkKernel or pylops_distributed.kernels.StackKernel
            How the operator acts on one chunk: applying the operator runs it (one task per
            chunk) and the solvers fuse it into their iterations.

        Raises
        ------
        pylops_distributed.kernels.NoChunkKernel
            If the operator (or one of its parts, named in the message) has none; it is then
            applied with dask.array expressions.
        """
        if self._reshaped is not None:
            raise NoChunkKernel(f"{self.label}: dims/dimsd were set after construction (the "
                                "operator is applied with reshapes around its own kernel)")
        return self._native_kernel(adjoint)

    def _kernel(self, adjoint):
        raise NoChunkKernel(f"{self.label} has no chunk kernel")

    def _direct_apply(self, x, adjoint):
        """A graph for applying the operator on its own to the dask array ``x`` better than
        its kernel's (a transform in stages over chunked axes), or None: the kernel's."""
        return None

    # --- apply --------------------------------------------------------------------------------
    def _matvec(self, x):
        raise NotImplementedError(f"{self.label} implements neither _kernel nor _matvec")

    def _rmatvec(self, x):
        raise NotImplementedError(f"{self.label} implements neither _kernel nor _rmatvec")

    def matvec(self, x):
        """Lazy forward ``y = Op x`` for ``x`` of shape ``dims`` (or flat)."""
        self.matvec_count += 1
        return self._apply(x, adjoint=False)

    def rmatvec(self, x):
        """Lazy adjoint ``x = Op^H y`` for ``y`` of shape ``dimsd`` (or flat)."""
        self.rmatvec_count += 1
        return self._apply(x, adjoint=True)

    def reset_count(self):
        """Set the counters of applies (``matvec_count``, ``rmatvec_count``, ``matmat_count``,
        ``rmatmat_count``, as in PyLops) back to 0. They count the lazy applies asked for
        (graphs built), not computes."""
        self.matvec_count = self.rmatvec_count = 0
        self.matmat_count = self.rmatmat_count = 0

    def _apply(self, x, adjoint):
        dims_in, dims_out = (self.dimsd, self.dims) if adjoint else (self.dims, self.dimsd)
        what = f"{self.label}.{'rmatvec' if adjoint else 'matvec'}"
        size_in = int(np.prod(dims_in))
        takes_stacked = self._stacked_input[adjoint]
        if isinstance(x, StackedArray):
            if x.size != size_in:
                raise ValueError(f"{what}: expected an input of size {size_in}, "
                                 f"got a StackedArray of size {x.size} (blocks {x.sizes})")
            flat = False
            if not takes_stacked:
                x = _fit(x.ravel(), dims_in)
        else:
            flat = False
            if (getattr(x, "ndim", None) == 1 and not isinstance(x, da.Array) and len(dims_in) > 1
                    and x.size == size_in and not takes_stacked):
                x, flat = x.reshape(dims_in), True  # a free view of an in-memory flat vector
            x = self._wrap(x, what)
            if x.shape == dims_in:
                pass
            elif x.ndim == 1 and x.size == size_in:
                flat = len(dims_in) > 1
                if flat and not takes_stacked:
                    x = x.reshape(dims_in)
            else:
                raise ValueError(f"{what}: expected an input of shape {dims_in} "
                                 f"(or flat ({size_in},)), got shape {x.shape}")
        native = self._reshaped
        if native is not None and not isinstance(x, StackedArray):
            x = _fit(flatten(x), native[1] if adjoint else native[0])
        try:
            kernel = self._native_kernel(adjoint)
        except NoChunkKernel:
            with native_shape(self):
                y = (self._rmatvec if adjoint else self._matvec)(x)
        else:
            direct = None if isinstance(x, StackedArray) else self._direct_apply(x, adjoint)
            if direct is not None:
                y = direct
            elif isinstance(kernel, StackKernel):
                y = self._apply_stack(kernel, x, adjoint)
            else:
                y = apply_kernel(kernel, x)
        if native is not None and not isinstance(y, StackedArray):
            y = flatten(y)
        if self.forceflat or flat:  # a flat input gives a flat output, as in PyLops
            return _flat(y)
        return _fit(y, dims_out)

    def _apply_stack(self, kernel, x, adjoint):
        """A :class:`~pylops_distributed.kernels.StackKernel` on a StackedArray (or a single
        array for one input): one task per chunk of every output block."""
        shapes = [None] * kernel.n_in
        for row in kernel.terms:
            for j, k in row:
                shapes[j] = k.dims_in
        if kernel.n_in == 1 and not isinstance(x, StackedArray):
            blocks = [_fit(x, shapes[0])]
        else:
            blocks = split_input(x, shapes)
        outs = []
        for row in kernel.terms:
            terms = [(k, rechunk_whole(k, blocks[j])) for j, k in row]
            k0, x0 = terms[0]
            dtype = np.result_type(*[k.out_dtype(xj.dtype) for k, xj in terms])
            outs.append(apply_terms(terms, k0.chunks(x0.chunks), dtype))
        if self._stacked_input[not adjoint] or len(outs) > 1:
            return StackedArray(outs)
        return outs[0]

    def _wrap(self, x, what):
        """Dask arrays pass; NumPy/CuPy arrays are wrapped with ``self.chunks`` where they fit."""
        chunks = self.chunks
        if isinstance(chunks, (tuple, list)) and len(chunks) != getattr(x, "ndim", -1):
            chunks = None  # chunks given for the other side of the operator
        return as_dask(x, None if isinstance(x, da.Array) else chunks, what)

    def matmat(self, X):
        """Lazy ``Op X`` for a 2-D ``X`` of shape ``(shape[1], k)``: one task per chunk of columns
        for an operator with a chunk kernel, else column by column."""
        self.matmat_count += 1
        X = as_dask(X, None, f"{self.label}.matmat")
        if X.ndim != 2 or X.shape[0] != self.shape[1]:
            raise ValueError(f"{self.label}.matmat: expected shape ({self.shape[1]}, k), got {X.shape}")
        try:
            kernel = self._native_kernel(False)
        except NoChunkKernel:
            kernel = None
        if isinstance(kernel, kernels.ChunkKernel):  # one task per chunk of columns
            return matmat_kernel(kernel, X)
        return da.stack([_flat(self.matvec(X[:, j])) for j in range(X.shape[1])], axis=1)

    def rmatmat(self, X):
        """Lazy ``Op^H X`` for a 2-D ``X`` of shape ``(shape[0], k)``, column by column."""
        self.rmatmat_count += 1
        return self.H.matmat(X)

    def dot(self, x):
        """``Op @ x``: product with an operator, a scalar, a vector or a block of vectors
        (2-D ``(shape[1], k)``, or ``(*dims, k)`` giving ``(*dimsd, k)`` as in PyLops)."""
        if isinstance(x, LinearOperator) or _is_pylops(x) or _is_scipy(x):
            return _ProductLinearOperator(self, aslinearoperator(x))
        if isinstance(x, numbers.Number):
            return _ScaledLinearOperator(self, x)
        if isinstance(x, StackedArray):
            return self.matvec(x)
        if getattr(x, "ndim", None) == 2 and x.shape[0] == self.shape[1] and tuple(x.shape) != self.dims:
            return self.matmat(x)
        shape = tuple(getattr(x, "shape", ()))
        if len(shape) == len(self.dims) + 1 and shape[:-1] == self.dims and not self.forceflat:
            x = self._wrap(x, f"{self.label}.dot")
            if not self._stacked_input[1]:
                return self.matmat(x.reshape(-1, shape[-1])).reshape(self.dimsd + shape[-1:])
            return da.stack([self.matvec(x[..., j]) for j in range(shape[-1])], axis=-1)
        return self.matvec(x)

    __matmul__ = dot

    def __mul__(self, x):
        return self.dot(x)

    def __rmul__(self, x):
        if isinstance(x, numbers.Number):
            return _ScaledLinearOperator(self, x)
        return NotImplemented

    __array_ufunc__ = None  # numpy scalars/arrays defer to our __rmul__

    def __neg__(self):
        return _ScaledLinearOperator(self, -1)

    def __add__(self, other):
        return _SumLinearOperator(self, aslinearoperator(other))

    def __sub__(self, other):
        return _SumLinearOperator(self, -aslinearoperator(other))

    def __pow__(self, p):
        if not isinstance(p, numbers.Integral) or p < 1:
            raise ValueError(f"{self.label} ** {p!r}: the power must be an integer >= 1")
        if self.shape[0] != self.shape[1]:
            raise ValueError(f"{self.label} ** {p}: operator must be square, got shape {self.shape}")
        out = self
        for _ in range(p - 1):
            out = _ProductLinearOperator(out, self)
        return out

    def __truediv__(self, other):
        if isinstance(other, numbers.Number):
            return _ScaledLinearOperator(self, 1.0 / other)
        return self.div(other)

    def div(self, y, niter=100, **kwargs):
        """Solve ``Op x = y`` in the least-squares sense with :func:`~pylops_distributed.optimization.cgls`."""
        from pylops_distributed.optimization import cgls

        return cgls(self, y, niter=niter, **kwargs)[0]

    # --- adjoint, transpose, conjugate --------------------------------------------------------
    def adjoint(self):
        return _AdjointLinearOperator(self)

    H = property(adjoint)

    def transpose(self):
        return _TransposedLinearOperator(self)

    T = property(transpose)

    def conj(self):
        return _ConjLinearOperator(self)

    def toreal(self, forw=True, adj=True):
        """The operator whose forward (``forw``) and adjoint (``adj``) outputs are the real
        parts of this one's, as :meth:`pylops.LinearOperator.toreal`."""
        from pylops_distributed._realimag import RealImagPart

        return RealImagPart(self, forw, adj, True)

    def toimag(self, forw=True, adj=True):
        """As :meth:`toreal` with imaginary parts (the adjoint's negated, as in PyLops)."""
        from pylops_distributed._realimag import RealImagPart

        return RealImagPart(self, forw, adj, False)

    def apply_columns(self, cols):
        """The operator restricted to the columns ``cols`` of its (flat) model, as
        :meth:`pylops.LinearOperator.apply_columns`: ``Op @ Restriction(n, cols).H``."""
        from pylops_distributed.basicoperators.restriction import Restriction

        cols = np.asarray(cols, dtype=int).ravel()
        op = self @ Restriction(self.shape[1], cols, dtype=self.dtype).H
        op.forceflat = True  # flat outputs, as PyLops' column operator gives
        return op


def _flat(y):
    return y.ravel() if isinstance(y, StackedArray) else flatten(y)


def _fit(y, dims):
    """Reshape a dask output to ``dims`` when its shape differs (same size)."""
    if isinstance(y, da.Array) and y.shape != dims:
        try:
            return y.reshape(dims)
        except NotImplementedError:  # neither merging nor splitting axes: through flat
            return flatten(y).reshape(dims)
    return y


def _is_pylops(op):
    try:
        import pylops
    except ImportError:  # pragma: no cover - pylops is a dependency
        return False
    return isinstance(op, pylops.LinearOperator)


def _is_scipy(op):
    from scipy.sparse.linalg import LinearOperator as ScipyLinearOperator

    return isinstance(op, ScipyLinearOperator)


def _is_matrix(op):
    """A 2-D NumPy/CuPy/dask array or a SciPy/CuPy sparse matrix (a block PyLops accepts)."""
    mod = type(op).__module__.split(".")[0]
    if mod in ("scipy", "cupyx") and hasattr(op, "tocsr"):
        return True
    return getattr(op, "ndim", None) == 2 and mod in ("numpy", "cupy", "dask")


def aslinearoperator(op):
    """Return ``op`` as a distributed operator, as :func:`pylops.aslinearoperator` does:
    PyLops and SciPy operators go through :class:`FromPyLops`, matrices (NumPy, dask,
    SciPy sparse) become :class:`MatrixMult`."""
    if isinstance(op, LinearOperator):
        return op
    if _is_pylops(op) or _is_scipy(op):
        import pylops

        from pylops_distributed.frompylops import FromPyLops

        return FromPyLops(op if _is_pylops(op) else pylops.aslinearoperator(op))
    if _is_matrix(op):
        from pylops_distributed.basicoperators.matrixmult import MatrixMult

        return MatrixMult(op)
    raise TypeError("expected a pylops_distributed, PyLops or SciPy LinearOperator or a 2-D "
                    f"matrix, got {type(op).__name__}")


class _ProductLinearOperator(LinearOperator):
    def __init__(self, A, B):
        if A.shape[1] != B.shape[0]:
            raise ValueError(f"{A.label} @ {B.label}: shapes {A.shape} and {B.shape} do not compose")
        self.A, self.B = A, B
        super().__init__(B.dims, A.dimsd, np.result_type(A.dtype, B.dtype), chunks=B.chunks,
                         forceflat=combine_forceflat(A, B, "@"), clinear=A.clinear and B.clinear)
        self._stacked_input = (B._stacked_input[0], A._stacked_input[1])

    label = property(lambda self: f"({self.A.label} @ {self.B.label})")

    def _matvec(self, x):
        return self.A.matvec(_fit(self.B.matvec(x), self.A.dims))

    def _rmatvec(self, x):
        return self.B.rmatvec(_fit(self.A.rmatvec(x), self.B.dimsd))

    def _kernel(self, adjoint):
        if adjoint:  # B^H A^H: A^H first
            return _kernel_algebra.chain(self.B.chunk_kernel(True), self.A.chunk_kernel(True))
        return _kernel_algebra.chain(self.A.chunk_kernel(False), self.B.chunk_kernel(False))


class _SumLinearOperator(LinearOperator):
    def __init__(self, A, B):
        if A.shape != B.shape:
            raise ValueError(f"{A.label} + {B.label}: shapes {A.shape} and {B.shape} differ")
        self.A, self.B = A, B
        # PyLops takes the shapes of B where A's are flat
        dims = B.dims if len(A.dims) == 1 and len(B.dims) > 1 else A.dims
        dimsd = B.dimsd if len(A.dimsd) == 1 and len(B.dimsd) > 1 else A.dimsd
        super().__init__(dims, dimsd, np.result_type(A.dtype, B.dtype), chunks=A.chunks,
                         forceflat=combine_forceflat(A, B, "+"), clinear=A.clinear and B.clinear)
        self._stacked_input = A._stacked_input

    label = property(lambda self: f"({self.A.label} + {self.B.label})")

    def _matvec(self, x):
        return (_fit(self.A.matvec(_fit(x, self.A.dims)), self.dimsd)
                + _fit(self.B.matvec(_fit(x, self.B.dims)), self.dimsd))

    def _rmatvec(self, x):
        return (_fit(self.A.rmatvec(_fit(x, self.A.dimsd)), self.dims)
                + _fit(self.B.rmatvec(_fit(x, self.B.dimsd)), self.dims))

    def _kernel(self, adjoint):
        a, b = self.A.chunk_kernel(adjoint), self.B.chunk_kernel(adjoint)
        if isinstance(a, StackKernel) or isinstance(b, StackKernel):
            return _kernel_algebra.add(a, b)
        if (a.dims_in, a.dims_out) != (b.dims_in, b.dims_out):
            raise NoChunkKernel(f"{self.label}: the terms' shapes differ ({a.dims_in} -> "
                                f"{a.dims_out} and {b.dims_in} -> {b.dims_out})")
        return _kernel_algebra.add(a, b)


class _ScaledLinearOperator(LinearOperator):
    def __init__(self, A, alpha):
        self.A, self.alpha = A, alpha
        super().__init__(A.dims, A.dimsd, np.result_type(A.dtype, alpha), chunks=A.chunks,
                         forceflat=A.forceflat, clinear=A.clinear)
        self._stacked_input = A._stacked_input

    label = property(lambda self: f"({self.alpha!r} * {self.A.label})")

    def _matvec(self, x):
        return self.alpha * self.A.matvec(x)

    def _rmatvec(self, x):
        return _conj_number(self.alpha) * self.A.rmatvec(x)

    def _kernel(self, adjoint):
        return _kernel_algebra.scale(self.A.chunk_kernel(adjoint),
                             _conj_number(self.alpha) if adjoint else self.alpha)


def _conj_number(alpha):
    """``conj(alpha)`` of the same type: a Python float stays one (np.conj would make it a
    float64 scalar, which promotes float32 vectors)."""
    return alpha.conjugate() if isinstance(alpha, numbers.Number) else np.conj(alpha)


class _AdjointLinearOperator(LinearOperator):
    def __init__(self, A):
        self.A = A
        super().__init__(A.dimsd, A.dims, A.dtype, chunks=A.chunks, forceflat=A.forceflat,
                         clinear=A.clinear)
        self._stacked_input = A._stacked_input[::-1]

    label = property(lambda self: f"{self.A.label}.H")

    def _matvec(self, x):
        return self.A.rmatvec(x)

    def _rmatvec(self, x):
        return self.A.matvec(x)

    def _kernel(self, adjoint):
        return self.A.chunk_kernel(not adjoint)

    def _direct_apply(self, x, adjoint):
        return self.A._direct_apply(x, not adjoint)

    def adjoint(self):
        return self.A

    H = property(adjoint)


class _TransposedLinearOperator(_AdjointLinearOperator):
    """``A^T x = conj(A^H conj(x))``; the conjugations vanish for real operators."""

    label = property(lambda self: f"{self.A.label}.T")

    def _matvec(self, x):
        if np.iscomplexobj(np.empty(0, self.A.dtype)):
            return self.A.rmatvec(x.conj()).conj()
        return self.A.rmatvec(x)

    def _rmatvec(self, x):
        if np.iscomplexobj(np.empty(0, self.A.dtype)):
            return self.A.matvec(x.conj()).conj()
        return self.A.matvec(x)

    def _kernel(self, adjoint):
        k = self.A.chunk_kernel(not adjoint)
        return _kernel_algebra.conj(k) if np.iscomplexobj(np.empty(0, self.A.dtype)) else k

    def _direct_apply(self, x, adjoint):
        return None

    def adjoint(self):
        return _ConjLinearOperator(self.A)

    H = property(adjoint)

    def transpose(self):
        return self.A

    T = property(transpose)


class _ConjLinearOperator(LinearOperator):
    """``conj(A) x = conj(A conj(x))``; identity on real operators."""

    def __init__(self, A):
        self.A = A
        super().__init__(A.dims, A.dimsd, A.dtype, chunks=A.chunks, forceflat=A.forceflat,
                         clinear=A.clinear)
        self._stacked_input = A._stacked_input
        self._complex = np.iscomplexobj(np.empty(0, A.dtype))

    label = property(lambda self: f"{self.A.label}.conj()")

    def _matvec(self, x):
        return self.A.matvec(x.conj()).conj() if self._complex else self.A.matvec(x)

    def _rmatvec(self, x):
        return self.A.rmatvec(x.conj()).conj() if self._complex else self.A.rmatvec(x)

    def _kernel(self, adjoint):
        k = self.A.chunk_kernel(adjoint)
        return _kernel_algebra.conj(k) if self._complex else k

    def conj(self):
        return self.A

