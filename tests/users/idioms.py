import math
import numpy as np

EPS = 1e-8


def relu_copy(x):
    out = x.copy()
    out[out < 0] = 0
    return out


def relu_mask(x):
    return x * (x > 0)


def positive_sum(x):
    return np.sum(x[x > 0]) + EPS


def as_batch(x, w):
    if x.ndim == 1:
        x = x.reshape(1, -1)
    return np.tanh(x @ w).sum()


def to_float(x, w):
    x = x.astype(np.float64)
    return np.sum((x @ w) ** 2)


def asarray_float(x):
    x = np.asarray(x, dtype=float)
    return np.sum(np.sin(x) * x)


def onehot_ce(x, y, num_classes=4):
    onehot = np.eye(num_classes)[y]
    logp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    return -np.sum(onehot * logp) / x.shape[0]


def reverse_loop(x):
    acc = 0.0
    for i in range(len(x) - 1, 0, -1):
        acc = acc * 0.5 + x[i] * x[i - 1]
    return acc


def build_array(x):
    v = np.array([x[0] * 2, x[1] - x[0], x[1] ** 2])
    return np.dot(v, v)


def comp_list(x):
    sq = []
    for xi in x:
        sq.append(xi ** 2)
    return np.sum(np.array(sq)) + x[-1]


def enum_discount(x, gamma=0.9):
    total = 0.0
    for i, xi in enumerate(x, 1):
        total += gamma ** i * math.tanh(xi)
    return total


def strided(x):
    return np.sum(x[::2] * x[1::2]) + np.sum(x[::-1] * x)


def spatial_bn(x, gamma, beta, eps=1e-5):
    N, C, H, W = x.shape
    xt = x.transpose(0, 2, 3, 1).reshape(-1, C)
    mu = xt.mean(axis=0)
    var = xt.var(axis=0)
    xn = (xt - mu) / np.sqrt(var + eps)
    out = (gamma * xn + beta).reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return out


def batchnorm_modes(x, gamma, beta, bn_param={"mode": "train", "eps": 1e-5}):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
    else:
        mu = bn_param["running_mean"]
        var = bn_param["running_var"]
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def svm_naive_cols(W, X, y, reg=0.0):
    loss = 0.0
    for i in range(X.shape[0]):
        scores = X[i].dot(W)
        correct = scores[y[i]]
        for j in range(W.shape[1]):
            if j != y[i]:
                loss += max(0, scores[j] - correct + 1)
    return loss / X.shape[0] + reg * np.sum(W * W)


def batched_attention(q, k, v):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p /= np.sum(p, axis=-1, keepdims=True)
    return p @ v


def two_layer(X, y, params, reg=0.01):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    scores -= scores.max(axis=1, keepdims=True)
    N = X.shape[0]
    loss = -np.mean(scores[np.arange(N), y] - np.log(np.exp(scores).sum(axis=1)))
    loss += 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    return loss


def std_norm(x):
    return np.std(x) + np.linalg.norm(x) + x.max() - x.min()


def outer_loss(a, b):
    return np.sum(np.outer(a, b) ** 2) + a.dot(b)


def keyword_calls(x, w, b):
    a = np.tanh(x @ w + b)
    return leaky(a, alpha=0.2).sum()


def leaky(a, alpha=0.01):
    return np.maximum(alpha * a, a)


def sample_std(x, axis=0):
    return np.sum(np.std(x, axis=axis, ddof=1)) + x.var(ddof=1)


def halves(a):
    i, g = np.split(a, 2, axis=1)
    return np.sum(i * np.tanh(g))


def stacked_features(a, b):
    rows = np.vstack([a, b])
    cols = np.hstack((a, b))
    return np.sum(rows**2) + math.sqrt(2.0) * np.sum(np.sin(cols))


def gram_trace(a):
    return np.trace(a.T @ a) + np.trace(a[:2, :2])


def masked_rows(x, w, keep):
    h = np.tanh(x @ w)
    return np.sum(h[keep] ** 2) + np.sum(h * keep[:, None])
