"""Softmax (cross-entropy) loss of class scores x (N, C) for labels y (N,)."""

import numpy as np


def softmax_loss(x, y):
    N = x.shape[0]
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    return loss
