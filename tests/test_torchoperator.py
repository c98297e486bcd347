"""TorchOperator: gradients through our operators equal PyLops' TorchOperator's and torch's
numerical ones, on the threaded scheduler and a 2-process cluster."""

import sys

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand
from dask.callbacks import Callback

torch = pytest.importorskip("torch")

import pylops_distributed as pld  # noqa: E402

DIMS = (5, 4)


def _matrix(dtype="float64", chunks=(4, 3)):
    A = rand((9, 7), dtype, seed=3)
    return pld.MatrixMult(da.from_array(A, chunks=chunks), dtype=dtype), pylops.MatrixMult(A, dtype=dtype)


CASES = {  # name: () -> (our operator, its PyLops twin)
    "matrix": _matrix,
    "matrix-complex": lambda: _matrix("complex128"),
    "laplacian": lambda: (pld.Laplacian(DIMS, weights=(1.0, 2.0), chunks=(3, 2)),
                          pylops.Laplacian(DIMS, weights=(1.0, 2.0))),
    "firstderivative": lambda: (pld.FirstDerivative(DIMS, axis=1, kind="forward", chunks=(4, 2)),
                                pylops.FirstDerivative(DIMS, axis=1, kind="forward")),
    # PyLops' TorchOperator fails on its VStack (its adjoint of a flat vector is N-D): the twin is
    # PyLops' VStack as a matrix
    "vstack": lambda: (
        pld.VStack([pld.Laplacian(DIMS, chunks=(3, 4)), pld.FirstDerivative(DIMS, chunks=(3, 4))]),
        pylops.MatrixMult(pylops.VStack([pylops.Laplacian(DIMS), pylops.FirstDerivative(DIMS)]).todense())),
}


def _tensor(shape, dtype="float64", seed=0):
    return torch.from_numpy(rand(shape, dtype, seed)).requires_grad_()


def _input(Op, dtype, flat=True, batch=None):
    shape = (Op.shape[1],) if flat else Op.dims
    return _tensor(shape if batch is None else (batch, *shape), dtype)


class _Runs(Callback):
    """Graphs the local scheduler runs and the keys of the tasks they run."""

    def __init__(self):
        super().__init__()
        self.runs, self.keys = 0, []

    def _start(self, dsk):
        self.runs += 1

    def _pretask(self, key, dsk, state):
        self.keys.append(key)


# --- gradients ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    Op, _ = CASES[name]()
    Top = pld.TorchOperator(Op)
    dtype = "complex128" if name.endswith("complex") else "float64"
    with dask.config.set(scheduler="threads"):
        assert torch.autograd.gradcheck(Top.apply, (_input(Op, dtype),))
        assert torch.autograd.gradcheck(Top.adjoint, (_tensor((Op.shape[0],), dtype),))
        if len(Op.dims) > 1:  # a tensor of shape dims: output of shape dimsd (flat for stacks)
            y = Top(_input(Op, dtype, flat=False))
            assert tuple(y.shape) == (Op.dimsd if name != "vstack" else (Op.shape[0],))
            assert torch.autograd.gradcheck(Top.apply, (_input(Op, dtype, flat=False),))


@pytest.mark.parametrize("dtype,batch", [("float64", None), ("float64", 2), ("complex128", None)])
def test_gradcheck_on_schedulers(dtype, batch, scheduler):
    """Also complex results unpickled from workers (misaligned buffers, copied for torch)."""
    A = rand((5, 4), dtype, seed=3)
    Op = pld.MatrixMult(da.from_array(A, chunks=(3, 2)), dtype=dtype)
    Top = pld.TorchOperator(Op, batch=batch is not None)
    assert torch.autograd.gradcheck(Top.apply, (_input(Op, dtype, batch=batch),))


def test_second_derivatives():
    """The backward pass is itself differentiable (PyLops': constant)."""
    Op, _ = CASES["laplacian"]()
    Top = pld.TorchOperator(Op)
    with dask.config.set(scheduler="threads"):
        assert torch.autograd.gradgradcheck(Top.apply, (_input(Op, "float64"),))
        x = _input(Op, "float64")
        loss = (torch.sin(Top(x)) ** 2).sum()
        (g,) = torch.autograd.grad(loss, x, create_graph=True)
        (hv,) = torch.autograd.grad(g.sum(), x)
    # the same Hessian-vector product with torch's own matrix
    L = torch.from_numpy(pylops.Laplacian(DIMS).todense())
    x2 = x.detach().clone().requires_grad_()
    (g2,) = torch.autograd.grad((torch.sin(L @ x2) ** 2).sum(), x2, create_graph=True)
    (hv2,) = torch.autograd.grad(g2.sum(), x2)
    torch.testing.assert_close(hv, hv2, rtol=1e-10, atol=1e-10)


