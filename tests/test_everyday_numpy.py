"""Everyday numpy (issue 17): np.logaddexp and np.logaddexp2, np.diag both ways
(with k= and non-square matrices), np.polyval, the float64 casts, and clip's
keyword spellings and None bounds, in one module as users write them. Each
function's gradients are checked against central differences with Python ints
and floats, lists and arrays (0-d, 1-D, 2-D) passed in, in fused and split style,
and its tangents in forward mode."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load
from tests.test_hvp import check_hvp

SOURCE = '''\
import math

import numpy as np


def lae(a, b):
    return np.sum(np.logaddexp(a, b))


def lae2(a, b):
    return np.sum(np.logaddexp2(a, b) * math.sqrt(2.0))


def diag_vec(v):
    return np.sum(np.diag(v) @ np.ones((3, 3)))


def diag_vec_k(v, k: int):
    return np.sum(np.sin(np.diag(v, k)))


def diag_mat(m):
    return np.sum(np.diag(m) ** 2)


def diag_k(m):
    return np.sum(np.diag(m, k=1) ** 2)


def diag_below(m):
    return np.sum(np.exp(np.diag(m, -1)))


def polyv(p, x):
    return np.sum(np.polyval(p, x))


def poly_loss(p, x, y):
    r = np.polyval(p, x) - y
    return np.mean(r**2)


def cast(x):
    y = np.float64(x) * 2.0
    return y * y


def cast_double(x):
    return math.sin(np.double(x)) + float(x) ** 3


def clipm(x):
    return np.sum(x.clip(min=0.0) ** 2)


def clip_max(x):
    return np.sum(x.clip(max=0.5) * x)


def clip_both(x):
    return np.sum(x.clip(min=-0.5, max=0.5) ** 3)


def clip_none(x):
    return np.sum(np.clip(x, None, 0.3) ** 2) + np.sum(np.clip(x, -0.3, None))
'''

RNG = np.random.default_rng(17)


def _array(*shape: int) -> Any:
    return RNG.uniform(-1.0, 1.0, size=shape)


# (function, arguments), away from kinks: clip bounds are never met exactly.
CALLS: list[tuple[str, tuple[Any, ...]]] = [
    ("lae", (0.3, -0.4)),
    ("lae", (2, 1)),
    ("lae", (_array(3), _array(3))),
    ("lae", (_array(2, 3), _array(3))),
    ("lae", (_array(2, 1), 0.5)),
    ("lae", ([0.1, 0.9, -2.0], _array(2, 3))),
    ("lae", (np.array(30.0), np.array(-5.0))),
    ("lae2", (0.3, -0.4)),
    ("lae2", (_array(2, 3), _array(2, 1))),
    ("lae2", ([1, 2, 3], 1)),
    ("diag_vec", (_array(3),)),
    ("diag_vec", ([0.5, -1.0, 2.0],)),
    ("diag_vec", ([1, 2, 3],)),
    ("diag_vec_k", (_array(3), 1)),
    ("diag_vec_k", (_array(2), -2)),
    ("diag_vec_k", ([0.3, 0.4], 0)),
    ("diag_mat", (_array(3, 3),)),
    ("diag_mat", (_array(2, 4),)),
    ("diag_mat", (_array(4, 2),)),
    ("diag_mat", ([[1.0, 2.0], [3.0, 4.0]],)),
    ("diag_mat", (_array(3),)),  # a vector: np.diag(v) is a matrix
    ("diag_k", (_array(3, 3),)),
    ("diag_k", (_array(2, 4),)),
    ("diag_k", (_array(4, 2),)),
    ("diag_k", (_array(1, 3),)),
    ("diag_below", (_array(3, 3),)),
    ("diag_below", (_array(2, 4),)),
    ("diag_below", (_array(4, 2),)),
    ("polyv", (_array(3), 0.7)),
    ("polyv", ([1.0, -2.0, 0.5], _array(4))),
    ("polyv", ([1, 2, 3, 4], 2)),
    ("polyv", (_array(4), _array(2, 3))),
    ("polyv", (_array(1), _array(3))),
    ("polyv", (_array(3), np.array(0.4))),
    ("polyv", (_array(2), [0.5, 1.5])),
    ("polyv", (_array(3), 0.0)),
    ("polyv", ([1.0, -2.0, 0.5], np.array([0.0, 1.0]))),
    ("poly_loss", (_array(3), _array(5), _array(5))),
    ("cast", (0.7,)),
    ("cast", (3,)),
    ("cast", (np.array(0.4),)),
    ("cast", (_array(3),)),
    ("cast_double", (0.7,)),
    ("cast_double", (2,)),
    ("clipm", (np.array([0.3, -0.7, 1.2]),)),
    ("clipm", (_array(2, 3) + 0.05,)),
    ("clip_max", (np.array([[0.2, 0.9], [-0.1, 1.3]]),)),
    ("clip_both", (np.array([0.2, 0.9, -0.8, 0.1]),)),
    ("clip_both", (np.array(0.3),)),
    ("clip_none", (np.array([0.2, 0.9, -0.8, 0.1]),)),
    ("clip_none", (0.1,)),
    ("clip_none", ([0.5, -0.6, 0.05],)),
]
_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CALLS)]


@pytest.fixture(scope="module")
def fused() -> tuple[dict[str, Any], dict[str, Any], str]:
    return load(SOURCE, "everyday.py")


def _fresh(args: tuple[Any, ...]) -> list[Any]:
    return [a.copy() if isinstance(a, np.ndarray) else list(a) if isinstance(a, list) else a for a in args]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("name", "args"), CALLS, ids=_IDS)
def test_gradients(name: str, args: tuple[Any, ...], fused: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    forward, backward, code = fused
    try:
        check_gradients(forward[name], backward[f"{name}_backward"], _fresh(args))
    except AssertionError as error:
        raise AssertionError(f"{error}\n{code}") from None


@pytest.mark.parametrize(("name", "args"), CALLS, ids=_IDS)
def test_split_style(name: str, args: tuple[Any, ...], fused: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    forward, backward, _ = fused
    check_split_style(SOURCE, name, forward[name], backward[f"{name}_backward"], _fresh(args))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("name", "args"), CALLS, ids=_IDS)
def test_forward_mode(name: str, args: tuple[Any, ...], fused: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    forward, backward, _ = fused
    check_forward_mode(SOURCE, name, forward[name], backward[f"{name}_backward"], _fresh(args))


def test_every_mode_writes_the_module() -> None:
    """None of the functions is refused in any style or mode (the checks above skip a refusal)."""
    codegen.generate(SOURCE, filename="everyday.py")
    codegen.generate(SOURCE, filename="everyday.py", style="split")
    codegen.generate(SOURCE, filename="everyday.py", mode="forward")
    codegen.generate(SOURCE, filename="everyday.py", mode="hvp")


def test_a_matrix_gradient_is_its_shape_not_the_square_diag() -> None:
    """np.diag(g, k) of a non-square matrix's diagonal is square: the gradient is of the matrix's shape."""
    _, backward, _ = load(SOURCE, "everyday.py")
    for shape in ((2, 4), (4, 2), (1, 3)):
        m = _array(*shape)
        dm = backward["diag_k_backward"](m)
        expected = np.zeros(shape)
        index = np.arange(np.diagonal(m, 1).size)
        expected[index, index + 1] = 2 * np.diagonal(m, 1)
        np.testing.assert_array_equal(dm, expected)


def test_clip_keywords_and_none_bounds_share_the_clip_row() -> None:
    code = codegen.generate(SOURCE, filename="everyday.py", functions=["clipm", "clip_none"])
    assert "!= None" not in code
    assert "(clip_x != 0.0)" in code


def _nested(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, list) for item in value)


# Each function's calls, for Hessian-vector products (the test's directions for a list
# are flat: a list of lists is left to the other checks).
_BY_FUNCTION: dict[str, list[tuple[Any, ...]]] = {}
for _name, _args in CALLS:
    if not any(_nested(a) for a in _args):
        _BY_FUNCTION.setdefault(_name, []).append(_args)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(_BY_FUNCTION))
def test_hvp(name: str) -> None:
    check_hvp(SOURCE, name, [tuple(_fresh(args)) for args in _BY_FUNCTION[name]])
