"""List displays: a display of numbers is a list, the item it is indexed at one of
its items, and a number read from it proves that item a number."""
import math
import numpy as np


def named(a: float):
    b = [1, a * a, 2]
    return b[1]


def indexed_where_built(z: float):
    z = [z, z][1]
    return z * z


def item_proved_a_number(a, w):
    b = [a, 2.0 * w]
    return math.sin(b[1]) + math.cos([a, a * a][1])


def of_arrays(x, w):
    h = [x @ w, x]
    return np.sum(h[0])


def appended_to(x, w):
    xs = [0.5]
    xs.append(np.tanh(x))
    return np.sum(xs[1] * w)


def appended_numbers_in_a_loop(x: float, v: list[float]):
    xs = []
    for i, t in enumerate(v):
        if t > 0.3:
            x, t = t, x
        xs.append(math.tanh(x * t))
    return xs[0] + sum(xs)


def item_of_a_slice(x: float, v: list[float]):
    k = [0.5, -1.0, 2.0][: len(v)][1]
    return x * k


def written_into(x, w):
    xs = [0.5, 1.0]
    xs[1] = np.tanh(x)
    return np.sum(xs[1] * w)


def read_as_an_array(s, t, w):
    b = [math.cos(s), math.sin(t)]
    return np.sum(b @ w) + np.sum([math.cos(s), s] @ w) + b[1]

# kinds
# named (an unknown value may be an array)
#     a: number
#     b: list[3]
# indexed_where_built (an unknown value may be an array)
#     z: number, every binding: number
# item_proved_a_number (an unknown value may be an array)
#     a: number
#     b: list[2]
#     w: number
# of_arrays (an unknown value may be an array)
#     w: array
#     x: array
# appended_to (an unknown value may be an array)
# appended_numbers_in_a_loop (an unknown value may be an array)
#     i: number
#     t: number
#     v: list
#     x: number, every binding: number
#     xs: list
# item_of_a_slice (an unknown value may be an array)
#     k: number
#     v: list
#     x: number
# written_into (an unknown value may be an array)
# read_as_an_array (an unknown value may be an array)
#     b: array
#     s: number
#     t: number
#     w: array
