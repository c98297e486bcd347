"""TorchOperator on the GPU (run on the lent GPU): torch CUDA tensors through DLPack to our
operators on CuPy chunks, gradients equal to pylops.TorchOperator's on CuPy-backed operators."""

import dask
import dask.array as da
import numpy as np
import pylops
import pytest
from _helpers import rand

pytestmark = pytest.mark.gpu
cp = pytest.importorskip("cupy")
torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("torch has no CUDA device", allow_module_level=True)

import pylops_distributed as pld  # noqa: E402

DIMS = (6, 5)


def _cuda(shape, dtype, seed=0):
    return torch.from_numpy(rand(shape, dtype, seed)).to("cuda").requires_grad_()


def _pylops_reference(POp, POp_numpy, batch=False):
    """PyLops' TorchOperator on the GPU (its CuPy-backed operator); with a CuPy that lost
    ``fromDlpack`` (which PyLops 2.8's GPU path calls), PyLops' CPU path on the NumPy-backed
    twin, outputs moved to CUDA (it warns at each apply: filtered by the test)."""
    if hasattr(cp, "fromDlpack"):
        return pylops.TorchOperator(POp, batch=batch, device="gpu", devicetorch="cuda")
    return pylops.TorchOperator(POp_numpy, batch=batch, device="cpu", devicetorch="cuda")


def _cases(dtype):
    A = rand((9, 7), dtype, seed=3)
    yield (pld.MatrixMult(da.from_array(cp.asarray(A), chunks=(4, 3), asarray=False), dtype=dtype),
           pylops.MatrixMult(cp.asarray(A), dtype=dtype), pylops.MatrixMult(A, dtype=dtype))
    if dtype == "float64":
        yield (pld.Laplacian(DIMS, weights=(1.0, 2.0), chunks=(3, 2)),
               pylops.Laplacian(DIMS, weights=(1.0, 2.0)), pylops.Laplacian(DIMS, weights=(1.0, 2.0)))


@pytest.mark.filterwarnings("ignore:.*poor performance:UserWarning")
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
@pytest.mark.parametrize("batch", [False, True])
def test_gradient_like_pylops(dtype, batch):
    for Op, POp, POp_numpy in _cases(dtype):
        ours = pld.TorchOperator(Op, batch=batch, device="gpu")
        theirs = _pylops_reference(POp, POp_numpy, batch)
        shape = (3, Op.shape[1]) if batch else (Op.shape[1],)
        x = _cuda(shape, dtype)
        xp = x.detach().clone().requires_grad_()
        with dask.config.set(scheduler="threads"):
            y = ours(x)
            assert y.is_cuda and y.device == x.device
            w = _cuda(tuple(y.shape), dtype, seed=5).detach()
            (y * w).real.sum().backward()
        yp = theirs(xp)
        (yp * w).real.sum().backward()
        assert x.grad.is_cuda and x.grad.dtype == x.dtype
        torch.testing.assert_close(y, yp, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(x.grad, xp.grad, rtol=1e-10, atol=1e-10)


def test_runs_on_cupy_chunks_and_gradcheck():
    Op, _, POp_numpy = next(_cases("float64"))
    Top = pld.TorchOperator(Op, device="gpu")
    with dask.config.set(scheduler="threads"):
        y = Top.matvec(cp.asarray(rand(7, "float64")))  # the array-level pass: CuPy out
        assert isinstance(y, cp.ndarray)
        np.testing.assert_allclose(cp.asnumpy(y), POp_numpy @ rand(7, "float64"), rtol=1e-12)
        assert torch.autograd.gradcheck(Top.apply, (_cuda(7, "float64"),))


def test_cpu_operator_cuda_tensors():
    """device='cpu' with CUDA tensors: a warning, outputs and gradients on CUDA."""
    Op, _, POp_numpy = list(_cases("float64"))[1]
    Top = pld.TorchOperator(Op, device="cpu", devicetorch="cuda")
    x = _cuda(Op.shape[1], "float64")
    with dask.config.set(scheduler="threads"), pytest.warns(UserWarning, match="poor performance"):
        y = Top(x)
        y.sum().backward()
    assert y.is_cuda and x.grad.is_cuda
    ref = POp_numpy.H @ np.ones(Op.shape[0])
    np.testing.assert_allclose(x.grad.cpu().numpy(), ref, rtol=1e-12)


def test_gpu_device_needs_cuda_tensor():
    Op = next(_cases("float64"))[0]
    with pytest.raises(ValueError, match="needs a CUDA tensor"):
        pld.TorchOperator(Op, device="gpu")(torch.zeros(7, dtype=torch.float64))
