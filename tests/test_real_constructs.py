"""Constructs of real numpy code (issue 17), on the golden cases
tests/cases/mask_parameters.py, splits_and_joins.py and dict_arguments.py, each call checked
against central differences in fused style, and against the fused backward in split
style and forward mode.

A parameter that is a boolean mask or an index: where the code proves it (`x[mask]`,
`~mask`, `mask & keep`, `np.logical_and(a, b)`, `w[i]`, or a jaxtyping
`Bool[...]`/`Int[...]` annotation) it gets no gradient wherever else it is read
(`x * mask`), and the docstring says it is held constant. A mask computed inside
(`mask = x > 0`, then `x * mask`) carries no gradient either.

Joins and splits: `np.vstack`, `np.hstack`, `a, b = np.split(x, 2)` and
`np.array_split` (parts of unequal sizes), `np.std`/`var` with `ddof`, `np.trace`.

A dict of values passed to a helper that only reads its literal keys (`h(dict(a=a,
b=b))`, `h({"W": W, "b": b})`, then `p["W"]` in `h`): each read is the value itself,
differentiated; a dict the helper changes or passes on stays refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_forward_mode, check_gradients, check_split_style, load
from tests.test_golden import split_case

CASES = Path(__file__).parent / "cases"
SOURCE, _ = split_case(CASES / "mask_parameters.py")
JOINS, _ = split_case(CASES / "splits_and_joins.py")
DICTS, _ = split_case(CASES / "dict_arguments.py")
CALLS = [
    (source, name, args)
    for source in (SOURCE, JOINS, DICTS)
    for name, args in re.findall(r"^# check: (\w+)\((.+)\)$", source, flags=re.MULTILINE)
]
HELD = {"masked_mse": ["mask"], "dropout_tanh": ["keep"], "both_kept": ["a", "b"], "pick_and_scale": ["i"]}


def _arguments(text: str) -> list[Any]:
    return list(eval(f"({text},)", {"np": np, "rng": np.random.default_rng(0)}))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("source", "name", "args"), CALLS, ids=[f"{n}-{i}" for i, (_, n, _) in enumerate(CALLS)])
def test_gradients_in_every_style(source: str, name: str, args: str) -> None:
    forward, backward, _ = load(source, functions=[name])
    fn, back = forward[name], backward[f"{name}_backward"]
    gradients = check_gradients(fn, back, _arguments(args))
    for param in HELD.get(name, []):
        assert param not in gradients
        assert f"{param} (used as a mask or index)" in (back.__doc__ or "")
    check_split_style(source, name, fn, back, _arguments(args), functions=[name])
    check_forward_mode(source, name, fn, back, _arguments(args), functions=[name])


def test_unproved_mask_is_a_weight_with_its_gradient() -> None:
    """`np.sum(x * mask)` alone cannot tell a mask from a float weight: it is
    differentiated, the right gradient for a weight (x), whatever is passed."""
    _, backward, _ = load(SOURCE, functions=["weighted"])
    x, mask = np.array([0.5, -1.0, 2.0]), np.array([True, False, True])
    dx, dmask = backward["weighted_backward"](x, mask)
    np.testing.assert_allclose(dx, mask.astype(float))
    np.testing.assert_allclose(dmask, x)


class _Dtype:
    """Stands for jaxtyping's `Bool`/`Int` in the generated signature."""

    def __class_getitem__(cls, item: object) -> type:
        return cls


@pytest.mark.parametrize("head", ["Bool", "Int", "jt.Bool"])
def test_annotated_mask_is_held_constant(head: str) -> None:
    source = (
        "import math\nimport numpy as np\nimport jaxtyping as jt\nfrom jaxtyping import Bool, Int\n\n\n"
        f'def masked(x, mask: {head}[np.ndarray, "N"]):\n    return math.e * np.sum(np.sin(x) * mask)\n'
    )
    code = codegen.generate(source)
    assert f'Held constant: mask (annotated {head}[np.ndarray, "N"])' in code
    body = re.sub(r"^.*jaxtyping.*$", "", code, flags=re.MULTILINE)  # not installed here
    namespace: dict[str, Any] = {"Bool": _Dtype, "Int": _Dtype, "jt": type("jt", (), {"Bool": _Dtype})}
    exec(compile(body, "g.py", "exec"), namespace)  # noqa: S102
    x, mask = np.array([0.5, -1.0, 2.0, 0.1]), np.array([True, False, True, True])
    np.testing.assert_allclose(namespace["masked_backward"](x, mask), np.e * np.cos(x) * mask)


@pytest.mark.parametrize("size", range(1, 12))
@pytest.mark.parametrize("sections", [2, 3, 4, 5])
def test_array_split_parts_are_numpys(size: int, sections: int) -> None:
    """The slices np.array_split's parts become are numpy's own parts, for every
    size, even or not (the first size % sections parts one longer, some empty)."""
    names = ", ".join(f"p{i}" for i in range(sections))
    weights = " + ".join(f"{i + 1} * np.sum(np.sin(p{i}))" for i in range(sections))
    source = f"import numpy as np\n\n\ndef f(x):\n    {names} = np.array_split(x, {sections})\n    return {weights}\n"
    _, backward, _ = load(source)
    x = np.linspace(-1.0, 1.0, size)
    want = np.concatenate([(i + 1) * np.cos(part) for i, part in enumerate(np.array_split(x, sections))])
    np.testing.assert_allclose(backward["f_backward"](x), want)


@pytest.mark.parametrize(
    ("helper", "message"),
    [
        ('def _h(p):\n    p["a"] = 2.0 * p["a"]\n    return p["a"]\n', "p is updated in place"),
        ("def _h(p):\n    return _g(p)\n\n\ndef _g(q):\n    return q[\"a\"]\n", "no derivative rule for dict"),
        ('def _h(p):\n    return p["a"] * p["b"]\n', "no derivative rule for dict"),
    ],
    ids=["changed", "passed-on", "missing-key"],
)
def test_dict_used_otherwise_is_refused(helper: str, message: str) -> None:
    source = f"import numpy as np\n\n\n{helper}\n\ndef f(x):\n    return np.sum(_h(dict(a=x)))\n"
    with pytest.raises(codegen.CodegenError, match=message) as info:
        codegen.generate(source, functions=["f"])
    assert info.value.line >= 1


@pytest.mark.parametrize("args", [(1.5, -0.5), (2, 3)])
def test_dict_of_values_is_no_constant(args: tuple[float, float]) -> None:
    """Once a dict was a constant here (keywords were not read for activity): a
    zero gradient. Then refused (tests/test_real_code.py); now differentiated."""
    source = "def g(v):\n    return v['a'] * v['b']\n\n\ndef f(a, b):\n    return g(dict(a=a, b=b))\n"
    forward, backward, _ = load(source)
    check_gradients(forward["f"], backward["f_backward"], list(args))
    assert backward["f_backward"](*args) == (args[1], args[0])
