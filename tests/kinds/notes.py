"""The notes' three examples in one module, with both imports, as the notebook has them."""
import math
import numpy as np


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    return f


def f(x, y):
    sigy = 1.0 / (1 + math.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    return f


def matmul(W, X):
    D = W.dot(X)
    return D

# kinds
# neuron (an unknown value may be an array)
#     dot: number
#     f: number
#     w: sequence
#     x: sequence
# f (an unknown value may be an array)
#     den: number
#     f: number
#     invden: number
#     num: number
#     sigx: number
#     sigy: number
#     x: number
#     xpy: number
#     xpysqr: number
#     y: number
# matmul (an unknown value may be an array)
#     D: array
#     W: array
