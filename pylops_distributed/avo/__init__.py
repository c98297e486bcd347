"""Seismic reservoir characterisation (:mod:`pylops.avo`) on chunked dask arrays.

    AVOLinearModelling          AVO (linearized Zoeppritz) modelling.
    PoststackLinearModelling    Post-stack seismic modelling.
    PrestackLinearModelling     Pre-stack seismic modelling.
    PrestackWaveletModelling    Pre-stack modelling operator for the wavelet.

and the applications:

    PoststackInversion          Post-stack seismic inversion.
    PrestackInversion           Pre-stack seismic inversion.

The operators keep the time (and elastic-parameter or angle) axes whole and are distributed
over the spatial axes, applying PyLops' own operators on each chunk; the inversions run our
solvers, their regularisers exchanging halos between spatial chunks. The Zoeppritz solutions
and linearizations of :mod:`pylops.avo.avo` (``akirichards``, ``fatti``, ``ps``...) are
PyLops' own, re-exported from :mod:`pylops_distributed.avo.avo`.
"""

from pylops_distributed.avo.avo import *  # noqa: F401,F403
from pylops_distributed.avo.poststack import *  # noqa: F401,F403
from pylops_distributed.avo.prestack import *  # noqa: F401,F403

__all__ = [
    "AVOLinearModelling",
    "PoststackLinearModelling",
    "PrestackWaveletModelling",
    "PrestackLinearModelling",
    "PoststackInversion",
    "PrestackInversion",
]
