"""Error reporting: every problem of a file, at the right place, with the right words."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import codegen
from codegen.errors import NoForwardFunctions

SEVERAL = """\
import numpy as np


def f(x):
    a = [v for v in x] or [x]
    u, s, v = np.linalg.svd(x)
    b = np.foo(x)
    return a + b


def g(x):
    return np.bar(x)
"""


def test_every_problem_is_reported_in_source_order() -> None:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(SEVERAL, filename="fwd.py")
    found = [(p.line, p.column, p.message) for p in info.value.problems]
    assert found == [
        (5, 9, "list comprehensions are not supported here (in `and`/`or` or a while test); write a for loop that appends"),
        (6, 15, "no derivative rule for np.linalg.svd"),
        (7, 9, "no derivative rule for np.foo"),
        (12, 12, "no derivative rule for np.bar"),
    ]
    assert (info.value.line, info.value.column) == (5, 9)


def test_syntax_error_names_python_message_and_position() -> None:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate("def f(x):\n    return x +\n", filename="fwd.py")
    problem = info.value.problems[0]
    assert (problem.line, problem.message) == (2, "syntax error: invalid syntax")
    assert problem.render().splitlines()[1].strip() == "return x +"


def test_module_without_forward_functions() -> None:
    with pytest.raises(NoForwardFunctions):
        codegen.generate("X = 1\n\n\ndef _helper(x):\n    return x\n")


def test_cli_skips_module_without_forward_functions(tmp_path: Path) -> None:
    source = tmp_path / "consts.py"
    source.write_text("X = 1\n")
    run = subprocess.run(
        [sys.executable, "-m", "codegen", str(source)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0
    assert "skipped" in run.stderr and "no forward functions" in run.stderr
    assert not (tmp_path / "consts_backward.py").exists()


def test_output_python_cannot_compile_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A codegen bug is never disguised as a problem of the input (B20)."""
    from codegen.emit import format as fmt

    monkeypatch.setattr(fmt, "format_code", lambda text, **kwargs: text + "def broken(:\n")
    with pytest.raises(RuntimeError, match="cannot compile.*report"):
        codegen.generate("def f(x):\n    return x * x\n")


def test_input_python_cannot_compile_is_refused_at_its_statement() -> None:
    for count in (3000, 30000):  # Python 3.13 compiles a sum of 3000 terms
        source = f"def f(x):\n    y = x\n    return {' + '.join(f'x * {i}' for i in range(1, count + 1))}\n"
        try:
            compile(source, "fwd.py", "exec")
        except (RecursionError, MemoryError):
            break
    else:
        pytest.skip("this Python compiles a sum of 30000 terms")
    with pytest.raises(codegen.CodegenError) as caught:
        codegen.generate(source, filename="fwd.py")
    assert (caught.value.line, caught.value.column) == (3, 5)
    assert "too deeply nested" in str(caught.value)


def test_without_a_tree_the_longest_statement_is_named() -> None:
    """Where even Python's parser gives up on the input (3.13 does where its compiler
    does), the statement with the most tokens is the one pointed at."""
    from codegen.api import _longest_statement

    source = "x = 1\n\n\ndef f(x):\n    # a comment\n    y = (x +\n         2 * x)\n    return y\n"
    assert _longest_statement(source) == (6, 5)
