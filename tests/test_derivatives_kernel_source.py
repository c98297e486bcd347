"""The generated CUDA stencil kernel, compiled as C++ and run on the CPU against the NumPy path.

The CuPy raw kernel (``_stencils_cupy.kernel_source``) can only run on a GPU; this checks its
index arithmetic, edge rows and coefficients everywhere a C++ compiler is available, with a
tiny emulation of the CUDA launch (every block and thread in turn). Real dtypes only.
"""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

import pylops_distributed as pld
from pylops_distributed import _stencils, _stencils_cupy

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")

_HARNESS = r"""
#include <algorithm>
#include <complex>
using std::min;
template <typename U> using complex = std::complex<U>;
struct dim3_ { unsigned int x, y, z; };  // CUDA's uint3: unsigned arithmetic as on the GPU
static dim3_ blockIdx, blockDim, threadIdx, gridDim;
#define __global__
#define __restrict__
%(src)s
extern "C" void launch(const T* x, T* y, const long long* a, long long gx, long long gy,
                       long long gz) {
  gridDim = {(unsigned)gx, (unsigned)gy, (unsigned)gz}; blockDim = {%(bx)du, %(by)du, 1u};
  for (unsigned bz = 0; bz < gz; ++bz) for (unsigned by = 0; by < gy; ++by)
  for (unsigned bx = 0; bx < gx; ++bx) for (unsigned ty = 0; ty < blockDim.y; ++ty)
  for (unsigned tx = 0; tx < blockDim.x; ++tx) {
    blockIdx = {bx, by, bz}; threadIdx = {tx, ty, 0};
    stencil_sum(x, y, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11],
                a[12], a[13], a[14], a[15]);
  }
}
"""


def _compile(terms, dtype, index, tmp_path):
    src = _stencils_cupy.kernel_source(terms, dtype, index)
    src = src.replace("#include <cupy/complex.cuh>", "")
    bx, by, _ = _stencils_cupy._BLOCK
    cpp = tmp_path / "k.cpp"
    so = tmp_path / "k.so"
    cpp.write_text(_HARNESS % dict(src=src, bx=bx, by=by))
    subprocess.run(["g++", "-O0", "-shared", "-fPIC", "-o", str(so), str(cpp)], check=True)
    return ctypes.CDLL(str(so)).launch


def _run_cpp(launch, xb, borig, ostart, ostop, dtype, transposed_out=False):
    """What _stencils_cupy.stencil_sum does around the launch, with NumPy arrays."""
    shape = tuple(b - a for a, b in zip(ostart, ostop))
    y = np.zeros(shape[::-1], dtype).T if transposed_out else np.zeros(shape, dtype)
    x, y3, _, grid, index, args = _stencils_cupy.launch_config(
        np.ascontiguousarray(xb), y, borig, ostart, (), np.dtype(dtype))
    assert index == "int"  # small arrays; the harness takes every index as 64-bit
    args = np.array(args, dtype=np.int64)
    ptr = ctypes.c_void_p
    launch.argtypes = [ptr, ptr, ptr, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_longlong]
    launch(x.ctypes.data, y.ctypes.data, args.ctypes.data, *grid)
    return y


def _ops(dims):
    nd = len(dims)
    yield pld.FirstDerivative(dims, axis=0, order=5, edge=True, sampling=0.7)
    yield pld.SecondDerivative(dims, axis=-1, kind="backward")
    yield pld.Laplacian(dims, axes=tuple(range(nd)), weights=(1, 2, 3)[:nd],
                        sampling=(1, 1, 1)[:nd], edge=True, kind="forward")


