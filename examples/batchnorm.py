"""Batch normalisation, training-mode forward pass over a minibatch x (N, D)."""

import numpy as np


def batchnorm(x, gamma, beta, eps=1e-5):
    sample_mean = np.mean(x, axis=0)
    sample_var = np.var(x, axis=0)
    x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
    out = gamma * x_hat + beta
    return out
