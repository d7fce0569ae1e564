"""A two-layer net's softmax loss (cs231n): affine-ReLU-affine, L2 regularisation.

Batch 64, 784-100-10.  `y` holds integer labels (an index, so a constant) and
`reg` has a default (a hyper-parameter, so a constant); the benchmark asks for
the gradients of W1, b1, W2, b2 only (`wrt=`), as the hand-written one does.
"""

import numpy as np


def two_layer_loss(X, y, W1, b1, W2, b2, reg=1e-3):
    N = X.shape[0]
    h = np.maximum(0, X.dot(W1) + b1)
    scores = h.dot(W2) + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    data_loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = data_loss + reg_loss
    return loss
