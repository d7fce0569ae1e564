"""Evidence up from uses and down from operands, annotations, settings and helpers."""
import math
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def calls_a_helper(a, b):
    return sigmoid(a * b)


def shapes_and_settings(x, w, bn_param, gamma: "D", beta: "D"):
    N, D = x.shape
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param["momentum"]
    h = x @ w
    return np.sum(h * gamma + beta) / N + eps * momentum


def annotated(a: float, n: int, v: list[float], m: np.ndarray, s: "N D T"):
    return a * n + v[0] + np.sum(m) + np.sum(s)


def ordered(x, y, t):
    if x > y:
        z = x
    else:
        z = max(y, 0.0)
    return z * t


def rebound(x, y):
    x = x * np.ones(3)
    return math.exp(y) + np.sum(x)


def over_a_list(xs):
    total = 0.0
    for v in xs:
        total += math.sin(v)
    return total


def sizes(x, PH, N, fill):
    y = x.reshape(PH, -1)
    h = np.full((N, 3), fill)
    for i in range(N):
        h = h + np.sum(y) * i
    return np.sum(h)

# kinds
# sigmoid (an unknown value may be an array)
#     z: number
# calls_a_helper (an unknown value may be an array)
#     a: number
#     b: number
# shapes_and_settings (an unknown value may be an array)
#     D: number
#     N: number
#     beta: sequence
#     bn_param: setting
#     gamma: sequence
#     h: array
#     w: array
#     x: array[2]
# annotated (an unknown value may be an array)
#     a: number
#     m: array
#     n: number
#     s: array[3]
#     v: list
# ordered (an unknown value may be an array)
#     x: number
#     y: number
#     z: number
# rebound (an unknown value may be an array)
#     y: number
# over_a_list (an unknown value may be an array)
#     total: number
#     v: number
#     xs: sequence
# sizes (an unknown value may be an array)
#     N: size
#     PH: size
#     h: array
#     i: number
#     x: array
#     y: array[2]
