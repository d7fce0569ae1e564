"""No numpy import: a value added to a list is a list (a number plus a list is a
TypeError, and no value is an array), a list's repetition count a number."""
import math


def neuron_bias(w, x):
    x = x + [1.0]
    s = 0.0
    for i in range(len(w)):
        s += w[i] * x[i]
    return 1.0 / (1.0 + math.exp(-s))


def repeated(a, n):
    v = [a] * n
    return v[0]

# kinds
# neuron_bias
#     i: number
#     x: list, every binding: list
# repeated
#     n: number
#     v: list
