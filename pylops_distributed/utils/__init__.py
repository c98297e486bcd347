"""Utilities, under PyLops' names (``pylops.utils``).

    dottest             Dot test: checks that an operator's adjoint matches its forward.
    mae                 Mean absolute error between two (NumPy or dask) arrays.
    mse                 Mean square error between two arrays.
    snr                 Signal to noise ratio, in dB.
    psnr                Peak signal to noise ratio, in dB.
    trace_hutchinson    Trace estimate from random probes (Hutchinson).
    trace_hutchpp       Trace estimate with a low-rank sketch (Hutch++).
    trace_nahutchpp     Trace estimate with a non-adaptive sketch (NA-Hutch++).
    Report              Date, platform and package versions (needs scooby).
    describe.describe   Operator expression as a sympy formula (needs sympy); as in
                        PyLops, only in the ``describe`` module.
"""

from pylops_distributed.utils import describe
from pylops_distributed.utils.dottest import dottest
from pylops_distributed.utils.estimators import trace_hutchinson, trace_hutchpp, trace_nahutchpp
from pylops_distributed.utils.metrics import mae, mse, psnr, snr
from pylops_distributed.utils.report import Report

__all__ = ["dottest", "mae", "mse", "snr", "psnr", "trace_hutchinson", "trace_hutchpp",
           "trace_nahutchpp", "Report"]
