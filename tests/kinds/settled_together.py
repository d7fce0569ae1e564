# Parameters rebound and locals bound to each other settle in one optimistic
# trial: each is what its known bindings are, kept if every binding agrees.
import math

import numpy as np


def swapped_with_a_local(x: float, p: float):
    for i in range(3):
        x, p = p, x
        q = x
        q = q * p
    return x * q


def locals_swapped(x: float):
    a = x
    b = 2.0
    for i in range(3):
        a, b = b, a
        x = a * b
    return x


def rebound_to_an_array(x: float, w):
    for i in range(3):
        x = w @ np.tanh(x)
    return np.sum(x)


def _pair(u: float):
    return u, u


def rebound_by_unpacking(x: float, v: list[float]):
    a = abs(x * v[0])
    for item in v:
        x = math.tanh(x)
    if v[1] > 0.3:
        x, a = _pair(x)
    return a * x

# kinds
# swapped_with_a_local (an unknown value may be an array)
#     i: number
#     p: number, every binding: number
#     q: number
#     x: number, every binding: number
# locals_swapped (an unknown value may be an array)
#     a: number
#     b: number
#     i: number
#     x: number, every binding: number
# rebound_to_an_array (an unknown value may be an array)
#     i: number
#     w: array
#     x: number
# rebound_by_unpacking (an unknown value may be an array)
#     a: number
#     item: number
#     v: list
#     x: number, every binding: number
