"""A value computed under one name only to be handed to another is computed under
that one (codegen/optimize/coalesce.py), and only where nothing can tell."""

from __future__ import annotations

import pytest

from codegen.optimize.coalesce import coalesce


def test_the_value_is_computed_under_the_name_it_is_handed_to() -> None:
    lines = ["ds = p * g", "np.add.at(ds, (rows, y), -g)", "# backprop s = x - m", "dx = ds", "return dx"]
    assert coalesce(lines) == ["dx = p * g", "np.add.at(dx, (rows, y), -g)", "return dx"]


def test_a_comment_over_other_statements_stays() -> None:
    lines = ["# backprop a = f(x)", "da = g * 2", "db = da", "dc = db + 1", "return dc"]
    assert coalesce(lines) == ["# backprop a = f(x)", "db = g * 2", "dc = db + 1", "return dc"]


@pytest.mark.parametrize(
    "lines",
    [
        ["da = g * 2", "dx = da", "dy = da", "return dx, dy"],  # read again after
        ["da = g * 2", "h = da + 1", "dx = da", "return dx, h"],  # read between
        ["da = g * 2", "dx = w", "dx = da", "return dx"],  # the name taken over bound between
        ["da = g * 2", "h = dx + 1", "dx = da", "return dx, h"],  # ... or read between
        ["da = g * 2", "da = da + 1", "dx = da", "return dx"],  # bound twice
        ["da = g * 2", "for i in range(3):", "    da[i] += 1", "dx = da", "return dx"],  # a block uses it
        ["dx = g", "return dx"],  # a parameter handed on
        ["da = f(da)", "dx = da", "return dx"],  # read in its own definition: another da
        ["da = f(dx)", "dx = da", "return dx"],  # the name taken over read by it
    ],
)
def test_left_alone_where_a_reader_could_tell(lines: list[str]) -> None:
    assert coalesce(lines, ["g", "w"]) == lines


def test_a_kept_name_is_never_renamed() -> None:
    lines = ["h = x * 2", "dx = h", "return dx"]
    assert coalesce(lines, ["h"]) == lines
