"""Values merged across a branch or a loop, of every kind against every other.

The random suites merge values now and then; this checks every pair at once. A
name is bound to a value of one kind on one path and of another on the other
(`if c > 0: h = x` / `else: h = y`, issue 15's case with `x: "N D"`, `y: "B N
D"`; or `else: h = np.tanh(y)`), or carried by a loop that may run zero, one or two times (`h = x`, then
`h = h * 0.5 + y`). The kinds: a Python float, a Python int, an item of a list
(`v[1]`), a vector, a matrix and a stack of matrices, with and without
annotations; the merged value is then used in a way right for each of its
versions (a whole sum, or a matrix product summed). Every path must give the
central differences' gradients, each of its parameter's kind and shape.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np
import pytest

from tests.support import check_gradients, load

# kind: (parameter name, annotation, shape, how the value is read)
KINDS: dict[str, tuple[str, str, tuple[int, ...] | None, str]] = {
    "float": ("s", ": float", (), "s"),
    "int": ("k", ": float", (), "k"),  # passed a Python int (annotated int would be held constant)
    "item": ("v", ": list[float]", None, "v[1]"),
    "vector": ("x", ': "D"', (3,), "x"),
    "matrix": ("m", ': "N D"', (2, 3), "m"),
    "stack": ("t", ': "B N D"', (2, 2, 3), "t"),
}


def _rank(kind: str) -> int:
    shape = KINDS[kind][2]
    return len(shape) if shape is not None else 0


def _value(kind: str, rng: np.random.Generator) -> Any:
    shape = KINDS[kind][2]
    if kind == "int":
        return int(rng.integers(1, 3))
    if kind == "item":
        return [float(rng.uniform(-1, 1)), int(rng.integers(-2, 3)) or 1, float(rng.uniform(-1, 1))]
    if shape == ():
        return float(rng.uniform(-1, 1))
    assert shape is not None
    return rng.uniform(-1, 1, size=shape)


def source(first: str, second: str, where: str, use: str, annotated: bool) -> str:
    kinds = dict.fromkeys([first, second])
    params = [KINDS[k][0] + (KINDS[k][1] if annotated else "") for k in kinds]
    params += ['w: "D M"' if annotated else "w"] if use == "product" else []
    params += ["c: float" if annotated else "c"] if where != "loop" else ["n: int"]
    a, b = KINDS[first][3], KINDS[second][3]
    if where != "loop":
        body = ["if c > 0:", f"    h = {a}", "else:", f"    h = {b}" if where == "branch" else f"    h = np.tanh({b})"]
    else:
        body = [f"h = {a}", "for i in range(n):", f"    h = h * 0.5 + np.sin({b})"]
    body.append("return np.sum(h @ w)" if use == "product" else "return np.sum(h * h)")
    lines = ["import numpy as np", "", "", f"def f({', '.join(params)}):", *("    " + line for line in body)]
    return "\n".join(lines) + "\n"


CASES = [
    pytest.param(first, second, where, use, annotated, id=f"{where}-{first}-{second}-{use}-{'annotated' if annotated else 'plain'}")
    for first, second in product(KINDS, repeat=2)
    if first != second
    for where in ("branch", "computed-branch", "loop")
    for use in ("sum", "product")
    if use == "sum" or min(_rank(first), _rank(second)) >= 1
    for annotated in (False, True)
]


@pytest.mark.parametrize(("first", "second", "where", "use", "annotated"), CASES)
def test_merged_values_of_two_kinds(first: str, second: str, where: str, use: str, annotated: bool) -> None:
    code = source(first, second, where, use, annotated)
    forward, backward, _ = load(code)
    rng = np.random.default_rng(len(code))
    for path in ((1.0, -1.0) if where != "loop" else (0, 1, 2)):
        args = [_value(k, rng) for k in dict.fromkeys([first, second])]
        args += [rng.uniform(-1, 1, size=(3, 2))] if use == "product" else []
        check_gradients(forward["f"], backward["f_backward"], [*args, path])
