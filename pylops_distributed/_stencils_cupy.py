"""CuPy backend of :mod:`pylops_distributed._stencils`: one fused raw CUDA kernel per sum of
stencils. The only module that imports CuPy; it does so when a kernel runs on a CuPy chunk
(never in a NumPy-only client). :func:`kernel_source` is plain Python, so the generated code
is also compiled and checked as C++ on the CPU by the tests.

The generated kernel computes, for each output element, every term ``scale * S x`` along
its axis (interior taps, or PyLops' edge rows where the element's global index falls at an
edge) and writes the sum once: the data is read once (neighbours come from L1/L2) and
written once, the bandwidth floor of a stencil.
"""

import functools

import numpy as np

_CTYPES = {
    np.dtype("float32"): ("float", "float"),
    np.dtype("float64"): ("double", "double"),
    np.dtype("complex64"): ("complex<float>", "float"),
    np.dtype("complex128"): ("complex<double>", "double"),
}

_BLOCK = (32, 4, 1)
_MAXGRID = 65535
#: Planes along the first axis that one thread computes (fewer index computations, more
#: independent loads in flight; measured on an H100: 1 -> 8 planes takes FirstDerivative on
#: 400^3 float32 from 0.27 to 0.21 ms).
_PLANES = 8
#: Largest element offset addressed with 32-bit indices (64-bit index arithmetic made the
#: kernels twice as slow on an H100).
_INT32_MAX = 2 ** 31 - 1


def _lit(c):
    return repr(float(c))


def _term_code(ax, st, scale):
    """C code adding ``scale * S x`` along axis ``ax`` (0..2) to ``acc``; ``p`` points at x."""
    L, R, n = len(st.head), len(st.tail), st.n
    s = f"s{ax}"
    lines = [f"  {{ const I g = g{ax} + i{ax};"]
    interior = " + ".join(f"(R)({_lit(c * scale)}) * p[({o}) * {s}]" for o, c in st.taps) or "T(0)"
    lines.append(f"    if (g >= {L} && g < {n - R}) {{ acc += {interior}; }}")
    if L:
        lines.append(f"    else if (g < {L}) {{ switch ((int)g) {{")
        for i, row in enumerate(st.head):
            expr = " + ".join(f"(R)({_lit(c * scale)}) * p[({j - i}) * {s}]" for j, c in row)
            if expr:
                lines.append(f"      case {i}: acc += {expr}; break;")
        lines.append("      default: break; } }")
    if R:
        lines.append(f"    else {{ switch ((int)(g - {n - R})) {{")
        for r, row in enumerate(st.tail):
            i = n - R + r  # global row; column n + j
            expr = " + ".join(f"(R)({_lit(c * scale)}) * p[({n + j - i}) * {s}]" for j, c in row)
            if expr:
                lines.append(f"      case {r}: acc += {expr}; break;")
        lines.append("      default: break; } }")
    lines.append("  }")
    return "\n".join(lines)


def kernel_source(terms, dtype, index="int"):
    """CUDA source of ``stencil_sum`` for ``terms`` (axes 0..2 of a 3-D block) and ``dtype``,
    with ``index`` (``int`` or ``long long``) for indices and offsets."""
    T, R = _CTYPES[np.dtype(dtype)]
    body = "\n".join(_term_code(ax, st, scale) for ax, st, scale in terms)
    src = f"""
#include <cupy/complex.cuh>
typedef {T} T;
typedef {R} R;
typedef {index} I;
extern "C" __global__ void stencil_sum(
    const T* __restrict__ x, T* __restrict__ y,
    const I m0, const I m1, const I m2,
    const I s0, const I s1, const I s2,
    const I o0, const I o1, const I o2,
    const I g0, const I g1, const I g2,
    const I t0, const I t1, const I t2, const I planes)
{{
  const I i2 = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x;
  if (i2 >= m2) return;
  const I z0 = (I)blockIdx.z * planes;
  const I z1 = min(m0, z0 + planes);
  for (I i0 = z0; i0 < z1; ++i0) {{
    for (I i1 = (I)blockIdx.y * (I)blockDim.y + (I)threadIdx.y; i1 < m1;
         i1 += (I)gridDim.y * (I)blockDim.y) {{
      const T* p = x + (i0 + o0) * s0 + (i1 + o1) * s1 + (i2 + o2) * s2;
      T acc = T(0);
{body}
      y[i0 * t0 + i1 * t1 + i2 * t2] = acc;
    }}
  }}
}}
"""
    return src


