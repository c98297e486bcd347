"""Sliding2D: a 2-D transform applied on overlapping windows along the first axis of a 2-D
array (PyLops' ``Sliding2D``)."""

from pylops.signalprocessing import sliding2d_design

from pylops_distributed.signalprocessing._windows import (WindowedOperator, build_layout,
                                                          shape_of, split_model)

__all__ = ["Sliding2D", "sliding2d_design"]


class Sliding2D(WindowedOperator):
    r"""2-D sliding transform: ``Op`` applied on windows overlapping along the first axis
    (PyLops' ``Sliding2D``).

    Each window holds ``nwin`` rows of the data and all of its second axis. Forward: the
    model stacks one model of ``Op`` per window; each goes through ``Op`` (to
    ``(nwin, dimsd[1])``), is tapered along the first axis and added into the data at its
    window. Adjoint: each window is cut from the data, tapered and goes through ``Op^H``.
    Windows start every ``nwin - nover`` rows; rows after the last whole window are not
    covered (see :func:`sliding2d_design`, PyLops' own, re-exported here).

    Parameters
    ----------
    Op : pylops.LinearOperator or pylops_distributed.LinearOperator
        Transform of one window (``nwin * dimsd[1]`` rows), or of all windows at once
        (``simOp``: ``prod(dims)`` columns, the windows stacked in its rows).
    dims : tuple
        Shape of the 2-D model; ``dims[0]`` is ``nwins`` times the first axis of one
        window's model.
    dimsd : tuple
        Shape of the 2-D data.
    nwin : int
        Rows of a window.
    nover : int
        Rows of overlap between neighbouring windows.
    tapertype : str, optional
        Taper along the first axis (``"hanning"``, ``"cosine"``, ``"cosinesquare"``,
        ``"cosinesqrt"``) or None. The first window's top and the last window's bottom
        overlap are not tapered, as in PyLops.
    savetaper : bool, optional
        Accepted for PyLops compatibility (PyLops trades memory for speed with it); the
        results are the same either way.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Attributes
    ----------
    dims : tuple
        Model shape ``(nwins, dims[0] // nwins, dims[1])``, as PyLops 2.x.
    dwin_inends : tuple of numpy.ndarray
        Start and end rows of the data windows.
    simOp : bool
        ``Op`` is applied to all windows at once.

    Raises
    ------
    ValueError
        If ``nwin``/``nover`` do not fit the data, ``dims[0]`` is not a multiple of the number
        of windows, or ``Op``'s shape matches neither one window nor all of them.
    NotImplementedError
        If ``Op`` is one of ours without a chunk kernel (or a stack).

    Notes
    -----
    One task per output chunk; the model may be chunked along any axis (a chunk may cut a
    window's model: tasks read whole window models, so those axes are first merged into one
    chunk) and the data along its first axis (any chunks; the second axis is read whole).
    Forward: a data chunk reads the models of the windows touching its rows, so neighbouring
    chunks exchange the models of the windows across their border (the overlap); data chunks
    start where a model chunk's first window starts. Adjoint: a chunk of windows reads the
    data rows under them, its own data chunk plus the ``nover`` rows (or more) of overlap
    from the next one. Inside a task PyLops operators run on all the task's windows at once
    (``matmat``); one of ours runs its chunk kernel window by window. With ``simOp`` the
    whole model is one task.

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.sliding2d import Sliding2D, sliding2d_design
    >>> nwins, dims, _, _ = sliding2d_design((60, 8), 16, 4, (32, 8))
    >>> F = pylops.signalprocessing.FFT2D((16, 8), nffts=(32, 8)).H
    >>> S = Sliding2D(F, dims, (60, 8), nwin=16, nover=4)
    >>> PS = pylops.signalprocessing.Sliding2D(F, dims, (60, 8), nwin=16, nover=4)
    >>> x = np.random.default_rng(0).standard_normal(S.dims) + 0j
    >>> y = S @ da.from_array(x, chunks=(2, 32, 8))
    >>> y.chunks
    ((24, 36), (8,))
    >>> np.allclose(y.compute().ravel(), PS @ x.ravel())
    True
    """

    def __init__(self, Op, dims, dimsd, nwin, nover, tapertype="hanning", savetaper=True,
                 name="S", chunks=None):
        dims = shape_of(dims, 2, "Sliding2D", "dims")
        dimsd = shape_of(dimsd, 2, "Sliding2D", "dimsd")
        layout = build_layout(
            Op, "Sliding2D", "sliding2d_design", dims, dimsd, (nwin,), (nover,),
            lambda nws: split_model(dims, nws, "Sliding2D", "sliding2d_design"),
            tapertype, edge="one", rule="low")
        self.nwin, self.nover = nwin, nover
        self.tapertype, self.savetaper = tapertype, savetaper
        self.dwin_inends = (layout.starts[0], layout.starts[0] + nwin)
        self._init_windows(Op, layout, name, chunks, "Sliding2D")
