"""Hand-written forward/backward pairs, the way a strong student writes them (cs231n style).

Each `<name>_forward(...)` returns its outputs and then the cache of what its
backward needs, and `<name>_backward(*upstream, cache)` returns the gradients in
the order the suite asks codegen for (`wrt`): the same conventions as codegen's
split style. The suite times the forward followed by the backward, the job the
generated fused backward does; for the scalar examples, where two calls would be
a good part of the time, `<name>_fused` does both in one body: those are the
notes' hand-written backwards of the older benchmarks (`benchmarks/workloads/hand.py`).
"""

import math

import numpy as np

# The suite looks these up by name (`hand_fused`).
from benchmarks.workloads.hand import f_backward as f_fused  # noqa: F401
from benchmarks.workloads.hand import neuron_backward as neuron_fused  # noqa: F401

# ---- layers ------------------------------------------------------------------------


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w)
    return out, cache


def affine_backward(dout, cache):
    x, w = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def leaky_relu_forward(x, alpha=0.01):
    out = np.where(x > 0, x, alpha * x)
    cache = (x, alpha)
    return out, cache


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    dx = np.where(x > 0, dout, alpha * dout)
    return dx


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=0)
    xmu = x - mu
    var = np.mean(xmu**2, axis=0)
    std = np.sqrt(var + eps)
    xhat = xmu / std
    out = gamma * xhat + beta
    cache = (xhat, gamma, std)
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (dxhat - np.mean(dxhat, axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) / std
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=1, keepdims=True)
    xmu = x - mu
    var = np.mean(xmu**2, axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = xmu / std
    out = gamma * xhat + beta
    cache = (xhat, gamma, std)
    return out, cache


def layernorm_backward(dout, cache):
    xhat, gamma, std = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (
        dxhat
        - np.mean(dxhat, axis=1, keepdims=True)
        - xhat * np.mean(dxhat * xhat, axis=1, keepdims=True)
    ) / std
    return dx, dgamma, dbeta


def dropout_forward(x, mask, p=0.5):
    out = x * mask / p
    cache = (mask, p)
    return out, cache


def dropout_backward(dout, cache):
    mask, p = cache
    dx = dout * mask / p
    return dx


def attention_forward(q, k, v):
    scale = 1.0 / math.sqrt(q.shape[1])
    scores = q.dot(k.T) * scale
    weights = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    weights /= np.sum(weights, axis=1, keepdims=True)
    out = weights.dot(v)
    cache = (q, k, v, weights, scale)
    return out, cache


def attention_backward(dout, cache):
    q, k, v, weights, scale = cache
    dv = weights.T.dot(dout)
    dweights = dout.dot(v.T)
    dscores = weights * (dweights - np.sum(dweights * weights, axis=1, keepdims=True))
    dscores *= scale
    dq = dscores.dot(k)
    dk = dscores.T.dot(q)
    return dq, dk, dv


# ---- losses (scalar outputs: the upstream dloss defaults to 1.0) ---------------------


def softmax_loss_forward(x, y):
    N = x.shape[0]
    probs = np.exp(x - np.max(x, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    cache = (probs, y)
    return loss, cache


def softmax_loss_backward(dloss, cache):
    probs, y = cache
    N = probs.shape[0]
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx *= dloss / N
    return dx


def svm_loss_forward(x, y):
    N = x.shape[0]
    correct_class_scores = x[np.arange(N), y]
    margins = np.maximum(0, x - correct_class_scores[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    cache = (margins, y)
    return loss, cache


def svm_loss_backward(dloss, cache):
    margins, y = cache
    N = margins.shape[0]
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] -= np.sum(dx, axis=1)
    dx *= dloss / N
    return dx


def temporal_softmax_loss_forward(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    cache = (probs, y_flat, mask_flat, x.shape)
    return loss, cache


def temporal_softmax_loss_backward(dloss, cache):
    probs, y_flat, mask_flat, shape = cache
    N = shape[0]
    dx_flat = probs.copy()
    dx_flat[np.arange(dx_flat.shape[0]), y_flat] -= 1
    dx_flat *= (dloss / N) * mask_flat[:, None]
    dx = dx_flat.reshape(shape)
    return dx


def vae_loss_forward(x, x_rec, mu, logvar):
    N = x.shape[0]
    bce = -np.sum(x * np.log(x_rec) + (1 - x) * np.log(1 - x_rec))
    var = np.exp(logvar)
    kl = -0.5 * np.sum(1 + logvar - mu**2 - var)
    loss = (bce + kl) / N
    cache = (x, x_rec, mu, var, N)
    return loss, cache


def vae_loss_backward(dloss, cache):
    x, x_rec, mu, var, N = cache
    scale = dloss / N
    dx_rec = scale * (x_rec - x) / (x_rec * (1 - x_rec))
    dmu = scale * mu
    dlogvar = (0.5 * scale) * (var - 1)
    return dx_rec, dmu, dlogvar


# ---- sequences -----------------------------------------------------------------------


def word_embedding_forward(x, W):
    out = W[x]
    cache = (x, W.shape)
    return out, cache


def word_embedding_backward(dout, cache):
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h = h0
    for t in range(T):
        prev_h = np.tanh(x[:, t, :].dot(Wx) + prev_h.dot(Wh) + b)
        h[:, t, :] = prev_h
    cache = (x, h0, Wx, Wh, h)
    return h, cache


def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx = np.empty_like(x)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(Wh.shape[0])
    dprev_h = np.zeros_like(h0)
    for t in reversed(range(T)):
        prev_h = h[:, t - 1, :] if t > 0 else h0
        da = (1 - h[:, t, :] ** 2) * (dh[:, t, :] + dprev_h)
        dx[:, t, :] = da.dot(Wx.T)
        dWx += x[:, t, :].T.dot(da)
        dWh += prev_h.T.dot(da)
        db += np.sum(da, axis=0)
        dprev_h = da.dot(Wh.T)
    return dx, dprev_h, dWx, dWh, db


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = 1.0 / (1 + np.exp(-a[:, :H]))
    f = 1.0 / (1 + np.exp(-a[:, H : 2 * H]))
    o = 1.0 / (1 + np.exp(-a[:, 2 * H : 3 * H]))
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    H = prev_h.shape[1]
    do = tanh_c * dnext_h
    dc = dnext_c + o * (1 - tanh_c**2) * dnext_h
    da = np.empty((x.shape[0], 4 * H))
    da[:, :H] = (1 - i) * i * g * dc
    da[:, H : 2 * H] = (1 - f) * f * prev_c * dc
    da[:, 2 * H : 3 * H] = (1 - o) * o * do
    da[:, 3 * H :] = (1 - g**2) * i * dc
    dprev_c = f * dc
    dx = da.dot(Wx.T)
    dprev_h = da.dot(Wh.T)
    dWx = x.T.dot(da)
    dWh = prev_h.T.dot(da)
    db = np.sum(da, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


# ---- convolution ---------------------------------------------------------------------


def conv_naive_forward(x, w, b, stride=1, pad=1):
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (xp, w, stride, pad)
    return out, cache


def conv_naive_backward(dout, cache):
    xp, w, stride, pad = cache
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    dx = dxp[:, :, pad : dxp.shape[2] - pad, pad : dxp.shape[3] - pad]
    return dx, dw, db


def max_pool_naive_forward(x, pool_height=2, pool_width=2, stride=2):
    N, C, H, W = x.shape
    H_out = 1 + (H - pool_height) // stride
    W_out = 1 + (W - pool_width) // stride
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride : i * stride + pool_height, j * stride : j * stride + pool_width]
            out[:, :, i, j] = np.max(window, axis=(2, 3))
    cache = (x, out, pool_height, pool_width, stride)
    return out, cache


def max_pool_naive_backward(dout, cache):
    x, out, pool_height, pool_width, stride = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + pool_height)
            cols = slice(j * stride, j * stride + pool_width)
            mask = x[:, :, rows, cols] == out[:, :, i, j][:, :, None, None]
            dx[:, :, rows, cols] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


# ---- the notes' scalar examples: staged, one line per forward line -------------------


def f_forward(x, y):
    sigy = 1.0 / (1 + math.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    cache = (sigy, num, sigx, xpy, den, invden)
    return f, cache


def f_backward(df, cache):
    sigy, num, sigx, xpy, den, invden = cache
    dnum = invden * df
    dinvden = num * df
    dden = (-1.0 / (den**2)) * dinvden
    dsigx = dden
    dxpysqr = dden
    dxpy = (2 * xpy) * dxpysqr
    dx = dxpy
    dy = dxpy
    dx += ((1 - sigx) * sigx) * dsigx
    dx += dnum
    dsigy = dnum
    dy += ((1 - sigy) * sigy) * dsigy
    return dx, dy


def neuron_forward(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    cache = (w, x, f)
    return f, cache


def neuron_backward(df, cache):
    w, x, f = cache
    ddot = (1 - f) * f * df
    dw = [x[0] * ddot, x[1] * ddot, ddot]
    dx = [w[0] * ddot, w[1] * ddot]
    return dw, dx
