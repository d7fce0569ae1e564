"""The bundled examples: checked-in outputs, finite differences, autograd, the notes' numbers."""

from __future__ import annotations

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
    "neuron": ("neuron", [([2.0, -3.0, -3.0], [-1.0, -2.0]), ([0.1, 0.2, 0.3], [1.5, -0.5])]),
}


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
        expected = autograd_gradients(source, name, args, wrt, weights)
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


def test_notes_neuron_numbers() -> None:
    _, backward, _ = load((EXAMPLES / "neuron.py").read_text(), "neuron.py")
    dw, dx = backward["neuron_backward"]([2, -3, -3], [-1, -2])
    np.testing.assert_allclose(dx, [0.3932238664829637, -0.5898357997244456], rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        dw, [-0.19661193324148185, -0.3932238664829637, 0.19661193324148185], rtol=0, atol=1e-15
    )
    assert isinstance(dw, list) and isinstance(dx, list)
