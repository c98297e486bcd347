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


def copy_attrs(op, full, names):
    """Copy PyLops' public attributes ``names`` (those ``full`` has) onto ``op``."""
    for attr in names:
        if attr in vars(full):
            setattr(op, attr, vars(full)[attr])


def on_module(a, xp):
    """``a`` as an array of module ``xp`` (CuPy axes for CuPy blocks)."""
    if a is None:
        return None
    if xp is np:
        return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)
    return xp.asarray(a)
