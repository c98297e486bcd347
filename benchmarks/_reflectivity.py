"""The 3-D reflectivity problem of the sparse-solver benchmark (issue 13), built the same way
by ours, PyLops and the PyLops-MPI peer: a sparse reflectivity (ny, nx, nt) convolved along
time with an 81-sample Ricker wavelet, FISTA with a fixed step (no eigenvalue estimate in
the timing), ``eps`` 0.1, ``tol`` 0."""

import numpy as np
from pylops.utils.wavelets import ricker

DIMS = (40, 267, 550)
EPS = 0.1


def wavelet():
    h = ricker(np.arange(41) * 0.004, f0=20)[0]
    return h, len(h) // 2


def step_size():
    """``1 / max |H(f)|^2``: the largest eigenvalue of ``Op^H Op`` for a convolution (a
    little above it, from a fine spectrum: the step stays stable)."""
    h, _ = wavelet()
    return 0.99 / float(np.max(np.abs(np.fft.rfft(h, 8192)) ** 2))


def reflectivity(dims=DIMS, seed=0):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(dims) > 0.98, rng.standard_normal(dims), 0.0)


def data(dims=DIMS):
    """The data: PyLops' Convolve1D of the reflectivity along the last axis."""
    import pylops

    h, offset = wavelet()
    Op = pylops.signalprocessing.Convolve1D(dims, h, offset=offset, axis=-1)
    return (Op @ reflectivity(dims).ravel()).reshape(dims)
