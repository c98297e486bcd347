"""Checkpoints of the outer-loop solvers (IRLS, Split Bregman, OMP): their state saved at the
end of outer iterations, in the same folder format as the other solvers' (see
:mod:`._checkpoint`), and resumed by a new call with the same ``checkpoint=``.

An outer iteration is a whole inner solve (or, for OMP, a round trip), so a save is written
before the next iteration starts: the vectors by the workers, then the numbers and ``LATEST``.
"""

import logging

import dask

from pylops_distributed.optimization._checkpoint import (Store, decode, encode, check_checkpoint,
                                                         describe, mismatch)
from pylops_distributed.stacked import StackedArray

log = logging.getLogger("pylops_distributed.optimization")


def _persisted(v):
    if isinstance(v, StackedArray):
        return StackedArray(list(dask.persist(*v.blocks)))
    return v.persist()


def _param(v):
    """A parameter in a fingerprint: its JSON form, an operator's (or list of operators')
    description, else its type's name."""
    if isinstance(v, dict):  # (keywords of the inner solver)
        return ";".join(f"{k}={_param(e)!r}" for k, e in sorted(v.items()))
    if hasattr(v, "matvec"):
        return describe(v)
    if isinstance(v, (list, tuple)) and v and all(hasattr(e, "matvec") for e in v):
        return [describe(e) for e in v]
    try:
        return encode(v)
    except TypeError:
        return type(v).__name__


class OuterCheckpoint:
    """The saves of one outer-loop solve in the folder ``path`` (a local path or an fsspec URL).

    Parameters
    ----------
    solver : pylops.optimization.basesolver.Solver
        The solver (its ``Op`` and ``y`` are described in the fingerprint).
    path : str or os.PathLike
        The checkpoint folder.
    every : int
        Outer iterations between two saves.
    params : dict
        The parameters the iterations use (not the number of iterations): part of the
        fingerprint, with the squared norm of ``y``, ``y2``.
    y2 : float
        ``||y||^2`` (computed by the solver's setup anyway).
    x0 : dask.array.Array or StackedArray, optional
        The starting model, when given: its shape, dtype and squared norm (one compute) are
        part of the fingerprint.
    """

    def __init__(self, solver, path, every, params, y2, x0=None):
        self.name = type(solver).__name__
        check_checkpoint(self.name, path, every)
        self.path, self.every, self.store = path, int(every), Store(path)
        y = solver.y
        self.fingerprint = {
            "solver": self.name, "operator": describe(solver.Op),
            "y": [list(y.shape), str(y.dtype)], "x0": None,
            "norms": {"y2": encode(float(y2))},
            "params": {k: _param(v) for k, v in sorted(params.items())}}
        if x0 is not None:
            blocks = list(x0.blocks) if isinstance(x0, StackedArray) else [x0]
            self.fingerprint["x0"] = [list(x0.shape), str(x0.dtype)]
            x02 = dask.compute(sum((abs(b) ** 2).sum() for b in blocks))[0]
            self.fingerprint["norms"]["x02"] = encode(float(x02))

    def resume(self):
        """``(numbers, vectors)`` of the newest save (``iiter`` among the numbers), or None;
        ``ValueError`` when the folder holds a save of another problem."""
        saved = self.store.load()
        if saved is None:
            return None
        attrs, vectors = saved
        why = mismatch(attrs["fingerprint"], self.fingerprint)
        if why is not None:
            raise ValueError(f"{self.name}: the checkpoint {self.path!r} was written by another "
                             f"problem ({why}); give another checkpoint folder, or remove it to "
                             "start again")
        numbers = {k: decode(v) for k, v in attrs["numbers"].items()}
        log.info("%s resumes from %s at outer iteration %d", self.name, self.path,
                 numbers["iiter"])
        out = {}
        for vname, (v, _) in vectors.items():
            v = _persisted(v)  # read once, not at every use
            base, sep, _ = vname.partition("#")
            if sep:
                out.setdefault(base, []).append(v)
            else:
                out[base] = v
        return numbers, out

    def save(self, numbers, vectors):
        """Save after outer iteration ``numbers["iiter"]`` (when it is a multiple of
        ``every``): ``vectors`` maps names to dask arrays, StackedArrays or lists of them
        (given back as lists by :meth:`resume`); ``numbers`` to JSON-able values."""
        iiter = int(numbers["iiter"])
        if iiter % self.every:
            return
        flat = {}
        for vname, v in vectors.items():
            if isinstance(v, (list, tuple)):
                flat.update({f"{vname}#{k}": (e, None) for k, e in enumerate(v)})
            else:
                flat[vname] = (v, None)
        attrs = {"fingerprint": self.fingerprint, "iiter": iiter,
                 "numbers": {k: encode(v) for k, v in numbers.items()}}
        self.store.save(f"it-{iiter}", attrs, flat).finish()

    def close(self):
        """At the end of the solve: only the newest save stays."""
        self.store.drop_spare()


def outer_checkpoint(solver, path, every, params, y2, x0=None):
    """An :class:`OuterCheckpoint`, or None when ``path`` is None (arguments checked);
    ``y2`` may be a callable that computes it (called only with a ``path``)."""
    if path is None:
        check_checkpoint(type(solver).__name__, path, every)
        return None
    return OuterCheckpoint(solver, path, every, params, y2() if callable(y2) else y2, x0)


