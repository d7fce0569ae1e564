"""`codegen.backward` and `codegen.gradcheck` on live functions, wherever they are defined.

A function nested in a test, one of this file, one of a script, one fed to
`python -` on stdin: what their names are is read from the function itself,
and every message names the user's file and line.
"""

from __future__ import annotations

import math
import math as m
import subprocess
import sys
import textwrap
from math import exp
from pathlib import Path

import numpy as np
import numpy as numeric
import numpy.linalg as la
import pytest
from numpy import linalg
from numpy import tanh as th

import codegen

SCALE = 0.5


def sq(z):
    return z * z


def staged(x, y):
    sigy = 1.0 / (1 + m.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + exp(-x))
    xpy = x + y
    xpysqr = sq(xpy)
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    return f


NOTES_F = (2.0595697955721652, 1.5922327514838093)


def test_a_function_of_the_test_file_with_aliases_and_a_helper() -> None:
    assert codegen.backward(staged)(3.0, -4.0) == pytest.approx(NOTES_F, rel=1e-12)
    assert codegen.gradcheck(staged, 3.0, -4.0) < 1e-6


def test_a_function_nested_in_a_test_with_a_closure_helper() -> None:
    def layer(h):
        return numeric.tanh(h) * SCALE

    def loss(w, x):
        h = w * x
        return numeric.sum(layer(h)) + sq(w[0])

    rng = np.random.default_rng(1)
    w, x = rng.normal(size=3), rng.normal(size=3)
    dw, dx = codegen.backward(loss)(w, x)
    t = np.tanh(w * x)
    assert dw == pytest.approx((1 - t**2) * SCALE * x + np.array([2 * w[0], 0, 0]), rel=1e-12)
    assert dx == pytest.approx((1 - t**2) * SCALE * w, rel=1e-12)
    assert codegen.gradcheck(loss, w, x) < 1e-6


def test_a_problem_in_a_nested_function_is_at_its_line_and_column_in_this_file() -> None:
    def g(x):
        y = x * 2
        return math.prod([x, y])

    with pytest.raises(codegen.CodegenError) as info:
        codegen.backward(g)
    error = info.value
    line = g.__code__.co_firstlineno + 2
    assert (error.filename, error.line) == (__file__, line)
    text = Path(__file__).read_text().splitlines()[line - 1]
    assert error.column == text.index("math.prod") + 1
    assert error.problems[0].source_line == text + "\n"
    assert error.message == "no derivative rule for math.prod"


def test_a_problem_in_a_helper_is_at_the_helper() -> None:
    def helper(z):
        return m.prod([z])

    def f(x):
        return helper(x) * 2

    with pytest.raises(codegen.CodegenError) as info:
        codegen.backward(f)
    assert (info.value.filename, info.value.line) == (__file__, helper.__code__.co_firstlineno + 1)


def test_a_builtin_or_c_function_is_a_clean_error() -> None:
    for fn in (math.exp, np.exp, len):
        with pytest.raises(codegen.CodegenError, match="built-in function, written in C: codegen reads Python"):
            codegen.backward(fn)


def test_a_lambda_is_a_clean_error() -> None:
    square = lambda x: x * x  # noqa: E731
    with pytest.raises(codegen.CodegenError, match="a lambda cannot be differentiated") as info:
        codegen.backward(square)
    assert (info.value.filename, info.value.line) == (__file__, square.__code__.co_firstlineno)


def test_a_function_without_source_is_a_clean_error() -> None:
    namespace: dict[str, object] = {}
    exec("def f(x):\n    return x * x\n", namespace)
    with pytest.raises(codegen.CodegenError, match=r"the source of f is not available .*codegen\.generate\(source\)"):
        f = namespace["f"]
        assert callable(f)
        codegen.backward(f)


