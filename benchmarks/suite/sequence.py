"""Recurrent layers over time and word embeddings (a captioning course's rnn_layers.py)."""

import math

import numpy as np


def word_embedding_forward(x, W):
    out = W[x]
    return out


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    prev_h = h0
    for t in range(T):
        next_h = np.tanh(x[:, t, :].dot(Wx) + prev_h.dot(Wh) + b)
        h[:, t, :] = next_h
        prev_h = next_h
    return h


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = 1.0 / (1 + np.exp(-a[:, :H]))  # input gate
    f = 1.0 / (1 + np.exp(-a[:, H : 2 * H]))  # forget gate
    o = 1.0 / (1 + np.exp(-a[:, 2 * H : 3 * H]))  # output gate
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c
