# Numbers that come from the module, not from the function: math and numpy
# constants, a module constant, calls of math functions on constants; and what
# comparisons, tuple assignments, loops over lists and updates in place give.
import math
from math import tau

import numpy as np

K = 0.75
SCALE = 2 * K + math.sqrt(2.0)
TABLE = np.ones(3)


def constants(x: float):
    y = x + math.pi + np.e + tau
    return y * K * SCALE


def table(x: float):
    return x * TABLE


def compared(x: float, w):
    gate = (x > 0.3) * math.tanh(x)
    mask = w > 0
    return gate + np.sum(mask * w)


def unpacked(z: float):
    a, d = 1.0, z
    return d * math.exp(a)


def items(p: float, v: list[float]):
    x = p
    for t in v:
        x = t
    return x * math.exp(0.5)


def updated(x: float, y: float):
    x *= math.exp(1.0)
    a = math.tanh(y)
    a *= y * math.tanh(3)
    return x + a


def rebound(x: float, p: float):
    x, p = p, x * x
    p = math.tanh(p)
    return x * p


def rebound_to_an_array(x: float, W):
    x = x * W
    y = x + 1.0
    return np.sum(y)

# kinds
# constants (an unknown value may be an array)
#     x: number
#     y: number
# table (an unknown value may be an array)
#     x: number
# compared (an unknown value may be an array)
#     gate: number
#     x: number
# unpacked (an unknown value may be an array)
#     a: number
#     d: number
#     z: number
# items (an unknown value may be an array)
#     p: number
#     t: number
#     v: list
#     x: number
# updated (an unknown value may be an array)
#     a: number
#     x: number, every binding: number
#     y: number
# rebound (an unknown value may be an array)
#     p: number, every binding: number
#     x: number, every binding: number
# rebound_to_an_array (an unknown value may be an array)
#     x: number