def run_python(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


SCRIPT = textwrap.dedent(
    """\
    import math
    import codegen


    def f(x, y):
        sigy = 1.0 / (1 + math.exp(-y))
        num = x + sigy
        sigx = 1.0 / (1 + math.exp(-x))
        xpy = x + y
        xpysqr = xpy**2
        den = sigx + xpysqr
        invden = 1.0 / den
        f = num * invden
        return f


    def bad(x):
        return math.exp(x, x)


    print(repr(codegen.backward(f)(3.0, -4.0)))
    print(codegen.gradcheck(f, 3.0, -4.0) < 1e-6)
    try:
        codegen.backward(bad)
    except codegen.CodegenError as exc:
        print(exc)
    """
)


def test_a_script(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    result = run_python([str(script)], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == repr(NOTES_F)
    assert lines[1] == "True"
    assert lines[2].startswith(f"{script}:18:12: error: math.exp ")
    assert lines[3] == "        return math.exp(x, x)"


def test_python_stdin_says_the_source_is_not_available(tmp_path: Path) -> None:
    result = run_python(["-"], tmp_path, stdin=SCRIPT.replace("try:\n    codegen.backward(bad)", "try:\n    pass"))
    assert result.returncode == 1
    assert "OSError" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("codegen.errors.CodegenError: <stdin>:5:1: error: the source of f is not available")
    assert "define it in a file or a notebook cell, or pass its source text to codegen.generate(source)" in last


def test_python_c_says_the_source_is_not_available(tmp_path: Path) -> None:
    code = "import codegen\ndef f(x):\n    return x * x\ntry:\n    codegen.backward(f)\nexcept codegen.CodegenError as e:\n    print(e)"
    result = run_python(["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("<string>:2:1: error: the source of f is not available")


def _private(x):
    return m.exp(x) * SCALE


def test_a_private_function_named_explicitly() -> None:
    assert codegen.backward(_private)(0.5) == pytest.approx(math.exp(0.5) * SCALE, rel=1e-12)


def soft(z):
    return math.log1p(math.exp(z))


def soft_backward(z, dout):
    return dout * 0.25  # deliberately not the derivative: the rule must be the one used


def test_a_rule_beside_a_helper_of_the_test_file_is_used_by_a_nested_function() -> None:
    def f(x):
        return soft(x) * 2

    assert codegen.backward(f)(1.0) == pytest.approx(0.5)


def test_two_meanings_of_one_name_are_refused() -> None:
    SCALE = 2.0

    def inner(x):
        return _private(x) * SCALE  # _private's SCALE is the module's 0.5

    with pytest.raises(codegen.CodegenError, match="SCALE means two different things") as info:
        codegen.backward(inner)
    assert (info.value.filename, info.value.line) == (__file__, _private.__code__.co_firstlineno)


def test_a_helper_under_another_name_is_that_helper() -> None:
    square = sq  # `ACT = relu`, as a module may bind it

    def f(x):
        return square(x) + 1

    assert codegen.gradcheck(f, 0.7) < 1e-6
    assert codegen.backward(f)(0.7) == pytest.approx(codegen.backward(sq)(0.7))


def test_numpy_functions_and_submodules_under_any_name() -> None:
    def f(x):
        return linalg.norm(th(x)) + la.norm(x) * 0.5

    x = np.random.default_rng(2).normal(size=4)
    assert codegen.gradcheck(f, x) < 1e-6


def test_gradcheck_of_a_layer_returning_its_cache() -> None:
    """A returned tuple (a course layer's cache) takes no upstream and is not checked."""

    def affine_forward(x, w, b):
        out = x.reshape(x.shape[0], -1).dot(w) + b
        cache = (x, w, b)
        return out, cache

    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(3, 2, 2)), rng.normal(size=(4, 2)), rng.normal(size=2)
    back = codegen.backward(affine_forward)
    assert back.upstream == ("dout",)
    upstream = rng.normal(size=(3, 2))
    dx, dw, db = back(x, w, b, upstream)
    assert dw == pytest.approx(x.reshape(3, -1).T @ upstream, rel=1e-12)
    assert dx == pytest.approx((upstream @ w.T).reshape(x.shape), rel=1e-12)
    assert db == pytest.approx(upstream.sum(axis=0), rel=1e-12)
    assert codegen.gradcheck(affine_forward, x, w, b) < 1e-6
