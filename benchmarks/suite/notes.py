"""The notes' scalar examples, in the module of a notebook that imports math and numpy."""

import math

import numpy as np


def f(x, y):
    sigy = 1.0 / (1 + math.exp(-y))  # sigmoid in numerator
    num = x + sigy  # numerator
    sigx = 1.0 / (1 + math.exp(-x))  # sigmoid in denominator
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr  # denominator
    invden = 1.0 / den
    f = num * invden
    return f


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))  # sigmoid function
    return f
