"""Smoothing2D: moving average over two axes, exact across chunk boundaries."""

from pylops_distributed._arrays import as_dims, normalize_axis
from pylops_distributed._stencils import StencilOperator, box_stencil, chain_kernel, chain_reach


class Smoothing2D(StencilOperator):
    r"""Moving average over a window of ``nsmooth[0] x nsmooth[1]`` samples along ``axes``
    (PyLops' ``Smoothing2D``).

    Parameters
    ----------
    nsmooth : tuple of int
        Window lengths; even lengths are made odd (``+1``, so 0 gives 1), as in PyLops. On
        2-D ``dims`` the first length runs along axis 0 whatever the order of ``axes``, as
        in PyLops.
    dims : tuple of int
        Model (and data) shape, at least 2 axes.
    axes : tuple of int, optional
        The two axes to smooth along.
    dtype : str, optional
        Operator dtype.
    name : str, optional
        Operator name.
    chunks : optional
        Chunks used to wrap NumPy/CuPy inputs.

    Notes
    -----
    The 2-D box filter is separable: one task per chunk applies the moving average along
    ``axes[1]`` (on the chunk and its halo along ``axes[0]``), then along ``axes[0]``. Zero
    outside the array; symmetric, its own adjoint.

    See Also
    --------
    Smoothing1D
    """

    _promote_input = True  # as PyLops' convolutions

    def __init__(self, nsmooth, dims, axes=(-2, -1), dtype="float64", name="S", chunks=None):
        dims = as_dims(dims)
        nsmooth = [int(n) for n in nsmooth]
        if len(nsmooth) != 2 or min(nsmooth) < 0 or len(axes) != 2:
            raise ValueError(f"Smoothing2D: nsmooth={nsmooth} and axes={tuple(axes)} must be two "
                             "lengths >= 0 and two axes, e.g. Smoothing2D((5, 3), dims)")
        nsmooth = [n + 1 if n % 2 == 0 else n for n in nsmooth]
        self.nsmooth = tuple(nsmooth)
        self.axes = tuple(normalize_axis(ax, len(dims), "Smoothing2D") for ax in axes)
        # as PyLops: on 2-D dims the window's first length always runs along axis 0, whatever
        # the order of ``axes`` (Convolve2D then applies its 2-D filter as is)
        window_axes = (0, 1) if len(dims) == 2 else self.axes
        stages = tuple((((ax, box_stencil(n, dims[ax], "Smoothing2D"), 1.0),), None)
                       for ax, n in reversed(list(zip(window_axes, nsmooth))))
        super().__init__(dims, dims, dtype, name=name, chunks=chunks)
        plan = dict(kernel=chain_kernel, corners=True, depth=chain_reach(stages, len(dims)),
                    kwargs=dict(stages=stages))
        self._setup(plan, plan)
