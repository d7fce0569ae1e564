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
from tests.support import check_forward_mode, check_gradients, check_split_style, load

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


    def mean_loss(W, X, y):
        scores = X @ W
        scores = scores - np.max(scores, axis=1, keepdims=True)
        log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
        return -np.mean(log_probs[np.arange(len(X)), y])


    def temporal_softmax_loss(x, y, mask):
        N, T, V = x.shape
        x_flat = x.reshape(N * T, V)
        y_flat = y.reshape(N * T)
        mask_flat = mask.reshape(N * T)
        probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
        probs /= np.sum(probs, axis=1, keepdims=True)
        loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
        return loss


    def temporal_softmax_loss_split(x, y, mask):
        N, T, V = x.shape
        x_flat = x.reshape(N * T, V)
        y_flat = y.reshape(N * T)
        mask_flat = mask.reshape(N * T)
        shifted = x_flat - np.max(x_flat, axis=1, keepdims=True)
        e = np.exp(shifted)
        probs = e / np.sum(e, axis=1, keepdims=True)
        picked = probs[np.arange(N * T), y_flat]
        logs = np.log(picked)
        weighted = mask_flat * logs
        loss = -np.sum(weighted) / N
        return loss


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


    def max_other_axis(x, y):
        N = x.shape[0]
        shifted = x - np.max(x, axis=0, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        return -np.sum(logp[np.arange(N), y]) / N


    def global_max(x, y):
        N = x.shape[0]
        scores = x - np.max(x)
        probs = np.exp(scores)
        probs = probs / probs.sum(axis=1, keepdims=True)
        return -np.sum(np.log(probs[range(N), y])) / N


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
SEQUENCE = RNG.normal(size=(2, 3, 4))
SEQUENCE_LABELS = np.array([[0, 3, 1], [2, 2, 0]])
SEQUENCE_MASK = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # a float mask: its gradient is checked too
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
    "mean_loss": [(RNG.normal(size=(3, 4)), RNG.normal(size=(5, 3)), LABELS)],
    "svm_loss": [(X, np.array(LABELS))],
    "temporal_softmax_loss": [(SEQUENCE, SEQUENCE_LABELS, SEQUENCE_MASK)],
    "temporal_softmax_loss_split": [(SEQUENCE, SEQUENCE_LABELS, SEQUENCE_MASK)],
    "unshifted": [(X, LABELS)],
    "column_softmax": [(X, [0, 1, 2, 3, 0])],
    "no_keepdims": [(RNG.normal(size=(4, 4)), [0, 1, 2, 3])],
    "probs_reused": [(X, np.array(LABELS))],
    "max_other_axis": [(X, LABELS)],
    "global_max": [(X, np.array(LABELS))],
    "some_rows": [(X, [1, 2, 0], 3)],
    "first_rows": [(X, np.array(LABELS))],
}
# The cross-entropies that reach the author's form: p * g, then -g at the picks.
FUSED = {
    "softmax_loss": ("dx = np.exp(log_probs) *", "dx[np.arange(N), y] -="),
    "softmax_loss_vectorized": ("= scores_3 *", "[range(num_train), y] -="),
    "two_layer_loss": ("dscores = probs *", "dscores[np.arange(N), y] -="),
    "log_softmax_loss": ("dx = np.exp(logp) *", "dx[np.arange(N), y] -="),
    "unshifted": ("dx = p *", "dx[np.arange(N), y] -="),
    "probs_reused": ("= scores_2 *", "[np.arange(N), y] -="),
    "global_max": ("dx = probs_1 *", "dx[range(N), y] -="),
    "mean_loss": ("dscores = np.exp(log_probs) * (dout / len(X))", "dscores[np.arange(len(X)), y] -= dout / len(X)"),
}
# Not a cross-entropy whose picks cover the rows of a softmax along axis 1.
GENERIC = ("column_softmax", "no_keepdims", "some_rows", "first_rows")


def _function(code: str, name: str) -> str:
    match = re.search(rf"^def {name}\(.*?(?=^def |\Z)", code, re.DOTALL | re.MULTILINE)
    assert match, name
    return match.group(0)


