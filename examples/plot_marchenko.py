r"""
Marchenko redatuming
====================

The reflection response of a horizontally layered medium, recorded at the surface with all
its internal multiples, is redatumed to a point inside the medium: Marchenko redatuming
retrieves the focusing functions :math:`f^\pm` and the Green's functions :math:`g^\pm` between
that point and the surface from the reflection response :math:`R` and the traveltimes of the
direct arrival only,

.. math::
        \begin{bmatrix} \Theta R f_d^+ \\ 0 \end{bmatrix} =
        \left( I - \begin{bmatrix} 0 & \Theta R \\ \Theta R^* & 0 \end{bmatrix} \right)
        \begin{bmatrix} f^- \\ f_m^+ \end{bmatrix}

solved with :class:`pylops_distributed.waveeqprocessing.Marchenko`: every application of the
operator runs two multi-dimensional convolutions with :math:`R`, one task per block of
frequencies, and the system is solved with our LSQR. The answer is compared with PyLops'
``Marchenko`` on the same data. Writes ``plot_marchenko.png``.

The reflection response is modelled in the wavenumber-frequency domain (plane-wave reflection
coefficients of the stack of layers, all internal multiples, no free surface), the direct
arrival with PyLops' ``directwave`` from traveltimes traced through the layers.

Run: .venv/bin/python examples/plot_marchenko.py [--size NX]
"""

import argparse
import logging
import sys
import time

import dask
import dask.array as da
import matplotlib
import numpy as np
import pylops

from pylops_distributed.waveeqprocessing import Marchenko

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Marchenko redatuming", allow_abbrev=False)
parser.add_argument("--size", type=int, default=61,
                    help="sources and receivers at the surface (default 61)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")
logging.getLogger("pylops").setLevel(logging.ERROR)  # both Marchenkos say how they set nfmax
logging.getLogger("pylops_distributed").setLevel(logging.ERROR)

