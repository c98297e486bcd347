"""The ``forceflat`` of an operator built from two others (``A @ B``, ``A + B``), as in PyLops."""


def combine_forceflat(a, b, what):
    """The ``forceflat`` of a product or sum of operators ``a`` and ``b``.

    Parameters
    ----------
    a, b : LinearOperator
        The two operators combined (distributed or PyLops): only their ``forceflat``
        (``None`` when absent) and, for the error message, their ``label`` are read.
    what : str
        How they are combined, as written between them in the message: ``"@"`` for the
        product ``a @ b``, ``"+"`` for the sum ``a + b``.

    Returns
    -------
    bool or None
        ``None`` when neither operator forces a shape; otherwise the one that does
        (``True`` or ``False``, also when both force the same).

    Raises
    ------
    ValueError
        If one operator has ``forceflat=True`` and the other ``forceflat=False``: the
        result could neither always flatten nor always keep N-D shapes (PyLops raises too).

    Examples
    --------
    >>> import pylops_distributed as pld
    >>> from pylops_distributed._forceflat import combine_forceflat
    >>> S = pld.Sum((3, 4), axis=0)
    >>> combine_forceflat(pld.Sum((3, 4), axis=0, forceflat=True), S.H, "@")
    True
    >>> combine_forceflat(S, S.H, "@") is None
    True
    """
    fa, fb = _flag(a), _flag(b)
    if fa is None:
        return fb
    if fb is None or fa == fb:
        return fa
    raise ValueError(
        f"{_label(a)} {what} {_label(b)}: conflicting forceflat, {_label(a)} has forceflat={fa} "
        f"and {_label(b)} has forceflat={fb}; build one of them with forceflat=None (or the "
        f"same value), e.g. Sum((3, 4), axis=0, forceflat=None)")


def _flag(op):
    flag = getattr(op, "forceflat", None)
    return None if flag is None else bool(flag)


def _label(op):
    return getattr(op, "label", None) or type(op).__name__
