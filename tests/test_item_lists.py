"""Parameters that may be lists of arrays (codegen/ad/item_lists.py): a network's
layers passed as lists, read one item at a time, as people write them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.support import check_forward_mode, check_gradients, check_split_style, load

SOURCE = '''import math

import numpy as np


def mlp(x, Ws, bs):
    h = x
    for W, b in zip(Ws, bs):
        h = np.tanh(h @ W + b)
    return np.sum(h**2)


def biases(x, bs):
    h = x
    for b in bs:
        h = np.tanh(h + b)
    return np.sum(h)


def by_index(x, layers):
    out = 0.0
    for i in range(len(layers)):
        out = out + np.sum(np.sin(layers[i] * x))
    return out
'''

RNG = np.random.default_rng(3)
CASES: dict[str, list[list[Any]]] = {
    # layers of different shapes: no array can hold them
    "mlp": [
        [RNG.normal(size=(2, 3)), [RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))], [RNG.normal(size=4), RNG.normal(size=2)]],
        [RNG.normal(size=(2, 3)), [RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3))], RNG.normal(size=(2, 3))],
        [RNG.normal(size=3), RNG.normal(size=(2, 3, 3)), [0.5, -0.25]],
    ],
    "biases": [
        [RNG.normal(size=3), [RNG.normal(size=3), RNG.normal(size=(2, 3)), 0.5]],
        [RNG.normal(size=3), [0.1, 2, -0.3]],
        [RNG.normal(size=3), RNG.normal(size=(2, 3))],
    ],
    "by_index": [
        [RNG.normal(size=2), [RNG.normal(size=2), RNG.normal(size=(3, 2))]],
        [RNG.normal(size=2), [1, 2, 3]],
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_lists_of_arrays_read_item_by_item(name: str) -> None:
    forward, backward, _ = load(SOURCE)
    for args in CASES[name]:
        grads = check_gradients(forward[name], backward[f"{name}_backward"], args)
        for arg, grad in zip(args, grads.values()):
            if isinstance(arg, list):
                assert isinstance(grad, list) and len(grad) == len(arg)
                for item, g in zip(arg, grad):
                    assert np.shape(g) == np.shape(item), "each item's gradient has the item's shape"
        check_split_style(SOURCE, name, forward[name], backward[f"{name}_backward"], args)
        check_forward_mode(SOURCE, name, forward[name], backward[f"{name}_backward"], args)


def test_the_gradient_of_a_list_of_numbers_is_a_list_of_floats() -> None:
    _, backward, code = load(SOURCE)
    _, dbs = backward["biases_backward"](np.zeros(3), [0.1, 2, -0.3])
    assert all(type(g) is float for g in dbs)
    assert "dWs = _item_zeros(Ws)" in code


def _moved(value: Any, tangent: Any, h: float) -> Any:
    if isinstance(value, list):
        return [_moved(v, t, h) for v, t in zip(value, tangent)]
    return value + h * np.asarray(tangent)


def _flat(value: Any) -> np.ndarray:
    if isinstance(value, (list, tuple)):
        return np.concatenate([_flat(v) for v in value])
    return np.ravel(np.asarray(value, dtype=float))


@pytest.mark.parametrize("name", ["mlp", "biases"])
def test_hessian_vector_products_of_lists_of_arrays(name: str) -> None:
    import codegen

    _, backward, _ = load(SOURCE)
    hvp_namespace: dict[str, Any] = {}
    exec(compile(codegen.generate(SOURCE, mode="hvp"), "hvp", "exec"), hvp_namespace)
    hvp = hvp_namespace[f"{name}_hvp"]
    rng = np.random.default_rng(5)
    for args in CASES[name]:
        tangents = [[rng.uniform(-1, 1, np.shape(i)) for i in a] if isinstance(a, list) else rng.uniform(-1, 1, np.shape(a)) for a in args]
        got = hvp(*args, *tangents)
        h = 1e-6
        plus = backward[f"{name}_backward"](*[_moved(a, t, h) for a, t in zip(args, tangents)])
        minus = backward[f"{name}_backward"](*[_moved(a, t, -h) for a, t in zip(args, tangents)])
        np.testing.assert_allclose(_flat(got), (_flat(plus) - _flat(minus)) / (2 * h), rtol=1e-5, atol=1e-6)
