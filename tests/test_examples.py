"""The bundled examples: checked-in outputs, finite differences, autograd, the notes' numbers."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import autograd_gradients, check_gradients, gradient_names, load, upstream_for, upstream_kwargs

EXAMPLES = Path(__file__).parent.parent / "examples"
rng = np.random.default_rng(0)

# example file -> (function, several argument tuples to check at)
ARGS: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
    "staged_f": ("f", [(3.0, -4.0), (0.5, 1.5)]),
    "leaky_relu": ("leaky_relu", [(0.7,), (-0.7,), (2.5, 0.2)]),
    "notes_matmul": ("matmul", [(rng.normal(size=(5, 10)), rng.normal(size=(10, 3))), (rng.normal(size=(1, 1)), rng.normal(size=(1, 4)))]),
    "loop_power": ("loop_power", [(1.3, 0), (1.3, 1), (0.9, 5)]),
    # x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,); T = 0 and 1 included
    "rnn": (
        "rnn",
        [
            (rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5)), rng.normal(size=(3, 5)), 0.5 * rng.normal(size=(5, 5)), rng.normal(size=5)),
            (rng.normal(size=(1, 1, 3)), rng.normal(size=(1, 2)), rng.normal(size=(3, 2)), 0.5 * rng.normal(size=(2, 2)), rng.normal(size=2)),
            (rng.normal(size=(2, 0, 3)), rng.normal(size=(2, 2)), rng.normal(size=(3, 2)), 0.5 * rng.normal(size=(2, 2)), rng.normal(size=2)),
            (rng.normal(size=(3, 2, 1)), rng.normal(size=(3, 1)), rng.normal(size=(1, 1)), 0.5 * rng.normal(size=(1, 1)), rng.normal(size=1)),
        ],
    ),
    "neuron": ("neuron", [([2.0, -3.0, -3.0], [-1.0, -2.0]), ([0.1, 0.2, 0.3], [1.5, -0.5])]),
    # x of shape (N, d1, ..., dk), w (D, M), b (M,)
    "affine": (
        "affine",
        [
            (rng.normal(size=(3, 2, 4)), rng.normal(size=(8, 5)), rng.normal(size=5)),
            (rng.normal(size=(2, 6)), rng.normal(size=(6, 3)), rng.normal(size=3)),
            (rng.normal(size=(1, 1, 1, 1)), rng.normal(size=(1, 1)), rng.normal(size=1)),
            (rng.normal(size=(4, 3, 1, 2)), rng.normal(size=(6, 1)), rng.normal(size=1)),
        ],
    ),
    "relu": (
        "relu",
        [(rng.normal(size=(4, 5)),), (rng.normal(size=(2, 3, 4)),), (rng.normal(size=(1, 1)),), (rng.normal(size=7),)],
    ),
    # class scores x (N, C), labels y (N,)
    "softmax_loss": (
        "softmax_loss",
        [
            (rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])),
            (rng.normal(size=(1, 3)), np.array([2])),
            (rng.normal(size=(3, 1)), np.array([0, 0, 0])),
            (rng.normal(size=(1, 1)), np.array([0])),
        ],
    ),
    "svm_loss": (
        "svm_loss",
        [
            (rng.normal(size=(5, 4)), np.array([0, 3, 1, 1, 2])),
            (rng.normal(size=(1, 3)), np.array([2])),
            (rng.normal(size=(3, 1)), np.array([0, 0, 0])),
            (rng.normal(size=(1, 1)), np.array([0])),
        ],
    ),
    # x (N, D), gamma (D,), beta (D,); the last case passes eps
    "batchnorm": (
        "batchnorm",
        [
            (rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)),
            (rng.normal(size=(2, 1)), rng.normal(size=1), rng.normal(size=1)),
            (rng.normal(size=(1, 3)), rng.normal(size=3), rng.normal(size=3)),
            (rng.normal(size=(5, 2)), rng.normal(size=2), rng.normal(size=2), 1e-3),
        ],
    ),
    "layernorm": (
        "layernorm",
        [
            (rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=3)),
            (rng.normal(size=(1, 2)), rng.normal(size=2), rng.normal(size=2)),
            (rng.normal(size=(3, 1)), rng.normal(size=1), rng.normal(size=1)),
            (rng.normal(size=(2, 5)), rng.normal(size=5), rng.normal(size=5), 1e-3),
        ],
    ),
    # x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)
    "rnn_step": (
        "rnn_step",
        [
            (
                rng.normal(size=(3, 4)),
                rng.normal(size=(3, 5)),
                rng.normal(size=(4, 5)) * 0.5,
                rng.normal(size=(5, 5)) * 0.5,
                rng.normal(size=5),
            ),
            (
                rng.normal(size=(1, 2)),
                rng.normal(size=(1, 3)),
                rng.normal(size=(2, 3)),
                rng.normal(size=(3, 3)),
                rng.normal(size=3),
            ),
            (
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 1)),
                rng.normal(size=(3, 1)),
                rng.normal(size=(1, 1)),
                rng.normal(size=1),
            ),
            (
                rng.normal(size=(1, 1)),
                rng.normal(size=(1, 1)),
                rng.normal(size=(1, 1)),
                rng.normal(size=(1, 1)),
                rng.normal(size=1),
            ),
        ],
    ),
    # x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)
    "lstm_step": (
        "lstm_step",
        [
            (
                rng.normal(size=(3, 4)),
                rng.normal(size=(3, 5)),
                rng.normal(size=(3, 5)),
                rng.normal(size=(4, 20)) * 0.5,
                rng.normal(size=(5, 20)) * 0.5,
                rng.normal(size=20),
            ),
            (
                rng.normal(size=(1, 2)),
                rng.normal(size=(1, 3)),
                rng.normal(size=(1, 3)),
                rng.normal(size=(2, 12)),
                rng.normal(size=(3, 12)),
                rng.normal(size=12),
            ),
            (
                rng.normal(size=(2, 3)),
                rng.normal(size=(2, 1)),
                rng.normal(size=(2, 1)),
                rng.normal(size=(3, 4)),
                rng.normal(size=(1, 4)),
                rng.normal(size=4),
            ),
            (
                rng.normal(size=(1, 1)),
                rng.normal(size=(1, 1)),
                rng.normal(size=(1, 1)),
                rng.normal(size=(1, 4)),
                rng.normal(size=(1, 4)),
                rng.normal(size=4),
            ),
        ],
    ),
    # X (N, D), y (N,), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), reg
    "two_layer_net": (
        "two_layer_net",
        [
            (
                rng.normal(size=(5, 4)),
                np.array([0, 2, 1, 2, 0]),
                rng.normal(size=(4, 6)),
                rng.normal(size=6),
                rng.normal(size=(6, 3)),
                rng.normal(size=3),
                0.1,
            ),
            (
                rng.normal(size=(3, 2)),
                np.array([1, 0, 1]),
                rng.normal(size=(2, 4)),
                rng.normal(size=4),
                rng.normal(size=(4, 2)),
                rng.normal(size=2),
            ),
            (
                rng.normal(size=(1, 3)),
                np.array([1]),
                rng.normal(size=(3, 1)),
                np.abs(rng.normal(size=1)) + 0.5,
                rng.normal(size=(1, 2)),
                rng.normal(size=2),
                0.5,
            ),
        ],
    ),
}

# autograd cannot trace item assignment (`margins[np.arange(N), y] = 0`): it checks these
# examples against the same forward pass written without it
AUTOGRAD_FORWARD = {
    "svm_loss": """
