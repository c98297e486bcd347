"""Demo: 2-D deblurring with Laplacian regularisation, solved by CGLS on a local Dask cluster.

    y = B x + n,     x_est = argmin ||y - B x||^2 + eps^2 ||L x||^2

``B`` is a 2-D moving-average blur (:class:`pylops_distributed.signalprocessing.Smoothing2D`),
``L`` the :class:`pylops_distributed.Laplacian`; the image is chunked in 4 along its rows and
both operators exchange halos across chunk boundaries. The problem is the stacked operator
``VStack([B, eps * L])``, whose data is a :class:`pylops_distributed.StackedArray`. CGLS
brings a scalar back to the client only every ``check_every`` iterations (the table rows).

Run with ``make demo`` (or ``python examples/demo.py``); writes ``demo.png`` in the current
directory: truth, blurred data and estimate.
"""

import time

import dask.array as da
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import pylops_distributed as pld  # noqa: E402
from pylops_distributed.optimization import cgls  # noqa: E402
from pylops_distributed.signalprocessing import Smoothing2D  # noqa: E402

NZ, NX, NCHUNKS = 256, 320, 4


def phantom(nz, nx):
    """A synthetic image: a background gradient, two blocks, a disk and thin lines."""
    z, x = np.meshgrid(np.linspace(0, 1, nz), np.linspace(0, 1, nx), indexing="ij")
    img = 0.2 * x
    img[(z > 0.15) & (z < 0.45) & (x > 0.1) & (x < 0.35)] = 1.0
    img[(z > 0.55) & (z < 0.9) & (x > 0.2) & (x < 0.3)] = 0.6
    img[(z - 0.5) ** 2 + (x - 0.7) ** 2 < 0.18 ** 2] = 0.8
    for k in range(4):
        img[int(nz * (0.2 + 0.18 * k)), int(nx * 0.45):int(nx * 0.95)] = 1.2
    return img


def main():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")
    try:
        client = Client(cluster)
        try:
            run(client)
        finally:
            client.close()
    finally:
        cluster.close()


def run(client):
    print(f"Dask dashboard: {client.dashboard_link}")
    chunks = (NZ // NCHUNKS, NX)
    truth = phantom(NZ, NX)
    xt = da.from_array(truth, chunks=chunks)

    B = Smoothing2D(nsmooth=(9, 9), dims=(NZ, NX))
    L = pld.Laplacian((NZ, NX))
    rng = np.random.default_rng(0)
    noise = da.from_array(0.01 * rng.standard_normal((NZ, NX)), chunks=chunks)
    y = client.persist(B @ xt + noise)

    eps = 0.05
    Op = pld.VStack([B, eps * L])
    data = pld.StackedArray([y, da.zeros((NZ, NX), chunks=chunks)])

    t0 = time.time()
    xest, istop, iit, r1norm, r2norm, cost = cgls(Op, data, niter=60, tol=0, show=True,
                                                  check_every=10)
    xest, y_np = client.compute([xest, y], sync=True)
    elapsed = time.time() - t0

    err_data = np.linalg.norm(y_np - truth) / np.linalg.norm(truth)
    err = np.linalg.norm(xest - truth) / np.linalg.norm(truth)
    print(f"{iit} CGLS iterations in {elapsed:.1f} s on {len(client.scheduler_info()['workers'])} "
          f"workers; residual norm at checks: {np.array2string(cost, precision=3)}")
    print(f"relative error: blurred data {err_data:.4f}, estimate {err:.4f}")

    fig, axs = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    for ax, img, title in zip(axs, (truth, y_np, xest),
                              ("truth", f"blurred data (error {err_data:.3f})",
                               f"CGLS estimate (error {err:.3f})")):
        ax.imshow(img, cmap="gray", vmin=-0.1, vmax=1.3)
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig("demo.png", dpi=80)
    plt.close(fig)
    print("wrote demo.png")


if __name__ == "__main__":
    main()
