"""TorchOperator: a distributed operator as a PyTorch autograd function.

The forward pass applies the operator, the backward pass its adjoint, each as one dask
graph computed once (on dask's current scheduler: threads, or a distributed client). PyTorch
is imported on first use, so ``import pylops_distributed`` does not need it.
"""

import functools
import warnings
from math import prod

import numpy as np

from pylops_distributed._arrays import get_array_module
from pylops_distributed.linearoperator import LinearOperator, aslinearoperator
from pylops_distributed.stacked import compute_all

_DEVICES = ("cpu", "gpu")
#: Tensor dtypes with a NumPy/CuPy twin (bfloat16, complex32 and integers have none or no gradient).
_DTYPES = ("float16", "float32", "float64", "complex64", "complex128")


def _import_torch():
    try:
        import torch
    except ImportError as err:
        raise ImportError("TorchOperator needs PyTorch, which is not installed: "
                          "pip install 'pylops_distributed[torch]' (or pip install torch)") from err
    return torch


@functools.cache
def _function():
    """The :class:`torch.autograd.Function` (defined at first use: torch is imported then)."""
    torch = _import_torch()

    class _TorchOperator(torch.autograd.Function):
        """``Op x`` (``adjoint=False``) or ``Op^H x``, with the other one as gradient."""

        @staticmethod
        def forward(ctx, x, top, adjoint):
            ctx.top, ctx.adjoint = top, adjoint
            ctx.shape, ctx.device, ctx.real = x.shape, x.device, not x.is_complex()
            return top._run(x, adjoint)

        @staticmethod
        def backward(ctx, g):
            # applied through this Function again, so that double backward works too
            gx = _TorchOperator.apply(g, ctx.top, not ctx.adjoint)
            if ctx.real and gx.is_complex():  # a real input's gradient: real part (PyLops raises)
                gx = gx.real
            return gx.reshape(ctx.shape).to(ctx.device), None, None

    return _TorchOperator


