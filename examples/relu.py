"""Rectified linear unit, elementwise."""

import numpy as np


def relu(x):
    out = np.maximum(0, x)
    return out
