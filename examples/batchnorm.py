"""Batch normalisation, training-mode forward pass over a minibatch x (N, D).

The annotated shapes let codegen sum gradients exactly (no broadcasting helper).
"""

import numpy as np


def batchnorm(x: "N D", gamma: "D", beta: "D", eps=1e-5):
    sample_mean = np.mean(x, axis=0)
    sample_var = np.var(x, axis=0)
    x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
    out = gamma * x_hat + beta
    return out
