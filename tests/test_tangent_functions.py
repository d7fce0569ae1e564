"""The peer's test suite: Tangent's `tests/functions.py` (in tests/tangent_functions.py).

Every function there is in exactly one list below: differentiated (its gradients
checked against central differences on the peer's kinds of arguments, in fused
style, split style and forward mode), a dict held constant by design, or refused
with a clean error and the reason.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import codegen
from tests import tangent_functions
from tests.support import check_forward_mode, check_gradients, check_split_style

SOURCE = (Path(__file__).parent / "tangent_functions.py").read_text()
FILENAME = "tangent_functions.py"

# `_trace_mul` of the peer: its decorator runs on import, so it is text here.
TRACED = '''
import tangent
import tensorflow as tf


@tangent.trace
def _trace_mul(a, b):
    out = tf.multiply(a, b)
    c = 3
    del c  # invalid Tangent syntax, but invisible to tracing
    return out


def tfe_trace_fn(t):
    out = _trace_mul(t, t)
    result = tf.reduce_sum(out)
    return result
'''

_TF = "TensorFlow eager: codegen differentiates numpy and math"
_TAPE = "Tangent's own tape (tangent.Stack, push, pop): not differentiable Python"
REFUSED: dict[str, str] = {
    **{
        name: _TF
        for name in (
            "tfe_negative", "tfe_exp", "tfe_log", "tfe_tanh", "tfe_cosh", "tfe_sinh", "tfe_rsqrt",
            "tfe_expand_dims_before", "tfe_expand_dims_after", "tfe_squeeze_before", "tfe_squeeze_after",
            "tfe_reshape_flat", "tfe_reshape_noop", "tfe_reduce_sum", "tfe_reduce_sum_axis", "tfe_reduce_mean",
            "tfe_reduce_mean_axis", "tfe_reduce_max", "tfe_reduce_max_axis", "tfe_add", "tfe_add_bcast",
            "tfe_subtract", "tfe_multiply", "tfe_divide", "tfe_maximum", "tfe_squared_difference", "tfe_matmul",
            "tfe_matmul_highdim", "tfe_conv2d", "tfe_max_pool", "tfe_avg_pool", "_nontrace_mul", "tfe_notrace_fn",
        )
    },
    "stack_pushing": _TAPE,
    "useless_stack_ops": _TAPE,
    "redefining_var_as_list": _TAPE,
    "inlining_contextmanager": "with insert_grad_of(a) is Tangent's own gradient hook: with statements are refused",
    "cart2polar": "np.arctan(b, a) passes a as numpy's `out` argument (the peer's note: should be arctan2)",
}
# Dicts are settings (issue 17): held constant, and the docstring says so.
HELD_CONSTANT = {"dict_saxpy": "val", "nested_dict": "p"}

_RNG = np.random.default_rng(17)
SCALARS = [-2.0, -1.5, -1.0, -0.5, -0.1, 0.1, 0.5, 1.0, 1.5, 2.0]
# The peer's domains where a function has one.
DOMAINS: dict[str, list[float]] = {
    "numpy_arccos": [-0.9, -0.5, -0.1, 0.1, 0.5, 0.9],
    "numpy_arcsin": [-0.9, -0.5, -0.1, 0.1, 0.5, 0.9],
}
# Arguments that are not the peer's plain scalars, ints and vectors.
SPECIAL: dict[str, list[tuple[Any, ...]]] = {
    "logistic_regression": [
        (_RNG.random(3), np.eye(5)[1], _RNG.standard_normal((3, 5)), _RNG.standard_normal(5)) for _ in range(2)
    ],
    "det": [(_RNG.standard_normal((1, 1)),), (_RNG.standard_normal((3, 3)),), (_RNG.standard_normal((5, 5)),)],
    "rnn": [(_RNG.standard_normal((3, 2)), _RNG.standard_normal((2, 3)))],
    "bilinear": [tuple(_RNG.standard_normal(s) for s in ((1, 3), (1, 3), (3, 3), (3, 3), (1, 3)))],
    "listcomp": [(_RNG.standard_normal(3),), ([0.5, -1.0, 2.0],)],
    "unpacking_args_saxpy": [([a, b, c],) for a, b, c in itertools.product([-1.5, 0.5, 2.0], repeat=3)],
    "dict_wrapper": [([a, b, c],) for a, b, c in itertools.product([-1.5, 0.5, 2.0], repeat=3)],
    "passthru_unpack": [([0.5, -1.0, 2.0],)],
    "passthru_pack": [(0.5, -1.0, 2.0, i) for i in range(3)],
}


def _functions() -> list[str]:
    return [n.name for n in ast.parse(SOURCE).body if isinstance(n, ast.FunctionDef)]


DIFFERENTIATED = [n for n in _functions() if n not in REFUSED and n not in HELD_CONSTANT]


def _arguments(name: str) -> list[tuple[Any, ...]]:
    """The peer's kinds of arguments, by parameter name (its conftest's conventions)."""
    if name in SPECIAL:
        return SPECIAL[name]
    params = list(inspect.signature(getattr(tangent_functions, name)).parameters)
    scalars = DOMAINS.get(name, SCALARS)
    if len([p for p in params if p in "abc"]) > 1:
        scalars = [-1.5, -0.5, 0.1, 1.0, 2.0]
    choices: list[list[Any]] = []
    for param in params:
        if param in ("a", "b", "c"):
            choices.append(scalars)
        elif param == "n":
            choices.append([1, 2, 3])
        elif param == "x":
            choices.append([_RNG.standard_normal(3), _RNG.standard_normal(5), _RNG.standard_normal(10)])
        else:
            raise AssertionError(f"{name}: no arguments for {param}")
    return list(itertools.product(*choices))


def _copying(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` called on copies: some of the peer's functions write into their arguments."""

    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        return fn(*copy.deepcopy(args))

    return call


