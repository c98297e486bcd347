"""describe (against pylops.utils.describe) and Report (against pylops.Report)."""

import importlib.util
import logging
import sys

import numpy as np
import pylops
import pytest

import pylops_distributed as pld
import pylops_distributed.utils.report as report_module
from pylops_distributed.utils import Report
from pylops_distributed.utils.describe import describe

EXPRESSIONS = {
    "A*B+C.H": lambda A, B, C, m: A * B + C.H,
    "scaled-minus": lambda A, B, C, m: 2 * A - B * 3,
    "neg-transpose": lambda A, B, C, m: -(A.T * C),
    "vstack": lambda A, B, C, m: m.VStack([A, 2 * B, C.H]),
    "hstack": lambda A, B, C, m: m.HStack([A, B]) * 0.5,
    "blockdiag": lambda A, B, C, m: m.BlockDiag([A, B.T, C]),
    "repeated": lambda A, B, C, m: A.H * A + A,
}


def operators(module):
    rng = np.random.default_rng(0)
    return (module.MatrixMult(rng.standard_normal((4, 4)), name="A"),
            module.Diagonal(rng.standard_normal(4), name="B"),
            module.MatrixMult(rng.standard_normal((4, 4)), name="C"))


def described(Op, capsys):
    describe(Op)
    return capsys.readouterr().out


@pytest.fixture
def sympy():
    return pytest.importorskip("sympy")


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_describe_prints_like_pylops(name, capsys, sympy):
    from pylops.utils.describe import describe as pylops_describe

    build = EXPRESSIONS[name]
    pylops_describe(build(*operators(pylops), pylops))
    expected = capsys.readouterr().out
    assert described(build(*operators(pld), pld), capsys) == expected


def test_describe_a_times_b_plus_c_adjoint_text(capsys, sympy):
    A, B, C = operators(pld)
    assert described(A * B + C.H, capsys) == (
        "Adjoint(C) + A*B\nwhere: {'A': 'MatrixMult', 'B': 'Diagonal', 'C': 'MatrixMult'}\n")


def test_named_composite_is_one_symbol_like_pylops(capsys, sympy):
    from pylops.utils.describe import describe as pylops_describe

    A, B, _ = operators(pylops)
    S = A + B
    S.name = "S"
    pylops_describe(S * A)
    expected = capsys.readouterr().out
    A, B, _ = operators(pld)
    S = A + B
    S.name = "S"
    assert described(S * A, capsys) == expected
    assert expected == "S*A\nwhere: {'S': '_SumLinearOperator', 'A': 'MatrixMult'}\n"


def test_unnamed_and_duplicate_names_get_free_letters(capsys, caplog, sympy):
    M1, M2 = pld.MatrixMult(np.eye(3)), pld.MatrixMult(np.eye(3))  # both named "M"
    anonymous = pld.Identity(3, name=None)
    with caplog.at_level(logging.WARNING, logger="pylops_distributed.utils.describe"):
        out = described(M1 + M2.H + anonymous, capsys)
    assert out == "Adjoint(A) + B + M\nwhere: {'M': 'MatrixMult', 'A': 'MatrixMult', " \
                  "'B': 'Identity'}\n"
    assert (M1.name, M2.name, anonymous.name) == ("M", "A", "B")  # names kept, as in PyLops
    assert "two distinct operators are named 'M'" in caplog.text


def test_pylops_operators_inside_ours(capsys, sympy):
    """FromPyLops wrappers are described through the PyLops operator they wrap."""
    PA = pylops.MatrixMult(np.eye(4), name="P")
    _, B, _ = operators(pld)
    out = described(pld.VStack([PA, B]) * pld.FromPyLops(PA.H * 2), capsys)
    assert out == "2*Matrix([\n[P],\n[B]])*Adjoint(P)\nwhere: {'P': 'MatrixMult', " \
                  "'B': 'Diagonal'}\n"


def test_powers_conjugates_and_blocks(capsys, sympy):
    A, B, C = operators(pld)
    assert described(A ** 3, capsys).startswith("A**3\n")
    assert described(A.conj(), capsys).startswith("Adjoint(A.T)\n")  # sympy's conj(A)
    out = described(pld.Block([[A, B], [C, A]]), capsys)
    assert out == "Matrix([\n[A, B],\n[C, A]])\nwhere: {'A': 'MatrixMult', 'B': 'Diagonal', " \
                  "'C': 'MatrixMult'}\n"


def test_describe_without_sympy(monkeypatch):
    monkeypatch.setitem(sys.modules, "sympy", None)  # import sympy now raises ImportError
    with pytest.raises(ImportError, match=r"needs sympy.*pylops_distributed\[utils\]"):
        describe(pld.Identity(3))


def report_lines(report):
    lines = (line.split(" : ") for line in str(report).splitlines() if " : " in line)
    return {name.strip(): value.strip() for name, value in lines}


def test_report_lists_our_stack_with_pylops_versions():
    pytest.importorskip("scooby")
    ours = report_lines(Report(["pytest"]))
    theirs = report_lines(pylops.Report())
    for package in ("pylops_distributed", "dask", "distributed", "numpy", "scipy", "pylops",
                    "numba", "pytest"):
        assert package in ours, package
    for package in ("numpy", "scipy", "pylops", "numba", "OS", "CPU(s)"):
        assert ours[package] == theirs[package], package
    assert ours["pylops_distributed"] == pld.__version__
    assert "pylops_distributed" in Report()._repr_html_()


def test_report_without_scooby(monkeypatch):
    monkeypatch.setitem(sys.modules, "scooby", None)
    spec = importlib.util.spec_from_file_location("report_without_scooby", report_module.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ImportError, match=r"needs scooby.*pylops_distributed\[utils\]"):
        module.Report()
