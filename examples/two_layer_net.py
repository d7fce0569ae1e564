"""Loss of a two-layer fully connected net: affine - ReLU - affine - softmax, plus L2."""

import numpy as np


def two_layer_net(X, y, W1, b1, W2, b2, reg=0.0):
    N = X.shape[0]
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    data_loss = -np.sum(log_probs[np.arange(N), y]) / N
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = data_loss + reg_loss
    return loss
