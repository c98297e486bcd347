r"""
Deblending with FISTA
=====================

In simultaneous-source acquisition the sources fire before the previous shot's recording
has ended, so one continuous record holds overlapping shots. Blending is linear,

.. math::
        \mathbf{d} = \mathbf{B}\,\mathbf{u}

with :class:`pylops_distributed.waveeqprocessing.BlendingContinuous` (each shot's traces
placed at its firing time in the continuous record, one task per chunk of shots). The
*pseudo-deblended* gather :math:`\mathbf{B}^H \mathbf{d}` holds every shot plus the
crosstalk of its neighbours, which random firing times make incoherent from shot to shot.
Deblending looks for the gather that is sparse in the f-k domain and explains the record:

.. math::
        J = \frac{1}{2}\|\mathbf{d} - \mathbf{B}\,\mathbf{F}^H \mathbf{x}\|_2^2
            + \epsilon \|\mathbf{x}\|_1

solved with our FISTA, and compared with PyLops' FISTA on PyLops' operators (same step and
iterations). The gather here is one receiver's, recorded from every shot. Writes
``plot_deblending.png``.

Run: .venv/bin/python examples/plot_deblending.py [--size NS]
"""

import argparse
import sys
import time

import dask
import matplotlib
import numpy as np
import pylops

import pylops_distributed as pld
from pylops_distributed.optimization.sparsity import fista
from pylops_distributed.waveeqprocessing import BlendingContinuous

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Deblending", allow_abbrev=False)
parser.add_argument("--size", type=int, default=64, help="shots (default 64)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")

# %%
# One receiver's gather: shots every 12.5 m, 0.8 s at 4 ms, three hyperbolic events and a
# 20 Hz Ricker wavelet.
ns, nt, dt = args.size, 200, 0.004
xs = (np.arange(ns) - ns // 2) * 12.5
t = np.arange(nt) * dt
wav = pylops.utils.wavelets.ricker(t[:31], f0=20)[0]
u = np.zeros((ns, 1, nt))
for t0, vel, amp in [(0.2, 1500.0, 1.0), (0.35, 1800.0, -0.7), (0.55, 2200.0, 0.5)]:
    it = np.round(np.sqrt(t0 ** 2 + (xs / vel) ** 2) / dt).astype(int)
    ok = it < nt
    u[np.arange(ns)[ok], 0, it[ok]] = amp
u = np.apply_along_axis(lambda tr: np.convolve(tr, wav, mode="same"), -1, u)

# %%
# Firing times: every 0.4 s (half a record), each dithered by up to +-0.1 s at random.
rng = np.random.default_rng(0)
times = np.arange(ns) * 0.4 + rng.uniform(-0.1, 0.1, ns)
times -= times.min()
B = BlendingContinuous(nt, 1, ns, dt, times)
F = pld.signalprocessing.FFT2D((ns, 1, nt), axes=(0, 2), real=True)
Op = B @ F.H
d = (B @ u).compute()
pseudo = (B.H @ d).compute()

PB = pylops.waveeqprocessing.BlendingContinuous(nt, 1, ns, dt, times)
PF = pylops.signalprocessing.FFT2D((ns, 1, nt), axes=(0, 2), real=True)
POp = PB @ PF.H

# %%
# The step: 0.9 over the largest eigenvalue of :math:`\mathbf{Op}^H\mathbf{Op}` (power
# iterations from a fixed start, so that both solvers take the same steps).
v = rng.standard_normal(POp.shape[1]) + 1j * rng.standard_normal(POp.shape[1])
for _ in range(30):
    v = POp.H @ (POp @ v)
    lmax = np.linalg.norm(v)
    v /= lmax
alpha, eps, niter = 0.9 / lmax, 0.02, 100

t1 = time.perf_counter()
x = fista(Op, d, niter=niter, eps=eps, alpha=alpha, tol=0)[0]
deblended = (F.H @ x).compute().real
tours = time.perf_counter() - t1
t1 = time.perf_counter()
xref = pylops.optimization.sparsity.fista(POp, d.ravel(), niter=niter, eps=eps, alpha=alpha,
                                          tol=0)[0]
ref = (PF.H @ xref).real.reshape(u.shape)
tref = time.perf_counter() - t1


# %%
# Errors against the true gather, and the difference between our answer and PyLops'.
def error(a):
    return np.linalg.norm(a - u) / np.linalg.norm(u)


print(f"{ns} shots x {nt} samples, continuous record of {d.shape[-1]} samples")
print(f"{'pseudo-deblended':20s} error vs true {error(pseudo):.3f}")
print(f"{'FISTA (FFT2D)':20s} error vs true {error(deblended):.3f}   "
      f"vs PyLops {np.linalg.norm(deblended - ref) / np.linalg.norm(ref):.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The continuous record, the pseudo-deblended gather, ours deblended and the true gather.
fig, axs = plt.subplots(1, 4, figsize=(15, 4))
tt = np.arange(d.shape[-1]) * dt
axs[0].plot(tt, d[0], "k", lw=0.5)
axs[0].set_title("continuous record")
axs[0].set_xlabel("t [s]")
lim = np.abs(u).max()
ext = (xs[0], xs[-1], t[-1], t[0])
for ax, (title, a) in zip(axs[1:], [("pseudo-deblended (B^H d)", pseudo),
                                    (f"deblended, FISTA {niter} it. (ours)", deblended),
                                    ("true gather", u)]):
    ax.imshow(a[:, 0].T, cmap="gray", aspect="auto", extent=ext, vmin=-lim, vmax=lim)
    ax.set_title(title)
    ax.set_xlabel("source x [m]")
axs[1].set_ylabel("t [s]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_deblending.png", dpi=80)
