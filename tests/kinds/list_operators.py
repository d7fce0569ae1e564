"""List operators: two lists added are a list (concatenated), a list times a number
a list (repeated), a slice of a list a list; where no value may be an array, a
value added to a list is a list; slices added and then divided are an array's."""
import math
import numpy as np


def concatenated(a: float, b: float):
    v = [a, b] + [a * b]
    return v[2]


def repeated(a: float):
    v = [a, 1.0] * 3
    return v[4]


def rotated(xs: list[float]):
    ys = xs[1:] + xs[:1]
    return ys[0]


def rebound(a: float):
    v = [a]
    v += [math.sin(a)]
    return v[1]


def trapezoid(x, y):
    return np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))

# kinds
# concatenated (an unknown value may be an array)
#     a: number
#     b: number
#     v: list[3]
# repeated (an unknown value may be an array)
#     a: number
#     v: list
# rotated (an unknown value may be an array)
#     xs: list
#     ys: list
# rebound (an unknown value may be an array)
#     a: number
#     v: list
# trapezoid (an unknown value may be an array)
#     y: array