@pytest.mark.parametrize("index", ["int", "long long"])
@pytest.mark.parametrize("dims", [(23,), (7, 6, 40), (19, 6, 5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_source_matches_numpy(dims, dtype, index, tmp_path):
    rng = np.random.default_rng(0)
    nd = len(dims)
    for i, Op in enumerate(_ops(dims)):
        for adjoint in (False, True):
            terms = tuple(Op._plans[adjoint]["kwargs"]["terms"])
            sub = tmp_path / f"op{i}{int(adjoint)}"
            sub.mkdir()
            launch = _compile(tuple((ax + 3 - nd, st, float(s)) for ax, st, s in terms), dtype,
                              index, sub)
            # whole array, and an interior box of a block with halos on every side
            x = rng.standard_normal(dims).astype(dtype)
            full = tuple((0, n) for n in dims)
            boxes = [full, tuple((1, n - 2) if n > 4 else (0, n) for n in dims),
                     tuple((0, 3) for _ in dims), tuple((n - 3, n) for n in dims)]
            for box in boxes:
                ostart, ostop = tuple(a for a, _ in box), tuple(b for _, b in box)
                ref = _stencils.stencil_sum(x, (0,) * nd, terms, ostart, ostop, np.dtype(dtype))
                got = _run_cpp(launch, x, (0,) * nd, ostart, ostop, dtype)
                np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == "float32" else 1e-12,
                                           atol=1e-5 if dtype == "float32" else 1e-12,
                                           err_msg=f"{Op.label} adjoint={adjoint} box={box}")
            # a block that starts inside the array (borig != 0); the box leaves room for
            # the stencils' reach (2 samples) inside the block
            b0 = (1,) * nd
            xb = x[tuple(slice(b, None) for b in b0)]
            ostart = (3,) * nd
            ostop = tuple(n - 2 for n in dims)
            ref = _stencils.stencil_sum(xb, b0, terms, ostart, ostop, np.dtype(dtype))
            for transposed_out in (False, True):  # outputs written through any strides
                got = _run_cpp(launch, xb, b0, ostart, ostop, dtype, transposed_out)
                np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == "float32" else 1e-12,
                                           atol=1e-5 if dtype == "float32" else 1e-12)


def test_index_width_follows_the_largest_offset():
    """32-bit indices where every offset fits, 64-bit beyond (nothing is allocated here)."""
    from numpy.lib.stride_tricks import as_strided

    base = np.zeros(1, np.float32)
    small = as_strided(base, shape=(4, 5, 6), strides=(120, 24, 4))
    huge = as_strided(base, shape=(4, 5, 6), strides=(4 << 30, 24, 4))  # 2^30 elements apart
    y = np.empty((4, 5, 6), np.float32)
    _, _, _, grid, index, args = _stencils_cupy.launch_config(small, y, (0, 0, 0), (0, 0, 0), (),
                                                              np.dtype("float32"))
    assert index == "int" and all(a.dtype == np.int32 for a in args)
    assert grid == (1, 2, 1)  # 8 planes along axis 0 per thread
    _, _, _, _, index, args = _stencils_cupy.launch_config(huge, y, (0, 0, 0), (0, 0, 0), (),
                                                           np.dtype("float32"))
    assert index == "long long" and all(a.dtype == np.int64 for a in args)
    # global positions beyond 2^31 (a block far along a long axis) also need 64 bits
    _, _, _, _, index, _ = _stencils_cupy.launch_config(small, y, (3 << 30, 0, 0), (3 << 30, 0, 0),
                                                        (), np.dtype("float32"))
    assert index == "long long"


def test_launch_grid_stays_within_cuda_limits():
    """Huge extents (views of one element: nothing allocated): grid dimensions within CUDA's
    limits, every plane of axis 0 covered, and 64-bit indices where a thread index could pass
    2^31 before its bounds check."""
    from numpy.lib.stride_tricks import as_strided

    base = np.zeros(1, np.float32)
    for shape in [(200_000, 300_000, 1), (1, 3, 2**31 - 20), (1, 2**31 - 1000, 1), (9, 7, 5)]:
        x = as_strided(base, shape=shape, strides=(0, 0, 0))
        _, _, _, grid, index, args = _stencils_cupy.launch_config(x, x, (0, 0, 0), (0, 0, 0), (),
                                                                  np.dtype("float32"))
        planes = int(args[-1])
        assert grid[1] <= 65535 and grid[2] <= 65535 and grid[2] * planes >= shape[0]
        near_limit = max(shape) > 2**31 - 2**20
        assert index == ("long long" if near_limit else "int"), (shape, index)
    # a length-1 axis with a huge stride (a thin slab of a large buffer) is indexed at 0 only
    slab = as_strided(base, shape=(1, 5, 6), strides=(4 << 31, 24, 4))
    _, _, _, _, index, args = _stencils_cupy.launch_config(slab, np.empty((1, 5, 6), np.float32),
                                                           (0, 0, 0), (0, 0, 0), (),
                                                           np.dtype("float32"))
    assert index == "int" and int(args[3]) == 0
