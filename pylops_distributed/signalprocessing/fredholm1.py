"""Fredholm1: multi-dimensional Fredholm integral of the first kind (PyLops' ``Fredholm1``)."""

import functools

from pylops_distributed._alongaxes import AlongAxes
from pylops_distributed._arrays import get_array_module
from pylops_distributed.signalprocessing._pylops_build import on_module


def build_fredholm1(dims, G, *, xp, usematmul, dtype):
    """PyLops' ``Fredholm1`` for a model block of shape ``dims = (slices, ny, nz)`` and the
    slices ``G`` of the kernel, on blocks of module ``xp``. It serves one apply of one task, so
    ``G^H`` is never kept (PyLops' ``saveGt`` would conjugate the whole block when building
    it, for a forward that does not read it); the adjoint is PyLops' ``(x^H G)^H``, which
    copies no conjugate of ``G``."""
    import pylops

    G = on_module(G, xp)
    kwargs = dict(nz=int(dims[2]), saveGt=False, usematmul=usematmul, dtype=dtype)
    if G.shape[0] == 1:
        return _OneSlice(G, **kwargs)
    return pylops.signalprocessing.Fredholm1(G, **kwargs)


class _OneSlice:
    """PyLops' ``Fredholm1`` on a block of one slice. PyLops squeezes its input, which drops
    the slice axis of such a block (and fails with ``usematmul=False`` or ``saveGt=False``):
    the slice is given twice and the first half of the result kept."""

    def __init__(self, G, **kwargs):
        import pylops

        self._xp = get_array_module(G)
        self._op = pylops.signalprocessing.Fredholm1(self._xp.concatenate([G, G]), **kwargs)

    def _twice(self, apply, x):
        y = apply(self._xp.concatenate([x, x]))
        return y[: y.size // 2]

    def matvec(self, x):
        return self._twice(self._op.matvec, x)

    def rmatvec(self, x):
        return self._twice(self._op.rmatvec, x)


class Fredholm1(AlongAxes):
    r"""Multi-dimensional Fredholm integral of the first kind (PyLops' ``Fredholm1``):
    a batch of matrix products, slice by slice.

    .. math::
        d(s, x, z) = \sum_y G(s, x, y)\, m(s, y, z)

    Model of shape :math:`[n_{slice} \times n_y \times n_z]`, data of shape
    :math:`[n_{slice} \times n_x \times n_z]`.

    Parameters
    ----------
    G : numpy.ndarray, cupy.ndarray or dask.array.Array
        Kernel of shape :math:`[n_{slice} \times n_x \times n_y]`.
    nz : int, optional
        Length of the last axis of the model and data.
    saveGt : bool, optional
        Accepted as PyLops does; no effect: each task applies its slices once, and the adjoint
        is :math:`(\mathbf{x}^H \mathbf{G})^H`, with no conjugated copy of ``G``.
    usematmul : bool, optional
        ``numpy.matmul`` over the slices (``True``) or a loop of ``numpy.dot`` (``False``).
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The slices and the :math:`z` axis are batch axes: one task per chunk, keeping the input's
    chunks along them, and each task reads only its slices of ``G`` (cut with the chunk: a
    task never carries the whole kernel; a dask ``G`` is read piece by piece). The
    :math:`y` axis of the model (:math:`x` of the data), the one summed over, is whole in every
    task: an input chunked there is rechunked first (one visible step). Each task applies
    PyLops' own operator built on its slices. CuPy chunks are supported (``G``'s slices are
    moved to the GPU for them).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.fredholm1 import Fredholm1
    >>> rng = np.random.default_rng(0)
    >>> G = rng.standard_normal((6, 10, 8))
    >>> Op = Fredholm1(G, nz=4)
    >>> x = rng.standard_normal(Op.dims)
    >>> y = Op @ da.from_array(x, chunks=(2, 8, 4))  # 3 tasks, 2 slices of G each
    >>> y.numblocks
    (3, 1, 1)
    >>> POp = pylops.signalprocessing.Fredholm1(G, nz=4)
    >>> np.allclose(y.compute().ravel(), POp @ x.ravel())
    True
    """

    def __init__(self, G, nz=1, saveGt=True, usematmul=True, dtype="float64", name="F",
                 chunks=None):
        import pylops

        # PyLops validates the arguments and gives the shapes (G^H not kept here)
        full = pylops.signalprocessing.Fredholm1(G, nz=nz, saveGt=False, usematmul=usematmul,
                                                 dtype=dtype)
        self.nz, self.nsl, self.nx, self.ny = full.nz, full.nsl, full.nx, full.ny
        self.G, self.saveGt, self.usematmul = G, saveGt, usematmul
        build = functools.partial(build_fredholm1, usematmul=usematmul, dtype=dtype)
        self._setup(full.dims, build, (1,), dtype=full.dtype, name=name, chunks=chunks,
                    operands=((G, 0),), full=full)
