r"""
Linear Radon transform and sparse Radon inversion, on chunks
============================================================

A seismic gather of four linear events (a few slopes, a 20 Hz Ricker wavelet) is the forward
linear Radon transform of a sparse :math:`\tau-p` model: one wavelet per event. As in
PyLops' *Radon Transform* tutorial, the adjoint (slant stack) of the gather gives a blurred
image of the events in the :math:`\tau-p` domain, and a sparse inversion focuses it back:

.. math::
        J = \tfrac12 \|\mathbf{d} - \mathbf{R}\,\mathbf{m}\|_2^2 + \epsilon \|\mathbf{m}\|_1

Here the gather is a dask array in 2 x 2 chunks and :math:`\mathbf{R}` is
:class:`pylops_distributed.signalprocessing.Radon2D`: every curve crosses every trace, so
each apply is one task on the whole array, PyLops' own operator (built once per process);
the solver's vector operations run chunk by chunk.
:func:`pylops_distributed.optimization.sparsity.fista` is compared with PyLops'
``fista`` on the same problem, and with the least-squares solution (CGLS). Writes
``plot_radon.png``.

Run: .venv/bin/python examples/plot_radon.py [--size NX]
"""

import argparse
import sys
import time

import dask
import dask.array as da
import matplotlib
import numpy as np
import pylops
from pylops.optimization import basic as pbasic
from pylops.optimization import sparsity as psp
from pylops.utils.wavelets import ricker

from pylops_distributed.optimization import cgls
from pylops_distributed.optimization import sparsity
from pylops_distributed.signalprocessing.radon2d import Radon2D

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Linear Radon transform on chunks",
                                 allow_abbrev=False)
parser.add_argument("--size", type=int, default=32,
                    help="number of traces (default 32; 3 times as many time samples)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")

# %%
# The axes: ``--size`` traces 10 m apart, three times as many 4 ms time samples, and as many
# slopes as traces between -0.8 and 0.8 ms/m. The true model: four spikes in
# :math:`\tau-p`, convolved with a Ricker wavelet along :math:`\tau`.
nx, nt = args.size, 3 * args.size
t = np.arange(nt) * 0.004
x = np.arange(nx) * 10.0
px = np.linspace(-8e-4, 8e-4, nx)
mtrue = np.zeros((nx, nt))
for ip, it, amp in [(nx // 5, nt // 5, 1.0), (nx // 2, nt // 2, -0.8),
                    (3 * nx // 4, 2 * nt // 5, 0.6), (nx // 3, 3 * nt // 4, 0.9)]:
    mtrue[ip, it] = amp
wav = ricker(t[:15], f0=20)[0]
mtrue = np.apply_along_axis(np.convolve, 1, mtrue, wav, mode="same")

# %%
# The operators, ours and PyLops', with PyLops' ``numba`` engine (compiled once, then about
# a millisecond per apply here; ``"numpy"`` gives the same numbers, more slowly), and the
# gather in 2 x 2 chunks.
kw_radon = dict(kind="linear", centeredh=True, interp=True, engine="numba")
Op = Radon2D(t, x, px, **kw_radon)
POp = pylops.signalprocessing.Radon2D(t, x, px, **kw_radon)
data = (POp @ mtrue.ravel()).reshape(Op.dimsd)
dd = da.from_array(data, chunks=(-(-nx // 2), -(-nt // 2)))

# %%
# The adjoint (slant stack), ours against PyLops'.
madj = (Op.H @ dd).compute()
madj_ref = (POp.H @ data.ravel()).reshape(Op.dims)
diff_adj = np.linalg.norm(madj - madj_ref) / np.linalg.norm(madj_ref)

# %%
# Least squares (10 iterations of damped CGLS) and FISTA, ours and PyLops'. The step of FISTA is the inverse of
# the largest eigenvalue of :math:`\mathbf{R}^H\mathbf{R}`, estimated once with PyLops and
# given to both solvers, so they run the same iterations; ``tol=0`` runs all of them.
mls = cgls(Op, dd, niter=10, tol=0, damp=1e-2)[0].compute()
maxeig = np.abs((POp.H @ POp).eigs(neigs=1, symmetric=True, niter=100, which="LM")[0])
kw = dict(niter=200, eps=1.0, alpha=1.0 / float(maxeig), tol=0)
t0 = time.perf_counter()
mfista = sparsity.fista(Op, dd, check_every=50, **kw)[0].compute()
tours = time.perf_counter() - t0
t0 = time.perf_counter()
mref = psp.fista(POp, data.ravel(), **kw)[0].reshape(Op.dims)
tref = time.perf_counter() - t0
mls_ref = pbasic.cgls(POp, data.ravel(), niter=10, tol=0, damp=1e-2)[0].reshape(Op.dims)


# %%
# Errors against the true model, and the differences between our answers and PyLops'.
def error(v):
    return np.linalg.norm(v - mtrue) / np.linalg.norm(mtrue)


diff = np.linalg.norm(mfista - mref) / np.linalg.norm(mref)
diff_ls = np.linalg.norm(mls - mls_ref) / np.linalg.norm(mls_ref)
print(f"gather {nx} traces x {nt} samples in {dd.numblocks[0]} x {dd.numblocks[1]} chunks, "
      f"{len(px)} slopes")
print(f"{'adjoint (stack)':20s} vs PyLops {diff_adj:.1e}")
print(f"{'least squares (CGLS)':20s} error vs true {error(mls):.3f}   vs PyLops {diff_ls:.1e}")
print(f"{'FISTA (Radon2D)':20s} error vs true {error(mfista):.3f}   vs PyLops {diff:.1e}")
print(f"FISTA time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The gather, the true model, the adjoint, the least-squares and the sparse models.
fig, axs = plt.subplots(1, 5, figsize=(16, 4))
panels = [("data", data, (x[0], x[-1])), ("true model", mtrue, (px[0], px[-1])),
          ("adjoint (ours)", madj, (px[0], px[-1])),
          ("least squares (ours)", mls, (px[0], px[-1])),
          ("FISTA (ours)", mfista, (px[0], px[-1]))]
for ax, (title, img, (lo, hi)) in zip(axs, panels):
    v = np.abs(img).max()
    ax.imshow(img.T, cmap="seismic", vmin=-v, vmax=v, aspect="auto",
              extent=(lo, hi, t[-1], t[0]))
    ax.set_title(title)
    ax.set_xlabel("x [m]" if title == "data" else "p [s/m]")
axs[0].set_ylabel("t [s]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_radon.png", dpi=80)
