"""Softmax losses and masked activations written the way course solutions write them.

One module of user code (both imports, several functions, int labels as lists and
arrays): every gradient checked against central differences, the split pair against
the fused backward, and the recognised forms checked to reach the author's own
backward (`dx = probs * g`, then `dx[np.arange(N), y] -= g`). The near misses (another
axis, no keepdims, no shift, the probabilities read again, rows that may not cover
the array) keep the generic chain and stay right.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import numpy as np
import pytest

import codegen
from tests.support import check_gradients, check_split_style, load

RNG = np.random.default_rng(20)

LOSSES = textwrap.dedent(
    """
    import math

    import numpy as np


    def softmax_loss(x, y):
        shifted_logits = x - np.max(x, axis=1, keepdims=True)
        Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
        log_probs = shifted_logits - np.log(Z)
        probs = np.exp(log_probs)
        N = x.shape[0]
        loss = -np.sum(log_probs[np.arange(N), y]) / N
        return loss


    def softmax_loss_vectorized(W, X, y, reg):
        num_train = X.shape[0]
        scores = X.dot(W)
        scores -= scores.max(axis=1, keepdims=True)
        scores = np.exp(scores)
        scores /= scores.sum(axis=1, keepdims=True)
        loss = -np.sum(np.log(scores[range(num_train), y])) / num_train
        loss += 0.5 * reg * np.sum(W * W)
        return loss


    def two_layer_loss(X, y, W1, b1, W2, b2):
        N, D = X.shape
        h = np.maximum(0, X.dot(W1) + b1)
        scores = h.dot(W2) + b2
        shifted = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
        loss = -np.sum(np.log(probs[np.arange(N), y])) / N
        return loss


    def log_softmax_loss(x, y):
        N = x.shape[0]
        shifted = x - np.max(x, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        return -np.sum(logp[np.arange(N), y]) / N


    def svm_loss(x, y):
        N = x.shape[0]
        correct_class_scores = x[np.arange(N), y]
        margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
        margins[np.arange(N), y] = 0
        loss = np.sum(margins) / N
        return loss


    def unshifted(x, y):
        N = len(x)
        e = np.exp(x)
        p = e / np.sum(e, axis=1, keepdims=True)
        return -np.sum(np.log(p[np.arange(N), y])) / N * math.sqrt(4.0)


    def column_softmax(x, y):
        shifted = x - np.max(x, axis=0, keepdims=True)
        e = np.exp(shifted)
        p = e / e.sum(axis=0, keepdims=True)
        N = x.shape[0]
        return -np.sum(np.log(p[np.arange(N), y]))


    def no_keepdims(x, y):
        e = np.exp(x)
        p = e / np.sum(e, axis=0)
        N = x.shape[0]
        return -np.sum(np.log(p[np.arange(N), y]))


    def probs_reused(x, y):
        N = x.shape[0]
        scores = x - np.max(x, axis=1, keepdims=True)
        scores = np.exp(scores)
        scores /= np.sum(scores, axis=1, keepdims=True)
        loss = -np.sum(np.log(scores[np.arange(N), y])) / N
        return loss + np.sum(scores * scores), scores


    def some_rows(x, y, n):
        shifted = x - np.max(x, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        return -np.sum(logp[np.arange(n), y])


    def first_rows(x, y):
        N = x.shape[0]
        shifted = x - np.max(x, axis=1, keepdims=True)
        Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
        logp = shifted - np.log(Z)
        return -np.sum(logp[np.arange(N - 1), y[:-1]]) + np.sum(Z)
    """
).lstrip()

X = RNG.normal(size=(5, 4))
LABELS = [0, 3, 1, 1, 2]
CALLS: dict[str, list[tuple[Any, ...]]] = {
    "softmax_loss": [(X, LABELS), (X, np.array(LABELS))],
    "softmax_loss_vectorized": [(RNG.normal(size=(3, 4)), RNG.normal(size=(5, 3)), np.array(LABELS), 0.1)],
    "two_layer_loss": [
        (
            RNG.normal(size=(5, 3)),
            LABELS,
            RNG.normal(size=(3, 6)),
            RNG.normal(size=6),
            RNG.normal(size=(6, 4)),
            RNG.normal(size=4),
        )
    ],
    "log_softmax_loss": [(X, LABELS), (X, np.array(LABELS))],
    "svm_loss": [(X, np.array(LABELS))],
    "unshifted": [(X, LABELS)],
    "column_softmax": [(X, [0, 1, 2, 3, 0])],
    "no_keepdims": [(RNG.normal(size=(4, 4)), [0, 1, 2, 3])],
    "probs_reused": [(X, np.array(LABELS))],
    "some_rows": [(X, [1, 2, 0], 3)],
    "first_rows": [(X, np.array(LABELS))],
}
# The cross-entropies that reach the author's form: p * g, then -g at the picks.
FUSED = {
    "softmax_loss": ("dshifted_logits = np.exp(log_probs) *", "dshifted_logits[np.arange(N), y] -="),
    "softmax_loss_vectorized": ("= scores_3 *", "[range(num_train), y] -="),
    "two_layer_loss": ("dshifted = probs *", "dshifted[np.arange(N), y] -="),
    "log_softmax_loss": ("dshifted = np.exp(logp) *", "dshifted[np.arange(N), y] -="),
    "unshifted": ("dx = p *", "dx[np.arange(N), y] -="),
    "probs_reused": ("= scores_2 *", "[np.arange(N), y] -="),
}
# Not a cross-entropy whose picks cover the rows of a softmax along axis 1.
GENERIC = ("column_softmax", "no_keepdims", "some_rows", "first_rows")


def _function(code: str, name: str) -> str:
    match = re.search(rf"^def {name}\(.*?(?=^def |\Z)", code, re.DOTALL | re.MULTILINE)
    assert match, name
    return match.group(0)


@pytest.fixture(scope="module")
def losses() -> tuple[dict[str, Any], dict[str, Any], str]:
    return load(LOSSES)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", list(CALLS))
def test_loss_gradients(name: str, losses: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    forward, backward, code = losses
    for args in CALLS[name]:
        try:
            check_gradients(forward[name], backward[f"{name}_backward"], list(args))
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- generated\n{_function(code, f'{name}_backward')}") from None
        check_split_style(LOSSES, name, forward[name], backward[f"{name}_backward"], list(args))


@pytest.mark.parametrize("name", list(FUSED))
def test_cross_entropy_is_probs_minus_onehot(name: str, losses: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    text = _function(losses[2], f"{name}_backward")
    for line in FUSED[name]:
        assert line in text, text
    lines = text[text.index("# backprop"):].splitlines()
    backprop = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    # No gradient of the log, none of the maximum; no Jacobian of the softmax where
    # the cross-entropy is all that reads the probabilities.
    assert "np.log" not in backprop and "is_max" not in text, text
    assert name == "probs_reused" or "keepdims" not in backprop, text


@pytest.mark.parametrize("name", GENERIC)
def test_near_misses_keep_the_generic_chain(name: str, losses: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    text = _function(losses[2], f"{name}_backward")
    assert not re.search(r"= (np\.exp\(\w+\)|p) \* ", text), text


def test_staged_softmax_without_its_cross_entropy() -> None:
    """A softmax written over statements, in place, differentiated whole: its Jacobian
    once, not a gradient per statement (and none for the maximum subtracted)."""
    source = textwrap.dedent(
        """
        import math
        import numpy as np


        def attention_weights(q, k):
            scores = q @ k.T / math.sqrt(q.shape[1])
            scores -= scores.max(axis=1, keepdims=True)
            scores = np.exp(scores)
            scores /= scores.sum(axis=1, keepdims=True)
            return scores


        def log_probs(x):
            shifted = x - np.max(x, axis=-1, keepdims=True)
            Z = np.sum(np.exp(shifted), axis=-1, keepdims=True)
            return shifted - np.log(Z)
        """
    ).lstrip()
    forward, backward, code = load(source)
    q, k = RNG.normal(size=(3, 4)), RNG.normal(size=(5, 4))
    check_gradients(forward["attention_weights"], backward["attention_weights_backward"], [q, k])
    check_split_style(source, "attention_weights", forward["attention_weights"], backward["attention_weights_backward"], [q, k])
    check_gradients(forward["log_probs"], backward["log_probs_backward"], [RNG.normal(size=(2, 3, 4))])
    attention = _function(code, "attention_weights_backward")
    assert "dscores_3 - np.sum(dscores_3 * scores_3, axis=1, keepdims=True)" in attention, attention
    assert ") / sum_scores_2" in attention, attention
    assert "is_max" not in code and "dsum" not in code and "dZ" not in code, code


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cross_entropy_of_annotated_logits() -> None:
    source = textwrap.dedent(
        """
        import numpy as np


        def loss(x: "N C", y):
            N = x.shape[0]
            probs = np.exp(x - np.max(x, axis=1, keepdims=True))
            probs /= np.sum(probs, axis=1, keepdims=True)
            return -np.sum(np.log(probs[np.arange(N), y])) / N
        """
    ).lstrip()
    forward, backward, code = load(source)
    check_gradients(forward["loss"], backward["loss_backward"], [X, LABELS])
    check_split_style(source, "loss", forward["loss"], backward["loss_backward"], [X, LABELS])
    assert "[np.arange(N), y] -= dout / N" in code, code
    split = codegen.generate(source, style="split")
    assert "cache = (probs, N, y)" in split or "cache = (probs, y, N)" in split or "(probs" in split, split
