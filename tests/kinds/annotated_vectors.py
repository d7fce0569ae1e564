"""Vectors declared by annotations: `x: "N"` (a list or a vector) and jaxtyping's
`Float[np.ndarray, "N"]` (a vector), read element by element."""
import numpy as np
from jaxtyping import Float


def squares(x: "N"):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s


def squares_jaxtyped(x: Float[np.ndarray, "N"]):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s


def squares_listed(x: list[float]):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s


def affine_items(x: Float[np.ndarray, "N"], w):
    return x[0] * w + x[1]

# kinds
# squares (an unknown value may be an array)
#     i: number
#     s: number
#     x: sequence
# squares_jaxtyped (an unknown value may be an array)
#     i: number
#     s: number
#     x: array[1]
# squares_listed (an unknown value may be an array)
#     i: number
#     s: number
#     x: list
# affine_items (an unknown value may be an array)
#     x: array[1]
