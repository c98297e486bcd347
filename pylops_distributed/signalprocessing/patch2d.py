"""Patch2D: a 2-D transform applied on overlapping patches of a 2-D array (PyLops'
``Patch2D``)."""

from pylops.signalprocessing import patch2d_design

from pylops_distributed.signalprocessing._windows import (WindowedOperator, as_tuple,
                                                          build_layout, patch_model, shape_of)

__all__ = ["Patch2D", "patch2d_design"]


class Patch2D(WindowedOperator):
    r"""2-D patching transform: ``Op`` applied on patches overlapping along both axes
    (PyLops' ``Patch2D``).

    Forward: the model stacks one model of ``Op`` (shape ``nop``) per patch, on a grid of
    ``nwins[0] x nwins[1]`` patches; each goes through ``Op`` (to ``nwin``), is tapered and
    added into the data at its patch. Adjoint: each patch is cut from the data, tapered and
    goes through ``Op^H``. See :func:`patch2d_design` (PyLops' own, re-exported here).

    Parameters
    ----------
    Op : pylops.LinearOperator or pylops_distributed.LinearOperator
        Transform of one patch (``prod(nop)`` columns, ``prod(nwin)`` rows), or of all
        patches at once (``simOp``: ``prod(dims)`` columns, the patches stacked in its rows).
    dims : tuple
        Shape of the 2-D model: ``nwins[i] * nop[i]`` along axis ``i``.
    dimsd : tuple
        Shape of the 2-D data.
    nwin : tuple of int
        Samples of a patch per axis.
    nover : tuple of int
        Samples of overlap between neighbouring patches per axis.
    nop : tuple of int
        Shape of one patch's model.
    tapertype : str, optional
        Taper (``"hanning"``, ``"cosine"``, ``"cosinesquare"``, ``"cosinesqrt"``) or None;
        the overlap at the edges of the data is not tapered (set to the taper's middle
        value), as in PyLops.
    savetaper : bool, optional
        As in PyLops, which picks a different edge taper for an axis holding a single patch
        with ``savetaper=False``; otherwise the results are the same.
    scalings : sequence of float, optional
        Kept as ``self.scalings`` (ones by default); PyLops 2.8 does not apply them, nor does
        this operator, so that the results match.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    dims : tuple
        Model shape ``(nwins0, nwins1, nop0, nop1)``, as PyLops 2.x.
    dwins_inends : tuple
        Start and end indices of the data patches, per axis.
    simOp : bool
        ``Op`` is applied to all patches at once.

    Raises
    ------
    ValueError
        If ``nwin``/``nover`` do not fit the data, ``dims`` is not ``nwins * nop``, or
        ``Op``'s shape matches neither one patch nor all of them.
    NotImplementedError
        If ``Op`` is one of ours without a chunk kernel (or a stack).

    Notes
    -----
    One task per output chunk; the model may be chunked along any axis (tasks read whole
    patch models), the data along both axes. Forward: a data chunk reads the models of the
    patches touching it, so neighbouring chunks exchange the models of the patches across
    their borders (the overlap); data chunks start where a model chunk's first patch
    starts. Adjoint: a block of patches reads the data under them, its own data chunk plus
    the overlap (``nover``, or more) from the next ones. PyLops operators run on all the
    task's patches at once (``matmat``); one of ours runs its chunk kernel patch by patch.
    With ``simOp`` the whole model is one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.patch2d import Patch2D, patch2d_design
    >>> nwins, dims, _, _ = patch2d_design((30, 40), (10, 10), (4, 4), (16, 16))
    >>> F = pylops.signalprocessing.FFT2D((10, 10), nffts=(16, 16)).H
    >>> P = Patch2D(F, dims, (30, 40), (10, 10), (4, 4), (16, 16))
    >>> PP = pylops.signalprocessing.Patch2D(F, dims, (30, 40), (10, 10), (4, 4), (16, 16))
    >>> x = np.random.default_rng(0).standard_normal(P.dims) + 0j
    >>> y = P @ da.from_array(x, chunks=(2, 3, 16, 16))
    >>> np.allclose(y.compute().ravel(), PP @ x.ravel())
    True
    """

    def __init__(self, Op, dims, dimsd, nwin, nover, nop, tapertype="hanning", savetaper=True,
                 scalings=None, name="P", chunks=None):
        opname = "Patch2D"
        dims = shape_of(dims, 2, opname, "dims")
        dimsd = shape_of(dimsd, 2, opname, "dimsd")
        nwin, nover = as_tuple(nwin, 2, opname, "nwin"), as_tuple(nover, 2, opname, "nover")
        nop = as_tuple(nop, 2, opname, "nop")
        layout = build_layout(
            Op, opname, "patch2d_design", dims, dimsd, nwin, nover,
            lambda nws: patch_model(dims, nws, nop, opname, "patch2d_design"),
            tapertype, edge="middle", rule="high" if savetaper else "low")
        self.nwin, self.nover, self.nop = nwin, nover, nop
        self.tapertype, self.savetaper = tapertype, savetaper
        self.scalings = [1.0] * int(layout.nws[0] * layout.nws[1]) if scalings is None else scalings
        self.dwins_inends = tuple((s, s + w) for s, w in zip(layout.starts, nwin))
        self._init_windows(Op, layout, name, chunks, opname)
