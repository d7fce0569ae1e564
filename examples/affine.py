"""Affine (fully connected) layer: out = x reshaped to (N, D), times w, plus b.

w (D, M) and b (M,) carry their shapes, as the layer's docstring would state them:
codegen then sums db exactly (np.sum(dout, axis=0)) and caches only x and w.
"""

import numpy as np


def affine(x, w: "D M", b: "M"):
    N = x.shape[0]
    x_row = x.reshape(N, -1)
    out = x_row.dot(w) + b
    return out
