"""Rows paired with labels: `x[np.arange(N), y]` picks each position once only when
the labels `y` are a vector (or one number). Labels of shape (N, 1) broadcast
against the N rows to N * N picks, with a position picked as often as its label
repeats; numpy's buffered `+=` would then keep one of them. So the author's
`dx[np.arange(N), y] += dc` (and the fused cross-entropy's `ds[np.arange(N), y] -=
g`) is written only where the kinds prove `y` a vector; otherwise the gradient
scatters with `np.add.at`, right for labels of every shape.

One module of user code (both imports, several functions), labels as int vectors,
int lists and columns; checked against central differences, fused and split."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.support import check_forward_mode, check_gradients, check_split_style, load

SOURCE = '''\
import math

import numpy as np


def pick(x, y):
    N = x.shape[0]
    c = x[np.arange(N), y]
    return np.sum(c * c) + math.pi


def zero_correct(x, y):
    N = x.shape[0]
    margins = np.maximum(0, x + 1.0)
    margins[np.arange(N), y] = 0
    return np.sum(margins * x)


def add_correct(x, v, y):
    N = x.shape[0]
    out = x * 1.0
    out[np.arange(N), y] += v
    return np.sum(out * out)


def log_softmax_loss(scores, y):
    N = scores.shape[0]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probs[np.arange(N), y]) / N


def softmax_loss(scores, y):
    N = scores.shape[0]
    e = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = e / np.sum(e, axis=1, keepdims=True)
    return -np.mean(np.log(probs[np.arange(N), y]))
'''

X = np.array([[0.3, -0.5, 0.9], [-1.1, 0.4, 0.2], [0.7, 0.1, -0.3], [0.2, 0.6, -0.8]])
LABELS = {
    "vector": np.array([0, 2, 1, 1]),
    "list": [0, 2, 1, 1],
    "column": np.array([[0], [2], [1], [1]]),  # N * N picks, label 1 twice a row
    "one": 2,
}
FUNCTIONS = ("pick", "zero_correct", "add_correct", "log_softmax_loss", "softmax_loss")


def _args(name: str, labels: object) -> list[object]:
    if name == "add_correct":
        size = 16 if isinstance(labels, np.ndarray) and labels.ndim == 2 else 4
        return [X, np.linspace(0.5, 1.5, size).reshape((4, 4) if size == 16 else 4), labels]
    return [X, labels]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("labels", list(LABELS), ids=list(LABELS))
def test_labels_of_every_shape(name: str, labels: str) -> None:
    forward, backward, code = load(SOURCE, functions=[name])
    args = _args(name, LABELS[labels])
    try:
        check_gradients(forward[name], backward[f"{name}_backward"], args)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- generated\n{code}") from None
    check_split_style(SOURCE, name, forward[name], backward[f"{name}_backward"], args, functions=[name])


@pytest.mark.parametrize("name", ("pick", "add_correct"))
def test_forward_mode_of_labels_of_every_shape(name: str) -> None:
    forward, backward, _ = load(SOURCE, functions=[name])
    for labels in LABELS.values():
        check_forward_mode(SOURCE, name, forward[name], backward[f"{name}_backward"], _args(name, labels), functions=[name])


def _annotated(source: str) -> str:
    return re.sub(r"def (\w+)\((\w+), (v, )?y\)", r'def \1(\2, \3y: "N")', source)


def test_labels_annotated_as_a_vector_get_the_author_s_form() -> None:
    annotated = _annotated(SOURCE)
    assert annotated.count('y: "N"') == len(FUNCTIONS)
    forward, backward, code = load(annotated)
    assert "np.add.at" not in code, code
    assert re.search(r"^\s*dx\[arange_N, y\] \+= dc$", code, re.MULTILINE), code
    assert re.search(r"^\s*dscores\[np\.arange\(N\), y\] -= ", code, re.MULTILINE), code
    for name in FUNCTIONS:
        check_gradients(forward[name], backward[f"{name}_backward"], _args(name, LABELS["vector"]))


def test_unproved_labels_scatter_and_the_docstring_names_the_annotation() -> None:
    _, _, code = load(SOURCE, functions=["pick"])
    assert re.search(r"np\.add\.at\(dx, \((arange_N|np\.arange\(N\)), y\), dc\)", code), code
    assert 'annotating y: "N" (one label a row)' in code, code


@pytest.mark.parametrize(
    ("signature", "evidence"),
    [("x, y: list[int]", ""), ('x, y: "N"', ""), ("x, y", None), ("x, y: np.ndarray", None)],
    ids=["list", "vector", "unannotated", "array-of-unknown-rank"],
)
def test_what_proves_labels_a_vector(signature: str, evidence: str | None) -> None:
    source = (
        f"import numpy as np\n\n\ndef pick(x, {signature.split(', ', 1)[1]}):\n"
        f"{evidence or ''}    N = x.shape[0]\n    c = x[np.arange(N), y]\n    return np.sum(c * c)\n"
    )
    forward, backward, code = load(source)
    assert ("np.add.at" in code) == (evidence is None), code
    check_gradients(forward["pick"], backward["pick_backward"], [X, [0, 2, 1, 1]])
