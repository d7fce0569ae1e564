"""Loops over what is not a bare name: reversed lists, reversed and sliced rows, columns."""

import math
import numpy as np


def horner(coeffs, x):
    r = 0.0
    for c in coeffs[::-1]:
        r = r * x + c
    return r


def horner_reversed(coeffs, x):
    r = 0.0
    for c in reversed(coeffs):
        r = r * x + c
    return r


def tail_energy(v):
    s = 0.0
    for a in v[1:]:
        s += np.sum(a * a)
    return s


def column_norms(X):
    total = 0.0
    for col in X.T:
        total += math.sqrt(np.sum(col**2))
    return total


def backward_scan(xs, h):
    for x in reversed(xs):
        h = np.tanh(x + 0.5 * h)
    return np.sum(h)


def poly(coeffs, x):
    return sum(c * x**k for k, c in enumerate(reversed(coeffs)))


def tail_of_a_list(x: list[float]):
    rest = x[1:]
    s = rest[0] * x[0]
    for v in x[1:]:
        s += v * v
    return s
