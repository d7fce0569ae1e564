"""Hessian-vector products (forward mode over the generated backward) against
central differences of the generated gradient."""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import Directions, tangent_parameters, upstream_for, upstream_kwargs
from tests.test_control_flow import PROGRAMS
from tests.test_examples import ARGS, EXAMPLES
from tests.test_forward_mode import ZERO_ITERATION_PROGRAMS
from tests.test_golden import case_files, split_case


def check_hvp(source: str, name: str, calls: list[tuple[Any, ...]]) -> str:
    """Compare f_hvp with central differences of the generated gradient; returns the HVP module."""
    forward: dict[str, Any] = {}
    exec(compile(source, "fwd.py", "exec"), forward)
    backward: dict[str, Any] = dict(forward)
    exec(compile(codegen.generate(source), "bwd", "exec"), backward)
    code = codegen.generate(source, mode="hvp")
    hvp_namespace: dict[str, Any] = dict(forward)  # the user's own rules, as if imported
    exec(compile(code, "hvp", "exec"), hvp_namespace)
    grad_fn, hvp = backward[f"{name}_backward"], hvp_namespace[f"{name}_hvp"]
    params = list(inspect.signature(forward[name]).parameters)
    wrt = tangent_parameters(hvp)
    rng = np.random.default_rng(3)
    for args in calls:
        upstream = upstream_kwargs(forward[name], grad_fn, upstream_for(forward[name](*args), rng))
        point = Directions.draw(params, args, wrt, rng)
        result = hvp(**point.values, **point.tangents(), **upstream)
        result = result if len(wrt) > 1 else (result,)
        h = 1e-6
        plus = grad_fn(**point.moved(h), **upstream)
        minus = grad_fn(**point.moved(-h), **upstream)
        plus = plus if len(wrt) > 1 else (plus,)
        minus = minus if len(wrt) > 1 else (minus,)
        for got, a, b in zip(result, plus, minus):
            numeric = (np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) / (2 * h)
            np.testing.assert_allclose(np.asarray(got, dtype=float), numeric, rtol=1e-5, atol=1e-6)
    return code


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("stem", sorted(ARGS), ids=str)
def test_hvp_matches_differences_of_the_gradient(stem: str) -> None:
    name, calls = ARGS[stem]
    check_hvp((EXAMPLES / f"{stem}.py").read_text(), name, calls)


