"""Sparse spike deconvolution on chunks: FISTA, IRLS and linearized Bregman against PyLops.

A sparse reflectivity (a few spikes per trace, 64 traces) blurred along time by a Ricker
wavelet (a ``MatrixMult`` applied along axis 0, the traces in 4 chunks) plus noise. FISTA
(L1, as ``pylops.optimization.sparsity.fista``), model IRLS and linearized Bregman (the
sparsity-promoting solver of least-squares migration) recover the spikes; FISTA and IRLS are
compared with PyLops on the same problem. Writes ``sparse_deconvolution.png``.

Run: .venv/bin/python examples/sparse_deconvolution.py
"""

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


def ricker(nt, dt=0.004, f0=25.0):
    t = (np.arange(nt) - nt // 2) * dt
    return (1 - 2 * (np.pi * f0 * t) ** 2) * np.exp(-((np.pi * f0 * t) ** 2))


def main():
    rng = np.random.default_rng(0)
    nt, nx = 200, 64
    refl = np.zeros((nt, nx))
    for ix in range(nx):
        it = rng.choice(np.arange(20, nt - 20), 4, replace=False)
        refl[it, ix] = rng.uniform(-1, 1, 4)
    w = ricker(41)
    W = np.array([np.convolve(np.eye(nt)[:, i], w, mode="same") for i in range(nt)]).T
    y = W @ refl + 0.02 * rng.standard_normal((nt, nx))

    Op = pld.MatrixMult(da.from_array(W, chunks=(nt, nt)), otherdims=nx)
    POp = pylops.MatrixMult(W, otherdims=nx)
    yd = da.from_array(y, chunks=(nt, nx // 4))  # 4 chunks of traces
    err = {}

    def report(name, x, ref=None):
        err[name] = np.linalg.norm(x - refl) / np.linalg.norm(refl)
        line = f"{name:20s} error vs true {err[name]:.3f}"
        if ref is not None:
            line += f"   vs PyLops {np.linalg.norm(x.ravel() - ref.ravel()) / np.linalg.norm(ref):.1e}"
        print(line)

    kw = dict(niter=200, eps=0.05, tol=0)
    x = sparsity.fista(Op, yd, **kw)[0].compute()
    report("fista", x, psp.fista(POp, y.ravel(), **kw)[0])
    kw = dict(nouter=10, tolIRLS=1e-3, kind="model", epsI=1e-2, iter_lim=40)
    xi = sparsity.irls(Op, yd, **kw)[0].compute()
    report("irls (model)", xi, psp.irls(POp, y.ravel(), **kw)[0])
    xb = sparsity.linearized_bregman(Op, yd, niter=200, thresh=0.2, tol=0)[0].compute()
    report("linearized Bregman", xb)
    print(f"{'data (blurred)':20s} error vs true "
          f"{np.linalg.norm(W.T @ y / np.abs(W).sum() - refl) / np.linalg.norm(refl):.3f}")

    fig, axs = plt.subplots(1, 4, figsize=(12, 4), sharey=True)
    for ax, (title, img) in zip(axs, [("data", y), ("true", refl), ("FISTA", x),
                                       ("linearized Bregman", xb)]):
        ax.imshow(img, aspect="auto", cmap="gray", vmin=-1, vmax=1)
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig("sparse_deconvolution.png", dpi=80)


if __name__ == "__main__":
    with dask.config.set(scheduler="threads"):
        main()
