"""Rule-table rows for softmaxes and cross-entropies: the shift by the maximum, the
normalisation and log-softmax recognised whole (by the normaliser, or over several
statements by codegen/lower/softmax.py), and the picked log-probabilities of labels.
"""

from __future__ import annotations

from codegen.ad.rules import defrule

# x - np.max(x, axis=k, keepdims=True) used only by softmaxes along k (see shift.py).
defrule("numpy.sub.shift", "x y", "g", None)
# e / np.sum(e, axis=k, keepdims=True) and s - np.log(np.sum(np.exp(s), axis=k,
# keepdims=True)), recognised whole by the normaliser: softmax's and log-softmax's
# Jacobians applied directly (their outputs sum to 1 along the axis).
defrule(
    "numpy.normalize",
    "x",
    "(g - np.sum(g * out, axis=axis, keepdims=True)) / np.sum(x, axis=axis, keepdims=True)",
    keywords="axis=None",
    kind="other",
    shape="same",
    tangents="(t - out * np.sum(t, axis=axis, keepdims=True)) / np.sum(x, axis=axis, keepdims=True)",
)
defrule(
    "numpy.log_softmax",
    "x",
    "g - np.exp(out) * np.sum(g, axis=axis, keepdims=True)",
    keywords="axis=None",
    kind="other",
    shape="same",
    tangents="t - np.sum(np.exp(out) * t, axis=axis, keepdims=True)",
)
# The same two written over several statements (`t = e.sum(axis=k, keepdims=True)`
# then `p = e / t`; `Z = np.sum(np.exp(s), axis=k, keepdims=True)` then
# `s - np.log(Z)`), recognised by codegen/lower/softmax.py: the sum `t` or `Z` is
# read for its value, and its dependence on `x` is in the template already.
defrule(
    "numpy.normalize.staged",
    "x t",
    "(g - np.sum(g * out, axis=axis, keepdims=True)) / t",
    None,
    keywords="axis=None",
    kind="other",
    shape="same",
)
# Either of those two of e = np.exp(s), staged (codegen/lower/softmax.py): the
# gradient for s is out * (g - np.sum(g * out)), the exponential's and the
# normalisation's in one, as the author writes it; e and t get none from it (where
# they are read elsewhere, those reads send their own).
_SOFTMAX_OF_S = "out * (g - np.sum(g * out, axis=axis, keepdims=True))"
defrule("numpy.normalize.exp", "e s", None, _SOFTMAX_OF_S, keywords="axis=None", kind="other", shape="same")
defrule("numpy.normalize.staged.exp", "e t s", None, None, _SOFTMAX_OF_S, keywords="axis=None", kind="other", shape="same")
defrule(
    "numpy.log_softmax.staged",
    "x z",
    "g - np.exp(out) * np.sum(g, axis=axis, keepdims=True)",
    None,
    keywords="axis=None",
    kind="other",
    shape="same",
)
# Cross-entropy, -np.sum(np.log(p[rows, y])) (or -np.sum(logp[rows, y])) of a softmax
# of `x` along axis 1 whose rows `rows` cover (codegen/lower/softmax.py): the gradient
# for x is (p - onehot) * g, written as the author writes it, p * g and then -g at the
# picked entries (`picked` is x[rows, y]).
defrule("numpy.softmax_nll", "x picked", "probs * g", "-g", keywords="probs=None axis=1", kind="other", shape="number")
defrule("numpy.log_softmax_nll", "x picked", "np.exp(logp) * g", "-g", keywords="logp=None axis=1", kind="other", shape="number")
# The same where the labels may pick a row more than once (`y` of shape (N, 1)): rows
# = np.arange(N) broadcast against y picks every row equally often (the picks' size
# over a column's), so p is weighted by that count, and the picked entries add up
# (np.add.at). Labels that do not broadcast against the rows fail as the forward's do.
defrule(
    "numpy.softmax_nll.picks",
    "x picked",
    "g * (np.size(probs[rows, labels]) / np.size(probs[:, 0])) * probs",
    "-g",
    keywords="probs=None axis=1 rows=None labels=None",
    kind="other",
    shape="number",
)
defrule(
    "numpy.log_softmax_nll.picks",
    "x picked",
    "g * (np.size(logp[rows, labels]) / np.size(logp[:, 0])) * np.exp(logp)",
    "-g",
    keywords="logp=None axis=1 rows=None labels=None",
    kind="other",
    shape="number",
)
# `np.log(p[rows, y])` alone, p a softmax of `x` along axis 1 whose rows `rows` cover
# once each (read in a weighted sum, a masked loss): the log-probabilities picked, one
# per row; the gradient for x is (onehot - p) * g, g spread along the classes.
defrule("numpy.softmax_log_pick", "x picked", "probs * np.expand_dims(-g, 1)", "g", keywords="probs=None axis=1", kind="other", shape="unknown")
