"""A reduction's gradient put back along its axes: np.expand_dims(g, axis) is written
as indexing (`np.asarray(g)[:, :, None, None]`, `[..., None]`) where the axes are
literal ints of one sign. The two agree, value and shape, on numbers and arrays of
every rank they accept, and both refuse the same ones; generated code pinned, and a
max-pool over windows against central differences."""

from __future__ import annotations

import ast
import itertools
import textwrap

import numpy as np
import pytest

from codegen.ad.templates import _new_axes
from tests.support import backward_body, check_gradients, load

AXES = [0, 1, 2, -1, -2, (0, 1), (2, 3), (0, 2), (1, 3), (-1, -2), (-3, -1), (-4, -2, -1), (0, -1)]


@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("rank", [0, 1, 2, 3])
def test_indexing_is_expand_dims(axis: int | tuple[int, ...], rank: int) -> None:
    expr = ast.unparse(_new_axes(ast.Name("g", ast.Load()), ast.parse(repr(axis), mode="eval").body, "np"))
    for g in ([2.5] if rank == 0 else []) + [np.arange(float(3**rank)).reshape((3,) * rank)]:
        try:
            want = np.expand_dims(g, axis)
        except (ValueError, IndexError):  # numpy's AxisError is both
            with pytest.raises((ValueError, IndexError)):
                eval(expr, {"np": np, "g": g})
            continue
        got = eval(expr, {"np": np, "g": g})
        assert got.shape == want.shape and np.array_equal(got, want), expr


def test_mixed_signs_stay_a_call() -> None:
    assert "expand_dims" in ast.unparse(_new_axes(ast.Name("g", ast.Load()), ast.parse("(0, -1)", mode="eval").body, "np"))


MODULE = textwrap.dedent(
    """
    import math

    import numpy as np


    def pool(x, size=2):
        N, C, H, W = x.shape
        out = np.zeros((N, C, H // size, W // size))
        for i in range(H // size):
            for j in range(W // size):
                window = x[:, :, i * size : i * size + size, j * size : j * size + size]
                out[:, :, i, j] = np.max(window, axis=(2, 3))
        return out


    def row_max(x):
        return np.sum(np.tanh(np.max(x, axis=-1)) * math.e)
    """
)


def test_gradients_through_put_back_axes() -> None:
    forward, backward, code = load(MODULE, "pools.py")
    rng = np.random.default_rng(2)
    check_gradients(forward["pool"], backward["pool_backward"], [rng.standard_normal((2, 3, 4, 4)), 2])
    check_gradients(forward["row_max"], backward["row_max_backward"], [rng.standard_normal((3, 4, 5))])
    assert "expand_dims" not in backward_body(code, "pool") and "[:, :, None, None]" in backward_body(code, "pool")
    assert "[..., None]" in backward_body(code, "row_max")


def test_every_literal_axis_of_one_sign_is_indexed() -> None:
    for axes in itertools.chain(itertools.combinations(range(4), 2), itertools.combinations(range(-4, 0), 2)):
        assert "expand_dims" not in ast.unparse(_new_axes(ast.Name("g", ast.Load()), ast.parse(repr(axes), mode="eval").body, "np"))