# --- PyLops' TorchOperator as reference ------------------------------------------------------
# (the PyLops twin of vstack is a matrix: flat samples only)
@pytest.mark.parametrize("name,batch,flatten", [
    (name, batch, flatten) for name in sorted(CASES)
    for batch, flatten in [(False, True), (True, True), (True, False)]
    if flatten or name != "vstack"])
def test_like_pylops(name, batch, flatten):
    Op, POp = CASES[name]()
    dtype = "complex128" if name.endswith("complex") else "float64"
    ours = pld.TorchOperator(Op, batch=batch, flatten=flatten)
    theirs = pylops.TorchOperator(POp, batch=batch, flatten=flatten)
    x = _input(Op, dtype, flat=flatten, batch=3 if batch else None)
    xp = x.detach().clone().requires_grad_()
    with dask.config.set(scheduler="threads"):
        y = ours(x)
    yp = theirs(xp)
    assert y.shape == yp.shape and y.dtype == yp.dtype
    torch.testing.assert_close(y, yp, rtol=1e-10, atol=1e-10)
    w = torch.from_numpy(rand(tuple(y.shape), dtype, seed=5))
    with dask.config.set(scheduler="threads"):
        (y * w).real.sum().backward()
    (yp * w).real.sum().backward()
    torch.testing.assert_close(x.grad, xp.grad, rtol=1e-10, atol=1e-10)


def test_wraps_a_pylops_operator(scheduler):
    """A PyLops operator goes through aslinearoperator (FromPyLops): same numbers as PyLops'."""
    POp = pylops.FirstDerivative(DIMS, axis=0)
    ours, theirs = pld.TorchOperator(POp), pylops.TorchOperator(POp)
    assert isinstance(ours.Op, pld.LinearOperator) and ours.dims == DIMS
    x = _input(ours.Op, "float64")
    xp = x.detach().clone().requires_grad_()
    ours(x).pow(2).sum().backward()
    theirs(xp).pow(2).sum().backward()
    torch.testing.assert_close(x.grad, xp.grad, rtol=1e-10, atol=1e-10)


def test_batch_is_per_sample_apply():
    Op, _ = CASES["laplacian"]()
    X = _input(Op, "float64", flat=False, batch=4)
    with dask.config.set(scheduler="threads"):
        Y = pld.TorchOperator(Op, batch=True, flatten=False)(X)
        single = pld.TorchOperator(Op)
        ref = torch.stack([single(X[i]) for i in range(4)])
    assert Y.shape == (4, *DIMS)
    torch.testing.assert_close(Y, ref, rtol=1e-12, atol=1e-12)


def test_optimisation_like_pylops(scheduler):
    """Adam on ||Op x - d||^2 through our operator: the loss decreases, step by step as through
    pylops.TorchOperator."""
    Op, POp = CASES["laplacian"]()
    d = torch.from_numpy(rand(Op.shape[0], "float64", seed=9))

    def losses(top):
        x = torch.zeros(Op.shape[1], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([x], lr=0.1)
        out = []
        for _ in range(6):
            opt.zero_grad()
            loss = ((top(x) - d) ** 2).sum()
            loss.backward()
            opt.step()
            out.append(loss.item())
        return np.array(out)

    ours, theirs = losses(pld.TorchOperator(Op)), losses(pylops.TorchOperator(POp))
    assert ours[-1] < 0.5 * ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


# --- dtypes, one compute ---------------------------------------------------------------------
def test_real_input_complex_operator():
    """The gradient of a real input is Re(Op^H g) (PyLops' raises in torch's engine)."""
    Op, POp = CASES["matrix-complex"]()
    x = _input(Op, "float64")
    with dask.config.set(scheduler="threads"):
        y = pld.TorchOperator(Op)(x)
        assert y.dtype == torch.complex128
        (y.abs() ** 2).sum().backward()
    A = POp.A
    ref = np.real(A.conj().T @ (2 * (A @ x.detach().numpy())))
    assert x.grad.dtype == torch.float64
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-10)