@pytest.mark.parametrize(("name", "source", "calls"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_control_flow_hvp(name: str, source: str, calls: list[tuple[Any, ...]]) -> None:
    check_hvp(textwrap.dedent(source), "f", calls)


def test_rnn_hvp_keeps_a_tangent_list_beside_each_saved_list() -> None:
    code = codegen.generate((EXAMPLES / "rnn.py").read_text(), mode="hvp")
    assert "h_list_dot.append(h_dot)" in code
    assert "h_list_dot.pop()" in code
    # Only what the products need: no loss recomputed, no tangents of values
    # read only for their shape, no copies from name to name.
    assert "np.sum(h_1 * h_1)" not in code
    assert "h_1_plus_list_dot" not in code
    assert "h_2 = h_1" not in code


def test_hvp_of_a_preallocated_convolution() -> None:
    source = (
        "import numpy as np\n\n\ndef conv_loss(x, w, k):\n    n = len(x) - k + 1\n    out = np.zeros(n)\n"
        "    for i in range(n):\n        out[i] = np.sum(x[i:i + k] * w)\n    return np.sum(out ** 2)\n"
    )
    rng = np.random.default_rng(3)
    check_hvp(source, "conv_loss", [(rng.normal(size=6), rng.normal(size=3), 3)])


def test_reverse_over_reverse_refuses_saved_lists_clearly() -> None:
    backward = (EXAMPLES / "loop_power_backward.py").read_text()
    with pytest.raises(codegen.CodegenError, match=r"p_list.pop\(\) is not supported in reverse mode"):
        codegen.generate(backward, allow_generated=True)


def test_cli_hvp_and_allow_generated(tmp_path: Any) -> None:
    import subprocess
    import sys

    source = tmp_path / "fwd.py"
    source.write_text("import math\n\n\ndef f(x, y):\n    return math.sin(x * y)\n")
    run = subprocess.run([sys.executable, "-m", "codegen", "--hvp", "-o", "-", str(source)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "def f_hvp(x, y, x_dot, y_dot, dout=1.0):" in run.stdout
    subprocess.run([sys.executable, "-m", "codegen", str(source)], check=True, timeout=120)
    generated = tmp_path / "fwd_backward.py"
    run = subprocess.run([sys.executable, "-m", "codegen", "-o", "-", str(generated)], capture_output=True, text=True, timeout=120)
    assert "skipped" in run.stderr and run.stdout == ""
    run = subprocess.run(
        [sys.executable, "-m", "codegen", "--allow-generated", "-o", "-", str(generated)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "def f_backward_backward(" in run.stdout


def test_hvp_through_hand_written_rules() -> None:
    from tests.test_forward_mode import USER_RULES

    rng = np.random.default_rng(2)
    code = check_hvp(USER_RULES, "loss", [(rng.normal(size=(3, 2)), rng.normal(size=(4, 3)))])
    assert "softplus_jvp(" in code  # the value's tangent by the user's rule
    assert "softplus_backward(" not in code  # the rule's own body, differentiated again


def test_hvp_names_the_rule_it_needs() -> None:
    from tests.test_forward_mode import USER_RULES

    source = USER_RULES.replace("def softplus_jvp(", "def _unused(")
    with pytest.raises(codegen.CodegenError, match=r"write softplus_jvp\(x, x_dot\)"):
        codegen.generate(source, mode="hvp")


def test_hvp_calls_a_hand_written_foo_backward_jvp() -> None:
    from tests.test_forward_mode import USER_RULES

    source = USER_RULES + '''

def softplus_backward_jvp(x, dout, x_dot, dout_dot):
    s = 1 / (1 + np.exp(-x))
    return dout * s, dout_dot * s + dout * s * (1 - s) * x_dot
'''
    rng = np.random.default_rng(4)
    check_hvp(source, "loss", [(rng.normal(size=(3, 2)), rng.normal(size=(4, 3)))])
    code = codegen.generate(source, mode="hvp", filename="layers.py")
    assert "from layers import softplus_backward_jvp, softplus_jvp" in code
    assert "softplus, softplus_backward" not in code


def test_hvp_of_a_list_of_numbers_built_with_append() -> None:
    """The backward sums `sum(xs)` back as a list of the constant upstream, then writes a
    differentiated value into it (`dxs[-1] = ...`) and pops it: forward mode knows the
    renamed list (`dxs = dxs_parts`) for a list. Refused in a module without numpy before."""
    source = (
        "import math\n\n\ndef integrate(x0, k, steps):\n    xs = [x0]\n    for s in range(steps):\n"
        "        xs.append(xs[-1] + 0.1 * math.sin(k * xs[-1]))\n    return xs[-1] ** 2 + sum(xs)\n"
    )
    for module in (source, source.replace("import math\n", "import math\nimport numpy as np\n")):
        check_hvp(module, "integrate", [(0.4, 1.7, 5), (-0.3, 0.5, 2)])


# Golden cases refused in HVP mode, each with its message.
HVP_REFUSED: dict[str, str] = {}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_golden_case_hvp(path: Path) -> None:
    source, _ = split_case(path)
    if path.stem in HVP_REFUSED:
        with pytest.raises(codegen.CodegenError, match=HVP_REFUSED[path.stem]):
            codegen.generate(source, mode="hvp")
        return
    for call in re.findall(r"^# check: (.+)$", source, flags=re.MULTILINE):
        name, _, rest = call.partition("(")
        args = eval(f"({rest[:-1]},)", {"np": np, "rng": np.random.default_rng(0)})
        check_hvp(source, name, [args])


def test_hvp_of_lgamma_and_gamma_uses_trigamma() -> None:
    source = "import math\n\n\ndef f(x, y):\n    return math.gamma(x) * math.lgamma(y)\n"
    code = check_hvp(source, "f", [(2.7, 0.4), (-1.5, 3.2)])
    assert "def _trigamma(x):" in code and "def _digamma(x):" in code


@pytest.mark.parametrize(
    ("source", "calls"), [(s, c) for _, s, c in ZERO_ITERATION_PROGRAMS], ids=[n for n, _, _ in ZERO_ITERATION_PROGRAMS]
)
def test_hvp_after_a_loop_that_runs_zero_times(source: str, calls: list[tuple[Any, ...]]) -> None:
    """B42 in f_hvp: the vector w_dot was merged into the loop's w_1_dot."""
    check_hvp(source, "f", calls)


APPENDED = '''
import math

import numpy as np


def conv1d(x, w):
    res = []
    for i in range(x.shape[0] - w.shape[0] + 1):
        res.append(np.sum(x[i:i + w.shape[0]] * w))
    out = np.array(res)
    return np.sum(out ** 2)


def stacked(x, w, axis_one):
    res = []
    for i in range(3):
        res.append(np.tanh(x * w[i]))
    a = np.stack(res)
    b = np.stack(res, axis=1)
    return np.sum(a ** 2) + np.sum(np.sin(b) * axis_one)


def joined(x, w):
    parts = []
    for i in range(len(w)):
        parts.append(x[: i + 1] * w[i])
    rows = []
    for i in range(2):
        rows.append(np.outer(x, x) * w[i])
    return np.sum(np.concatenate(parts) ** 3) + np.sum(np.cos(np.concatenate(rows, axis=1)))


def summed(x, w):
    res = []
    for i in range(3):
        res.append(np.sin(x * w[i]))
    terms = []
    for wi in w:
        terms.append(math.exp(wi) * wi)
    return np.sum(sum(res) ** 2) + sum(terms) ** 2


def read_back(x, n):
    xs = [x]
    for s in range(n):
        if s % 2 == 0:
            xs.append(np.tanh(xs[-1]) * 0.9)
        else:
            xs.append(xs[-1] ** 2 + 0.1 * xs[0])
    return np.sum(np.asarray(xs) ** 2) + np.sum(xs[1] * xs[-1])


def windowed(x, w, k):
    def _window(i, n):
        return np.sum(x[i:i + n] * w)

    out = []
    for i in range(len(x) - k + 1):
        out.append(_window(i, k))
    return np.sum(np.tanh(np.array(out)))
'''
APPENDED_CALLS = {
    "conv1d": [(np.array([0.3, -1.2, 0.8, 0.5, -0.4, 1.1]), np.array([0.7, -0.2, 0.4]))],
    "stacked": [(np.array([0.3, -0.6, 0.9]), [0.5, -1.1, 0.8], np.array([[1.0, 2.0, -1.0]]))],
    "joined": [(np.array([0.3, -0.6, 0.9]), np.array([0.5, -1.1, 0.8]))],
    "summed": [(np.array([0.3, -0.6, 0.9]), [0.5, -1.1, 0.8])],
    "read_back": [(np.array([0.3, -0.6, 0.9]), 4), (0.7, 3)],
    "windowed": [(np.array([0.3, -0.5, 0.9, 1.2, -0.7]), np.array([0.4, -0.8, 0.2]), 3)],
}


@pytest.mark.parametrize("name", list(APPENDED_CALLS))
def test_hvp_of_lists_built_with_append(name: str) -> None:
    """A list built with append and read whole (np.array, np.stack, np.concatenate,
    sum) or by element: its gradient is built one append at a time in the backward
    the HVP reads, and the products agree with differences of the gradient."""
    code = check_hvp(APPENDED, name, APPENDED_CALLS[name])
    body = code.split(f"def {name}_hvp(", 1)[1]  # the helpers before it may loop over items
    assert "for old, new in zip" not in body and "item in" not in body
