r"""
Multi-dimensional deconvolution
===============================

Multi-dimensional deconvolution (MDD) removes the imprint of a downgoing wavefield
:math:`G` from an upgoing one :math:`d` to find the medium's response :math:`m` (here the
reflection response between receivers and virtual sources):

.. math::
        d(s, v, t) = \sum_{r} G(s, r, t) * m(r, v, t)

a multi-dimensional convolution (MDC), inverted by least squares. The downgoing field of
this example is a direct arrival followed by a weaker, later copy of it (a free-surface
ghost), so the plain cross-correlation (the MDC's adjoint) blurs every event of :math:`m`
with that copy; MDD removes it.

:func:`pylops_distributed.waveeqprocessing.MDD` brings :math:`G` to the frequency domain
once, in blocks of sources (here a dask array in 2 pieces), and solves with our LSQR, the
MDC running one task per block of :math:`G` inside every iteration. The answer is compared
with PyLops' ``MDD`` (SciPy's ``lsqr``) on the same problem. Writes ``plot_mdd.png``.

Run: .venv/bin/python examples/plot_mdd.py [--size NS]
"""

import argparse
import sys
import time

import dask
import dask.array as da
import matplotlib
import numpy as np
import pylops

from pylops_distributed.waveeqprocessing import MDD

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="MDD", allow_abbrev=False)
parser.add_argument("--size", type=int, default=31,
                    help="sources = receivers = virtual sources (default 31; the benchmark "
                         "size is 121 to 201)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")

# %%
# Geometry: sources, receivers and virtual sources every 20 m along a line, 0.6 s of data
# at 4 ms, a 15 Hz Ricker wavelet.
n, dx, dt, nt = args.size, 20.0, 0.004, 151
x = np.arange(n) * dx
t = np.arange(nt) * dt
wav = pylops.utils.wavelets.ricker(t[:41], f0=15)[0]
vel = 1500.0


def events(offsets, t0s, amps):
    """Traces of hyperbolic events: ``offsets`` (any shape), one Ricker per (t0, amp)."""
    out = np.zeros(offsets.shape + (nt,))
    for t0, a in zip(t0s, amps):
        tau = np.sqrt(t0 ** 2 + (offsets / vel) ** 2)
        it = np.round(tau / dt).astype(int)
        inside = it < nt
        spikes = np.zeros(offsets.shape + (nt,))
        np.put_along_axis(spikes, np.where(inside, it, 0)[..., None],
                          np.where(inside, a, 0.0)[..., None], axis=-1)
        out += spikes
    return np.apply_along_axis(lambda tr: np.convolve(tr, wav, mode="same"), -1, out)


offsets = x[:, None] - x[None, :]
G = events(offsets, [0.02, 0.14], [1.0, -0.5])      # (sources, receivers, time)
m = events(offsets, [0.2, 0.36], [1.0, 0.7])        # (receivers, virtual sources, time)

# %%
# The data: PyLops' MDC on the two-sided kernel and model (negative times zero), positive
# times kept, as PyLops' MDD tutorial makes them.
nt2, nfmax = 2 * nt - 1, nt
Gf = np.fft.rfft(np.concatenate([np.zeros((n, n, nt - 1)), G], -1), nt2, axis=-1)[..., :nfmax]
MOp = pylops.waveeqprocessing.MDC(np.moveaxis(Gf, -1, 0), nt2, nv=n, dt=dt, dr=dx)
m2 = np.moveaxis(np.concatenate([np.zeros((n, n, nt - 1)), m], -1), -1, 0)
d = np.moveaxis((MOp @ m2.ravel()).reshape(nt2, n, n), 0, -1)[..., nt - 1:]

# %%
# MDD, ours (``G`` a dask array in 2 blocks of sources) and PyLops': 30 LSQR iterations with
# no early stop; the adjoint (cross-correlation) comes with it.
kw = dict(dt=dt, dr=dx, nfmax=nfmax, twosided=True, adjoint=True, iter_lim=30, atol=0,
          btol=0)
t1 = time.perf_counter()
minv, madj = dask.compute(*MDD(da.from_array(G, chunks=(-(-n // 2), n, nt)), d, **kw))
tours = time.perf_counter() - t1
t1 = time.perf_counter()
ref, _ = pylops.waveeqprocessing.MDD(G, d, **kw)
tref = time.perf_counter() - t1
minv, madj, ref = minv[..., nt - 1:], madj[..., nt - 1:], ref[..., nt - 1:]
alpha = np.sum(madj * m) / np.sum(madj ** 2)  # the adjoint scaled to fit m best


# %%
# Errors against the true response, and the difference between our answer and PyLops'.
def error(v):
    return np.linalg.norm(v - m) / np.linalg.norm(m)


print(f"{n} sources x {n} receivers x {n} virtual sources x {nt} samples, {nfmax} "
      "frequencies, G in 2 blocks of sources")
print(f"{'adjoint (scaled)':20s} error vs true {error(alpha * madj):.3f}")
print(f"{'MDD (LSQR)':20s} error vs true {error(minv):.3f}   "
      f"vs PyLops {np.linalg.norm(minv - ref) / np.linalg.norm(ref):.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# A gather of the data, the scaled adjoint, our MDD estimate and the true response, for the
# virtual source in the middle.
v = n // 2
fig, axs = plt.subplots(1, 4, figsize=(14, 4), sharey=True)
ext = (x[0], x[-1], t[-1], t[0])
for ax, (title, a) in zip(axs, [("data d", d[:, v]), ("adjoint (scaled)", alpha * madj[:, v]),
                                ("MDD, 30 LSQR iterations (ours)", minv[:, v]),
                                ("true m", m[:, v])]):
    lim = np.abs(a).max()
    ax.imshow(a.T, cmap="gray", aspect="auto", extent=ext, vmin=-lim, vmax=lim)
    ax.set_title(title)
    ax.set_xlabel("x [m]")
axs[0].set_ylabel("t [s]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_mdd.png", dpi=80)
