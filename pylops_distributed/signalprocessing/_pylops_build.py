"""``build`` callables of the operators that run PyLops' own operator on each block."""

import numpy as np


def pylops_signal(dims, *operands, xp, kind, **kwargs):
    """PyLops' ``signalprocessing.<kind>(dims, **kwargs)`` for a block of shape ``dims``."""
    import pylops

    return getattr(pylops.signalprocessing, kind)(dims, **kwargs)


def pylops_shift(dims, *operands, xp, **kwargs):
    """PyLops' ``Shift`` for a block; an array of shifts comes cut to the block as operand."""
    import pylops

    if operands:  # PyLops builds the phase shifts on the host (np.exp), CuPy chunks or not
        shift = operands[0]
        kwargs["shift"] = shift if isinstance(shift, np.ndarray) else shift.get()
    engine = kwargs.pop("engine", "numpy")
    if xp is not np and engine != "numpy":
        engine = "numpy"  # PyLops runs CuPy arrays through its numpy engine (cupy.fft)
    return pylops.signalprocessing.Shift(dims, engine=engine, **kwargs)
