"""`np.linalg.solve`, `slogdet`, `det` and `inv` in the backward: each solve and each
inverse computed once, as by hand (`db = np.linalg.solve(A.T, g)`, then `dA =
-np.outer(db, x)`), and the gradients still right in every mode and style."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, check_split_style, load
from tests.test_forward_mode import check_jvp
from tests.test_hvp import check_hvp

SOURCE = '''\
import math

import numpy as np


def solve_vector(A, b):
    x = np.linalg.solve(A, b)
    return np.sum(x**2)


def solve_matrix(A: "N N", B: "N M"):
    X = np.linalg.solve(A, B)
    return np.sum(np.sin(X))


def gaussian_nll(S, mu, x):
    r = x - mu
    z = np.linalg.solve(S, r)
    sign, logdet = np.linalg.slogdet(S)
    return 0.5 * (r @ z + logdet) + 0.5 * len(x) * math.log(2 * math.pi)


def determinants(A):
    sign, logdet = np.linalg.slogdet(A)
    return logdet * np.linalg.det(A)


def with_inverse(A, b):
    return np.linalg.slogdet(A)[1] + np.linalg.det(A) + np.sum(np.linalg.inv(A) @ b)
'''


def _spd(rng: np.random.Generator, n: int) -> Any:
    m = rng.uniform(-1, 1, (n, n))
    return m @ m.T + n * np.eye(n)


def _calls(rng: np.random.Generator) -> dict[str, tuple[Any, ...]]:
    return {
        "solve_vector": (_spd(rng, 3), rng.uniform(-1, 1, 3)),
        "solve_matrix": (_spd(rng, 3), rng.uniform(-1, 1, (3, 2))),
        "gaussian_nll": (_spd(rng, 3), rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)),
        "determinants": (_spd(rng, 3),),
        "with_inverse": (_spd(rng, 3), rng.uniform(-1, 1, 3)),
    }


def _backward(code: str, name: str) -> str:
    """The statements of `name_backward`, without its docstring and comments."""
    text = code[code.index(f"def {name}_backward") :].split("\ndef ")[0]
    body = text.split('"""')[-1]
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize(
    ("name", "call", "count"),
    [
        ("solve_vector", r"np\.linalg\.solve\(A\.mT, ", 1),
        ("solve_matrix", r"np\.linalg\.solve\(A\.T, ", 1),
        ("gaussian_nll", r"np\.linalg\.solve\(S\.mT, ", 1),
        ("determinants", r"np\.linalg\.inv\(", 1),
        ("with_inverse", r"np\.linalg\.inv\(", 1),
    ],
)
def test_each_solve_and_inverse_is_computed_once(name: str, call: str, count: int) -> None:
    backward = _backward(codegen.generate(SOURCE), name)
    assert len(re.findall(call, backward)) == count, backward


def test_the_solve_of_the_right_hand_side_is_its_gradient() -> None:
    backward = _backward(codegen.generate(SOURCE), "solve_matrix")
    assert "dB = np.linalg.solve(A.T, dX)" in backward
    assert "dA = -(dB @ X.T)" in backward


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(_calls(np.random.default_rng(0))))
def test_gradients_in_every_mode(name: str) -> None:
    args = _calls(np.random.default_rng(4))[name]
    forward, backward, _ = load(SOURCE)
    check_gradients(forward[name], backward[f"{name}_backward"], list(args))
    check_split_style(SOURCE, name, forward[name], backward[f"{name}_backward"], list(args))
    check_jvp(SOURCE, name, [args])
    check_hvp(SOURCE, name, [args])
