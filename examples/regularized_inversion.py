"""Regularized least squares on chunks: blurred and noisy 2-D data, Laplacian regularization.

The three wrappers of ``pylops_distributed.optimization.leastsquares`` (as in
``pylops.optimization.leastsquares``) solve the same deblurring problem; each prints its
error against the true model and against PyLops' answer to the same call.

Run: .venv/bin/python examples/regularized_inversion.py
"""

import dask
import dask.array as da
import numpy as np
import pylops
from pylops.optimization import leastsquares as pls

import pylops_distributed as pld
from pylops_distributed.optimization import leastsquares as ls


def main():
    rng = np.random.default_rng(0)
    dims = (200, 150)
    z, x = np.meshgrid(np.linspace(-1, 1, dims[0]), np.linspace(-1, 1, dims[1]), indexing="ij")
    xtrue = np.exp(-8 * (z ** 2 + x ** 2)) + (np.abs(z - 0.3) < 0.1)  # a blob and a layer

    Blur, PBlur = pld.Smoothing2D((9, 9), dims), pylops.Smoothing2D((9, 9), dims)
    y = PBlur @ xtrue + 0.01 * rng.standard_normal(dims)
    yd = da.from_array(y, chunks=(50, 150))  # 4 chunks along axis 0
    Lap, PLap = pld.Laplacian(dims), pylops.Laplacian(dims)

    def report(name, ours, ref):
        ours = ours.compute().reshape(dims)
        err = np.linalg.norm(ours - xtrue) / np.linalg.norm(xtrue)
        diff = np.linalg.norm(ours - ref.reshape(dims)) / np.linalg.norm(ref)
        print(f"{name:28s} error vs true {err:.3f}   vs PyLops {diff:.1e}")

    kw = dict(engine="pylops", niter=40, tol=0)
    ours = ls.normal_equations_inversion(Blur, yd, [Lap], epsRs=[0.3], epsI=0.01, **kw)[0]
    ref = pls.normal_equations_inversion(PBlur, y.ravel(), [PLap], epsRs=[0.3], epsI=0.01, **kw)[0]
    report("normal_equations_inversion", ours, ref)

    ours = ls.regularized_inversion(Blur, yd, [Lap], epsRs=[0.3], **kw)[0]
    ref = pls.regularized_inversion(PBlur, y.ravel(), [PLap], epsRs=[0.3], **kw)[0]
    report("regularized_inversion", ours, ref)

    P, PP = pld.Smoothing2D((5, 5), dims), pylops.Smoothing2D((5, 5), dims)
    ours = ls.preconditioned_inversion(Blur, yd, P, **kw)[0]
    ref = pls.preconditioned_inversion(PBlur, y.ravel(), PP, **kw)[0]
    report("preconditioned_inversion", ours, ref)
    print(f"{'data (blurred, noisy)':28s} error vs true "
          f"{np.linalg.norm(y - xtrue) / np.linalg.norm(xtrue):.3f}")


if __name__ == "__main__":
    with dask.config.set(scheduler="threads"):
        main()
