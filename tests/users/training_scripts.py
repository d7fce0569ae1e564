import math
import numpy as np


def int_accumulator(x):
    loss = 0
    for i in range(len(x)):
        loss += x[i] ** 2
    return loss


def chained_methods(x):
    return (x ** 2).sum(axis=1).mean() + np.maximum(0, x).sum()


def label_mask_rows(x, y):
    pos = x[y == 1]
    neg = x[y == 0]
    return np.sum(pos ** 2) - np.sum(np.tanh(neg))


def bce(w, X, y, eps=1e-12):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(np.where(y == 1, np.log(p + eps), np.log(1 - p + eps)))


def bce_broadcast(z, y):
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def kmeans_cost(X, C):
    d = np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=-1)
    idx = np.argmin(d, axis=1)
    return np.sum((X - C[idx]) ** 2)


def reverse_rnn(x, h0, Wh):
    T = x.shape[1]
    h = h0
    total = 0.0
    for t in reversed(range(T)):
        h = np.tanh(x[:, t, :] + h @ Wh)
        total = total + np.sum(h)
    return total


def while_index(x):
    i = 0
    s = 0.0
    while i < len(x):
        s += math.sin(x[i]) * (i + 1)
        i += 1
    return s


def mse_ravel(pred, y):
    return np.mean((pred.ravel() - y) ** 2)


def sgd_steps(w, X, y, lr=0.1, steps=3):
    for _ in range(steps):
        err = X @ w - y
        w = w - lr * X.T @ err / len(y)
    return np.sum((X @ w - y) ** 2)
