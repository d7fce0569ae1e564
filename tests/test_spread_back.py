"""A full sum's gradient where the operands' shapes cannot be related (nothing
annotated): the upstream value stays a number, and each operand's gradient is that
number spread to the sum's shape and summed back to the operand's (`_spread_back`),
with no `np.ones_like(v) * g` of the whole sum. One module as users write it (both
imports, several functions), checked against central differences in float64 with
operands that do broadcast (a row, a column, a 0-d array), in fused and split style.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from tests.support import backward_body as _body
from tests.support import check_gradients, check_split_style, load

RNG = np.random.default_rng(11)

MODULE = textwrap.dedent(
    """
    import math

    import numpy as np


    def vae_loss(x, x_rec, mu, logvar):
        N = x.shape[0]
        bce = -np.sum(x * np.log(x_rec) + (1 - x) * np.log(1 - x_rec))
        kl = -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar))
        return (bce + kl) / N


    def plus_one(a):
        return np.sum(1 + a) * math.pi


    def offsets(a, b):
        return np.sum(a - b * 2.0)


    def weighted(x, w):
        return np.sum(x * np.tanh(w))


    def mean_gap(a, b):
        return np.mean(np.exp(a) - b)


    def along_rows(a, b):
        # the sum's gradient is a row (not a number), broadcast along axis 0
        return np.sum(np.sin(np.sum(a * b, axis=0)))


    def row_means(a, b):
        m = np.mean(a - b, axis=1, keepdims=True)
        return np.sum(m * m)
    """
)

NAMES = ["vae_loss", "plus_one", "offsets", "weighted", "mean_gap", "along_rows", "row_means"]


def _cases(name: str) -> list[list[object]]:
    m = RNG.standard_normal((4, 5))
    row, column, zero_d = RNG.standard_normal(5), RNG.standard_normal((4, 1)), np.array(0.7)
    unit = RNG.uniform(0.1, 0.9, (4, 5))
    return {
        "vae_loss": [
            [RNG.uniform(0, 1, (4, 5)), unit, RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))],
            # x_rec a row, x the whole batch; mu a column, logvar a row: every operand broadcast
            [RNG.uniform(0, 1, (4, 5)), RNG.uniform(0.1, 0.9, 5), RNG.standard_normal((4, 1)), RNG.standard_normal(3)],
        ],
        "plus_one": [[m], [row], [zero_d]],
        "offsets": [[m, row], [row, m], [column, row], [m, zero_d]],
        "weighted": [[m, m], [m, row], [row, column], [zero_d, m]],
        "mean_gap": [[m, column], [row, m]],
        "along_rows": [[m, row], [m, column], [row, m]],
        "row_means": [[m, row], [m, column], [row, m]],
    }[name]


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, object], dict[str, object], str]:
    return load(MODULE, "spread.py")


@pytest.mark.parametrize("name", NAMES)
def test_gradients_match_central_differences(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    for args in _cases(name):
        check_gradients(forward[name], backward[f"{name}_backward"], args)


@pytest.mark.parametrize("name", NAMES)
def test_split_style_agrees(generated: tuple[dict, dict, str], name: str) -> None:
    forward, backward, _ = generated
    for args in _cases(name):
        check_split_style(MODULE, name, forward[name], backward[f"{name}_backward"], args)


@pytest.mark.parametrize("name", ["vae_loss", "offsets", "weighted", "mean_gap"])
def test_no_array_of_ones_for_a_full_sum(generated: tuple[dict, dict, str], name: str) -> None:
    body = _body(generated[2], name)
    assert "ones_like" not in body
    assert "_spread_back(" in body


def test_the_bce_gradient_is_read_at_its_operand(generated: tuple[dict, dict, str]) -> None:
    body = _body(generated[2], "vae_loss")
    assert "_spread_back(x * dbce_plus, log_x_rec, " in body


@pytest.mark.parametrize(
    ("a", "b", "da_value", "db_value"),
    [(np.ones((3, 2)), np.ones(2), 1.0, -6.0), (np.ones(2), np.ones((3, 2)), 3.0, -2.0), (np.array(2.0), np.ones(2), 2.0, -2.0)],
)
def test_a_spread_gradient_is_the_parameter_s_own_array(
    generated: tuple[dict, dict, str], a: np.ndarray, b: np.ndarray, da_value: float, db_value: float
) -> None:
    # np.broadcast_to gives a read-only view: the caller gets arrays it may update,
    # each element counted as often as broadcasting repeats it.
    da, db = generated[1]["offsets_backward"](a, b)
    assert np.shape(da) == np.shape(a) and np.shape(db) == np.shape(b)
    assert np.asarray(da).flags.writeable and np.asarray(db).flags.writeable
    np.testing.assert_allclose(da, np.full(np.shape(a), da_value))
    np.testing.assert_allclose(db, np.full(np.shape(b), db_value))


def test_the_sum_s_operand_is_not_computed_for_its_shape(generated: tuple[dict, dict, str]) -> None:
    # Its shape is its operands' broadcast: x * log(x_rec) + (1 - x) * log(1 - x_rec)
    # itself (three passes over the batch) is not needed by the backward.
    body = _body(generated[2], "vae_loss")
    assert " bce_plus =" not in body and " kl_minus =" not in body
    assert body.count("np.broadcast_shapes(") == 2
