"""A vector declared by its annotation and read element by element gets an array
gradient: `x: "N"` a float array of x's shape (a list only where a list is passed),
jaxtyping's `Float[np.ndarray, "N"]` always an array; `list[float]` a list."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients

SOURCE = (Path(__file__).parent / "kinds" / "annotated_vectors.py").read_text(encoding="utf-8").partition("# kinds\n")[0]


class _Float:
    """Stands for jaxtyping's `Float` (not installed here)."""

    def __class_getitem__(cls, item: object) -> type:
        return cls


def _load() -> tuple[dict[str, Any], dict[str, Any], str]:
    code = codegen.generate(SOURCE, filename="vectors.py")
    forward: dict[str, Any] = {"Float": _Float}
    exec(compile(re.sub(r"^from jaxtyping.*$", "", SOURCE, flags=re.MULTILINE), "vectors.py", "exec"), forward)  # noqa: S102
    backward: dict[str, Any] = {"Float": _Float}
    exec(compile(re.sub(r"^from jaxtyping.*$", "", code, flags=re.MULTILINE), "vectors_backward.py", "exec"), backward)  # noqa: S102
    return forward, backward, code


FORWARD, BACKWARD, CODE = _load()


def _body(name: str) -> str:
    return CODE.split(f"def {name}_backward", 1)[1].split("\ndef ", 1)[0]


@pytest.mark.parametrize("name", ["squares", "squares_jaxtyped"])
def test_an_annotated_vector_read_by_items_gets_a_float_array_gradient(name: str) -> None:
    assert "np.zeros_like(x, dtype=float)" in _body(name) and "[0.0] * len(x)" not in _body(name)
    for x in (np.array([1, 2, -3]), np.array([0.5, -1.5, 2.0])):  # ints too: no truncation
        grad = BACKWARD[f"{name}_backward"](x)
        assert isinstance(grad, np.ndarray) and grad.dtype == np.float64 and grad.shape == x.shape
        np.testing.assert_allclose(grad, 2.0 * x)
        check_gradients(FORWARD[name], BACKWARD[f"{name}_backward"], [x])


def test_a_list_passed_for_a_declared_vector_gets_a_list_gradient() -> None:
    grad = BACKWARD["squares_backward"]([1, 2, -3])
    assert grad == [2.0, 4.0, -6.0] and all(type(g) is float for g in grad)
    check_gradients(FORWARD["squares"], BACKWARD["squares_backward"], [[1, 2, -3]])


def test_a_jaxtyped_vector_is_never_made_a_list() -> None:
    assert "tolist" not in _body("squares_jaxtyped") and "isinstance" not in _body("squares_jaxtyped")


def test_an_annotated_list_keeps_its_list_gradient() -> None:
    assert "[0.0] * len(x)" in _body("squares_listed")
    grad = BACKWARD["squares_listed_backward"]([1, 2, -3])
    assert grad == [2.0, 4.0, -6.0]
    check_gradients(FORWARD["squares_listed"], BACKWARD["squares_listed_backward"], [[1, 2, -3]])


def test_items_of_a_jaxtyped_vector_times_an_array() -> None:
    body = _body("affine_items")
    assert "np.zeros_like(x, dtype=float)" in body and "dx = [" not in body
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=4), rng.normal(size=(2, 3))
    dx, dw = BACKWARD["affine_items_backward"](x, w)
    assert isinstance(dx, np.ndarray) and dx.shape == (4,) and dw.shape == (2, 3)
    check_gradients(FORWARD["affine_items"], BACKWARD["affine_items_backward"], [x, w])
    check_gradients(FORWARD["affine_items"], BACKWARD["affine_items_backward"], [np.array([1, 2, 3]), rng.normal(size=3)])
