"""Layer normalisation: each row of x (N, D) normalised over its features."""

import numpy as np


def layernorm(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=1, keepdims=True)
    xc = x - mu
    var = np.mean(xc**2, axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    x_hat = xc / std
    out = gamma * x_hat + beta
    return out
