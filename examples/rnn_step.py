"""One timestep of a vanilla RNN with a tanh activation."""

import numpy as np


def rnn_step(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    return next_h
