"""An operator seen as a matrix: dense, sparse, eigenvalues, condition number and trace.

These are for small operators (inspection, tests, preconditioner design), as in PyLops: they
bring the matrix, or every product ARPACK asks for, to the client. Above
:data:`DENSE_LIMIT` entries ``todense``/``tosparse`` refuse with a clear error.
"""

import numpy as np

#: Largest number of matrix entries ``todense``/``tosparse`` build (a float64 matrix of this
#: size takes 2 GiB).
DENSE_LIMIT = 1 << 28


def _module(backend):
    if backend == "numpy":
        return np
    if backend == "cupy":
        try:
            import cupy
        except ImportError:
            raise ImportError("backend='cupy' needs CuPy: pip install 'pylops_distributed[gpu]'") from None
        return cupy
    raise ValueError(f"backend must be 'numpy' or 'cupy', got {backend!r}")


def _check_size(op, what):
    n = op.shape[0] * op.shape[1]
    if n > DENSE_LIMIT:
        raise ValueError(f"{op.label}.{what}: the matrix would have {n} entries (more than "
                         f"{DENSE_LIMIT}); it is meant for small operators")


def _in_memory(a):
    """A NumPy/CuPy array of a dask (or in-memory) array."""
    return a.compute() if hasattr(a, "compute") else a