def labelled(source: str) -> str:
    """`source` with every parameter `y` annotated as a vector of labels, one a row:
    only then do the picks `p[np.arange(N), y]` name each position once (labels of
    shape (N, 1) would pick every row N times)."""
    return re.sub(r"^(def \w+\(.*?)\by\b(?!:)", r'\1y: "N"', source, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def losses() -> tuple[dict[str, Any], dict[str, Any], str]:
    return load(LOSSES)


@pytest.fixture(scope="module")
def labelled_losses() -> tuple[dict[str, Any], dict[str, Any], str]:
    return load(labelled(LOSSES))


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
        check_forward_mode(LOSSES, name, forward[name], backward[f"{name}_backward"], list(args))


@pytest.mark.parametrize("name", list(FUSED))
def test_cross_entropy_is_probs_minus_onehot(name: str, labelled_losses: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    forward, backward, code = labelled_losses
    for args in CALLS[name]:
        check_gradients(forward[name], backward[f"{name}_backward"], list(args))
    text = _function(code, f"{name}_backward")
    for line in FUSED[name]:
        assert line in text, text
    lines = text[text.index("# backprop"):].splitlines()
    backprop = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    # No gradient of the log, none of the maximum; no Jacobian of the softmax where
    # the cross-entropy is all that reads the probabilities.
    assert "np.log" not in backprop and "is_max" not in text, text
    assert name == "probs_reused" or "keepdims" not in backprop, text


@pytest.mark.parametrize("name", list(FUSED))
def test_labels_of_unknown_shape_scatter(name: str, losses: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    """Unannotated labels may be a column: the picks add up with np.add.at, and the
    docstring names the annotation that gives the author's form."""
    text = _function(losses[2], f"{name}_backward")
    assert FUSED[name][1] not in text and "np.add.at(" in text, text
    assert 'annotating y: "N" (one label a row)' in text, text


@pytest.mark.parametrize("name", GENERIC)
def test_near_misses_keep_the_generic_chain(name: str, losses: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    text = _function(losses[2], f"{name}_backward")
    # Not p times the upstream (the fused cross-entropy); p * (g - np.sum(g * p)), the
    # softmax's own Jacobian, is still the generic chain.
    assert not re.search(r"= (np\.exp\(\w+\)|p) \* (?!\()", text), text


@pytest.mark.parametrize("name", ["temporal_softmax_loss", "temporal_softmax_loss_split"])
@pytest.mark.parametrize("style", ["fused", "split"])
def test_temporal_softmax_with_a_boolean_mask(name: str, style: str) -> None:
    """The course's boolean mask and int labels: the labels are held constant (they
    only index), the mask with wrt=["x"]; dx agrees with central differences, and
    masked steps get no gradient."""
    forward, backward, code = load(LOSSES, functions=[name], wrt=["x"])
    assert "Held constant: y" in code and "mask" in code.split("Held constant")[1].split('"""')[0], code
    mask = SEQUENCE_MASK.astype(bool)
    args = [SEQUENCE, SEQUENCE_LABELS, mask]
    dx = check_gradients(forward[name], backward[f"{name}_backward"], args)["x"]
    assert np.all(dx[~mask] == 0.0), dx
    if style == "split":
        check_split_style(LOSSES, name, forward[name], backward[f"{name}_backward"], args, functions=[name], wrt=["x"])


def test_staged_softmax_without_its_cross_entropy() -> None:
    """A softmax written over statements, in place, differentiated whole: its Jacobian
    once, not a gradient per statement (none for the exponential, none for the
    maximum subtracted)."""
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
    # The exponential's gradient folded in: p * (g - np.sum(g * p)), not / t then * e.
    assert "dscores = scores_3 * (" in attention and ") / sum_scores_2" not in attention, attention
    assert "is_max" not in code and "dsum" not in code and "dZ" not in code, code


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_cross_entropy_of_annotated_logits() -> None:
    source = textwrap.dedent(
        """
        import numpy as np


        def loss(x: "N C", y: "N"):
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


ACTIVATIONS = textwrap.dedent(
    """
    import math

    import numpy as np


    def leaky_relu(x, alpha=0.01):
        out = np.where(x >= 0, x, alpha * x)
        return out


    def leaky_relu_layer(x, w, b):
        a = x.dot(w) + b
        h = np.where(a > 0, a, 0.1 * a)
        return np.sum(h * h)


    def leaky_mask(x):
        out = x.copy()
        mask = x < 0
        out[mask] = 0.01 * x[mask]
        return out


    def elu(x, alpha=1.0):
        out = x.copy()
        neg = x <= 0
        out[neg] = alpha * (np.exp(x[neg]) - 1)
        return out


    def elu_where(x, alpha=1.0):
        return np.where(x > 0, x, alpha * (np.exp(x) - 1))


    def elu_where_loss(x, alpha):
        return np.sum(np.where(x > 0, x, alpha * (np.exp(x) - 1)) ** 2)


    def elu_staged(x, alpha):
        e = np.exp(x)
        out = np.where(x > 0, x, alpha * (e - 1))
        return np.sum(out * out)


    def elu_read_twice(x, alpha):
        e = np.exp(x)
        out = np.where(x > 0, x, alpha * (e - 1))
        return np.sum(out * out) + np.sum(e)


    def relu_mask(x):
        out = x.copy()
        out[x < 0] = 0
        return out


    def two_masks(x):
        out = np.zeros_like(x)
        small = np.abs(x) < 1
        out[small] = 0.5 * x[small] ** 2
        out[~small] = np.abs(x[~small]) - 0.5
        return np.sum(out) * math.sqrt(2.0)


    def broadcast_where(x, alpha):
        return np.where(x >= 0, x, alpha * x)


    def gated(x, y):
        return np.where(x > y, x * y, x - y)
    """
).lstrip()

# Away from the kinks: no element within 0.05 of 0 or of +-1.
V = np.array([[-1.7, -0.6, 0.4, 1.3], [0.8, -0.3, -1.2, 2.1], [0.25, -2.2, 0.6, -0.45]])
ACTIVATION_CALLS: dict[str, list[tuple[Any, ...]]] = {
    "leaky_relu": [(V, 0.01), (V[0], 0.2)],
    "leaky_relu_layer": [(V, RNG.normal(size=(4, 3)), RNG.normal(size=3))],
    "leaky_mask": [(V,)],
    "elu": [(V, 1.0)],
    "elu_where": [(V, 1.5)],
    "elu_where_loss": [(V, 1.5), (V[0], 0.7)],
    "elu_staged": [(V, 1.5), (V[1], 0.7)],
    "elu_read_twice": [(V, 1.5)],
    "relu_mask": [(V,)],
    "two_masks": [(V,)],
    "broadcast_where": [(V[0], np.array([[0.1], [0.2], [0.3]]))],
    "gated": [(V, V[::-1, ::-1] + 0.05)],
}


@pytest.fixture(scope="module")
def activations() -> tuple[dict[str, Any], dict[str, Any], str]:
    return load(ACTIVATIONS)


@pytest.mark.parametrize("name", list(ACTIVATION_CALLS))
def test_activation_gradients(name: str, activations: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    forward, backward, code = activations
    for args in ACTIVATION_CALLS[name]:
        try:
            check_gradients(forward[name], backward[f"{name}_backward"], list(args))
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- generated\n{_function(code, f'{name}_backward')}") from None
        check_split_style(ACTIVATIONS, name, forward[name], backward[f"{name}_backward"], list(args))
        check_forward_mode(ACTIVATIONS, name, forward[name], backward[f"{name}_backward"], list(args))


def _backprop(code: str, name: str) -> list[str]:
    text = _function(code, f"{name}_backward")
    lines = text[text.index("# backprop"):].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith(("#", "return"))]


def test_where_masks_each_gradient_once(activations: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    code = activations[2]
    assert _backprop(code, "leaky_relu") == ["dx = np.where(x >= 0, dout, alpha * dout)"]
    layer = _backprop(code, "leaky_relu_layer")
    assert "da = np.where(a > 0, dh, 0.1 * dh)" in layer, layer


def test_elu_masks_each_gradient_once(activations: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    """The branch's intermediates, read only there, are followed into their stages:
    one np.where per gradient, none for the branch's value or its exp."""
    code = activations[2]
    fused = _backprop(code, "elu_where_loss")
    assert fused[-2:] == [
        "dx = _unbroadcast(np.where(x > 0, dout_where, exp_x * alpha * dout_where), x)",
        "dalpha = _unbroadcast(np.where(x > 0, 0.0, minus_exp_x * dout_where), alpha)",
    ], fused
    staged = _backprop(code, "elu_staged")
    assert staged[-2:] == [
        "dx = _unbroadcast(np.where(x > 0, dout, e * alpha * dout), x)",
        "dalpha = _unbroadcast(np.where(x > 0, 0.0, minus_e * dout), alpha)",
    ], staged
    for name in ("elu_where_loss", "elu_staged"):
        assert sum(line.count("np.where") for line in _backprop(code, name)) == 2, _function(code, f"{name}_backward")
    # `e` read again: its gradient gathers from both reads, so the branch stops at it.
    twice = _backprop(code, "elu_read_twice")
    assert any(line.startswith("de = ") for line in twice), twice


def test_boolean_masks_pick_each_element_once(activations: tuple[dict[str, Any], dict[str, Any], str]) -> None:
    """A mask never names a position twice: no np.add.at, no _kept_writes."""
    code = activations[2]
    for name in ("leaky_mask", "elu", "relu_mask", "two_masks"):
        text = _function(code, f"{name}_backward")
        assert "add.at" not in text and "_kept_writes" not in text, text
    assert "_kept_writes" not in code, code
    # The author's own backward: the upstream gradient, the masked part written anew.
    assert _backprop(code, "leaky_mask") == [
        "dx = np.copy(dout_1)",  # the upstream may be a float (split style, a 0-d output)
        "dtimes_x = dout_1[mask]",
        "dx[mask] = 0.01 * dtimes_x",
        "if isinstance(x, list):",
        "dx = dx.tolist()",
    ], _function(code, "leaky_mask_backward")


def test_split_caches_the_mask_once() -> None:
    split = codegen.generate(ACTIVATIONS, style="split")
    assert "cache = (mask, x)" in _function(split, "leaky_mask_forward"), split
    assert "cache = (x, alpha)" in _function(split, "leaky_relu_forward"), split


# ---- every combination of the ways the parts are written ------------------------------
_SHIFTS = {
    "none": "",
    "shifted": "s = s - np.max(s, axis=1, keepdims=True)\n",
    "in-place": "s -= s.max(axis=1, keepdims=True)\n",
    "constant": "s = s - np.max(s)\n",
}
_SOFTMAXES = {
    "in-place": ("p = np.exp(s)\np /= p.sum(axis=1, keepdims=True)\n", "np.log(p[{rows}, y])", "p"),
    "two-exps": ("p = np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)\n", "np.log(p[{rows}, y])", "p"),
    "log": ("lp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))\n", "lp[{rows}, y]", "lp"),
    "staged-log": ("Z = np.sum(np.exp(s), axis=1, keepdims=True)\nlp = s - np.log(Z)\n", "lp[{rows}, y]", "lp"),
}
_ROWS = {"shape": ("N = x.shape[0]\n", "np.arange(N)", True), "len": ("", "range(len(x))", True),
         "given": ("", "np.arange(n)", False)}  # fmt: skip
_COMBINATIONS = [
    (shift, softmax, rows, mean, reused)
    for i, (shift, softmax, rows, mean, reused) in enumerate(
        (a, b, c, d, e) for a in _SHIFTS for b in _SOFTMAXES for c in _ROWS for d in (False, True) for e in (False, True)
    )
    if i % 7 == 0  # a spread of 28 of the 192
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("shift", "softmax", "rows", "mean", "reused"), _COMBINATIONS)
def test_every_way_of_writing_it(shift: str, softmax: str, rows: str, mean: bool, reused: bool) -> None:
    setup, picked, probs = _SOFTMAXES[softmax]
    size, index, covers = _ROWS[rows]
    picked = picked.format(rows=index)
    total = f"-np.mean({picked})" if mean else f"-np.sum({picked}) / 4.0"
    extra = f" + np.sum({probs} * {probs}) * 0.1" if reused else ""
    body = f"{size}s = x * w\n{_SHIFTS[shift]}{setup}return {total}{extra}\n"
    source = 'import math\nimport numpy as np\n\n\ndef loss(x, w, y: "N", n):\n' + textwrap.indent(body, "    ")
    forward, backward, code = load(source)
    x, w = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    for labels in ([2, 0, 1, 1], np.array([0, 0, 2, 1])):
        try:
            check_gradients(forward["loss"], backward["loss_backward"], [x, w, labels, 4])
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- forward\n{source}\n--- generated\n{code}") from None
    check_split_style(source, "loss", forward["loss"], backward["loss_backward"], [x, w, [2, 0, 1, 1], 4])
    # The author's form (probabilities times g) exactly where the rows picked are all of them.
    dense = re.search(r"^\s*d\w+ = (p(_\d+)?|np\.exp\(lp(_\d+)?\)) \* \(dout / ", code, re.MULTILINE)
    assert bool(dense) == covers, code


# ---- the cross-entropy fusion and the labels' shape ---------------------------------

LABELLED = '''\
import numpy as np


def ce(scores, y):
    N = scores.shape[0]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probs[np.arange(N), y]) / N


def ce_onehot(scores, Y):
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(Y * log_probs) / scores.shape[0]
'''
SCORES = np.array([[0.3, -0.5, 0.9], [-1.1, 0.4, 0.2], [0.7, 0.1, -0.3], [0.2, 0.6, -0.8]])
LABEL_SHAPES = {
    "a vector": (np.array([0, 2, 1, 1]), None),
    # y of shape (N, 1) broadcasts against np.arange(N): N * N picks, each row N times.
    "a column": (
        np.array([[0], [2], [1], [1]]),
        None,
    ),
}


@pytest.mark.parametrize("labels", [pytest.param(y, marks=m or (), id=k) for k, (y, m) in LABEL_SHAPES.items()])
def test_cross_entropy_of_labels_of_every_shape(labels: np.ndarray) -> None:
    forward, backward, _ = load(LABELLED, functions=["ce"])
    check_gradients(forward["ce"], backward["ce_backward"], [SCORES, labels])


def test_cross_entropy_of_two_labels_a_row_fails_loudly() -> None:
    forward, backward, _ = load(LABELLED, functions=["ce"])
    with pytest.raises(IndexError):
        forward["ce"](SCORES, np.array([[0, 1], [2, 2], [1, 0], [1, 1]]))
    with pytest.raises(IndexError):
        backward["ce_backward"](SCORES, np.array([[0, 1], [2, 2], [1, 0], [1, 1]]))


@pytest.mark.parametrize("shape", [(4, 3), (3,), (4, 1)])
def test_cross_entropy_of_one_hot_or_soft_targets(shape: tuple[int, ...]) -> None:
    targets = np.eye(3)[[0, 2, 1, 1]] if shape == (4, 3) else np.linspace(0.1, 0.9, int(np.prod(shape))).reshape(shape)
    forward, backward, _ = load(LABELLED, functions=["ce_onehot"])
    check_gradients(forward["ce_onehot"], backward["ce_onehot_backward"], [SCORES, targets])


PICKED = '''\
import math

import numpy as np


def softmax_loss(x, y):
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    return -np.sum(np.log(probs[np.arange(N), y])) / N


def log_softmax_loss(x, y):
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(log_probs[range(N), y]) * math.sqrt(2.0)
'''
PICKS = {
    "a vector": np.array([0, 2, 1, 1]),
    "a list": [2, 2, 0, 1],
    "a column": np.array([[0], [2], [1], [1]]),
    "two labels a row": np.array([[0, 2, 1, 1], [1, 1, 2, 0]]),  # every row picked twice
    "one label": 2,
}


@pytest.mark.parametrize("name", ["softmax_loss", "log_softmax_loss"])
@pytest.mark.parametrize("labels", PICKS.values(), ids=PICKS.keys())
def test_cross_entropy_whatever_the_labels_pick_is_p_weighted_minus_the_picks(name: str, labels: Any) -> None:
    """Unproved labels: `p` times the upstream (times how often each row is picked),
    the picked entries' -g added with np.add.at; not the chain of generic rules."""
    forward, backward, code = load(PICKED, functions=[name])
    check_gradients(forward[name], backward[f"{name}_backward"], [SCORES, labels])
    body = code[code.index(f"def {name}_backward(") :]
    assert "np.add.at(" in body and "np.zeros_like" not in body and "keepdims=True)) /" not in body


OF_EXP = '''\
import math

import numpy as np


def attend(s, v):
    e = np.exp(s - np.max(s, axis=1, keepdims=True))
    w = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(w.dot(v) ** 2) * math.pi


def staged(s, v):
    e = np.exp(s)
    t = e.sum(axis=0, keepdims=True)
    w = e / t
    return np.sum(w * v)


def exp_read_again(s, v):
    e = np.exp(s)
    w = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(w * v) + np.sum(e * v)
'''
OF_EXP_ARGS = [np.array([[0.3, -0.5, 0.9], [-1.1, 0.4, 0.2]]), np.array([[0.5, 1.5, -2.0], [1.0, -0.3, 0.7]])]


@pytest.mark.parametrize("name", ["attend", "staged", "exp_read_again"])
def test_softmax_of_a_staged_exponential_is_one_jacobian_of_its_exponent(name: str) -> None:
    forward, backward, code = load(OF_EXP, functions=[name])
    args = [OF_EXP_ARGS[0], OF_EXP_ARGS[1].T if name == "attend" else OF_EXP_ARGS[1]]
    check_gradients(forward[name], backward[f"{name}_backward"], args)
    check_split_style(OF_EXP, name, forward[name], backward[f"{name}_backward"], args)
    body = code[code.index(f"def {name}_backward(") :]
    assert "dw * w" in body or "w * (" in body  # out * (g - np.sum(g * out)), not / t then * e
