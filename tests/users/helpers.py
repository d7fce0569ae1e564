import math
import numpy as np

SCALE = np.array([1.0, 2.0, 0.5])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def leaky(a, alpha=0.01):
    return np.maximum(alpha * a, a)


def scale(x, s=2.0):
    return x * s


def gate(x, w):
    return sigmoid(x * w), sigmoid(w)


def learned_slope(x, alpha):
    return np.sum(leaky(x, alpha) ** 2)


def learned_slope_keyword(x, alpha):
    return np.sum(leaky(x, alpha=alpha) ** 2)


def scaled_by_param(x, s):
    return np.sum(scale(x, s=s) ** 2) + np.sum(scale(x))


def mixed_kinds(x, v):
    return sigmoid(x) * np.sum(sigmoid(v)) + math.exp(-x)


def unpack_helper(x, w):
    a, b = gate(x, w)
    c, d = gate(a, b)
    return np.sum(c * d)


def module_constant(x):
    return np.sum((x * SCALE) ** 2)


def helper_twice(x):
    return np.sum(sigmoid(sigmoid(x)) + sigmoid(2 * x))


def early_helper(x):
    if x > 0:
        return math.sqrt(x)
    return -x


def calls_early(a, b):
    return early_helper(a) * early_helper(b)
