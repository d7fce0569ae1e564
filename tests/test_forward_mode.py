"""Forward mode: f_jvp gives the directional derivative, checked against central differences."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import Directions, check_forward_mode, load, tangent_parameters
from tests.test_control_flow import PROGRAMS
from tests.test_examples import ARGS, EXAMPLES


def check_jvp(source: str, name: str, calls: list[tuple[Any, ...]]) -> None:
    forward: dict[str, Any] = {}
    exec(compile(source, "fwd.py", "exec"), forward)
    namespace: dict[str, Any] = dict(forward)  # the user's own rules (foo_jvp), as if imported
    exec(compile(codegen.generate(source, mode="forward"), "jvp", "exec"), namespace)
    jvp = namespace[f"{name}_jvp"]
    params = list(inspect.signature(forward[name]).parameters)
    differentiable = tangent_parameters(jvp)
    rng = np.random.default_rng(0)
    for args in calls:
        point = Directions.draw(params, args, differentiable, rng)
        out, tangent = jvp(**point.values, **point.tangents())
        h = 1e-6
        plus = forward[name](**point.moved(h))
        minus = forward[name](**point.moved(-h))
        np.testing.assert_allclose(np.asarray(out, dtype=float), np.asarray(forward[name](*args), dtype=float))
        numeric = (np.asarray(plus, dtype=float) - np.asarray(minus, dtype=float)) / (2 * h)
        np.testing.assert_allclose(np.asarray(tangent, dtype=float), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("stem", sorted(ARGS), ids=str)
def test_examples_jvp(stem: str) -> None:
    name, calls = ARGS[stem]
    check_jvp((EXAMPLES / f"{stem}.py").read_text(), name, calls)


@pytest.mark.parametrize(("name", "source", "calls"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_control_flow_jvp(name: str, source: str, calls: list[tuple[Any, ...]]) -> None:
    import textwrap

    check_jvp(textwrap.dedent(source), "f", calls)


def test_notes_f_jvp_reads_like_the_forward_pass() -> None:
    code = codegen.generate((EXAMPLES / "staged_f.py").read_text(), mode="forward")
    assert "def f_jvp(x, y, x_dot, y_dot):" in code
    assert "xpy_dot = x_dot + y_dot" in code
    assert "f_dot = invden * num_dot + num * invden_dot" in code


def test_cli_mode_forward(tmp_path: Path) -> None:
    source = tmp_path / "layer.py"
    source.write_text("import math\n\n\ndef f(x, y):\n    return math.sin(x * y)\n")
    run = subprocess.run(
        [sys.executable, "-m", "codegen", "--mode", "forward", "-o", "-", str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "def f_jvp(x, y, x_dot, y_dot):" in run.stdout


LIST_PROGRAM = """import math


def f(x, n: int):
    saved = []
    h = x
    for i in range(n):
        saved.append(h)
        h = math.sin(h) * x
    out = h
    for i in range(n):
        out = out + saved[i] * h
    while len(saved) > 0:
        out = out * 0.5 + saved.pop()
    return out
"""


def test_lists_appended_popped_and_indexed_carry_tangent_lists() -> None:
    check_jvp(LIST_PROGRAM, "f", [(0.7, 0), (0.7, 1), (0.7, 4)])
    code = codegen.generate(LIST_PROGRAM, mode="forward")
    assert "saved_dot.append(h_dot)" in code
    assert "saved_dot.pop()" in code
    assert "saved_dot[i]" in code


BRANCH_LISTS = """\
import math


def f(z: float, c: float):
    if c > 0.0:
        parts = []
        for j in range(3):
            parts.append(0.25 * (j - 1))
    else:
        parts = []
        for j in range(3):
            parts.append(math.tanh(z) * (j - 1))
    return z + parts[0]


def g(z, c):
    parts = [0.25 * (j - 1) for j in range(3)] if c > 0.0 else [math.tanh(z) * (j - 1) for j in range(3)]
    return z + parts[-3]
"""


def test_a_list_started_in_each_branch_keeps_the_tangents_one_branch_appends() -> None:
    # The merged list was not a list of tangents: f_jvp gave z_dot alone (a silent
    # wrong tangent; the random programs found it with a comprehension in each branch).
    check_jvp(BRANCH_LISTS, "f", [(0.7, -1.0), (0.7, 1.0)])
    check_jvp(BRANCH_LISTS, "g", [(0.7, -1.0), (0.7, 1.0)])


def test_reverse_mode_refuses_list_pops_with_a_position_and_the_rewrite() -> None:
    # Appends are differentiated in reverse mode too (tests/test_lists_helpers.py); a pop is not.
    with pytest.raises(codegen.CodegenError, match=r"saved.pop\(\) is not supported in reverse mode: .*saved\[-1\]") as info:
        codegen.generate(LIST_PROGRAM)
    assert (info.value.line, info.value.column) == (14, 27)


USER_RULES = """import numpy as np


