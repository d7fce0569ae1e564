"""Issue 21's reproductions: casts, reflection, random draws, top-level constants,
names the output calls, limits of the language, and files.

Each case is a reproduction of a silent wrong gradient, a crash or a side effect
that was once possible; it is checked against central differences, or must be
refused with a position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, gradient_names, load


def refuse(source: str, filename: str = "fwd.py", **options: Any) -> codegen.CodegenError:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source, filename=filename, **options)
    error = info.value
    assert error.filename == filename and error.line >= 1 and error.column >= 1
    return error


def check_everywhere(source: str, name: str, args: list[Any]) -> dict[str, Any]:
    """Gradients by central differences, and the split style and forward mode agree."""
    forward, backward, _ = load(source)
    grads = check_gradients(forward[name], backward[f"{name}_backward"], args)
    check_split_style(source, name, forward[name], backward[f"{name}_backward"], list(args))
    check_forward_mode(source, name, forward[name], backward[f"{name}_backward"], list(args))
    return grads


# ---- casts: an integer or boolean dtype has zero derivative ------------------------

X = np.array([0.3, 1.7, -2.4])

CASTS = {
    "int": ("x.astype(int)", 1.0),
    "bool": ("x.astype(bool)", 1.0),
    "np.int32": ("x.astype(np.int32)", 1.0),
    "np.uint8": ("np.abs(x).astype(np.uint8)", 1.0),
    "np.bool_": ("x.astype(np.bool_)", 1.0),
    "string int64": ("x.astype('int64')", 1.0),
    "keyword dtype": ("x.astype(dtype=int)", 1.0),
    "np.int64 called": ("np.int64(x)", 1.0),
    "float": ("x.astype(float)", 2.0),
    "np.float64": ("x.astype(np.float64)", 2.0),
    "string f8": ("x.astype('f8')", 2.0),
}


@pytest.mark.parametrize(("cast", "slope"), CASTS.values(), ids=CASTS.keys())
def test_a_cast_keeps_the_gradient_only_to_a_float_dtype(cast: str, slope: float) -> None:
    source = f"import numpy as np\n\n\ndef f(x):\n    return np.sum({cast} + x)\n"
    _, backward, _ = load(source)
    check_everywhere(source, "f", [X.copy()])
    np.testing.assert_allclose(backward["f_backward"](X.copy()), np.full(3, slope))


def test_a_parameter_reaching_the_output_only_through_an_int_cast_is_held_constant() -> None:
    source = "import numpy as np\n\n\ndef f(x, w):\n    return np.sum(x.astype(int) * w)\n"
    forward, backward, _ = load(source)
    assert gradient_names(backward["f_backward"]) == ["w"]
    check_gradients(forward["f"], backward["f_backward"], [X.copy(), np.array([0.5, 1.5, 2.5])])


@pytest.mark.parametrize("dtype", ["d.dtype", "kind", "np.dtype('int32')", "complex", "np.floating"])
def test_a_cast_to_a_dtype_not_written_literally_is_refused(dtype: str) -> None:
    source = f"import numpy as np\n\n\ndef f(x, d, kind=float):\n    return np.sum(x.astype({dtype}) * x)\n"
    error = refuse(source)
    assert (error.line, error.column) == (5, 19), error
    assert "dtype" in error.message, error.message


# ---- reflection: a parameter read by name is out of sight --------------------------

REFLECTION = {
    "eval": ('def f(x):\n    return eval("x") * 2.0\n', 2, 12),
    "exec": ('def f(x):\n    z = exec("x = 2.0")\n    return x\n', 2, 9),
    "locals": ('def f(x):\n    return locals()["x"] * 2.0 + x\n', 2, 12),
    "vars": ('def f(x):\n    return vars()["x"] * x\n', 2, 12),
    "globals": ('K = 2.0\n\n\ndef f(x):\n    return globals()["K"] * x\n', 5, 12),
    "in a default": ("def f(x, k=eval('1')):\n    return x * k\n", 1, 12),
}


@pytest.mark.parametrize(("source", "line", "column"), REFLECTION.values(), ids=REFLECTION.keys())
def test_reading_variables_by_name_is_refused_at_the_name(source: str, line: int, column: int) -> None:
    error = refuse(source)
    assert (error.line, error.column) == (line, column), error
    assert "reads variables by name" in error.message, error.message


def test_a_rebound_reflection_name_is_an_ordinary_name() -> None:
    source = "def f(x, vars):\n    return vars * x\n"
    forward, backward, _ = load(source)
    check_gradients(forward["f"], backward["f_backward"], [1.5, 2.5])
