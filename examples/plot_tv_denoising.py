r"""
Total variation denoising of an image, on chunks
================================================

A piecewise-constant image (a square holding a disc, and a bar) is contaminated by Gaussian
noise. As in PyLops' *Total Variation (TV) Regularization* tutorial, the image is recovered
with the split Bregman solver and an anisotropic TV regularization, the L1 norms of the
first derivatives along both axes:

.. math::
        J = \frac{\mu}{2} \|\mathbf{y} - \mathbf{x}\|_2^2 + \epsilon \|\mathbf{D}_z \mathbf{x}\|_1
        + \epsilon \|\mathbf{D}_x \mathbf{x}\|_1

Here the image is a dask array in 4 x 4 chunks, the derivatives are
:class:`pylops_distributed.FirstDerivative` (one task per chunk, with a one-sample halo
from its neighbour) and :func:`pylops_distributed.optimization.sparsity.splitbregman` runs
the iterations of :func:`pylops.optimization.sparsity.splitbregman`, which solves the same
problem on NumPy arrays for comparison. Writes ``plot_tv_denoising.png``.

Run: .venv/bin/python examples/plot_tv_denoising.py [--size N]
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

parser = argparse.ArgumentParser(description="Total variation denoising on chunks",
                                 allow_abbrev=False)
parser.add_argument("--size", type=int, default=128, help="image side (default 128)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")

# %%
# The model: a blocky image, and the data: the image with Gaussian noise (standard
# deviation 0.15, for jumps of 0.3 to 1), chunked in 4 x 4 chunks.
n = args.size
dims = (n, n)
z, x = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n), indexing="ij")
xtrue = np.zeros(dims)
xtrue[(np.abs(z) < 0.6) & (np.abs(x) < 0.6)] = 1.0
xtrue[z ** 2 + x ** 2 < 0.3 ** 2] = 0.4
xtrue[(z > 0.7) & (x < 0.2)] = 0.7
y = xtrue + 0.15 * np.random.default_rng(0).standard_normal(dims)
yd = da.from_array(y, chunks=(-(-n // 4), -(-n // 4)))

# %%
# TV regularization: the backward first derivatives along each axis, ours and PyLops'.
# ``mu`` and ``epsRL1s`` (the :math:`\epsilon` of each L1 term) are tuned for this noise
# level; one inner iteration per outer one, as Goldstein and Osher advise, and up to 10
# CGLS iterations (``engine="pylops"``) per inner solve.
Dop = [pld.FirstDerivative(dims, axis=a, edge=False, kind="backward") for a in (0, 1)]
PDop = [pylops.FirstDerivative(dims, axis=a, edge=False, kind="backward") for a in (0, 1)]
kw = dict(niter_outer=20, niter_inner=1, mu=0.5, epsRL1s=[0.3, 0.3], tol=1e-4, tau=1.0,
          engine="pylops", niter=10)

# %%
# Our split Bregman. PyLops' CGLS tests its tolerance (1e-4 on the squared gradient) at
# every iteration; ours tests it every ``check_every`` iterations, a round trip each:
# ``check_every=1`` makes every inner solve stop at PyLops' iteration.
t0 = time.perf_counter()
xinv, niter, cost = sparsity.splitbregman(pld.Identity(dims), yd, Dop, check_every=1, **kw)
xinv = xinv.compute()
tours = time.perf_counter() - t0

t0 = time.perf_counter()
xref, niter_ref, cost_ref = psp.splitbregman(pylops.Identity(dims), y.ravel(), PDop, **kw)
xref = xref.reshape(dims)
tref = time.perf_counter() - t0


# %%
# Errors against the true image, and the difference between our answer and PyLops'.
def error(v):
    return np.linalg.norm(v - xtrue) / np.linalg.norm(xtrue)


diff = np.linalg.norm(xinv - xref) / np.linalg.norm(xref)
print(f"image {n} x {n} in {yd.numblocks[0]} x {yd.numblocks[1]} chunks")
print(f"{'noisy image':20s} error vs true {error(y):.3f}")
print(f"{'TV (split Bregman)':20s} error vs true {error(xinv):.3f}   vs PyLops {diff:.1e}")
print(f"outer iterations: ours {niter}, PyLops {niter_ref}   "
      f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The true, noisy and denoised images, and a horizontal section through the disc.
fig, axs = plt.subplots(1, 4, figsize=(14, 3.6))
for ax, (title, img) in zip(axs, [("true", xtrue), ("noisy", y), ("TV (ours)", xinv)]):
    ax.imshow(img, cmap="gray", vmin=-0.2, vmax=1.2)
    ax.set_title(title)
    ax.axis("off")
axs[3].plot(y[n // 2], ".", color="0.6", ms=3, label="noisy")
axs[3].plot(xtrue[n // 2], "k", lw=3, label="true")
axs[3].plot(xinv[n // 2], "r", lw=1.5, label="TV (ours)")
axs[3].plot(xref[n // 2], "--b", lw=1, label="TV (PyLops)")
axs[3].set_title("section z = 0")
axs[3].legend(fontsize=7)
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_tv_denoising.png", dpi=80)