class MatrixViews:
    """Mixin of :class:`~pylops_distributed.LinearOperator`: the operator as a matrix."""

    def todense(self, backend="numpy"):
        """Dense matrix of the operator, computed in one pass (small operators only).

        Parameters
        ----------
        backend : {"numpy", "cupy"}, optional
            Array module of the result.

        Returns
        -------
        numpy.ndarray or cupy.ndarray
            The ``shape[0] x shape[1]`` matrix.
        """
        xp = _module(backend)
        _check_size(self, "todense")
        n, m = self.shape
        if m <= n:  # columns of the identity through the operator
            dense = _in_memory(self.matmat(np.eye(m, dtype=self.dtype)))
        else:  # a wide operator: through its adjoint, fewer products
            dense = _in_memory(self.H.matmat(np.eye(n, dtype=self.dtype))).conj().T
        return xp.asarray(dense)

    def tosparse(self):
        """The operator as a :class:`scipy.sparse.csr_matrix` (small operators only)."""
        from scipy.sparse import csr_matrix

        _check_size(self, "tosparse")
        dense = self.todense()
        if type(dense).__module__.split(".")[0] == "cupy":
            dense = dense.get()
        return csr_matrix(dense)

    def _scipy(self):
        """A SciPy LinearOperator whose products compute ours (one compute each)."""
        from scipy.sparse.linalg import LinearOperator as ScipyLinearOperator

        def mv(x):
            return np.asarray(_in_memory(self.matvec(np.ravel(x)))).ravel()

        def rmv(x):
            return np.asarray(_in_memory(self.rmatvec(np.ravel(x)))).ravel()

        return ScipyLinearOperator(self.shape, matvec=mv, rmatvec=rmv, dtype=self.dtype)

    def eigs(self, neigs=None, symmetric=False, niter=None, uselobpcg=False, **kwargs_eig):
        r"""Most significant eigenvalues, as :meth:`pylops.LinearOperator.eigs`.

        ARPACK (:func:`scipy.sparse.linalg.eigs`/``eigsh``, or ``lobpcg``) runs on the client
        and every product it asks for is one compute of ours; an explicit matrix held in
        memory goes to :func:`scipy.linalg.eigvals` when all eigenvalues are asked for. For a
        rectangular operator, the square roots of the eigenvalues of :math:`Op^H Op`.

        Parameters
        ----------
        neigs : int, optional
            Number of eigenvalues (default: all that the method can give).
        symmetric : bool, optional
            The operator is real symmetric or complex Hermitian.
        niter : int, optional
            Iterations of the eigensolver.
        uselobpcg : bool, optional
            Use :func:`scipy.sparse.linalg.lobpcg`.
        **kwargs_eig
            Passed to the SciPy eigensolver.

        Returns
        -------
        numpy.ndarray
            Eigenvalues, largest first.
        """
        from scipy.linalg import eigvals
        from scipy.sparse.linalg import eigs as sp_eigs
        from scipy.sparse.linalg import eigsh as sp_eigsh
        from scipy.sparse.linalg import lobpcg as sp_lobpcg

        square = self.shape[0] == self.shape[1]
        A = getattr(self, "A", None) if self.explicit else None
        if A is not None and not hasattr(A, "tocsr"):
            A = np.asarray(_in_memory(A))
            if not square:
                A = A.conj().T @ A
            if neigs is None or neigs == self.shape[1]:
                values = eigvals(A)
                return -np.sort(-(values if square else np.sqrt(values)))
            M = A
        else:
            if neigs is None or neigs >= self.shape[1]:
                neigs = self.shape[1] - 2
            M = self._scipy() if square else (self.H @ self)._scipy()
        if not symmetric and square and uselobpcg and np.iscomplexobj(np.empty(0, self.dtype)):
            raise ValueError(f"{self.label}.eigs: lobpcg needs a symmetric operator when it is "
                             "complex (pass symmetric=True if it is Hermitian)")
        if uselobpcg:
            X = np.random.default_rng().random((self.shape[1], neigs)).astype(self.dtype)
            values = sp_lobpcg(M, X=X, maxiter=niter, **kwargs_eig)[0]
        elif symmetric or not square:
            values = sp_eigsh(M, k=neigs, maxiter=niter, **kwargs_eig)[0]
        else:
            values = sp_eigs(M, k=neigs, maxiter=niter, **kwargs_eig)[0]
        if not square:
            values = np.sqrt(values)
        return -np.sort(-values)

    def cond(self, uselobpcg=False, **kwargs_eig):
        r"""Condition number estimate :math:`\lambda_{max} / \lambda_{min}`, as
        :meth:`pylops.LinearOperator.cond` (two calls of :meth:`eigs`)."""
        if uselobpcg:
            big = self.eigs(neigs=1, uselobpcg=True, largest=True, **kwargs_eig)
            small = self.eigs(neigs=1, uselobpcg=True, largest=False, **kwargs_eig)
        else:
            big = self.eigs(neigs=1, which="LM", **kwargs_eig)
            small = self.eigs(neigs=1, which="SM", **kwargs_eig)
        return big.item() / small.item()

    def trace(self, neval=None, method=None, backend="numpy", **kwargs_trace):
        """Trace (or an estimate), as :meth:`pylops.LinearOperator.trace`.

        Parameters
        ----------
        neval : int, optional
            Products for the estimators.
        method : {"explicit", "hutchinson", "hutch++", "na-hutch++"}, optional
            Default: ``"explicit"`` for explicit operators, else ``"hutch++"``.
        backend : {"numpy", "cupy"}, optional
            Array module of the dense matrix and probes.
        **kwargs_trace
            Passed to :mod:`pylops_distributed.utils.estimators`.
        """
        from pylops_distributed.utils import estimators

        if self.shape[0] != self.shape[1]:
            raise ValueError(f"{self.label}.trace: the operator must be square, got {self.shape}")
        method = ("explicit" if self.explicit else "hutch++") if method is None else method
        kind = method.lower()
        if kind == "explicit":
            xp = _module(backend)
            A = getattr(self, "A", None) if self.explicit else None
            if A is None or hasattr(A, "tocsr"):
                A = self.todense(backend=backend)
            return xp.trace(xp.asarray(_in_memory(A)))
        estimate = {"hutchinson": estimators.trace_hutchinson, "hutch++": estimators.trace_hutchpp,
                    "na-hutch++": estimators.trace_nahutchpp}.get(kind)
        if estimate is None:
            raise NotImplementedError(f"{self.label}.trace: method={method!r} not available; use "
                                      "'explicit', 'hutchinson', 'hutch++' or 'na-hutch++'")
        return estimate(self, neval=neval, backend=backend, **kwargs_trace)