def _kink(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    """Whether `fn` jumps or bends (a branch or a loop count changes) within a small
    step of a scalar argument in `args`: central differences average the two sides."""
    value = float(np.sum(fn(*args)))
    h = 1e-4
    for index, arg in enumerate(args):
        if not isinstance(arg, float):
            continue
        sides = []
        for sign in (1.0, -1.0):
            moved = list(args)
            moved[index] = arg + sign * h
            sides.append(sign * (float(np.sum(fn(*moved))) - value) / h)
        if abs(sides[0] - sides[1]) > 1e-2 * (1.0 + abs(sides[0])):
            return True
    return False


def test_every_function_is_listed_once() -> None:
    names = _functions()
    assert len(names) == len(set(names))
    assert set(REFUSED) <= set(names) and set(HELD_CONSTANT) <= set(names)
    assert not set(REFUSED) & set(HELD_CONSTANT)
    # The peer's whole file: 142 definitions (the second of its two tfe_squeeze_before is
    # tfe_squeeze_after here), two of them as text in TRACED.
    assert len(names) + len(["_trace_mul", "tfe_trace_fn"]) == 142


@pytest.mark.parametrize("name", DIFFERENTIATED)
def test_gradients(name: str) -> None:
    code = codegen.generate(SOURCE, filename=FILENAME, functions=[name])
    namespace: dict[str, Any] = {}
    exec(compile(code, f"{name}_backward.py", "exec"), namespace)  # noqa: S102
    forward = _copying(getattr(tangent_functions, name))
    backward = namespace[f"{name}_backward"]
    checked = 0
    for args in _arguments(name):
        if _kink(forward, args):
            continue
        check_gradients(forward, backward, list(copy.deepcopy(args)))
        checked += 1
    assert checked, f"{name}: every argument is at a kink"


@pytest.mark.parametrize("name", DIFFERENTIATED)
def test_split_style_and_forward_mode(name: str) -> None:
    for options in ({"style": "split"}, {"mode": "forward"}):
        codegen.generate(SOURCE, filename=FILENAME, functions=[name], **options)  # not refused
    code = codegen.generate(SOURCE, filename=FILENAME, functions=[name])
    namespace: dict[str, Any] = {}
    exec(compile(code, f"{name}_backward.py", "exec"), namespace)  # noqa: S102
    forward = _copying(getattr(tangent_functions, name))
    for args in _arguments(name)[:4]:
        if _kink(forward, args):
            continue
        for check in (check_split_style, check_forward_mode):
            check(SOURCE, name, forward, namespace[f"{name}_backward"], list(copy.deepcopy(args)), functions=[name])


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_cleanly(name: str) -> None:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(SOURCE, filename=FILENAME, functions=[name])
    assert info.value.line >= 1


def test_traced_function_refused_cleanly() -> None:
    with pytest.raises(codegen.CodegenError) as info:
        codegen.generate(TRACED, filename=FILENAME)
    assert info.value.line >= 1


@pytest.mark.parametrize(("name", "param"), sorted(HELD_CONSTANT.items()))
def test_dicts_are_held_constant(name: str, param: str) -> None:
    code = codegen.generate(SOURCE, filename=FILENAME, functions=[name])
    assert f"Held constant: {param} (a dict of settings)" in code
