r"""
Post-stack seismic inversion with a Laplacian regulariser
=========================================================

A 2-D acoustic-impedance section of dipping, undulating layers is turned into post-stack
data by the convolutional model of PyLops' ``PoststackLinearModelling``,

.. math::
        d(t, x) = w(t) * \frac{\mathrm{d} \ln \mathrm{AI}(t, x)}{\mathrm{d}t}

(the factor :math:`\tfrac12` folded into the wavelet :math:`w`), and noise is added. As in
PyLops' *Post-stack inversion* tutorial, :math:`m = \ln \mathrm{AI}` is recovered from a smooth
background model by a spatially regularised least-squares inversion,

.. math::
        J = \|\mathbf{d} - \mathbf{W}\mathbf{D}\,\mathbf{m}\|_2^2 +
        \epsilon_R^2 \|\nabla^2 \mathbf{m}\|_2^2

with :func:`pylops_distributed.avo.poststack.PoststackInversion` (our LSQR, the section in
chunks of traces, the Laplacian exchanging halos between them), and compared with PyLops'
``PoststackInversion`` on the same problem. A trace-by-trace inversion (``explicit=True``:
damped normal equations solved by ``lstsq``, one task per chunk of traces) is shown too.
Writes ``plot_poststack_inversion.png``.

Run: .venv/bin/python examples/plot_poststack_inversion.py [--size NX]
"""

import argparse
import sys
import time
import warnings

import dask
import dask.array as da
import matplotlib
import numpy as np
import pylops
from pylops.utils.wavelets import ricker
from scipy.ndimage import gaussian_filter

from pylops_distributed.avo.poststack import PoststackInversion, PoststackLinearModelling

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description="Post-stack seismic inversion", allow_abbrev=False)
parser.add_argument("--size", type=int, default=64,
                    help="number of traces (default 64; 2.5 times as many time samples)")
args = parser.parse_known_args()[0]  # sphinx-gallery leaves sphinx-build's in sys.argv
dask.config.set(scheduler="threads")
# PyLops' explicit operator (its convmtx) warns about a v2.2 change on every call
warnings.filterwarnings("ignore", message="A new implementation of convmtx", category=FutureWarning)

# %%
# The impedance section: six layers whose tops dip and undulate across the section, 4 ms
# sampling. The background model (the inversion's start) is the section smoothed well
# beyond the wavelet's resolution.
nx, nt0, dt = args.size, int(2.5 * args.size), 0.004
t0, xs = np.arange(nt0) * dt, np.arange(nx) / args.size
ai = np.full((nt0, nx), 2000.0)
for k, (top, value) in enumerate(zip([0.15, 0.3, 0.42, 0.55, 0.7, 0.85],
                                     [2600.0, 2300.0, 3000.0, 2700.0, 3300.0, 3100.0])):
    tops = top + 0.08 * (xs - 0.5) * (-1) ** (k + 1) + 0.02 * np.sin(2 * np.pi * xs * (k + 1))
    ai[(t0 / t0[-1])[:, None] >= tops[None, :]] = value
m = np.log(ai)
mback = gaussian_filter(m, sigma=(15, 10))

# %%
# The data: a 20 Hz Ricker wavelet (halved), our operator applied to the section in 4 chunks
# of traces (the time axis whole in every task), and 10% Gaussian noise.
wav = ricker(np.arange(21) * dt, f0=20)[0] / 2
chunks = (nt0, -(-nx // 4))
PPop = PoststackLinearModelling(wav, nt0, spatdims=nx)
d = (PPop @ da.from_array(m, chunks=chunks)).compute()
rng = np.random.default_rng(0)
dn = d + rng.normal(0.0, 0.1 * d.std(), d.shape)
dnd = da.from_array(dn, chunks=chunks)

# %%
# The inversions, ours and PyLops'. SciPy's LSQR arguments pass through both: 100
# iterations, no early stop (``atol = btol = 0``, no condition limit), so the two run the
# same iterations on the same problem.
kw = dict(epsR=0.1, iter_lim=100, atol=0, btol=0, conlim=1e30)
t1 = time.perf_counter()
minv = PoststackInversion(dnd, wav, m0=mback, **kw)[0].compute()
tours = time.perf_counter() - t1
t1 = time.perf_counter()
mref = pylops.avo.poststack.PoststackInversion(dn, wav, m0=mback, **kw)[0]
tref = time.perf_counter() - t1

kwt = dict(explicit=True, epsI=1e-3)  # trace by trace: (W^T W + epsI I) m = W^T d
mtrace = PoststackInversion(dnd, wav, m0=mback, **kwt)[0].compute()
mtrace_ref = pylops.avo.poststack.PoststackInversion(dn, wav, m0=mback, **kwt)[0]


# %%
# Errors against the true section (relative to the section's variation about its mean),
# and the differences between our answers and PyLops'.
def error(v):
    return np.linalg.norm(v - m) / np.linalg.norm(m - m.mean())


def vs_pylops(ours, ref):
    return np.linalg.norm(ours - ref) / np.linalg.norm(ref)


print(f"section {nt0} samples x {nx} traces, {dnd.numblocks[1]} chunks of traces")
print(f"{'background model':20s} error vs true {error(mback):.3f}")
print(f"{'trace by trace':20s} error vs true {error(mtrace):.3f}   "
      f"vs PyLops {vs_pylops(mtrace, mtrace_ref):.1e}")
print(f"{'Laplacian (LSQR)':20s} error vs true {error(minv):.3f}   "
      f"vs PyLops {vs_pylops(minv, mref):.1e}")
print(f"time: ours {tours:.1f} s, PyLops {tref:.1f} s")

# %%
# The true impedance, the background model, the noisy data and our inversion.
fig, axs = plt.subplots(1, 4, figsize=(14, 4), sharey=True)
extent = (0, nx, t0[-1], 0)
vmin, vmax = ai.min(), ai.max()
for ax, (title, img, cmap, lims) in zip(axs, [
        ("true AI", ai, "terrain", (vmin, vmax)),
        ("background AI", np.exp(mback), "terrain", (vmin, vmax)),
        ("noisy data", dn, "gray", (-np.abs(dn).max(), np.abs(dn).max())),
        ("inverted AI (ours)", np.exp(minv), "terrain", (vmin, vmax))]):
    ax.imshow(img, cmap=cmap, vmin=lims[0], vmax=lims[1], aspect="auto", extent=extent)
    ax.set_title(title)
    ax.set_xlabel("trace")
axs[0].set_ylabel("t [s]")
fig.tight_layout()
if "sphinx_gallery" not in sys.modules:  # a script run; the gallery keeps the figure itself
    fig.savefig("plot_poststack_inversion.png", dpi=80)
