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

_BLOCK = (32, 8, 1)
_MAXGRID = 65535


def _lit(c):
    return repr(float(c))


def _term_code(ax, st, scale):
    """C code adding ``scale * S x`` along axis ``ax`` (0..2) to ``acc``; ``p`` points at x."""
    L, R, n = len(st.head), len(st.tail), st.n
    s = f"s{ax}"
    lines = [f"  {{ const long long g = g{ax} + i{ax};"]
    interior = " + ".join(f"(R)({_lit(c * scale)}) * p[({o}LL) * {s}]" for o, c in st.taps) or "T(0)"
    lines.append(f"    if (g >= {L}LL && g < {n - R}LL) {{ acc += {interior}; }}")
    if L:
        lines.append(f"    else if (g < {L}LL) {{ switch ((int)g) {{")
        for i, row in enumerate(st.head):
            expr = " + ".join(f"(R)({_lit(c * scale)}) * p[({j - i}LL) * {s}]" for j, c in row)
            if expr:
                lines.append(f"      case {i}: acc += {expr}; break;")
        lines.append("      default: break; } }")
    if R:
        lines.append(f"    else {{ switch ((int)(g - {n - R}LL)) {{")
        for r, row in enumerate(st.tail):
            i = n - R + r  # global row; column n + j
            expr = " + ".join(f"(R)({_lit(c * scale)}) * p[({n + j - i}LL) * {s}]" for j, c in row)
            if expr:
                lines.append(f"      case {r}: acc += {expr}; break;")
        lines.append("      default: break; } }")
    lines.append("  }")
    return "\n".join(lines)


def kernel_source(terms, dtype):
    """CUDA source of ``stencil_sum`` for ``terms`` (axes 0..2 of a 3-D block) and ``dtype``."""
    T, R = _CTYPES[np.dtype(dtype)]
    body = "\n".join(_term_code(ax, st, scale) for ax, st, scale in terms)
    src = f"""
#include <cupy/complex.cuh>
typedef {T} T;
typedef {R} R;
extern "C" __global__ void stencil_sum(
    const T* __restrict__ x, T* __restrict__ y,
    const long long m0, const long long m1, const long long m2,
    const long long s0, const long long s1, const long long s2,
    const long long o0, const long long o1, const long long o2,
    const long long g0, const long long g1, const long long g2,
    const long long t0, const long long t1, const long long t2)
{{
  const long long i2 = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i2 >= m2) return;
  for (long long i0 = blockIdx.z; i0 < m0; i0 += gridDim.z) {{
    for (long long i1 = (long long)blockIdx.y * blockDim.y + threadIdx.y; i1 < m1;
         i1 += (long long)gridDim.y * blockDim.y) {{
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
def _kernel(terms, dtype):
    import cupy

    return cupy.RawKernel(kernel_source(terms, dtype), "stencil_sum")


def supported(xb, terms, dtype, out=None):
    """Whether the fused raw kernel handles this case (else the sliced path runs)."""
    return (xb.ndim <= 3 and np.dtype(dtype) in _CTYPES
            and all(np.isreal(scale) for _, _, scale in terms)
            and (out is None or out.dtype == np.dtype(dtype)))


def stencil_sum(xb, borig, terms, ostart, ostop, dtype, out=None):
    """Fused ``sum_t scale_t S_t x`` on the global box ``[ostart, ostop)`` (see
    :func:`pylops_distributed._stencils.stencil_sum`), into ``out`` (any strides) if given."""
    import cupy

    dtype = np.dtype(dtype)
    shape = tuple(b - a for a, b in zip(ostart, ostop))
    pad = 3 - xb.ndim
    x = xb.astype(dtype, copy=False)[(None,) * pad]
    terms3 = tuple((ax + pad, st, float(np.real(scale))) for ax, st, scale in terms)
    y = cupy.empty(shape, dtype=dtype) if out is None else out
    y3 = y[(None,) * pad]
    m = (1,) * pad + shape
    strides = tuple(s // x.itemsize for s in x.strides)
    ystrides = tuple(s // y3.itemsize for s in y3.strides)
    off = (0,) * pad + tuple(a - b for a, b in zip(ostart, borig))
    g = (0,) * pad + tuple(ostart)
    grid = (-(-m[2] // _BLOCK[0]), min(-(-m[1] // _BLOCK[1]), _MAXGRID), min(m[0], _MAXGRID))
    args = tuple(np.int64(v) for v in m + strides + off + g + ystrides)
    _kernel(terms3, dtype)(grid, _BLOCK, (x, y3) + args)
    return y
