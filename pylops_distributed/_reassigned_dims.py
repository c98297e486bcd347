"""``Op.dims = ...`` after construction, a PyLops idiom: the same operator, its input or output
seen with another shape of the same size.

The operator keeps the shapes it was built with (its kernels and ``_matvec`` are written for
them); :class:`~pylops_distributed.linearoperator.LinearOperator` reshapes around them.
"""

import numpy as np

from pylops_distributed._arrays import as_dims
from pylops_distributed.kernels import NoChunkKernel


class ReassignableDims:
    """``dims`` and ``dimsd`` as settable properties (a mixin of LinearOperator)."""

    @property
    def dims(self):
        """Shape of the model."""
        return self._dims

    @dims.setter
    def dims(self, dims):
        self._reshape("_dims", dims)

    @property
    def dimsd(self):
        """Shape of the data."""
        return self._dimsd

    @dimsd.setter
    def dimsd(self, dimsd):
        self._reshape("_dimsd", dimsd)

    def _reshape(self, attr, new):
        """``Op.dims = ...`` after construction (a PyLops idiom): the same matrix, its input or
        output seen with another shape of the same size."""
        new, old = as_dims(new), getattr(self, attr)
        if int(np.prod(new)) != int(np.prod(old)):
            raise ValueError(f"{self.label}: cannot set {attr[1:]} to {new}: the size must stay "
                             f"{int(np.prod(old))} (was {old})")
        self.__dict__.setdefault("_native_dims", (self._dims, self._dimsd))
        setattr(self, attr, new)

    @property
    def _reshaped(self):
        """``(dims, dimsd)`` the operator was built with, when they were reassigned since."""
        native = self.__dict__.get("_native_dims")
        return native if native is not None and native != (self._dims, self._dimsd) else None

    def _native_kernel(self, adjoint):
        cache = self.__dict__.setdefault("_kernel_cache", {})
        adjoint = bool(adjoint)
        if adjoint not in cache:
            with native_shape(self):
                try:
                    cache[adjoint] = self._kernel(adjoint)
                except NoChunkKernel as err:
                    cache[adjoint] = err
        out = cache[adjoint]
        if isinstance(out, NoChunkKernel):
            raise out
        return out


class native_shape:
    """Within: the operator's ``dims``/``dimsd`` as it was built (its kernels and ``_matvec``
    were written for them), when they have been reassigned."""

    def __init__(self, op):
        self.op, self.saved = op, None

    def __enter__(self):
        native = self.op._reshaped
        if native is not None:
            self.saved = (self.op._dims, self.op._dimsd)
            self.op._dims, self.op._dimsd = native

    def __exit__(self, *exc):
        if self.saved is not None:
            self.op._dims, self.op._dimsd = self.saved
