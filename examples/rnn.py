"""A vanilla RNN over T time steps, with a loss on every hidden state."""

import numpy as np


def rnn(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = h0
    loss = 0.0
    for t in range(T):
        h = np.tanh(x[:, t, :] @ Wx + h @ Wh + b)
        loss = loss + np.sum(h * h)
    return loss
