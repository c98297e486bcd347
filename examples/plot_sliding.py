r"""
Seismic interpolation with FISTA in sliding Fourier windows
===========================================================

A 2-D seismic section with curved (hyperbolic) events is recorded at half of its traces,
chosen at random. A hyperbola is not sparse in the 2-D Fourier domain of the whole section,
but on a few traces it is nearly straight: as in PyLops' *Sliding* tutorials, the section is
cut into windows overlapping along the trace axis and modelled as
:math:`\mathbf{x} = \mathbf{S}\mathbf{p}`, where :math:`\mathbf{S}` takes each window's 2-D
Fourier coefficients through :math:`\mathbf{F}^H`, tapers the window and adds it into the
section. The missing traces are recovered by looking for the sparsest local coefficients
:math:`\mathbf{p}` that explain the recorded ones:

.. math::
        J = \tfrac12 \|\mathbf{y} - \mathbf{R} \mathbf{S} \mathbf{p}\|_2^2
        + \epsilon \|\mathbf{p}\|_1

with :math:`\mathbf{R}` a :class:`pylops_distributed.Restriction` along the trace axis,
:math:`\mathbf{S}` :class:`pylops_distributed.signalprocessing.Sliding2D` (with PyLops'
``FFT2D`` as the per-window operator), solved by
:func:`pylops_distributed.optimization.sparsity.fista` and compared with PyLops' ``fista`` on
the same problem. Writes ``plot_sliding.png``.

Run: .venv/bin/python examples/plot_sliding.py [--size NX]
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
from pylops_distributed.signalprocessing import Sliding2D, sliding2d_design

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Sliding-window seismic interpolation with FISTA",
                                 allow_abbrev=False)
parser.add_argument("--size", type=int, default=64,
                    help="number of traces, a multiple of 32 (default 64; twice as many time "
                         "samples)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")

# %%
# The section: 320 m of traces (5 m apart by default) and 0.512 s of time whatever ``--size``
# (only the sampling changes), three hyperbolic events and a linear one convolved with a 20 Hz
# Ricker wavelet. Their apexes sit a third of the way along, so the dips differ from window to
# window.
nx, nt = args.size, 2 * args.size
dx, dt = 320.0 / nx, 0.512 / nt
xs, t = np.arange(nx) * dx, np.arange(nt) * dt
refl = np.zeros((nx, nt))
for t0, slope, v, amp in [(0.08, None, 1200.0, 1.0), (0.2, None, 1600.0, -0.7),
                          (0.3, None, 2000.0, 0.8), (0.12, 1 / 3000, None, 0.5)]:
    tev = t0 + slope * xs if v is None else np.sqrt(t0 ** 2 + ((xs - xs[nx // 3]) / v) ** 2)
    keep = tev < t[-1] - dt
    it = tev[keep] / dt  # each spike shared between the two samples around its time
    i0, w = np.floor(it).astype(int), it - np.floor(it)
    np.add.at(refl, (np.arange(nx)[keep], i0), amp * (1 - w))
    np.add.at(refl, (np.arange(nx)[keep], i0 + 1), amp * w)
wav = ricker(t[: 2 * int(0.04 / dt) + 1], f0=20)[0]  # odd length: centred
data = np.array([np.convolve(tr, wav, mode="same") for tr in refl])

# %%
# Half of the traces, chosen at random.
iava = np.sort(np.random.default_rng(0).choice(nx, nx // 2, replace=False))
R = pld.Restriction((nx, nt), iava, axis=0, dtype="complex128")
PR = pylops.Restriction((nx, nt), iava, axis=0, dtype="complex128")

# %%
# The windows: ``nwin`` traces overlapping by ``nover`` (4 windows of 22 traces for the default
# size), each with as many wavenumbers as its traces rounded up to a power of two (32 for 22).
# PyLops' ``sliding2d_design`` gives the model's shape (the windows' models stacked along
# the first axis) for that data shape; the per-window operator is PyLops' ``FFT2D``, the same
# object in our ``Sliding2D`` and in PyLops'.
nwin, nover = 11 * nx // 32, nx // 8
nop = (int(2 ** np.ceil(np.log2(nwin))), nt)
nwins, dims, _, _ = sliding2d_design((nx, nt), nwin, nover, nop, verb=False)
PF = pylops.signalprocessing.FFT2D(dims=(nwin, nt), nffts=nop, sampling=(dx, dt))
S = Sliding2D(PF.H, dims, (nx, nt), nwin, nover, tapertype="cosine")
PS = pylops.signalprocessing.Sliding2D(PF.H, dims, (nx, nt), nwin, nover, tapertype="cosine")
Op, POp = R @ S, PR @ PS

# %%
# The recorded traces in one chunk per window, along the trace axis. The adjoint of
# :math:`\mathbf{R}` starts each chunk of the section at the chunk's first recorded trace,
# and that of :math:`\mathbf{S}` gives each window to the chunk holding its start: so a chunk
# begins at the last recorded trace at or before a window's start. The model then comes in one
# chunk per window, as many chunks as the data, and the solver pairs each data chunk with its
# window's model (data and model chunked differently would leave it on plain dask.array
# expressions, with more tasks per iteration, and it says so).
first = np.maximum(np.searchsorted(iava, S.dwin_inends[0], side="right") - 1, 0)
sizes = np.diff(np.unique(np.append(first, len(iava))))
yd = da.from_array(data[iava], chunks=(tuple(int(c) for c in sizes), nt))

# %%
# FISTA, ours and PyLops'. :math:`\mathbf{F}^H` has orthonormal rows (``norm="ortho"``,
# zero padding), and the cosine tapers of neighbouring windows sum to one on the overlap, so
# :math:`\mathbf{S}\mathbf{S}^H` is diagonal with entries :math:`\sum_w T_w^2 \le 1`: the step
# ``alpha=1`` is valid for both solvers, no eigenvalue estimate needed. ``tol=0`` runs all
# the iterations in both; ours brings the cost back every ``check_every`` iterations. The
# model comes back chunked along the window axis.
kw = dict(niter=100, eps=0.01, alpha=1.0, tol=0)
t0 = time.perf_counter()
pd = sparsity.fista(Op, yd, check_every=25, **kw)[0]
mchunks = pd.numblocks[0]
p = pd.compute()
tours = time.perf_counter() - t0
t0 = time.perf_counter()
pref = psp.fista(POp, data[iava].ravel(), **kw)[0]
tref = time.perf_counter() - t0
xinv = np.real((S @ da.from_array(p, chunks=(1,) + p.shape[1:])).compute())


# %%
# Errors against the true section, and the difference between our answer and PyLops'.
def error(v):
    return np.linalg.norm(v - data) / np.linalg.norm(data)


zerofilled = np.zeros_like(data)
zerofilled[iava] = data[iava]
diff = np.linalg.norm(p.ravel() - pref) / np.linalg.norm(pref)
print(f"section {nx} traces x {nt} samples, {len(iava)} traces recorded in "
      f"{yd.numblocks[0]} chunks, {nwins} windows of {nwin} traces (model in {mchunks} chunks)")
print(f"{'zero-filled data':20s} error vs true {error(zerofilled):.3f}")
print(f"{'FISTA (Sliding2D)':20s} error vs true {error(xinv):.3f}   vs PyLops {diff:.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The true section, the recorded traces, our reconstruction and its error.
fig, axs = plt.subplots(1, 4, figsize=(14, 4), sharey=True)
extent = (0, xs[-1], t[-1], 0)
for ax, (title, img) in zip(axs, [("true (red: window starts)", data), ("recorded", zerofilled),
                                  ("FISTA (ours)", xinv), ("error (ours)", xinv - data)]):
    ax.imshow(img.T, cmap="gray", vmin=-1, vmax=1, aspect="auto", extent=extent)
    ax.set_title(title)
    ax.set_xlabel("x [m]")
for start in S.dwin_inends[0][1:]:  # where each window after the first begins
    axs[0].axvline(start * dx, color="r", lw=0.8, ls="--")
axs[0].set_ylabel("t [s]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_sliding.png", dpi=80)
