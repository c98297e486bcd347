"""Progress of a long solve: a ``tqdm.auto`` bar updated at each check, and Dask's
performance report of a solve written to HTML."""

import contextlib
import time

from pylops_distributed.optimization._collective import solve_collectively
from pylops_distributed.optimization._runner import Runner, Unsupported


class ProgressBar:
    """A bar of ``niter`` iterations moved at each check (the only times the client hears
    from the solve), showing the iteration, the residual (or cost), the elapsed time and
    the iterations per second; a terminal or a notebook (``tqdm.auto``).

    Parameters
    ----------
    name : str
        The solver's name, the bar's label.
    niter : int
        Iterations asked for (the bar's total; a solve that converges early stops short).
    label : str
        What the value shown is (``"residual"``, ``"cost"``).
    """

    def __init__(self, name, niter, label):
        from tqdm.auto import tqdm

        self.label = label
        self.bar = tqdm(total=niter, desc=name, unit="it", dynamic_ncols=True, leave=True)
        self.t0 = time.perf_counter()

    def update(self, iiter, value):
        """Move the bar to iteration ``iiter``, showing ``value``."""
        if value is not None:
            self.bar.set_postfix_str(f"{self.label}={value:.4e}", refresh=False)
        self.bar.update(iiter - self.bar.n)

    def close(self):
        self.bar.close()


def start_bar(solver, niter):
    """The bar of ``solver`` when its ``progress`` attribute asks for one, else None."""
    if not getattr(solver, "progress", False):
        return None
    return ProgressBar(type(solver).__name__, niter, getattr(solver, "progress_label", "cost"))


def last_cost(solver):
    """The value the bar shows: the last cost recorded at a check (None before any)."""
    cost = getattr(solver, "cost", None)
    if cost is None or len(cost) == 0:
        return None
    value = complex(cost[-1])
    return value.real if value.imag == 0 else abs(value)


@contextlib.contextmanager
def performance_report(filename):
    """Dask's performance report of what runs inside, written to ``filename`` (an HTML page:
    task stream, worker profiles, bandwidth); nothing when ``filename`` is None.

    Raises
    ------
    ValueError
        ``filename`` given and no ``distributed.Client`` is current (the report is the
        scheduler's: dask's threaded scheduler has none).
    """
    if filename is None:
        yield
        return
    try:
        client = Runner().client
    except Unsupported:
        client = None
    if client is None:
        raise ValueError(
            f"performance_report={filename!r} needs a distributed.Client (the report is made by "
            "its scheduler): run the solve inside `with get_client(...):`, or leave "
            "performance_report=None on dask's threaded scheduler")
    from distributed import performance_report as dask_report

    with client.as_current(), dask_report(filename=str(filename)):
        yield


#: The parameters of a solve that every solver function takes besides its solver's, as its
#: docstring lists them (``{value}``: what the bar shows); put in by :func:`run_options`.
RUN_OPTIONS = """\
    progress : bool, optional
        Show a progress bar (``tqdm.auto``, in a terminal or a notebook) moved at each check:
        iteration, {value}, elapsed time, iterations per second.
    performance_report : str, optional
        Write Dask's performance report of the solve (task stream, worker profiles, transfers)
        to this HTML file; needs a ``distributed.Client``.
    checkpoint : str or os.PathLike, optional
        A folder (local path or fsspec URL) where the solver's state is saved at checks (the
        workers write the vectors; see :mod:`~pylops_distributed.optimization`). Calling
        again with the same ``checkpoint`` resumes from the newest save, with the result of
        an uninterrupted run; one made by another problem raises ``ValueError``.
    checkpoint_every : int, optional
        Checks between two saves (default 1: at every check).
"""
_MARKER = "    {run_options}\n"


def run_options(value):
    """A decorator: :data:`RUN_OPTIONS` (the bar showing ``value``, e.g. ``"residual"``) in
    place of the line ``{run_options}`` of the function's docstring."""
    def put(fn):
        if fn.__doc__ is not None:  # (None under python -OO)
            if _MARKER not in fn.__doc__:
                raise ValueError(f"{fn.__name__}: no line '{{run_options}}' in its docstring")
            fn.__doc__ = fn.__doc__.replace(_MARKER, RUN_OPTIONS.format(value=value))
        return fn
    return put


def solve_with(solver, callback, progress, report, checkpoint, checkpoint_every, **kwargs):
    """The body of the solver functions: ``solver.solve(**kwargs)`` with the callback, the
    progress bar, the performance report and the checkpoint asked for."""
    if callback is not None:
        solver.callback = callback
    solver.progress = progress
    solver.set_checkpoint(checkpoint, checkpoint_every)
    with performance_report(report):
        done = solve_collectively(solver, kwargs)
        return done if done is not None else solver.solve(**kwargs)
