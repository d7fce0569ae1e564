"""The log-probabilities a softmax picks, one per row, read by more than a plain
cross-entropy (weighted by a mask, returned per row): `np.log(p[rows, y])` with `p`
a softmax of `s` along axis 1 and `rows` every row once becomes one operation of
`s` whose gradient is `(onehot - p) * g`, g spread along the classes, with no
array of zeros for the picks and no pass back through the softmax's division.
Rows given as `np.arange(N * T)` of `x.reshape(N * T, V)` count. One module as users
write it (both imports, several functions), checked against central differences.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from tests.support import backward_body as _body
from tests.support import check_gradients, check_split_style, load

RNG = np.random.default_rng(5)

MODULE = textwrap.dedent(
    """
    import math

    import numpy as np


    def temporal_softmax_loss(x, y, mask):
        N, T, V = x.shape
        x_flat = x.reshape(N * T, V)
        y_flat = y.reshape(N * T)
        mask_flat = mask.reshape(N * T)
        probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
        probs = probs / np.sum(probs, axis=1, keepdims=True)
        loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
        return loss


    def weighted_loss(x, y: "N", w):
        N = x.shape[0]
        e = np.exp(x)
        p = e / np.sum(e, axis=1, keepdims=True)
        return -np.sum(w * np.log(p[range(N), y])) * math.log(2.0)


    def row_log_likelihoods(x, y: "N"):
        N, C = x.shape
        p = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
        return np.log(p[np.arange(N), y])


    def total_log_likelihood(x, y: "N"):
        p = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
        return np.sum(np.log(p[np.arange(x.shape[0]), y]))


    def rows_not_covered(x, y):
        p = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
        return np.sum(np.log(p[np.arange(2), y]) * 3.0)


    def labels_of_any_shape(x, y, w):
        N = x.shape[0]
        e = np.exp(x)
        p = e / np.sum(e, axis=1, keepdims=True)
        return -np.sum(w * np.log(p[range(N), y]))
    """
)


def _cases(name: str) -> list[list[object]]:
    x = RNG.standard_normal((5, 4))
    y = RNG.integers(0, 4, 5)
    return {
        "temporal_softmax_loss": [
            [RNG.standard_normal((2, 3, 6)), RNG.integers(0, 6, (2, 3)), (RNG.uniform(size=(2, 3)) > 0.3)],
            [RNG.standard_normal((2, 3, 6)), RNG.integers(0, 6, (2, 3)), RNG.uniform(size=(2, 3))],
        ],
        "weighted_loss": [[x, y, RNG.uniform(size=5)], [x, y, 0.5], [x, [0, 1, 2, 3, 0], RNG.uniform(size=(2, 5))]],
        "row_log_likelihoods": [[x, y]],
        "total_log_likelihood": [[x, y]],
        "rows_not_covered": [[x, y[:2]]],
        "labels_of_any_shape": [[x, y, RNG.uniform(size=5)], [x, y[:, None], RNG.uniform(size=5)], [x, list(y), 0.5]],
    }[name]


NAMES = [
    "temporal_softmax_loss",
    "weighted_loss",
    "row_log_likelihoods",
    "total_log_likelihood",
    "rows_not_covered",
    "labels_of_any_shape",
]


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, object], dict[str, object], str]:
    return load(MODULE, "log_pick.py")


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


@pytest.mark.parametrize("name", ["temporal_softmax_loss", "weighted_loss", "row_log_likelihoods", "total_log_likelihood"])
def test_probs_minus_onehot(generated: tuple[dict, dict, str], name: str) -> None:
    body = _body(generated[2], name)
    assert "zeros_like" not in body  # no array for the picks
    assert "np.expand_dims(-" in body
    assert "np.sum(d" not in body  # no pass back through the division by the sum


def test_rows_not_covered_keep_the_chain(generated: tuple[dict, dict, str]) -> None:
    # np.arange(2) picks two of five rows: (onehot - p) would be wrong for the others.
    assert "expand_dims" not in _body(generated[2], "rows_not_covered")


def test_labels_not_proved_a_vector_keep_the_chain(generated: tuple[dict, dict, str]) -> None:
    # y of shape (N, 1) picks an (N, N) block, several picks a row: the fused form
    # holds for one pick a row only, so unannotated labels keep the generic chain
    # (right for a column too: test_gradients_match_central_differences).
    body = _body(generated[2], "labels_of_any_shape")
    assert "np.add.at(" in body and "np.expand_dims(-" not in body, body
