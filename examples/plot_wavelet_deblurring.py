r"""
Image deblurring with a wavelet sparsity prior
==============================================

A blocky image is blurred by a 9 x 9 Gaussian filter and contaminated by noise. As in PyLops'
*Deblurring* tutorial, the image is recovered as :math:`\mathbf{x} = \mathbf{W}^H\mathbf{p}`,
the sparsest set of Haar wavelet coefficients :math:`\mathbf{p}` that explains the data:

.. math::
        J = \tfrac12 \|\mathbf{y} - \mathbf{S} \mathbf{W}^H \mathbf{p}\|_2^2
        + \epsilon \|\mathbf{p}\|_1

with :math:`\mathbf{S}` :class:`pylops_distributed.signalprocessing.Convolve2D` (one task
per chunk: an FFT convolution of the chunk and a four-sample halo from its neighbours) and :math:`\mathbf{W}`
:class:`pylops_distributed.signalprocessing.DWT2D` (PyWavelets on each block: the wavelet
transform reads both axes whole, so inside the product it gathers them in one task), solved by
:func:`pylops_distributed.optimization.sparsity.fista` and compared with PyLops' ``fista`` on
the same problem. Needs the extra ``signal`` (PyWavelets). Writes
``plot_wavelet_deblurring.png``.

Run: .venv/bin/python examples/plot_wavelet_deblurring.py [--size N]
"""

import argparse
import sys
import time

import dask
import dask.array as da
import matplotlib
import numpy as np
import pylops
from pylops.optimization import sparsity as psp

import pylops_distributed as pld
from pylops_distributed.optimization import sparsity

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Wavelet deblurring", allow_abbrev=False)
parser.add_argument("--size", type=int, default=128, help="image side (default 128)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")

# %%
# The model: a blocky image; the data: blurred by a 9 x 9 Gaussian, with noise, in 4 x 4 chunks.
n = args.size
dims = (n, n)
z, x = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n), indexing="ij")
xtrue = np.zeros(dims)
xtrue[(np.abs(z) < 0.6) & (np.abs(x) < 0.6)] = 1.0
xtrue[(np.abs(z) < 0.25) & (np.abs(x + 0.1) < 0.3)] = 0.3
xtrue[(z > 0.7) & (x < 0.2)] = 0.7
g = np.exp(-0.5 * (np.arange(-4, 5) / 1.5) ** 2)
h = np.outer(g, g) / np.outer(g, g).sum()  # unit gain
S = pld.signalprocessing.Convolve2D(dims, h, offset=(4, 4))
PS = pylops.signalprocessing.Convolve2D(dims, h, offset=(4, 4))
y = (PS @ xtrue.ravel()).reshape(dims) + 0.02 * np.random.default_rng(0).standard_normal(dims)
yd = da.from_array(y, chunks=(-(-n // 4), -(-n // 4)))

# %%
# Haar wavelets over 3 scales, ours and PyLops'; the operator :math:`\mathbf{S}\mathbf{W}^H`.
# The Haar transform is orthogonal and the blur's gain is at most 1 (a positive filter of unit
# sum), so ``alpha=1`` is a valid step for both solvers.
W = pld.signalprocessing.DWT2D(dims, wavelet="haar", level=3)
PW = pylops.signalprocessing.DWT2D(dims, wavelet="haar", level=3)
kw = dict(niter=100, eps=0.005, alpha=1.0, tol=0)
t0 = time.perf_counter()
p = sparsity.fista(S @ W.H, yd, check_every=25, **kw)[0].compute()
tours = time.perf_counter() - t0
t0 = time.perf_counter()
pref = psp.fista(PS @ PW.H, y.ravel(), **kw)[0]
tref = time.perf_counter() - t0
xinv = (W.H @ da.from_array(p, chunks=p.shape)).compute()


# %%
# Errors against the true image, and the difference between our answer and PyLops'.
def error(v):
    return np.linalg.norm(v - xtrue) / np.linalg.norm(xtrue)


diff = np.linalg.norm(p.ravel() - pref) / np.linalg.norm(pref)
print(f"image {n} x {n}, {yd.numblocks[0]} x {yd.numblocks[1]} chunks")
print(f"{'blurred data':20s} error vs true {error(y):.3f}")
print(f"{'FISTA (DWT2D)':20s} error vs true {error(xinv):.3f}   vs PyLops {diff:.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The true image, the data, our reconstruction and its error.
fig, axs = plt.subplots(1, 4, figsize=(14, 4), sharey=True)
for ax, (title, img) in zip(axs, [("true", xtrue), ("blurred, noisy", y),
                                  ("FISTA on wavelets (ours)", xinv), ("error (ours)", xinv - xtrue)]):
    ax.imshow(img, cmap="gray", vmin=-0.2, vmax=1.2)
    ax.set_title(title)
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_wavelet_deblurring.png", dpi=80)
