"""The notes' examples as the notes' notebook has them: one module, both imports.

`f` and `neuron` are scalar code; the numpy import must not change what codegen
writes for them (the kinds say x, y and w[0] are numbers), and the notes pass
ints: x=3, y=-4, w=[2, -3, -3], x=[-1, -2].
"""

import math
import numpy as np


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))  # sigmoid
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
