"""The sigmoid neuron from the notes, on lists: w=[2, -3, -3], x=[-1, -2]."""

import math


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    return f