def softplus(x):
    return np.log1p(np.exp(x))


def softplus_backward(x, dout):
    return dout / (1 + np.exp(-x))


def softplus_jvp(x, x_dot):
    return np.log1p(np.exp(x)), x_dot / (1 + np.exp(-x))


def loss(w, X):
    h = softplus(X @ w)
    total = 0.0
    for i in range(3):
        total = total + np.sum(softplus(h * (i + 1)) + 1.0)
    return total
"""


def test_a_hand_written_foo_jvp_is_called() -> None:
    rng = np.random.default_rng(1)
    check_jvp(USER_RULES, "loss", [(rng.normal(size=(3, 2)), rng.normal(size=(4, 3)))])
    code = codegen.generate(USER_RULES, filename="layers.py", mode="forward")
    assert "h, h_dot = softplus_jvp(X_matmul_w, X_matmul_w_dot)" in code
    assert "from layers import softplus_jvp" in code
    assert "def softplus_jvp_jvp" not in code and "def softplus_jvp" not in code


def test_rules_are_never_forward_functions() -> None:
    code = codegen.generate(USER_RULES)
    assert "def loss_backward(" in code
    assert "softplus_jvp" not in code and "def softplus_backward" not in code


def test_forward_mode_names_the_rule_it_needs() -> None:
    source = USER_RULES.replace("def softplus_jvp(", "def _unused(")
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source, mode="forward")
    message = info.value.problems[0].message
    assert "softplus has a hand-written softplus_backward, which forward mode cannot use" in message
    assert "write softplus_jvp(x, x_dot) returning (value, tangent)" in message
    assert (info.value.line, info.value.column) == (17, 9)  # h = softplus(X @ w)


def test_reverse_mode_names_the_rule_it_needs() -> None:
    source = USER_RULES.replace("def softplus_backward(", "def _unused(")
    with pytest.raises(codegen.CodegenError, match=r"write softplus_backward\(x, dout\)"):
        codegen.generate(source)


HELPER_REBINDS_ITS_PARAMETER = """import numpy as np


def _layer(v):
    for i in range(3):
        v = np.tanh(v) * 0.9
    return np.mean(v)


def f(x, w):
    t = np.tanh(x)
    for j in range(2):
        t = np.tanh(t + _layer(w))
    return t
"""


def test_a_helper_rebinding_its_parameter_leaves_the_callers_variable_alone() -> None:
    """The loop in _layer rebinds v, which stands for the caller's w: forward mode,
    which reuses names across iterations, must not reuse w's (found by the random
    numpy programs: the second call saw the first call's result)."""
    check_jvp(HELPER_REBINDS_ITS_PARAMETER, "f", [(np.array([0.3, -0.2]), np.array([0.1, 0.5]))])


def test_a_defaulted_parameter_rebound_in_a_loop_gets_a_tangent_from_zero() -> None:
    """c starts as the default (no tangent); the loop rebinds it from x (B41: the
    tangent's zero named the loop's version of c before it was bound)."""
    source = "import numpy as np\n\n\ndef f(x, c=0.5):\n    for i in range(2):\n        c = np.tanh(x)\n    return c * c\n"
    check_jvp(source, "f", [(np.array([0.3, -0.2]),)])


