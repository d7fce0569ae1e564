"""One LSTM step (cs231n's lstm_step_forward): batch 64, input 128, hidden 128.

Two outputs, so the backward takes two upstream gradients, dnext_h and dnext_c.
"""

import numpy as np


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = 1.0 / (1 + np.exp(-a[:, :H]))
    f = 1.0 / (1 + np.exp(-a[:, H : 2 * H]))
    o = 1.0 / (1 + np.exp(-a[:, 2 * H : 3 * H]))
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c
