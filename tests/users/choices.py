"""Comprehensions in the branches of a conditional expression, and in np.sum with an axis."""

import math
import numpy as np


def penalty(x, c):
    s = sum([xi**3 for xi in x]) if c > 0 else sum([math.sin(xi) for xi in x])
    return s * 2.0


def squares_or_first(x, c):
    return sum(xi**2 for xi in x) if c > 0 else 3.0 * x[0]


def doubled_or_first(x):
    return np.sum(np.array([v * 2 for v in x] if x[0] > 0 else [x[0]]) ** 2)


def outer_rows(x):
    return np.sum(np.sum([xi * x for xi in x], axis=0) ** 2)


def weighted_rows(X, w):
    rows = np.sum([w[i] * X[i] for i in range(len(w))], axis=0)
    return np.sum(np.tanh(rows))
