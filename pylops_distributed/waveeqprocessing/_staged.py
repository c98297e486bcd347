"""Operators applied in stages with a transpose between them: a time FFT with the time axis
whole, a per-frequency operator with the frequency axis chunked, an inverse time FFT.

Most wave-equation operators are ``F_t^H M F_t``: a Fourier transform along time, an operator
``M`` that is independent from one frequency to the next (a batched matrix product, a phase
shift in the wavenumber domain, an obliquity factor) and the inverse transform. Fused into one
chunk kernel, ``F_t`` needs time whole and ``M`` its spatial axes whole, so every task would
hold the whole array (and, for ``MDC``, the whole kernel). :class:`Staged` applies the three
parts one after the other instead, each with its own chunk kernel:

1. ``F_t`` on blocks holding the time axis whole, split along a spatial axis;
2. one all-to-all (each task gathering its pencil from the previous stage's chunks) to blocks
   chunked along frequency with the spatial axes whole; ``M`` on each frequency block (for
   ``MDC`` each task reads only its frequencies of ``G``);
3. another all-to-all back to time-whole blocks and ``F_t^H``.

The adjoint runs the stages' adjoints in reverse order, with the same layouts. Other axes
(``MDC``'s virtual sources) keep the input's chunks throughout. The composite has no fused
chunk kernel (it would gather the frequencies in every task): in a product or a solver it is
applied through its stages (solvers use their dask.array backend).
"""

import numpy as np

from pylops_distributed._graph import apply_kernel, apply_terms
from pylops_distributed._kernel_algebra import chain
from pylops_distributed.kernels import ChunkKernel, NoChunkKernel
from pylops_distributed.linearoperator import LinearOperator


def even_chunks(n, k):
    """``n`` split into ``k`` (at most ``n``) chunks of nearly equal length."""
    k = max(1, min(int(k), int(n)))
    size = -(-n // k)
    return (size,) * (n // size) + ((n % size,) if n % size else ())


class Layout:
    """How a stage wants its input chunked: ``whole`` axes in one chunk, ``split`` axis
    chunked (by ``chunks`` when given, else in as many pieces as the input had blocks along
    the staged axes), the other axes as they come."""

    def __init__(self, whole, split, chunks=None):
        self.whole, self.split, self.chunks = tuple(whole), split, chunks

    def target(self, x, k):
        if self.chunks is None and all(len(x.chunks[a]) == 1 for a in self.whole):
            return x.chunks  # already a pencil of this stage: no exchange
        out = [tuple(c) for c in x.chunks]
        for a in self.whole:
            out[a] = (x.shape[a],)
        if self.split is not None:
            out[self.split] = tuple(self.chunks) if self.chunks is not None \
                else even_chunks(x.shape[self.split], k)
        return tuple(out)


def _real_part(x, *, where, dtype):
    return x.real.astype(dtype)


def _real_dtype(dtype):
    return np.empty(0, dtype).real.dtype


def real_part_kernel(dims):
    """A pointwise kernel taking the real part, chained into a stage's tasks."""
    return ChunkKernel(_real_part, dims, dims, name="real", token=f"real-{dims}",
                       out_dtype=_real_dtype, pointwise=True)


def run_stage(op, x, adjoint, layout, k, real=False):
    """``op`` (or its adjoint) on ``x`` rechunked to ``layout``: one task per output chunk,
    each gathering its input pencil from ``x``'s chunks (no separate rechunk step); with
    ``real``, the real part of the output (in the same tasks)."""
    kernel = op.chunk_kernel(adjoint)
    if real:
        kernel = chain(real_part_kernel(kernel.dims_out), kernel)
    target = layout.target(x, k)
    if target == x.chunks:
        return apply_kernel(kernel, x)
    return apply_terms([(kernel.replace(whole=frozenset()), x)], kernel.chunks(target),
                       kernel.out_dtype(x.dtype))


class Staged(LinearOperator):
    """``stages[-1] @ ... @ stages[0]``, applied stage by stage (see the module notes).

    Parameters
    ----------
    stages : list of (LinearOperator, Layout)
        The operators (each with a chunk kernel) in the order they act in ``matvec``, with
        the layout of their input (the same in the adjoint).
    staged_axes : tuple of int
        Axes whose blocks count for the default number of pieces (the others are batch axes,
        kept as they come).
    dtype : str
        Operator dtype.
    real : bool, optional
        The operator is real (real FFTs around a complex middle): outputs are the real part.
    pieces : int, optional
        Number of pieces of the split axes (default: the input's blocks along
        ``staged_axes``).
    """

    def __init__(self, stages, staged_axes, *, dtype, name, chunks, real=False, pieces=None,
                 clinear=True):
        self.stages = list(stages)
        self._staged_axes, self._real, self._pieces = tuple(staged_axes), real, pieces
        first, last = self.stages[0][0], self.stages[-1][0]
        super().__init__(first.dims, last.dimsd, dtype, name=name, chunks=chunks,
                         clinear=clinear)

    def _kernel(self, adjoint):
        raise NoChunkKernel(f"{self.label}: a time FFT, a per-frequency operator and the "
                            "inverse FFT need the time and the frequency axes chunked "
                            "differently; it is applied in stages, with one all-to-all "
                            "between them")

    def _k(self, x):
        if self._pieces is not None:
            return self._pieces
        return max(1, int(np.prod([len(x.chunks[a]) for a in self._staged_axes])))

    def _run(self, x, adjoint):
        if self._real and np.iscomplexobj(x):  # a real operator: on both parts
            return self._run(x.real, adjoint) + 1j * self._run(x.imag, adjoint)
        k = self._k(x)
        dtype = np.result_type(self.dtype, x.dtype)
        order = list(reversed(self.stages) if adjoint else self.stages)
        y = x
        for i, (op, layout) in enumerate(order):
            y = run_stage(op, y, adjoint, layout, k, real=self._real and i == len(order) - 1)
        return y.astype(dtype, copy=False) if y.dtype != dtype else y

    def _matvec(self, x):
        return self._run(x, False)

    def _rmatvec(self, x):
        return self._run(x, True)