import numpy as np


def svm_loss(x, y):
    N = x.shape[0]
    correct_class_scores = x[np.arange(N), y]
    margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
    margins = np.where(np.arange(x.shape[1]) == y[:, np.newaxis], 0, margins)
    loss = np.sum(margins) / N
    return loss
""",
}


def autograd_forward(stem: str, source: str) -> str:
    """The forward source autograd differentiates: `a.dot(b)` spelt `numpy.dot(a, b)`.

    autograd traces functions, not the ndarray.dot method of a constant array.
    """

    class DotMethod(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            self.generic_visit(node)
            if isinstance(node.func, ast.Attribute) and node.func.attr == "dot" and len(node.args) == 1:
                numpy = ast.Call(ast.Name("__import__", ast.Load()), [ast.Constant("numpy")], [])
                return ast.Call(ast.Attribute(numpy, "dot", ast.Load()), [node.func.value, *node.args], [])
            return node

    tree = DotMethod().visit(ast.parse(AUTOGRAD_FORWARD.get(stem, source)))
    return ast.unparse(ast.fix_missing_locations(tree))


def forward_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.stem.endswith("_backward"))


def test_every_example_has_arguments() -> None:
    assert sorted(p.stem for p in forward_files()) == sorted(ARGS)


@pytest.mark.parametrize("path", forward_files(), ids=lambda p: p.stem)
def test_checked_in_output(path: Path, update_golden: bool) -> None:
    generated = codegen.generate(path.read_text(encoding="utf-8"), filename=path.name)
    output = path.with_name(f"{path.stem}_backward.py")
    if update_golden:
        output.write_text(generated, encoding="utf-8")
    assert output.read_text(encoding="utf-8") == generated


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # autograd, on 0 iterations
@pytest.mark.parametrize("path", forward_files(), ids=lambda p: p.stem)
def test_gradients(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    name, calls = ARGS[path.stem]
    forward, backward, _ = load(source, path.name)
    for args in calls:
        check_gradients(forward[name], backward[f"{name}_backward"], list(args))
        weights = upstream_for(forward[name](*args), np.random.default_rng(1))
        wrt = gradient_names(backward[f"{name}_backward"])
        grads = backward[f"{name}_backward"](*args, **upstream_kwargs(forward[name], backward[f"{name}_backward"], weights))
        grads = grads if len(wrt) > 1 else (grads,)
        expected = autograd_gradients(autograd_forward(path.stem, source), name, args, wrt, weights)
        for param, grad in zip(wrt, grads):
            np.testing.assert_allclose(np.asarray(grad, float), np.asarray(expected[param], float), rtol=1e-10)


def test_notes_f_numbers() -> None:
    _, backward, code = load((EXAMPLES / "staged_f.py").read_text(), "staged_f.py")
    dx, dy = backward["f_backward"](3.0, -4.0)
    assert abs(dx - 2.0595697955721652) < 1e-12
    assert abs(dy - 1.5922327514838093) < 1e-12
    body = code.split("# backprop", 1)[1].split("return dx, dy")[0]
    statements = [line for line in body.splitlines()[1:] if line.strip() and not line.strip().startswith("#")]
    assert len(statements) <= 12


def test_notes_matmul_is_the_notes_backward() -> None:
    code = codegen.generate((EXAMPLES / "notes_matmul.py").read_text())
    body = code.split("# backprop D = W.dot(X)\n", 1)[1]
    assert body.split("\n")[:3] == ["    dW = dD.dot(X.T)", "    dX = W.T.dot(dD)", "    return dW, dX"]


def test_notes_neuron_numbers() -> None:
    _, backward, _ = load((EXAMPLES / "neuron.py").read_text(), "neuron.py")
    dw, dx = backward["neuron_backward"]([2, -3, -3], [-1, -2])
    np.testing.assert_allclose(dx, [0.3932238664829637, -0.5898357997244456], rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        dw, [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185], rtol=0, atol=1e-15
    )
    assert isinstance(dw, list) and isinstance(dx, list)


def test_notes_neuron_lines() -> None:
    _, _, code = load((EXAMPLES / "neuron.py").read_text(), "neuron.py")
    body = code.split("# backprop dot = w[0] * x[0] + w[1] * x[1] + w[2]\n", 1)[1]
    assert body.split("\n")[:3] == ["    dw = [x[0] * ddot, x[1] * ddot, ddot]", "    dx = [w[0] * ddot, w[1] * ddot]", "    return dw, dx"]
