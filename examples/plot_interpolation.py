r"""
Seismic interpolation with FISTA in the Fourier domain
======================================================

A 2-D seismic section (linear and hyperbolic events convolved with a Ricker wavelet) is
recorded at half of its traces, chosen at random. As in PyLops' *Seismic interpolation*
tutorial, the missing traces are recovered by looking for the sparsest set of 2-D Fourier
coefficients :math:`\mathbf{p}` that explains the recorded ones:

.. math::
        J = \tfrac12 \|\mathbf{y} - \mathbf{R} \mathbf{F}^H \mathbf{p}\|_2^2
        + \epsilon \|\mathbf{p}\|_1

with :math:`\mathbf{R}` a :class:`pylops_distributed.Restriction` along the trace axis and
:math:`\mathbf{F}` :class:`pylops_distributed.signalprocessing.FFT2D`, solved by
:func:`pylops_distributed.optimization.sparsity.fista` and compared with PyLops' ``fista`` on
the same problem. Writes ``plot_interpolation.png``.

Run: .venv/bin/python examples/plot_interpolation.py [--size NX]
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
from pylops.utils.wavelets import ricker

import pylops_distributed as pld
from pylops_distributed.optimization import sparsity

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Seismic interpolation with FISTA",
                                 allow_abbrev=False)
parser.add_argument("--size", type=int, default=64,
                    help="number of traces (default 64; 4 times as many time samples)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")

# %%
# The section: 640 m of traces and 1.024 s of time whatever ``--size`` (only the sampling
# changes), two linear and two hyperbolic events convolved with a 20 Hz Ricker wavelet.
nx, nt = args.size, 4 * args.size
dx, dt = 640.0 / nx, 1.024 / nt
xs, t = np.arange(nx) * dx, np.arange(nt) * dt
refl = np.zeros((nx, nt))
for t0, slope, v, amp in [(0.2, 1 / 2500, None, 1.0), (0.55, -1 / 4000, None, -0.6),
                          (0.4, None, 1500.0, 0.8), (0.7, None, 1800.0, -0.7)]:
    tev = t0 + slope * xs if v is None else np.sqrt(t0 ** 2 + ((xs - xs[nx // 2]) / v) ** 2)
    it = tev / dt  # each spike shared between the two samples around its time
    i0, w = np.floor(it).astype(int), it - np.floor(it)
    np.add.at(refl, (np.arange(nx), i0), amp * (1 - w))
    np.add.at(refl, (np.arange(nx), i0 + 1), amp * w)
wav = ricker(t[: 2 * int(0.04 / dt) + 1], f0=20)[0]  # odd length: centred
data = np.array([np.convolve(tr, wav, mode="same") for tr in refl])

# %%
# Half of the traces, chosen at random, recorded in 4 chunks along time.
iava = np.sort(np.random.default_rng(0).choice(nx, nx // 2, replace=False))
R = pld.Restriction((nx, nt), iava, axis=0, dtype="complex128")
yd = da.from_array(data[iava], chunks=(len(iava), -(-nt // 4)))

# %%
# The operator :math:`\mathbf{R}\mathbf{F}^H`, with twice as many wavenumbers as traces:
# our ``FFT2D`` under PyLops' name and arguments. A 2-D FFT needs both axes of the section:
# inside a product (a solver's iteration) the operator reads them whole, in one task; applied
# on its own to a chunked array it runs a pencil scheme (rows, one rechunk, columns).
F = pld.signalprocessing.FFT2D(dims=(nx, nt), nffts=(2 * nx, nt), sampling=(dx, dt))
PF = pylops.signalprocessing.FFT2D(dims=(nx, nt), nffts=(2 * nx, nt), sampling=(dx, dt))
Op = R @ F.H
POp = pylops.Restriction((nx, nt), iava, axis=0, dtype="complex128") @ PF.H

# %%
# FISTA, ours and PyLops'. :math:`\mathbf{F}^H\mathbf{F} = \mathbf{I}` (``norm="ortho"``)
# and R selects samples, so :math:`\mathbf{R}\mathbf{F}^H` has orthonormal rows: the step is
# 1, no eigenvalue estimate needed. ``tol=0`` runs all the iterations in both; ours brings
# the cost back every ``check_every`` iterations.
kw = dict(niter=150, eps=0.01, alpha=1.0, tol=0)
t0 = time.perf_counter()
p = sparsity.fista(Op, yd, check_every=25, **kw)[0].compute()
tours = time.perf_counter() - t0
t0 = time.perf_counter()
pref = psp.fista(POp, data[iava].ravel(), **kw)[0]
tref = time.perf_counter() - t0
xinv = np.real((F.H @ da.from_array(p, chunks=(2 * nx, nt // 4))).compute())
xref = np.real(PF.H @ pref).reshape(nx, nt)


# %%
# Errors against the true section, and the difference between our answer and PyLops'.
def error(v):
    return np.linalg.norm(v - data) / np.linalg.norm(data)


zerofilled = np.zeros_like(data)
zerofilled[iava] = data[iava]
diff = np.linalg.norm(p.ravel() - pref) / np.linalg.norm(pref)
print(f"section {nx} traces x {nt} samples, {len(iava)} traces recorded, "
      f"{yd.numblocks[1]} chunks along time")
print(f"{'zero-filled data':20s} error vs true {error(zerofilled):.3f}")
print(f"{'FISTA (FFT2D)':20s} error vs true {error(xinv):.3f}   vs PyLops {diff:.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The true section, the recorded traces, our reconstruction and its error.
fig, axs = plt.subplots(1, 4, figsize=(14, 4), sharey=True)
extent = (0, xs[-1], t[-1], 0)
for ax, (title, img) in zip(axs, [("true", data), ("recorded", zerofilled),
                                  ("FISTA (ours)", xinv), ("error (ours)", xinv - data)]):
    ax.imshow(img.T, cmap="gray", vmin=-1, vmax=1, aspect="auto", extent=extent)
    ax.set_title(title)
    ax.set_xlabel("x [m]")
axs[0].set_ylabel("t [s]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_interpolation.png", dpi=80)