# B42: a loop that runs zero times leaves every variable as it was, tangents included.
# Most programs rebind a parameter in a loop and read it after; prune used to merge
# the tangent parameter into the loop's version (w_dot = w_1_dot) as if the copy were
# its only binding, so after a loop that did not run w_1_dot was unbound.
ZERO_ITERATION_PROGRAMS = [
    (
        "range-of-a-parameter",
        "def f(x, w, n: int):\n    for i in range(n):\n        w = x * 2.0\n    return w * x\n",
        [(0.3, 0.5, 0), (0.3, 0.5, 1), (0.3, 0.5, 3)],
    ),
    (
        "range-over-arrays",
        "import numpy as np\n\n\ndef f(x, w, n: int):\n    for i in range(n):\n"
        "        w = np.tanh(x * i) + x\n    return np.sum(w * x)\n",
        [(np.array([0.3, -0.4]), np.array([0.5, 0.2]), k) for k in (0, 1, 4)],
    ),
    (
        "while-false-at-once",
        "def f(x, w):\n    while x > 5.0:\n        w = x * 2.0\n        x = x - 1.0\n    return w * x\n",
        [(0.3, 0.5), (5.5, 0.5), (8.5, 0.5)],
    ),
    (
        "loop-in-a-branch-not-taken",
        "import numpy as np\n\n\ndef f(x, w, c):\n    if c > 0.0:\n        for i in range(2):\n"
        "            w = np.tanh(x) * i\n    return w * x\n",
        [(0.3, 0.5, -1.0), (0.3, 0.5, 1.0)],
    ),
    (
        "inner-loop-not-run-in-an-outer-loop",
        "def f(x, w, n: int):\n    for i in range(3):\n        for j in range(n):\n            w = x * 3.0\n"
        "        x = x * 0.5 + w\n    return w * x\n",
        [(0.3, 0.5, 0), (0.3, 0.5, 2)],
    ),
    # The loop gives w its first tangent; the branch not taken must give it a zero.
    (
        "first-tangent-in-a-branch-not-taken",
        "def f(x, c):\n    w = 0.5\n    if c > 0.0:\n        for i in range(2):\n            w = x * 2.0\n"
        "    return w * x\n",
        [(0.3, -1.0), (0.3, 1.0)],
    ),
    (
        "first-tangent-of-an-array-in-nested-branches",
        "import numpy as np\n\n\ndef f(x, c, n: int):\n    w = np.ones(2)\n    if c > 0.0:\n        if c > 2.0:\n"
        "            for i in range(n):\n                w = w * x\n    return np.sum(w * x)\n",
        [(np.array([0.3, 0.7]), c, k) for c, k in ((-1.0, 2), (1.0, 2), (3.0, 0), (3.0, 1), (3.0, 3))],
    ),
]


@pytest.mark.parametrize(
    ("source", "calls"), [(s, c) for _, s, c in ZERO_ITERATION_PROGRAMS], ids=[n for n, _, _ in ZERO_ITERATION_PROGRAMS]
)
def test_a_loop_that_runs_zero_times_keeps_the_tangent_from_before(source: str, calls: list[tuple[Any, ...]]) -> None:
    check_jvp(source, "f", calls)


# B44 (found once the scalar random programs checked forward mode): a loop whose
# body is nothing but copies that merge away was written with no body at all.
LOOPS_LEFT_EMPTY = [
    (
        "for-over-a-list",
        "import math\n\n\ndef f(x, v):\n    x = a = math.tanh(x)\n    for item in v:\n        a = a\n    a = a\n    return a\n",
        [(0.3, [1.0, 2.0]), (0.3, [])],
    ),
    (
        "for-over-a-range",
        "def f(x, n: int):\n    a = x * x\n    for i in range(n):\n        b = a\n        a = b\n    return a\n",
        [(0.3, 0), (0.3, 2)],
    ),
    (
        "if-of-copies",
        "def f(x, c):\n    a = x * x\n    if c > 0.0:\n        b = a\n        a = b\n    return a\n",
        [(0.3, 1.0), (0.3, -1.0)],
    ),
]


@pytest.mark.parametrize(("source", "calls"), [(s, c) for _, s, c in LOOPS_LEFT_EMPTY], ids=[n for n, _, _ in LOOPS_LEFT_EMPTY])
def test_a_block_of_copies_that_merge_away_leaves_no_empty_block(source: str, calls: list[tuple[Any, ...]]) -> None:
    check_jvp(source, "f", calls)
    code = codegen.generate(source, mode="forward")
    assert "pass" not in code.split('"""')[-1] and "for " not in code.split('"""')[-1]


def test_a_parameter_s_tangent_is_named_after_it_whatever_the_temporaries_are() -> None:
    """`x_dot` is part of the jvp's signature (callers pass tangents by name): a
    temporary named from `x = dot(...)` (found by the long fuzz) does not take it."""
    source = (
        "import numpy as np\nfrom numpy import dot, exp, tanh\n\n\ndef f(x, y):\n    x = exp(tanh(x))\n"
        "    x = tanh(x + x)\n    a = tanh(x + x) * y\n    x = dot(tanh(2.0), a)[0]\n    return np.sum(a)\n"
    )
    code = codegen.generate(source, mode="forward")
    assert "def f_jvp(x, y, x_dot, y_dot):" in code, code
    forward: dict[str, Any] = {}
    exec(source, forward)
    x = np.array([0.3, -0.2, 0.5])
    check_forward_mode(source, "f", forward["f"], load(source)[1]["f_backward"], [x, 0.7])
