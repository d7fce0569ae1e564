"""Hand-written backward passes, the baseline the generated code is measured against.

Each is written the way the notes (and cs231n) do it, by a careful person:
the forward pass is run first and its intermediates kept, then the backward
pass walks them in reverse order, one staged line per step, reusing forward
values (`(1 - sig) * sig`, `1 - tanh ** 2`) instead of recomputing them.

Each takes the same arguments as the generated `<name>_backward` (the forward's
parameters, then one upstream gradient per output, default 1.0) and returns
the same gradients in the same order, so both do the same work: a fused
forward + backward that returns the gradients. The scalar two serve the suite
(`benchmarks/suite/hand.py`) as its `f_fused` and `neuron_fused` as well.
"""

import math

import numpy as np


def f_backward(x, y, df=1.0):
    # forward pass
    sigy = 1.0 / (1 + math.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    # backprop f = num * invden (f itself: the gradients never read it)
    dnum = invden * df
    dinvden = num * df
    # backprop invden = 1.0 / den
    dden = (-1.0 / (den**2)) * dinvden
    # backprop den = sigx + xpysqr
    dsigx = dden
    dxpysqr = dden
    # backprop xpysqr = xpy**2
    dxpy = (2 * xpy) * dxpysqr
    # backprop xpy = x + y
    dx = dxpy
    dy = dxpy
    # backprop sigx = 1.0 / (1 + math.exp(-x))
    dx += ((1 - sigx) * sigx) * dsigx
    # backprop num = x + sigy
    dx += dnum
    dsigy = dnum
    # backprop sigy = 1.0 / (1 + math.exp(-y))
    dy += ((1 - sigy) * sigy) * dsigy
    return dx, dy


def neuron_backward(w, x, df=1.0):
    # forward pass
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    # backward pass through the neuron
    ddot = (1 - f) * f * df
    dw = [x[0] * ddot, x[1] * ddot, ddot]
    dx = [w[0] * ddot, w[1] * ddot]
    return dw, dx


def matmul_backward(W, X, dD=1.0):
    # forward pass
    D = W.dot(X)
    # backprop D = W.dot(X)
    dW = dD.dot(X.T)
    dX = W.T.dot(dD)
    return dW, dX


def two_layer_loss_backward(X, y, W1, b1, W2, b2, reg=1e-3, dloss=1.0):
    return two_layer_loss_and_grads(X, y, W1, b1, W2, b2, reg, dloss)[1]


def two_layer_loss_and_grads(X, y, W1, b1, W2, b2, reg=1e-3, dloss=1.0):
    """The cs231n-style training step: the loss and its gradients in one pass."""
    N = X.shape[0]
    rows = np.arange(N)
    # forward pass
    hidden = X.dot(W1) + b1
    h = np.maximum(0, hidden)
    scores = h.dot(W2) + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = -np.sum(np.log(probs[rows, y])) / N
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = data_loss + reg_loss
    # backprop data_loss: softmax cross-entropy, d/dscores = (probs - onehot) / N
    dscores = probs  # probs is ours, so update it in place
    dscores[rows, y] -= 1
    dscores *= dloss / N
    # backprop scores = h.dot(W2) + b2
    dW2 = h.T.dot(dscores)
    db2 = np.sum(dscores, axis=0)
    dh = dscores.dot(W2.T)
    # backprop h = np.maximum(0, hidden)
    dh[hidden <= 0] = 0
    # backprop hidden = X.dot(W1) + b1
    dW1 = X.T.dot(dh)
    db1 = np.sum(dh, axis=0)
    # backprop reg_loss = 0.5 * reg * (sum(W1 * W1) + sum(W2 * W2))
    dW1 += reg * dloss * W1
    dW2 += reg * dloss * W2
    return loss, (dW1, db1, dW2, db2)


def lstm_step_backward(x, prev_h, prev_c, Wx, Wh, b, dnext_h=1.0, dnext_c=1.0):
    H = prev_h.shape[1]
    # forward pass
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = 1.0 / (1 + np.exp(-a[:, :H]))
    f = 1.0 / (1 + np.exp(-a[:, H : 2 * H]))
    o = 1.0 / (1 + np.exp(-a[:, 2 * H : 3 * H]))
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    # backprop next_h = o * tanh(next_c) (next_h itself is not needed: not computed)
    do = tanh_c * dnext_h
    dc = dnext_c + o * (1 - tanh_c**2) * dnext_h
    # backprop next_c = f * prev_c + i * g
    df = prev_c * dc
    dprev_c = f * dc
    di = g * dc
    dg = i * dc
    # backprop the gates, into the slices of a
    da = np.empty_like(a)
    da[:, :H] = (1 - i) * i * di
    da[:, H : 2 * H] = (1 - f) * f * df
    da[:, 2 * H : 3 * H] = (1 - o) * o * do
    da[:, 3 * H :] = (1 - g**2) * dg
    # backprop a = x.dot(Wx) + prev_h.dot(Wh) + b
    dx = da.dot(Wx.T)
    dprev_h = da.dot(Wh.T)
    dWx = x.T.dot(da)
    dWh = prev_h.T.dot(da)
    db = np.sum(da, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db
