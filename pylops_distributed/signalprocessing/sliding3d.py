"""Sliding3D: a 3-D transform applied on overlapping windows along the first two axes of a
3-D array (PyLops' ``Sliding3D``)."""

from pylops.signalprocessing import sliding3d_design

from pylops_distributed.signalprocessing._windows import (WindowedOperator, as_tuple,
                                                          build_layout, shape_of, split_model,
                                                          window_starts)

__all__ = ["Sliding3D", "sliding3d_design"]


class Sliding3D(WindowedOperator):
    r"""3-D sliding transform: ``Op`` applied on windows overlapping along the first two axes
    (PyLops' ``Sliding3D``).

    Each window holds ``nwin[0] x nwin[1]`` samples of the first two axes and all of the
    third. Forward: the model stacks one model of ``Op`` per window (a grid of
    ``nwins[0] x nwins[1]`` windows); each goes through ``Op`` (to
    ``(nwin[0], nwin[1], dimsd[2])``), is tapered along the first two axes and added into the
    data at its window. Adjoint: each window is cut from the data, tapered and goes through
    ``Op^H``. See :func:`sliding3d_design` (PyLops' own, re-exported here) for the windows.

    Parameters
    ----------
    Op : pylops.LinearOperator or pylops_distributed.LinearOperator
        Transform of one window, or of all windows at once (``simOp``: ``prod(dims)``
        columns, the windows stacked in its rows).
    dims : tuple
        Shape of the 3-D model; ``dims[0]`` and ``dims[1]`` are multiples of the numbers of
        windows along the first two axes.
    dimsd : tuple
        Shape of the 3-D data.
    nwin : tuple of int
        Samples of a window along the first two axes.
    nover : tuple of int
        Samples of overlap between neighbouring windows along the first two axes.
    nop : tuple of int
        Samples of one window's model (``Op``'s model); used, as in PyLops, for
        ``mwins_inends`` only.
    tapertype : str, optional
        Taper (``"hanning"``, ``"cosine"``, ``"cosinesquare"``, ``"cosinesqrt"``) or None;
        the overlap at the edges of the data is not tapered (set to the taper's middle
        value), as in PyLops.
    savetaper : bool, optional
        As in PyLops, which picks a different edge taper for an axis holding a single window
        with ``savetaper=False``; otherwise the results are the same.
    nproc : int, optional
        Deprecated in PyLops, accepted and ignored.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    dims : tuple
        Model shape ``(nwins0, nwins1, dims[0] // nwins0, dims[1] // nwins1, dims[2])``.
    dwins_inends, mwins_inends : tuple
        Start and end indices of the data and model windows, per axis.
    simOp : bool
        ``Op`` is applied to all windows at once.

    Raises
    ------
    ValueError
        If ``nwin``/``nover`` do not fit the data, the model does not hold the windows, or
        ``Op``'s shape matches neither one window nor all of them.
    NotImplementedError
        If ``Op`` is one of ours without a chunk kernel (or a stack).

    Notes
    -----
    One task per output chunk; the model may be chunked along any axis (tasks read whole
    window models), the data along its first two axes (the third is read whole). Forward: a
    data chunk reads the models of the windows touching it, so neighbouring chunks exchange
    the models of the windows across their borders (the overlap); data chunks start where a
    model chunk's first window starts. Adjoint: a block of windows reads the data under
    them, its own data chunk plus the overlap (``nover``, or more) from the next ones. PyLops
    operators run on all the task's windows at once (``matmat``); one of ours runs its chunk
    kernel window by window. With ``simOp`` the whole model is one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.sliding3d import Sliding3D, sliding3d_design
    >>> nwins, dims, _, _ = sliding3d_design((20, 20, 6), (8, 8), (2, 2), (8, 8, 6))
    >>> Op = pylops.Identity(8 * 8 * 6)
    >>> S = Sliding3D(Op, dims, (20, 20, 6), (8, 8), (2, 2), (8, 8, 6))
    >>> PS = pylops.signalprocessing.Sliding3D(Op, dims, (20, 20, 6), (8, 8), (2, 2), (8, 8, 6))
    >>> x = np.random.default_rng(0).standard_normal(S.dims)
    >>> y = S @ da.from_array(x, chunks=(2, 1, 8, 8, 6))
    >>> np.allclose(y.compute().ravel(), PS @ x.ravel())
    True
    """

    def __init__(self, Op, dims, dimsd, nwin, nover, nop, tapertype="hanning", savetaper=True,
                 nproc=1, name="P", chunks=None):
        opname = "Sliding3D"
        dims = shape_of(dims, 3, opname, "dims")
        dimsd = shape_of(dimsd, 3, opname, "dimsd")
        nwin, nover = as_tuple(nwin, 2, opname, "nwin"), as_tuple(nover, 2, opname, "nover")
        nop = as_tuple(nop, 3, opname, "nop")
        layout = build_layout(
            Op, opname, "sliding3d_design", dims, dimsd, nwin, nover,
            lambda nws: split_model(dims, nws, opname, "sliding3d_design"),
            tapertype, edge="middle", rule="high" if savetaper else "low")
        mstarts = [window_starts(dims[a], nop[a], 0, opname, "model") for a in range(2)]
        self.nwin, self.nover, self.nop = nwin, nover, nop
        self.tapertype, self.savetaper = tapertype, savetaper
        self.dwins_inends = tuple((s, s + w) for s, w in zip(layout.starts, nwin))
        self.mwins_inends = tuple((s, s + n) for s, n in zip(mstarts, nop))
        self._init_windows(Op, layout, name, chunks, opname)