# %%
# The medium: three interfaces under a water-like layer, 10 m trace spacing, 1.2 s at 4 ms.
nx, dx, nt, dt = args.size, 10.0, 301, 0.004
x = (np.arange(nx) - nx // 2) * dx
vel = np.array([1800.0, 2400.0, 2000.0, 3000.0])
rho = np.array([1000.0, 2000.0, 1400.0, 2500.0])
depth = np.array([300.0, 500.0, 800.0])  # of the interfaces
zf = 650.0  # the virtual point, between the second and the third interface, under x = 0
wav = pylops.utils.wavelets.ricker(np.arange(41) * dt, f0=25)[0]


def reflection_response(nk, nfft):
    """R(offset, t): the medium's plane-wave reflection response (recursion from the deepest
    interface up), times the zero-phase wavelet's spectrum (as ``directwave`` makes the
    direct arrival), brought back to offset and time; the plane-wave response of pressure is
    already twice the monopole-to-particle-velocity response that Marchenko expects."""
    kx = 2 * np.pi * np.fft.fftfreq(nk, dx)[:, None]
    om = 2 * np.pi * np.fft.rfftfreq(nfft, dt)[None, :]
    om = om - 1j * 0.5  # a little damping against wrap-around in time (undone below)
    kz = [np.sqrt((om / c) ** 2 - kx ** 2) for c in vel]
    kz = [np.where(k.imag > 0, -k, k) for k in kz]  # decaying with depth, exp(-i kz z)
    thick = np.diff(depth)
    Rb = np.zeros_like(kz[0])
    for i in range(len(depth) - 1, -1, -1):  # interface i: layer i over layer i + 1
        r = (rho[i + 1] * kz[i] - rho[i] * kz[i + 1]) / (rho[i + 1] * kz[i] + rho[i] * kz[i + 1])
        below = Rb * np.exp(-2j * kz[i + 1] * thick[i]) if i < len(thick) else 0.0
        Rb = (r + below) / (1 + r * below)
    Rs = Rb * np.exp(-2j * kz[0] * depth[0]) * np.abs(np.fft.rfft(wav, nfft))[None, :] * dt
    r_xt = np.fft.irfft(np.fft.ifft(Rs, axis=0), nfft, axis=1) / (dx * dt)
    return r_xt[:, :nt] * np.exp(0.5 * np.arange(nt) * dt)


def traveltimes(xr):
    """Direct-arrival traveltimes from the virtual point to the receivers, by ray tracing
    through the layers above it (bisection on the ray parameter)."""
    tops = np.concatenate(([0.0], depth[depth < zf]))
    h = np.diff(np.concatenate((tops, [zf])))
    c = vel[: len(h)]
    out = []
    for off in np.abs(xr):
        lo, hi = 0.0, (1 - 1e-9) / c.max()
        for _ in range(60):
            p = (lo + hi) / 2
            lo, hi = (p, hi) if np.sum(h * p * c / np.sqrt(1 - (p * c) ** 2)) < off else (lo, p)
        out.append(np.sum(h / (c * np.sqrt(1 - (p * c) ** 2))))
    return np.array(out)


nk = 4 * nx
r_xt = reflection_response(nk, 4 * nt)
offsets = np.round((x[None, :] - x[:, None]) / dx).astype(int) % nk
R = r_xt[offsets]  # (sources, receivers, time)
trav = traveltimes(x)

# %%
# Redatuming, ours (R as a dask array in 2 x 2 pieces, brought to frequency once, each MDC
# one task per piece) and PyLops': 20 LSQR iterations.
kw = dict(dt=dt, dr=dx, nfmax=200, wav=wav, toff=0.045, nsmooth=10)
solver = dict(iter_lim=20, atol=0, btol=0)
t1 = time.perf_counter()
mck = Marchenko(da.from_array(R, chunks=(nx // 2 + 1, nx // 2 + 1, nt)), **kw)
out = dask.compute(*mck.apply_onepoint(trav, nfft=2 ** 11, rtm=True, greens=True, **solver))
tours = time.perf_counter() - t1
f_minus, f_plus, p0_minus, g_minus, g_plus = out
t1 = time.perf_counter()
ref = pylops.waveeqprocessing.Marchenko(R, **kw).apply_onepoint(trav, nfft=2 ** 11, rtm=True,
                                                                greens=True, **solver)
tref = time.perf_counter() - t1

print(f"{nx} sources x {nx} receivers x {nt} samples, R in "
      f"{mck.Rtwosided_fft.numblocks[1]} x {mck.Rtwosided_fft.numblocks[2]} blocks")
for name, a, b in zip(["f-", "f+", "p0-", "g-", "g+"], out, ref):
    print(f"{name:4s} vs PyLops {np.linalg.norm(a - b) / np.linalg.norm(b):.1e}")
t2 = np.arange(-(nt - 1), nt) * dt
inside = np.abs(t2)[None, :] < trav[:, None] - 0.06  # inside the window, off its tapers


def share(a):
    return np.linalg.norm(a[inside]) / np.linalg.norm(a)


print(f"energy before the direct arrival: single scattering {share(p0_minus):.3f}, "
      f"Marchenko g- {share(g_minus):.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The focusing functions and the Green's functions at the surface, and the single-scattering
# redatuming (the adjoint of the direct arrival's convolution) for comparison: its internal
# multiples give spurious events that the Marchenko Green's function does not have.
fig, axs = plt.subplots(1, 5, figsize=(16, 5), sharey=True)
panels = [(f_minus, "f- (focusing, up)"), (f_plus, "f+ (focusing, down)"),
          (p0_minus, "single scattering p0-"), (g_minus, "g- (Green, up)"),
          (g_plus, "g+ (Green, down)")]
for ax, (a, title) in zip(axs, panels):
    lim = 0.2 * np.abs(a).max()
    ax.imshow(a.T, cmap="gray", vmin=-lim, vmax=lim, aspect="auto",
              extent=(x[0], x[-1], t2[-1], t2[0]))
    ax.plot(x, trav, "r--", lw=0.8)
    ax.set_title(title)
    ax.set_xlabel("x [m]")
    ax.set_xticks([-200, 0, 200])
    ax.set_ylim(1.0, -0.6)
axs[0].set_ylabel("t [s]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_marchenko.png", dpi=80)
