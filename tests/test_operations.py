"""The facts of numpy's operations live in one table (codegen/ad/operations.py):
a differentiable method without its entry fails here, not silently elsewhere."""

from __future__ import annotations

import ast
import warnings
from typing import Any

import numpy as np
import pytest

from codegen.ad import operations
from codegen.ad.rules import RULES
from codegen.read.resolve import rule_for


def test_every_differentiable_ndarray_method_has_its_facts() -> None:
    missing = [
        m for m in dir(np.ndarray)
        if not m.startswith("_") and rule_for(f"method.{m}", 1, True) is not None
        and not operations.known(m)
    ]  # fmt: skip
    assert not missing, f"methods with a rule row but no entry in operations: {missing}"


def test_the_facts_agree_with_each_other() -> None:
    for name in ("reshape", "transpose", "swapaxes", "squeeze", "expand_dims"):
        assert operations.recomputed_view(name)
        assert operations.view_method(name) or operations.view_function(name)
    assert not operations.proves_array("copy")  # lists have .copy() too
    assert operations.view_method("T") and "T" in operations.ARRAY_ATTRIBUTES


def test_the_facts_match_numpy() -> None:
    """What the table says shares storage does, and what it says is fresh does not."""
    x = np.arange(6.0).reshape(2, 3)
    assert np.shares_memory(x.reshape(3, 2), x) and np.shares_memory(x.T, x) and np.shares_memory(np.squeeze(x), x)
    for name in ("exp", "tanh", "sqrt", "copy", "zeros_like", "ones_like"):
        assert operations.fresh(name)
        assert not np.shares_memory(getattr(np, name)(x), x)
    for name in dir(np.ndarray):
        if operations.proves_array(name):
            assert not hasattr([], name) and not hasattr(1.0, name) and not hasattr((), name), name


def test_what_shares_storage_matches_numpy_for_every_numpy_row() -> None:
    """Each `numpy.<name>` rule row callable on one array (with the first extra
    arguments numpy accepts) may share storage exactly where numpy's result does:
    a view the table missed would let `v += ...` change the operand silently."""
    x = np.arange(1.0, 25.0).reshape(2, 3, 4)
    extras: list[tuple[Any, ...]] = [(), (0,), (0, 1), ((2, 2, 3, 4),), (-1,)]
    checked = []
    for row in sorted(r for r in RULES if r.startswith("numpy.")):
        function: Any = np
        for part in row[len("numpy.") :].split("."):
            function = getattr(function, part, None)
        if not callable(function) or row == "numpy.einsum":
            continue
        for extra in extras:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = function(x, *extra)
            except (TypeError, ValueError, AttributeError, IndexError, np.linalg.LinAlgError):
                continue
            shared = isinstance(result, np.ndarray) and np.shares_memory(result, x)
            name = row[len("numpy.") :]
            operands = [ast.Name("x"), *(ast.Constant(e) for e in extra)]
            assert bool(operations.viewed_operands(name, operands)) == shared, (row, extra)
            checked.append(name)
            break
    assert {"rollaxis", "moveaxis", "swapaxes", "transpose", "flip", "reshape", "exp"} <= set(checked)


@pytest.mark.parametrize(
    ("call", "operands"),
    [
        ('np.einsum("ij->ji", x)', 1),
        ('np.einsum("ii->i", x)', 1),
        ('np.einsum("ij->", x)', 1),  # a number: conservatively a view still
        ("np.einsum(x, [0, 1], [1, 0])", 1),
        ('np.einsum("ij,ij->ij", x, x)', 0),
        ("np.einsum(x, [0, 1], x, [0, 1], [0, 1])", 0),
    ],
)
def test_an_einsum_may_be_a_view_of_a_lone_operand(call: str, operands: int) -> None:
    x = np.arange(1.0, 10.0).reshape(3, 3)
    result = eval(call, {"np": np, "x": x})  # the test's own expression, not codegen's input
    assert np.shares_memory(result, x) or operands == 0 or call.endswith('"ij->", x)')
    if operands == 0:
        assert not np.shares_memory(result, x)
    expr = ast.parse(call, mode="eval").body
    assert isinstance(expr, ast.Call)
    assert len(operations.viewed_operands("einsum", expr.args)) == operands
