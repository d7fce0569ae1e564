import math
import numpy as np


def rows_loop(X, w):
    total = 0.0
    for row in X:
        total += np.tanh(row @ w)
    return total


def zip_loss(X, y, w):
    loss = 0.0
    for xi, yi in zip(X, y):
        loss += (xi @ w - yi) ** 2
    return loss / len(y)


def ternary_rnn(x, h0, Wh):
    N, T, H = x.shape
    h = np.zeros((N, T, H))
    for t in range(T):
        prev = h[:, t - 1, :].copy() if t > 0 else h0
        h[:, t, :] = np.tanh(x[:, t, :] + prev @ Wh)
    return h


def lstm_concat(x, h, c, W, b):
    H = h.shape[1]
    a = np.concatenate([x, h], axis=1) @ W + b
    i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    i = 1 / (1 + np.exp(-i))
    f = 1 / (1 + np.exp(-f))
    o = 1 / (1 + np.exp(-o))
    g = np.tanh(g)
    c = f * c + i * g
    return o * np.tanh(c)


def rbf_kernel(x, y, sigma):
    d = x[:, None, :] - y[None, :, :]
    sq = np.sum(d ** 2, axis=-1)
    return np.sum(np.exp(-sq / (2 * sigma ** 2)))


def ellipsis_pick(x):
    return np.sum(x[..., 0] * x[..., -1])


def accumulate(x, w):
    N, D = x.shape
    out = np.zeros(N)
    for i in range(N):
        for j in range(D):
            out[i] += x[i, j] * w[j]
    return out


def slice_add(x, y):
    out = np.zeros((x.shape[0], 4))
    out[:, :2] += x
    out[:, 1:3] += y
    return np.sum(out ** 2)


def stack_ops(a, b):
    m = np.stack([a, b])
    n = np.concatenate([a, b])
    return np.sum(m ** 2) + np.sum(n * 3) + np.sum(np.outer(a, b))


def flat(x):
    return np.sum(x.flatten() * np.arange(x.size)) + np.sum(x.ravel() ** 2)


def early_return(x):
    if x < 0:
        return 0.0
    return x ** 1.5


def pairwise_dist(x):
    d = np.sqrt(np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1) + 1e-9)
    return np.sum(d)


def ternary_view_rnn(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    for t in range(T):
        prev_h = h[:, t - 1, :] if t > 0 else h0
        next_h = np.tanh(prev_h.dot(Wh) + x[:, t, :].dot(Wx) + b)
        h[:, t, :] = next_h
    return h


def ternary_view_scan(x, h0, w):
    h = np.zeros(x.shape)
    for t in range(x.shape[0]):
        prev = h[t - 1] if t > 0 else h0
        h[t] = np.tanh(x[t] + w * prev)
    return np.sum(h ** 2)


def nested_appends(x, w):
    rows = []
    for i in range(len(x)):
        row = []
        for j in range(len(w)):
            row.append(x[i] * w[j])
        rows.append(row)
    return np.sum(np.tanh(np.array(rows)))
