"""Sliding1D: a transform applied on overlapping windows of a 1-D array (PyLops' ``Sliding1D``)."""

from pylops.signalprocessing import sliding1d_design

from pylops_distributed.signalprocessing._windows import (WindowedOperator, build_layout,
                                                          shape_of, split_model)

__all__ = ["Sliding1D", "sliding1d_design"]


class Sliding1D(WindowedOperator):
    r"""1-D sliding transform: ``Op`` applied on overlapping windows (PyLops' ``Sliding1D``).

    Forward: the model stacks one model of ``Op`` per window; each goes through ``Op`` (to
    ``nwin`` samples), is tapered and added into the data at its window. Adjoint: each
    window is cut from the data, tapered and goes through ``Op^H``. Windows start every
    ``nwin - nover`` samples; samples after the last whole window are not covered (see
    :func:`sliding1d_design`, PyLops' own, re-exported here).

    Parameters
    ----------
    Op : pylops.LinearOperator or pylops_distributed.LinearOperator
        Transform of one window (``nwin`` rows), or of all windows at once (``simOp``:
        ``dim`` columns, ``nwins * nwin`` rows, the windows stacked).
    dim : int or tuple
        Size of the model (``nwins`` times the model of one window).
    dimd : int or tuple
        Size of the data.
    nwin : int
        Samples of a window.
    nover : int
        Samples of overlap between neighbouring windows.
    tapertype : str, optional
        Taper of the windows (``"hanning"``, ``"cosine"``, ``"cosinesquare"``,
        ``"cosinesqrt"``) or None. The overlap of the first window's start and of the
        last window's end is not tapered, as in PyLops.
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
        Model shape ``(nwins, dim // nwins)``, as PyLops 2.x.
    dwin_inends : tuple of numpy.ndarray
        Start and end indices of the data windows.
    simOp : bool
        ``Op`` is applied to all windows at once.

    Raises
    ------
    ValueError
        If ``nwin``/``nover`` do not fit the data, ``dim`` is not a multiple of the number of
        windows, or ``Op``'s shape matches neither one window nor all of them.
    NotImplementedError
        If ``Op`` is one of ours without a chunk kernel (or a stack).

    Notes
    -----
    One task per output chunk. Forward: a data chunk reads the window models whose windows
    touch it, so neighbouring chunks exchange the models of the windows across their border
    (the overlap); the data chunks start where a model chunk's first window starts.
    Adjoint: a chunk of windows reads the data under them, its own data chunk plus the
    ``nover`` samples (or more) of overlap from the next one. Inside a task PyLops operators
    run on all the task's windows at once (``matmat``); one of ours runs its chunk kernel
    window by window. With ``simOp`` the whole model is one task (``Op`` mixes all windows).

    Examples
    --------
    >>> import numpy as np, dask.array as da, pylops
    >>> from pylops_distributed.signalprocessing.sliding1d import Sliding1D, sliding1d_design
    >>> nwins, dim, _, _ = sliding1d_design(100, 20, 5, 32)
    >>> F = pylops.signalprocessing.FFT(20, nfft=32).H
    >>> S = Sliding1D(F, dim, 100, nwin=20, nover=5)
    >>> PS = pylops.signalprocessing.Sliding1D(F, dim, 100, nwin=20, nover=5)
    >>> x = np.random.default_rng(0).standard_normal(S.dims) + 0j
    >>> y = S @ da.from_array(x, chunks=(2, 32))
    >>> np.allclose(y.compute(), PS @ x.ravel())
    True
    """

    def __init__(self, Op, dim, dimd, nwin, nover, tapertype="hanning", savetaper=True,
                 name="S", chunks=None):
        dim = shape_of(dim, 1, "Sliding1D", "dim")
        dimd = shape_of(dimd, 1, "Sliding1D", "dimd")
        layout = build_layout(
            Op, "Sliding1D", "sliding1d_design", dim, dimd, (nwin,), (nover,),
            lambda nws: split_model(dim, nws, "Sliding1D", "sliding1d_design"),
            tapertype, edge="one", rule="low")
        self.nwin, self.nover = nwin, nover
        self.tapertype, self.savetaper = tapertype, savetaper
        self.dwin_inends = (layout.starts[0], layout.starts[0] + nwin)
        self._init_windows(Op, layout, name, chunks, "Sliding1D")
