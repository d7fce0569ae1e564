"""What every value is, tested as data: each file in tests/kinds/ holds forward
functions, a line `# kinds`, then the kinds inferred for each function's names
(the `--dump-stages` section). Regenerate deliberately with `pytest --update-golden`."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from codegen.ad.differentiate import as_arrays
from codegen.errors import Collector
from codegen.infer import bindings, kinds
from codegen.read import parse
from tests.support import check_gradients, load

CASES = Path(__file__).parent / "kinds"
SEPARATOR = "# kinds\n"


def describe(source: str, staged: bool = False) -> str:
    """The kinds of each function's names; `staged`: then those of its staged values,
    as `--dump-stages` prints them."""
    info = parse.parse_module(source, Collector("case.py", source))
    lines: list[str] = []
    for name in info.forward_names():
        found = kinds.infer(info, info.functions[name])
        lines.append(f"# {name}" + (" (an unknown value may be an array)" if found.arrays else ""))
        lines += [f"#     {line}" for line in found.describe()]
    if staged:
        stages: dict[str, str] = {}
        codegen.generate(source, filename="case.py", dump_stages=lambda stage, text: stages.setdefault(stage, text))
        for name in info.forward_names():
            lines.append(f"# {name}, staged")
            lines += [f"#     {line}" for line in stages[f"staged kinds {name}"].splitlines()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("path", sorted(CASES.glob("*.py")), ids=lambda p: p.stem)
def test_kinds(path: Path, update_golden: bool) -> None:
    source, _, expected = path.read_text(encoding="utf-8").partition(SEPARATOR)
    source = source.rstrip("\n") + "\n"
    found = describe(source, staged=path.stem.startswith("staged"))
    if update_golden:
        path.write_text(source + "\n" + SEPARATOR + found, encoding="utf-8")
        expected = found
    assert found == expected


def test_dump_stages_prints_the_kinds() -> None:
    source = (CASES / "notes.py").read_text(encoding="utf-8").partition(SEPARATOR)[0]
    stages: dict[str, str] = {}
    codegen.generate(source, dump_stages=lambda name, text: stages.setdefault(name, text))
    assert stages["kinds neuron"] == "dot: number\nf: number\nw: sequence\nx: sequence"
    assert "x: number" in stages["kinds f"].splitlines() and "y: number" in stages["kinds f"].splitlines()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "import math\n\n\ndef f(x):\n    N, D = x.shape\n    return math.exp(x * N)\n",
            "case.py:6:21: error: x is used as a number here but as an array of 2 dimensions elsewhere (line 5)  [CG202]",
        ),
        (
            'import math\n\n\ndef f(x: "N D"):\n    return math.exp(x)\n',
            "case.py:5:21: error: x is used as a number here but as an array of 2 dimensions elsewhere (line 4)  [CG202]",
        ),
        (
            "import math\n\n\ndef f(x, p):\n    return math.exp(x) * p['scale'] + math.exp(p)\n",
            "case.py:5:48: error: p is used as a number here but as a dict of settings elsewhere (line 5)  [CG202]",
        ),
    ],
    ids=["math-of-an-unpacked-matrix", "math-of-an-annotated-matrix", "math-of-a-settings-dict"],
)
def test_contradicting_evidence_is_an_error_with_a_position(source: str, message: str) -> None:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(source, filename="case.py")
    assert str(info.value).splitlines()[0] == message


# ---- the cases that once gave silent wrong answers, as users write them -------------
NOTES = (CASES / "notes.py").read_text(encoding="utf-8").partition(SEPARATOR)[0]


def test_the_notes_neuron_with_int_lists_in_a_numpy_module() -> None:
    forward, backward, code = load(NOTES)
    dw, dx = backward["neuron_backward"]([2, -3, -3], [-1, -2])
    assert dw == [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185]
    assert dx == [0.3932238664829637, -0.5898357997244456]
    assert "dw = [x[0] * ddot, x[1] * ddot, ddot]" in code
    check_gradients(forward["neuron"], backward["neuron_backward"], [[2, -3, -3], [-1, -2]])


def test_the_notes_f_with_int_inputs_in_a_numpy_module() -> None:
    forward, backward, code = load(NOTES)
    assert backward["f_backward"](3, -4) == (2.0595697955721652, 1.5922327514838093)
    check_gradients(forward["f"], backward["f_backward"], [3, -4])
    body = code.split("def f_backward", 1)[1].split("\ndef ", 1)[0]
    assert "_unbroadcast" not in body and "np." not in body


@pytest.mark.parametrize("name", ["appended_to", "written_into"])
def test_a_display_of_numbers_changed_in_place_is_no_list_of_numbers(name: str) -> None:
    """`xs = [0.5]`, then `xs.append(np.tanh(x))`: `xs[1]` is an array, and its
    gradient is summed back to x's shape, not taken for a number's."""
    source = (CASES / "displays.py").read_text(encoding="utf-8").partition(SEPARATOR)[0]
    forward, backward, _ = load(source)
    rng = np.random.default_rng(0)
    try:
        check_gradients(forward[name], backward[f"{name}_backward"], [rng.normal(size=3), rng.normal(size=(2, 3))])
    except ValueError as error:  # numpy cannot make an array of the list's gradient: loud, never wrong
        assert "inhomogeneous" in str(error)


def test_a_display_of_numbers_read_as_an_array() -> None:
    """`[math.cos(s), s] @ w`: numpy reads the list as a vector; no contradiction."""
    source = (CASES / "displays.py").read_text(encoding="utf-8").partition(SEPARATOR)[0]
    forward, backward, _ = load(source)
    weights = np.random.default_rng(0).normal(size=(2, 3))
    check_gradients(forward["read_as_an_array"], backward["read_as_an_array_backward"], [0.3, -0.7, weights])


def test_scalar_code_is_the_same_with_and_without_the_numpy_import() -> None:
    alone = NOTES.replace("import numpy as np\n", "").split("\n\ndef matmul", 1)[0] + "\n"
    both = NOTES.split("\n\ndef matmul", 1)[0] + "\n"
    functions = [codegen.generate(s).split("\n\n\n", 1)[1] for s in (alone, both)]
    assert functions[0] == functions[1]


def test_a_sum_over_an_int_list_in_a_loop_keeps_its_fractions() -> None:
    source = (
        "import numpy as np\n\n\ndef rosen(x):\n    result = 0\n    for i in range(len(x) - 1):\n"
        "        result += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2\n    return result\n\n\n"
        "def rosen_array(x):\n    x = np.asarray(x)\n    return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)\n"
    )
    forward, backward, _ = load(source)
    grad = backward["rosen_backward"]([1, 2, 3, 0, 1])
    expected = [-400.0 * 1 * (2 - 1) - 0, 200 * (2 - 1) - 400 * 2 * (3 - 4) - 2 * (1 - 2)]
    np.testing.assert_allclose(np.asarray(grad, dtype=float)[:2], expected)
    check_gradients(forward["rosen"], backward["rosen_backward"], [[1, 2, 3, 0, 1]])
    check_gradients(forward["rosen_array"], backward["rosen_array_backward"], [np.array([1, 2, 3, 0, 1])])


def test_array_code_without_the_numpy_import_is_still_array_code() -> None:
    source = (CASES / "no_numpy.py").read_text(encoding="utf-8").partition(SEPARATOR)[0]
    forward, backward, code = load(source)
    assert "import numpy as np" in code
    assert "db = np.sum(dout, axis=0)" in code
    x, w, b = np.arange(6.0).reshape(3, 2), np.ones((2, 4)), np.ones(4)
    forward["np"] = np
    check_gradients(forward["layer"], backward["layer_backward"], [x, w, b])
    assert np.shape(backward["layer_backward"](x, w, b)[2]) == (4,)
    assert backward["scalar_backward"](2.0, 3.0) == (3.0, 2.0)


def test_the_default_upstream_on_an_array_output_is_ones() -> None:
    source = (
        "import numpy as np\n\n\ndef layernorm(x, gamma, beta, eps=1e-5):\n"
        "    mu = np.mean(x, axis=1, keepdims=True)\n    xc = x - mu\n"
        "    std = np.sqrt(np.mean(xc**2, axis=1, keepdims=True) + eps)\n    return gamma * (xc / std) + beta\n\n\n"
        "def affine(x, w, b):\n    return x.dot(w) + b\n"
    )
    _, backward, _ = load(source)
    x = np.random.default_rng(0).normal(size=(4, 3))
    dx, dgamma, dbeta = backward["layernorm_backward"](x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(dbeta, [4.0, 4.0, 4.0])
    ones = backward["layernorm_backward"](x, np.ones(3), np.zeros(3), dout=np.ones((4, 3)))
    for a, b in zip(ones, (dx, dgamma, dbeta)):
        np.testing.assert_allclose(a, b)
    dx, dw, db = backward["affine_backward"](x, np.ones((3, 2)), np.zeros(2))
    np.testing.assert_allclose(db, [4.0, 4.0])
    np.testing.assert_allclose(dx, np.full((4, 3), 2.0))


def test_a_rank_from_one_branch_does_not_survive_the_merge() -> None:
    source = (
        'import numpy as np\n\n\ndef f(x: "N D", y: "B N D", w, c: bool):\n'
        "    if c:\n        h = x\n    else:\n        h = y\n    return np.sum(h @ w)\n"
    )
    forward, backward, _ = load(source)
    rng = np.random.default_rng(1)
    x, y, w = rng.normal(size=(3, 3)), rng.normal(size=(3, 3, 3)), rng.normal(size=(3, 5))
    for c in (True, False):

        def f(x: Any, y: Any, w: Any) -> Any:
            return forward["f"](x, y, w, c)

        def f_backward(x: Any, y: Any, w: Any, dout: Any = 1.0) -> Any:
            return backward["f_backward"](x, y, w, c, dout)

        f_backward.__doc__ = backward["f_backward"].__doc__
        grads = check_gradients(f, f_backward, [x, y, w])
        assert np.shape(grads["w"]) == (3, 5)


@pytest.mark.parametrize(
    ("body", "args"),
    [
        ("return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))", [(3,), (3,)]),
        ("return np.sum(a @ a.T) * np.sum(b)", [(3,), (2,)]),
        ("return np.sum(np.tanh(np.dot(a, b.T)))", [(3,), (4, 3)]),
        ("t = 0.0\n    for i in range(2):\n        t = t + np.sum(a[i].dot(b))\n    return t", [(2, 3), (3, 4)]),
        ("return np.sum(a @ b)", [(2, 2, 3), (3, 4)]),
        ("return np.sum(np.dot(a, b))", [(2, 2, 3), (3,)]),
    ],
    ids=["cosine-similarity", "vector-at-its-transpose", "gru-on-one-sample", "rows-in-a-loop", "stack-at-matrix", "stack-dot-vector"],
)
def test_products_of_vectors_and_stacks_without_annotations(body: str, args: list[tuple[int, ...]]) -> None:
    source = f"import numpy as np\n\n\ndef f(a, b):\n    {body}\n"
    forward, backward, code = load(source)
    rng = np.random.default_rng(2)
    check_gradients(forward["f"], backward["f_backward"], [rng.normal(size=s) for s in args])
    assert "annotating shapes (a:" in code or "annotating shapes (b:" in code


def test_a_dict_of_settings_is_held_constant() -> None:
    source = (
        "import numpy as np\n\n\ndef batchnorm(x, gamma, beta, bn_param):\n    eps = bn_param.get('eps', 1e-5)\n"
        "    mode = bn_param['mode']\n    mu = x.mean(axis=0)\n    xc = x - mu\n"
        "    return gamma * xc / np.sqrt(np.mean(xc**2, axis=0) + eps) + beta\n"
    )
    code = codegen.generate(source)
    assert "Held constant: bn_param (a dict of settings)." in code
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    rng = np.random.default_rng(3)
    x, gamma, beta = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)
    grads = namespace["batchnorm_backward"](x, gamma, beta, {"mode": "train"})
    assert [np.shape(g) for g in grads] == [(4, 3), (3,), (3,)]


def test_an_int_parameter_used_as_a_size_is_held_constant() -> None:
    source = (
        "import numpy as np\n\n\ndef pool(x, PH):\n    y = x.reshape(PH, -1)\n    return np.sum(y * y)\n\n\n"
        "def loop(x, N):\n    h = np.zeros((N, 3))\n    for i in range(N):\n        h = h + x * i\n    return np.sum(h)\n"
    )
    forward, backward, code = load(source)
    assert "Held constant: PH (used as a size)." in code and "Held constant: N (used as a size)." in code
    x = np.random.default_rng(4).normal(size=(2, 3))
    check_gradients(lambda x: forward["pool"](x, 3), _doc(lambda x, dout=1.0: backward["pool_backward"](x, 3, dout), backward["pool_backward"]), [x])
    check_gradients(lambda x: forward["loop"](x, 4), _doc(lambda x, dout=1.0: backward["loop_backward"](x, 4, dout), backward["loop_backward"]), [x[0]])


def _doc(fn: Any, like: Any) -> Any:
    fn.__doc__ = like.__doc__
    return fn


def test_numbers_from_the_module_and_from_updates_are_numbers() -> None:
    """tests/kinds/module_values.py: each gradient right, and the scalar functions
    generate the code they generate in a module without numpy."""
    source = (CASES / "module_values.py").read_text(encoding="utf-8").partition(SEPARATOR)[0]
    forward, backward, code = load(source)
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4))
    cases: dict[str, list[Any]] = {
        "constants": [0.3], "table": [0.3], "compared": [0.7, w], "unpacked": [0.4], "items": [0.2, [0.1, 0.5, -0.3]],
        "updated": [0.3, -0.6], "rebound": [0.3, -0.6], "rebound_to_an_array": [0.5, w],
    }  # fmt: skip
    for name, args in cases.items():
        check_gradients(forward[name], backward[f"{name}_backward"], args)
    assert np.shape(backward["rebound_to_an_array_backward"](0.5, w)[1]) == w.shape
    scalar = ("constants", "unpacked", "items", "updated", "rebound")
    head, *chunks = source.split("\n\n\ndef ")
    head = head.replace("import numpy as np\n", "").replace("TABLE = np.ones(3)\n", "")
    plain = codegen.generate("\n\n\ndef ".join([head, *(c for c in chunks if c.split("(", 1)[0] in scalar)]))
    for name in scalar:
        assert _function(code, f"{name}_backward") == _function(plain, f"{name}_backward"), name


def _function(code: str, name: str) -> str:
    return code.split(f"\ndef {name}(", 1)[1].split("\n\n\ndef ", 1)[0].rstrip()


def test_a_rank_survives_a_loop() -> None:
    """`h0: "D"` carried through `h = np.tanh(W @ h + x[t])`: every binding of h is a
    vector, so the products' gradients are written exactly, not with the helpers,
    and `W @ h + x[t]` (both of length D) needs no summing back."""
    source = (
        "import numpy as np\n\n\ndef rnn(h0: \"D\", W: \"D D\", x: \"T D\"):\n    h = h0\n"
        "    for t in range(x.shape[0]):\n        h = np.tanh(W @ h + x[t])\n    return np.sum(h)\n"
    )
    forward, backward, code = load(source)
    assert "dW += np.outer(dh_1_plus, h)" in code and "dh = W.T @ dh_1_plus" in code
    assert "_matmul_dx" not in code and "_unbroadcast" not in code  # `W @ h` of a vector h is a vector of W's rows
    rng = np.random.default_rng(1)
    check_gradients(forward["rnn"], backward["rnn_backward"], [rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=(4, 3))])


COSINE = (
    "import math\nimport numpy as np\n\n\ndef cosine(a, b):\n"
    "    return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))\n\n\n"
    "def total(x):\n    return np.sum(x * x)\n"
)


@pytest.mark.parametrize(
    "a, b",
    [([1, 2, 3], [2, -1, 4]), ([1.5, -2.0], [0.5, 3.0]), (np.array([1.0, 2.0, 3.0]), [2, -1, 4])],
    ids=["int lists", "float lists", "an array and a list"],
)
def test_lists_that_numpy_reads_whole_work_in_every_mode(a: Any, b: Any) -> None:
    """A list only passed to numpy (cosine similarity of two lists) is read as an
    array where a derivative does arithmetic with it: it raised `list * float`."""
    forward, backward, code = load(COSINE)
    assert "np.asarray(b) * dnorm_b" in code
    assert "2 * dout * x" in code  # `x * x` proves x is no list: read as it is
    da, db = backward["cosine_backward"](a, b)
    for grad, value in ((da, a), (db, b)):
        assert isinstance(grad, np.ndarray) and grad.shape == np.shape(value)  # numpy made it an array
    arrays = [np.asarray(a, dtype=float), np.asarray(b, dtype=float)]
    expected = backward["cosine_backward"](*arrays)
    np.testing.assert_allclose(da, expected[0]), np.testing.assert_allclose(db, expected[1])
    check_gradients(forward["cosine"], backward["cosine_backward"], arrays)
    split = codegen.generate(COSINE, style="split", functions=["cosine"])
    namespace: dict[str, Any] = {}
    exec(split, namespace)
    _, cache = namespace["cosine_forward"](a, b)
    for got, want in zip(namespace["cosine_backward"](1.0, cache), (da, db)):
        np.testing.assert_allclose(got, want)
    jvp: dict[str, Any] = {}
    exec(codegen.generate(COSINE, mode="forward", functions=["cosine"]), jvp)
    ta, tb = [1.0] * len(a), [0.5] * len(b)
    _, dot = jvp["cosine_jvp"](a, b, ta, tb)
    np.testing.assert_allclose(dot, np.dot(da, ta) + np.dot(db, tb))


def test_reading_a_list_through_numpy_notes_that_numpy_is_needed() -> None:
    """One owner, for reverse and forward mode: a template that does arithmetic with
    a list numpy read whole reads it through `np.asarray`, and numpy joins the
    modules the output needs; a template that does not is left as it is."""
    modules: set[str] = set()
    template = ast.parse("g * a / n + b", mode="eval").body
    read = as_arrays(template, {"a", "c"}, "np", modules)
    assert ast.unparse(read) == "g * np.asarray(a) / n + b" and modules == {"np"}
    untouched: set[str] = set()
    other = ast.parse("g * 2.0", mode="eval").body
    assert as_arrays(other, {"a"}, "np", untouched) is other and not untouched
    assert as_arrays(template, set(), "np", untouched) is template and not untouched


@pytest.mark.parametrize(
    "body, shared",
    [
        ("return np.sum(np.where(x > 0.0, np.cos(x), y))", "np.where(x > 0.0, 0.0, dout_where)"),
        ("return np.sum(np.exp(x) * (x >= -1.0))", "dexp_x = (x >= -1.0) * dout_times"),  # one mask, not two
    ],
)
def test_a_value_ordered_against_a_number_is_no_list(body: str, shared: str) -> None:
    """`x > 0.0` raises for a list, so the forward proves x is no list: the
    backward reads it as it is (it read it through `np.asarray`, which also kept
    the two copies of a mask from being computed once)."""
    source = f"import math\nimport numpy as np\n\n\ndef f(x, y):\n    {body}\n"
    forward, backward, code = load(source)
    assert "asarray" not in code and shared in code
    rng = np.random.default_rng(3)
    check_gradients(forward["f"], backward["f_backward"], [rng.normal(size=5), rng.normal(size=5)])


def test_only_an_order_against_a_number_proves_no_list() -> None:
    """Lists compare with each other (`a == b`, `a < b`) and equal numbers (`a == 0`)."""
    source = (
        "import numpy as np\n\n\ndef f(a, b, c, d, e):\n    if a == b or a < b or c == 0 or 1 < d <= 2 or -1.5 > e:\n"
        "        return np.dot(a, b)\n    return np.sum(c)\n"
    )
    info = parse.parse_module(source, Collector("case.py", source))
    assert bindings.read_only_by_calls(info.functions["f"], {"a", "b", "c", "d", "e"}) == {"a", "b", "c"}


def test_an_annotated_list_numpy_reads_whole_gets_a_list_gradient() -> None:
    source = "import numpy as np\n\n\ndef f(a: list[float], b):\n    return np.sum(np.tanh(a)) * np.linalg.norm(a) + np.dot(a, b)\n"
    forward, backward, code = load(source)
    assert "da = da.tolist()" in code
    da, db = backward["f_backward"]([1, 2, 3], np.array([1.0, 2.0, 3.0]))
    assert isinstance(da, list) and isinstance(db, np.ndarray)
    check_gradients(forward["f"], backward["f_backward"], [[1.0, 2.0, 3.0], np.array([1.0, 2.0, 3.0])])


PENDULUM = (
    "import math\nimport numpy as np\n\n\ndef pendulum(theta, omega, dt=0.01, steps=10):\n    g = 9.81\n"
    "    for _ in range(steps):\n        omega = omega - g * math.sin(theta) * dt\n        theta = theta + omega * dt\n"
    "    return theta\n\n\ndef descent(x, lr=0.1):\n    for _ in range(5):\n        x -= lr * math.cos(x)\n    return x * x\n"
)


def test_a_parameter_rebound_in_a_loop_is_what_its_reads_prove() -> None:
    """`math.sin(theta)` in the loop sees the value passed in, then `theta + omega *
    dt` of the previous step: both are numbers, and so are omega and its update. The
    scalar code is then the same with and without the numpy import (it had
    `_unbroadcast` and a broadcast upstream)."""
    forward, backward, code = load(PENDULUM)
    plain = codegen.generate(PENDULUM.replace("import numpy as np\n", ""))
    for name in ("pendulum_backward", "descent_backward"):
        assert _function(code, name) == _function(plain, name), name
    assert "_unbroadcast" not in code and "np." not in code
    check_gradients(forward["pendulum"], backward["pendulum_backward"], [0.5, 0.1])
    check_gradients(forward["pendulum"], backward["pendulum_backward"], [1, 0])
    check_gradients(forward["descent"], backward["descent_backward"], [0.3])


@pytest.mark.parametrize(
    "body",
    [
        "s = np.pad(np.multiply(2.0, np.concatenate([x, x])), 1)\n    return s.mean()",  # x.shape in the template
        "return np.sum(np.maximum(x, 0.0) * np.tanh(x))",  # x > 0.0 in the template
    ],
)
def test_a_list_numpy_reads_whole_meets_no_attribute_or_comparison_of_lists(body: str) -> None:
    """Found by the random suite's vectors passed as lists: the derivative read
    `x.shape[0]` and compared `x > 0.0`; numpy is asked instead."""
    source = f"import numpy as np\n\n\ndef f(x):\n    {body}\n"
    forward, backward, code = load(source)
    assert "x.shape" not in code and "(x > 0" not in code
    listed, array = [0.1, -0.2, 0.3], np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(backward["f_backward"](listed), backward["f_backward"](array))
    check_gradients(forward["f"], backward["f_backward"], [array])