@functools.lru_cache(maxsize=128)
def _kernel(terms, dtype, index):
    import cupy

    return cupy.RawKernel(kernel_source(terms, dtype, index), "stencil_sum")


def _reach(a, strides):
    """Largest element offset (from the start of ``a``) that an index can take, in elements."""
    return sum((m - 1) * abs(s) for m, s in zip(a.shape, strides))


def supported(xb, terms, dtype, out=None):
    """Whether the fused raw kernel handles this case (else the sliced path runs)."""
    return (xb.ndim <= 3 and np.dtype(dtype) in _CTYPES
            and all(np.isreal(scale) for _, _, scale in terms)
            and (out is None or out.dtype == np.dtype(dtype)))


def launch_config(xb, y, borig, ostart, terms, dtype):
    """``(x3, y3, terms3, grid, index, args)`` of the kernel writing the box starting at global
    ``ostart`` into ``y`` (any strides), from ``xb`` (global origin ``borig``), both seen as 3-D.
    Array-module agnostic (the tests run it with NumPy arrays)."""
    pad = 3 - xb.ndim
    x = xb.astype(dtype, copy=False)[(None,) * pad]
    y3 = y[(None,) * pad]
    terms3 = tuple((ax + pad, st, float(np.real(scale))) for ax, st, scale in terms)
    m = y3.shape
    # a length-1 axis is only ever indexed at 0: its stride (maybe huge) does not matter
    strides = tuple(0 if n == 1 else s // x.itemsize for n, s in zip(x.shape, x.strides))
    ystrides = tuple(0 if n == 1 else s // y3.itemsize for n, s in zip(y3.shape, y3.strides))
    off = (0,) * pad + tuple(a - b for a, b in zip(ostart, borig))
    g = (0,) * pad + tuple(ostart)
    planes = max(_PLANES, -(-m[0] // _MAXGRID))
    grid = (-(-m[2] // _BLOCK[0]), min(-(-m[1] // _BLOCK[1]), _MAXGRID), -(-m[0] // planes))
    largest = max(_reach(x, strides), _reach(y3, ystrides), *(a + b for a, b in zip(g, m)))
    # thread indices run past the extents by up to a block (axis 2), a grid-stride step
    # (axis 1) or a group of planes (axis 0) before their bounds checks
    overshoot = max(planes, _BLOCK[0], _BLOCK[1] * grid[1])
    index, itype = ("int", np.int32) if largest < _INT32_MAX - overshoot else ("long long", np.int64)
    args = tuple(itype(v) for v in m + strides + off + g + ystrides + (planes,))
    return x, y3, terms3, grid, index, args


def stencil_sum(xb, borig, terms, ostart, ostop, dtype, out=None):
    """Fused ``sum_t scale_t S_t x`` on the global box ``[ostart, ostop)`` (see
    :func:`pylops_distributed._stencils.stencil_sum`), into ``out`` (any strides) if given."""
    import cupy

    dtype = np.dtype(dtype)
    shape = tuple(b - a for a, b in zip(ostart, ostop))
    y = cupy.empty(shape, dtype=dtype) if out is None else out
    x, y3, terms3, grid, index, args = launch_config(xb, y, borig, ostart, terms, dtype)
    _kernel(terms3, dtype, index)(grid, _BLOCK, (x, y3) + args)
    return y