class TorchOperator:
    """Wrap a distributed operator into a PyTorch function, as :class:`pylops.TorchOperator`.

    The forward pass computes ``Op @ x``, the backward pass ``Op.H @ g``: the operator can sit
    inside a PyTorch model or loss and be differentiated through. Each pass converts the tensor
    to a NumPy array (CuPy with ``device="gpu"``, through DLPack without a copy), wraps it with
    the operator's chunks, and computes the lazy graph once on dask's current scheduler (the
    threaded one, or a distributed client made current with ``client.as_current()`` or set as
    default).

    Parameters
    ----------
    Op : pylops_distributed.LinearOperator or pylops.LinearOperator
        Operator to wrap; PyLops and SciPy operators and matrices go through
        :func:`~pylops_distributed.aslinearoperator`.
    batch : bool, optional
        Input is a single sample (``False``: a flat tensor of size ``Op.shape[1]`` or a tensor of
        shape ``Op.dims``) or a batch (``True``: shape ``(nbatch, Op.shape[1])``, or
        ``(nbatch, *Op.dims)`` with ``flatten=False``), batch along the first axis.
    flatten : bool, optional
        With ``batch=True``: samples flat (``True``) or of shape ``Op.dims`` (``False``).
    device : {"cpu", "gpu"}, optional
        Where the operator runs: on NumPy chunks (``"cpu"``) or on CuPy chunks (``"gpu"``,
        input tensors on a CUDA device, output on the same device).
    devicetorch : str, optional
        Torch device of the outputs with ``device="cpu"`` (any torch device).

    Attributes
    ----------
    Op : pylops_distributed.LinearOperator
        The wrapped operator.
    dims, dimsd : tuple of int
        Shapes of the operator's model and data.
    dtype : numpy.dtype
        The operator's dtype.

    Raises
    ------
    ImportError
        If PyTorch is not installed (extra ``torch``).
    ValueError
        If ``device`` is not ``"cpu"`` or ``"gpu"``; when applied, if the tensor's shape does
        not fit the operator, or ``device="gpu"`` and the tensor is not on a CUDA device.
    TypeError
        When applied, if the input is not a tensor or not of a float or complex dtype
        (``float16/32/64``, ``complex64/128``).

    Notes
    -----
    Since the operator :math:`\\mathbf{Op}` is linear, the gradient of a loss :math:`L` with
    respect to the input of :math:`\\mathbf{y} = \\mathbf{Op}\\,\\mathbf{x}` is
    :math:`\\mathbf{Op}^H \\partial L / \\partial \\mathbf{y}^*`: PyTorch's convention for
    complex tensors. For a real input and a complex operator the gradient is the real part of
    that (PyLops raises). The backward pass goes through the same autograd function (with the
    adjoint), so second derivatives work as well.

    Examples
    --------
    >>> import dask.array as da, numpy as np, torch
    >>> import pylops_distributed as pld
    >>> A = da.from_array(np.arange(6.0).reshape(3, 2), chunks=(2, 2))
    >>> Top = pld.TorchOperator(pld.MatrixMult(A))
    >>> x = torch.ones(2, dtype=torch.float64, requires_grad=True)
    >>> y = Top(x)
    >>> y
    tensor([1., 5., 9.], dtype=torch.float64, grad_fn=<_TorchOperatorBackward>)
    >>> y.sum().backward()
    >>> x.grad
    tensor([6., 9.], dtype=torch.float64)
    """

    def __init__(self, Op, batch=False, flatten=True, device="cpu", devicetorch="cpu"):
        _import_torch()
        if device not in _DEVICES:
            raise ValueError(f"TorchOperator: device must be 'cpu' or 'gpu', got {device!r} "
                             "(the torch device of the outputs is devicetorch=...)")
        self.Op = Op if isinstance(Op, LinearOperator) else aslinearoperator(Op)
        self.batch, self.flatten = bool(batch), bool(flatten)
        self.device, self.devicetorch = device, devicetorch
        self.dtype = np.dtype(self.Op.dtype)
        self.dims, self.dimsd = self.Op.dims, self.Op.dimsd
        self.name = self.Op.name
        self.Top = _function().apply

    def __repr__(self):
        M, N = prod(self.dimsd), prod(self.dims)
        return f"<{M}x{N} {type(self).__name__} with dtype={self.dtype}>"

    def __call__(self, x):
        return self.apply(x)

    # --- on tensors --------------------------------------------------------------------------
    def apply(self, x):
        """Forward pass ``Op @ x`` on the tensor ``x`` (differentiable).

        Parameters
        ----------
        x : torch.Tensor
            Input of shape ``(N,)`` or ``Op.dims``; with ``batch=True`` ``(nbatch, N)`` or
            ``(nbatch, *Op.dims)`` (``flatten=False``).

        Returns
        -------
        torch.Tensor
            ``Op @ x``: flat for a flat input, ``Op.dimsd`` for an input of ``Op.dims``;
            ``(nbatch, M)`` or ``(nbatch, *Op.dimsd)`` for a batch.
        """
        return self.Top(self._check(x, False), self, False)

    forward = apply

    def adjoint(self, x):
        """Adjoint pass ``Op.H @ x`` on the tensor ``x`` (differentiable, its gradient is the
        forward), shapes as :meth:`apply` with ``dims`` and ``dimsd`` swapped."""
        return self.Top(self._check(x, True), self, True)

    def _check(self, x, adjoint):
        torch = _import_torch()
        what = f"{type(self).__name__}.{'adjoint' if adjoint else 'apply'}"
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{what}: expected a torch.Tensor, got {type(x).__name__} "
                            "(e.g. torch.from_numpy(x))")
        if str(x.dtype).removeprefix("torch.") not in _DTYPES:
            raise TypeError(f"{what}: expected a float or complex tensor ({', '.join(_DTYPES)}), "
                            f"got {x.dtype}; convert it first, e.g. x.to(torch.float64)")
        dims = self.dimsd if adjoint else self.dims
        size = prod(dims)
        if self.batch:
            sample = (size,) if self.flatten else dims
            if tuple(x.shape[1:]) != sample or x.ndim != len(sample) + 1:
                raise ValueError(f"{what}: with batch=True, flatten={self.flatten} expected a "
                                 f"tensor of shape (nbatch, {', '.join(map(str, sample))}), "
                                 f"got {tuple(x.shape)}")
        elif tuple(x.shape) not in ((size,), dims):
            raise ValueError(f"{what}: expected a tensor of shape ({size},) or {dims}, got "
                             f"{tuple(x.shape)} (for a batch of vectors: TorchOperator(Op, batch=True))")
        if self.device == "gpu" and not x.is_cuda:
            raise ValueError(f"{what}: device='gpu' needs a CUDA tensor, got one on {x.device} "
                             "(x.to('cuda'), or TorchOperator(Op, device='cpu'))")
        if self.device == "cpu" and torch.device(self.devicetorch).type != "cpu":
            warnings.warn(f"{what}: the operator runs on the CPU whilst the tensors are on "
                          f"{self.devicetorch}: this may lead to poor performance", stacklevel=3)
        return x

    def _run(self, x, adjoint):
        """``Op x`` or ``Op^H x`` for the tensor ``x``, as a tensor (no autograd)."""
        torch = _import_torch()
        x = x.detach().resolve_conj().resolve_neg()
        if self.device == "gpu":
            import cupy

            xin = cupy.from_dlpack(x.contiguous())
        else:
            xin = x.cpu().numpy()
        y = (self.rmatvec if adjoint else self.matvec)(xin)
        xp = get_array_module(y)
        if xp.may_share_memory(y, xin):  # an output never aliases the input tensor
            y = y.copy()
        if self.device == "gpu":
            return torch.from_dlpack(y)
        # a copy for read-only arrays (torch.from_numpy warns) and misaligned ones: results
        # unpickled from distributed workers can start at any byte, and torch's vectorised
        # complex kernels crash on those
        y = np.require(y, requirements="AW")
        return torch.from_numpy(y).to(self.devicetorch)

    # --- on arrays -----------------------------------------------------------------------------
    def matvec(self, x):
        """``Op @ x`` computed, for a NumPy or CuPy array ``x`` shaped as :meth:`apply` takes."""
        return self._compute(x, False)

    def rmatvec(self, x):
        """``Op.H @ x`` computed, for a NumPy or CuPy array ``x`` shaped as :meth:`adjoint` takes."""
        return self._compute(x, True)

    def _compute(self, x, adjoint):
        Op = self.Op
        if not self.batch:
            return compute_all(Op.rmatvec(x) if adjoint else Op.matvec(x))[0]
        nbatch = x.shape[0]
        X = x.reshape(nbatch, -1).T  # one column per sample
        Y = compute_all(Op.rmatmat(X) if adjoint else Op.matmat(X))[0]
        dims = (-1,) if self.flatten else (Op.dims if adjoint else Op.dimsd)
        return get_array_module(Y).ascontiguousarray(Y.T).reshape((nbatch, *dims))
