"""Where no kind or annotation says how broadcasting grew a gradient, a small helper
(`_unbroadcast`, `_spread_back`) sums it back at run time, and the docstring names
the parameters whose shapes are unknown and the annotation that makes the code
exact. Both halves are held here: the unannotated functions (one module, both
imports, lists and arrays passed in) are right and say so; the same functions with
the annotation the line suggests (and the shapes of the other parameters it names)
call no helper and no longer carry the line."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support import backward_body, check_gradients, check_split_style, load, seeded

PLAIN = '''\
import math

import numpy as np


def rosen(x):
    result = 0
    for i in range(len(x) - 1):
        result += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return result


def layernorm(x, gamma, beta):
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    var = (xc**2).mean(axis=1, keepdims=True)
    xhat = xc / np.sqrt(var + 1e-5)
    return gamma * xhat + beta


def scaled(x, y):
    return np.sum(x * y + np.exp(x)) + math.pi


def spring_chain(x, k, rest):
    U = 0.0
    for i in range(len(x) - 1):
        d = x[i + 1] - x[i] - rest
        U = U + 0.5 * k * d * d
    return U
'''

ANNOTATED = {
    "rosen": ("(x)", '(x: "N")'),
    "layernorm": ("(x, gamma, beta)", '(x: "N D", gamma: "D", beta: "D")'),
    "scaled": ("(x, y)", '(x: "N D", y: "D")'),
    "spring_chain": ("(x, k, rest)", '(x: "N", k: float, rest: float)'),
}

RNG = np.random.default_rng(3)
ARGS = {
    "rosen": [[1, 2, 3, 0, 1]],
    "layernorm": [RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=4)],
    "scaled": [RNG.normal(size=(3, 4)), RNG.normal(size=4)],
    "spring_chain": [np.array([0.1, 1.2, 1.9, 3.3]), 2, 1.0],
}

UNKNOWN = {
    "rosen": 'The shape of x is unknown, so broadcast gradients are summed back at run time; annotating x: "N" makes that exact.',
    "layernorm": "The shapes of x, gamma, beta are unknown",
    "scaled": "The shapes of x, y are unknown, so broadcast gradients are summed back at run time; annotating them (float for a number, a shape such as x: \"N D\" for an array) makes that exact.",
    "spring_chain": 'The shapes of x, k, rest are unknown, so broadcast gradients are summed back at run time; annotating them (float for a number, a shape such as x: "N" for an array)',
}


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", sorted(ANNOTATED))
def test_unannotated_code_is_right_and_names_the_annotation(name: str) -> None:
    forward, backward, code = load(PLAIN)
    body = backward_body(code, name)
    assert "_unbroadcast(" in body or "_spread_back(" in body
    assert UNKNOWN[name] in _flat(body)
    check_gradients(forward[name], backward[f"{name}_backward"], ARGS[name])
    check_split_style(PLAIN, name, forward[name], backward[f"{name}_backward"], ARGS[name])


@pytest.mark.parametrize("name", sorted(ANNOTATED))
def test_the_annotation_named_makes_the_code_exact(name: str) -> None:
    plain, annotated = ANNOTATED[name]
    source = PLAIN.replace(f"def {name}{plain}:", f"def {name}{annotated}:")
    assert source != PLAIN
    forward, backward, code = load(source)
    body = backward_body(code, name)
    assert "_unbroadcast(" not in body and "_spread_back(" not in body
    assert "unknown, so broadcast" not in _flat(body)
    check_gradients(forward[name], backward[f"{name}_backward"], ARGS[name])


def test_a_parameter_held_by_wrt_is_named_and_a_draw_has_its_shape_source() -> None:
    """Dropout: with wrt=["x"], p is held constant, but its shape decides how the mask
    broadcasts, so the line names it. `np.random.rand(*x.shape)` has x's shape, so
    with x and p annotated the backward is exact."""
    plain = "import numpy as np\n\n\ndef dropout(x, p):\n    mask = (np.random.rand(*x.shape) < p) / p\n    return x * mask\n"
    _, _, code = load(plain, wrt=["x"])
    assert "The shapes of x, p are unknown" in _flat(backward_body(code, "dropout"))
    annotated = plain.replace("def dropout(x, p):", 'def dropout(x: "N D", p: float):')
    forward, backward, code = load(annotated)
    body = backward_body(code, "dropout")
    assert "_unbroadcast(" not in body and "unknown, so broadcast" not in _flat(body)
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    check_gradients(seeded(forward["dropout"]), seeded(backward["dropout_backward"]), [x, 0.5])
