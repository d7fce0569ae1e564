"""The sigmoid neuron from the notes, on lists: w=[2, -3, -3], x=[-1, -2].

The lengths are annotated, as in examples/neuron.py: the gradients are then the
notes' list literals. Unannotated, each literal is followed by a length test
(`if len(w) > 3: ...`), which costs ~1.08x here (benchmarks/README.md).
"""

import math


def neuron(w: "3", x: "2"):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))
    return f