def test_float32_input():
    """Output dtype as PyLops' (NumPy's promotion), gradient in the input's dtype."""
    Op, POp = CASES["firstderivative"]()
    x = _input(Op, "float32")
    xp = x.detach().clone().requires_grad_()
    with dask.config.set(scheduler="threads"):
        y = pld.TorchOperator(Op)(x)
        y.sum().backward()
    yp = pylops.TorchOperator(POp)(xp)
    yp.sum().backward()
    assert y.dtype == yp.dtype == torch.float64
    assert x.grad.dtype == torch.float32
    torch.testing.assert_close(x.grad, xp.grad)


@pytest.mark.parametrize("batch", [False, True])
def test_one_compute_per_pass(batch):
    Op, _ = CASES["laplacian"]()
    Top = pld.TorchOperator(Op, batch=batch)
    x = _input(Op, "float64", batch=2 if batch else None)
    with dask.config.set(scheduler="threads"), _Runs() as fwd:
        y = Top(x)
    with dask.config.set(scheduler="threads"), _Runs() as bwd:
        y.sum().backward()
    for runs in (fwd, bwd):
        assert runs.runs == 1 and runs.keys
        assert len(set(runs.keys)) == len(runs.keys), "a task ran twice"
    assert x.grad is not None and x.grad.shape == x.shape


def test_noncontiguous_and_conjugated_inputs():
    Op, POp = CASES["matrix-complex"]()
    base = _tensor((Op.shape[1], 2), "complex128").detach()
    x = base[:, 1].conj()  # strided, conjugate bit set
    with dask.config.set(scheduler="threads"):
        y = pld.TorchOperator(Op)(x)
    np.testing.assert_allclose(y.numpy(), POp @ x.resolve_conj().numpy(), rtol=1e-12)


def test_repr_and_attributes():
    Op, _ = CASES["laplacian"]()
    Top = pld.TorchOperator(Op)
    assert repr(Top) == "<20x20 TorchOperator with dtype=float64>"
    assert Top.dims == DIMS and Top.dimsd == DIMS and Top.dtype == np.float64 and Top.Op is Op
    assert Top.forward == Top.apply


def test_devicetorch_warns():
    Op, _ = CASES["matrix"]()
    Top = pld.TorchOperator(Op, devicetorch="meta")
    with dask.config.set(scheduler="threads"), pytest.warns(UserWarning, match="poor performance"):
        y = Top(_input(Op, "float64"))
    assert y.device.type == "meta"


# --- errors ------------------------------------------------------------------------------------
def test_torch_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pylops_distributed\[torch\]"):
        pld.TorchOperator(CASES["matrix"]()[0])


@pytest.mark.parametrize("name,batch,flatten,shape", [
    ("matrix", False, True, (7, 1)), ("matrix", False, True, (8,)), ("matrix", True, True, (7,)),
    ("matrix", True, True, (2, 8)), ("laplacian", True, False, (2, 5, 3)),
    ("laplacian", True, False, (2, 20)), ("laplacian", False, True, (4, 5)),
])
def test_wrong_shape(name, batch, flatten, shape):
    Top = pld.TorchOperator(CASES[name]()[0], batch=batch, flatten=flatten)
    with pytest.raises(ValueError, match="expected a tensor of shape"):
        Top(torch.zeros(shape, dtype=torch.float64))


def test_wrong_shape_adjoint():
    Top = pld.TorchOperator(CASES["matrix"]()[0])
    with pytest.raises(ValueError, match=r"adjoint: expected a tensor of shape \(9,\)"):
        Top.adjoint(torch.zeros(7, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.bfloat16])
def test_wrong_dtype(dtype):
    Top = pld.TorchOperator(CASES["matrix"]()[0])
    with pytest.raises(TypeError, match="float or complex tensor"):
        Top(torch.zeros(7, dtype=dtype))


def test_not_a_tensor():
    Top = pld.TorchOperator(CASES["matrix"]()[0])
    with pytest.raises(TypeError, match="expected a torch.Tensor, got ndarray"):
        Top(np.zeros(7))


def test_bad_device_and_operator():
    Op = CASES["matrix"]()[0]
    with pytest.raises(ValueError, match="device must be 'cpu' or 'gpu'"):
        pld.TorchOperator(Op, device="cuda")
    with pytest.raises(ValueError, match="device='gpu' needs a CUDA tensor"):
        pld.TorchOperator(Op, device="gpu")(torch.zeros(7, dtype=torch.float64))
    with pytest.raises(TypeError, match="expected a pylops_distributed, PyLops or SciPy"):
        pld.TorchOperator("not an operator")
