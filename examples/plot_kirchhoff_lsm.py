r"""
Kirchhoff least-squares migration
=================================

A reflectivity of a few dipping reflectors and point diffractors, in a constant-velocity
medium, is turned into shot gathers by Kirchhoff demigration (PyLops' ``Kirchhoff``
operator, analytic traveltimes, a 20 Hz Ricker wavelet),

.. math::
        d(s, r, t) = w(t) * \sum_{\mathbf{x}} m(\mathbf{x})\,
        \delta\big(t - t(s, \mathbf{x}) - t(\mathbf{x}, r)\big)

Migration applies the adjoint; least-squares migration (LSM) inverts the operator,

.. math::
        J = \|\mathbf{d} - \mathbf{K}\,\mathbf{m}\|_2^2

with :class:`pylops_distributed.waveeqprocessing.LSM` and our CGLS: the operator runs one
task per chunk of shots, and its adjoint (the migration in every iteration) makes one partial
image per chunk of shots, added up by a tree. The answer is compared with PyLops' ``LSM``
with PyLops' CGLS on the same problem. Writes ``plot_kirchhoff_lsm.png``.

Run: .venv/bin/python examples/plot_kirchhoff_lsm.py [--size NX]
"""

import argparse
import sys
import time
import warnings

import dask
import matplotlib
import numpy as np
import pylops

from pylops_distributed.optimization import cgls
from pylops_distributed.waveeqprocessing import LSM

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Kirchhoff LSM", allow_abbrev=False)
parser.add_argument("--size", type=int, default=41,
                    help="image points along x (default 41; 3/4 as many in depth)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")
warnings.filterwarnings("ignore", category=FutureWarning)  # PyLops' note on trav tuples

# %%
# The model and the acquisition: 10 m sampling, sources every few traces and receivers on
# every other trace at the surface, 1.2 s of data at 4 ms.
nx, nz, dx = args.size, (3 * args.size) // 4, 10.0
x, z = np.arange(nx) * dx, np.arange(nz) * dx
t = np.arange(300) * 0.004
vel = 2000.0
m = np.zeros((nx, nz))
for k, (depth, dip) in enumerate([(0.3, 0.1), (0.6, -0.15)]):
    iz = np.round(nz * depth + dip * (np.arange(nx) - nx / 2)).astype(int)
    m[np.arange(nx), np.clip(iz, 0, nz - 1)] = 1.0 if k == 0 else -0.7
m[nx // 3, (4 * nz) // 5] = m[(2 * nx) // 3, (4 * nz) // 5] = 1.0
ns, nr = max(nx // 4, 2), max(nx // 2, 2)
srcs = np.vstack([np.linspace(x[0], x[-1], ns), np.zeros(ns)])
recs = np.vstack([np.linspace(x[0], x[-1], nr), np.zeros(nr)])
wav, _, wc = pylops.utils.wavelets.ricker(t[:41], f0=20)

# %%
# The data, our operator in chunks of 2 shots, and the migrated image (the adjoint, scaled
# to fit the data best: :math:`\alpha = \|\mathbf{K}^T\mathbf{d}\|^2 /
# \|\mathbf{K}\mathbf{K}^T\mathbf{d}\|^2`).
lsm = LSM(z, x, t, srcs, recs, vel, wav, wc, mode="analytic", shot_chunks=2)
K = lsm.Demop
d = (K @ m).compute()
mig = (K.H @ d).compute()
alpha = np.sum(mig ** 2) / np.sum((K @ mig).compute() ** 2)

# %%
# LSM, ours and PyLops': 30 CGLS iterations, no early stop. (The operator is ill-conditioned:
# after 60 iterations PyLops' own answer moves by 1e-4 when the data change by 1e-15, so the
# two answers agree to the digits that rounding leaves, about 1e-8 here.)
niter = 30
t1 = time.perf_counter()
minv = lsm.solve(d, solver=cgls, niter=niter, tol=0).compute()
tours = time.perf_counter() - t1
ref_lsm = pylops.waveeqprocessing.LSM(z, x, t, srcs, recs, vel, wav, wc, mode="analytic",
                                      engine="numba")
t1 = time.perf_counter()
mref = ref_lsm.solve(d.ravel(), solver=pylops.optimization.basic.cgls, niter=niter, tol=0)
tref = time.perf_counter() - t1


# %%
# Errors against the true reflectivity, and the difference between our answer and PyLops'.
def error(v):
    return np.linalg.norm(v - m) / np.linalg.norm(m)


print(f"image {nx} x {nz}, {ns} shots x {nr} receivers x {len(t)} samples, "
      f"{len(K.shot_chunks)} chunks of shots")
print(f"{'migration (scaled)':20s} error vs true {error(alpha * mig):.3f}")
print(f"{'LSM (CGLS)':20s} error vs true {error(minv):.3f}   "
      f"vs PyLops {np.linalg.norm(minv - mref) / np.linalg.norm(mref):.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The true reflectivity, a shot gather, the migrated image and our LSM image.
fig, axs = plt.subplots(1, 4, figsize=(15, 3.6))
ext = (x[0], x[-1], z[-1], z[0])
lim = np.abs(m).max()
axs[0].imshow(m.T, cmap="gray", vmin=-lim, vmax=lim, extent=ext)
axs[0].set_title("true reflectivity")
axs[1].imshow(d[ns // 2].T, cmap="gray", aspect="auto",
              extent=(x[0], x[-1], t[-1], t[0]), vmin=-np.abs(d).max(), vmax=np.abs(d).max())
axs[1].set_title(f"shot {ns // 2}")
axs[2].imshow((alpha * mig).T, cmap="gray", vmin=-lim, vmax=lim, extent=ext)
axs[2].set_title("migration (scaled adjoint)")
axs[3].imshow(minv.T, cmap="gray", vmin=-lim, vmax=lim, extent=ext)
axs[3].set_title(f"LSM, {niter} CGLS iterations (ours)")
for ax in axs[[0, 2, 3]]:
    ax.set_xlabel("x [m]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_kirchhoff_lsm.png", dpi=80)
