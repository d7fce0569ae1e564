"""The sigmoid neuron from the notes, on lists of floats: w = [2, -3, -3], x = [-1, -2].

The lengths are annotated (a weight per input, plus the bias), so the gradients
are the notes' list literals; unannotated, each literal is padded to the length
of the list passed.
"""

import math


def neuron(w: "3", x: "2"):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    return f
