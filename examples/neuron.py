"""The sigmoid neuron from the notes, on lists of floats."""

import math


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    return f
