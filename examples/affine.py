"""Affine (fully connected) layer: out = x reshaped to (N, D), times w, plus b."""

import numpy as np


def affine(x, w, b):
    N = x.shape[0]
    x_row = x.reshape(N, -1)
    out = x_row.dot(w) + b
    return out
