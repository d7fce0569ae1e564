"""The kinds of the staged values, as `--dump-stages` prints them: SSA names (`h`,
`h_1`), the normaliser's intermediates, a number by its default, lists and arrays."""
import math
import numpy as np


def layer(x: "N D", w: "D M", b: "M", scale=1.0):
    h = np.tanh(x @ w + b)
    s = np.sum(h) * scale
    return math.exp(-s) if s > 0 else s


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / (1 + math.exp(-dot))


def items(v: "N", reg=0.1):
    total = 0.0
    for i in range(len(v)):
        total = total + v[i] ** 2
    return total * reg


def merged(c, x: "N D", y: "B N D", w):
    if c:
        h = x
    else:
        h = y
    return np.sum(h @ w)

# kinds
# layer (an unknown value may be an array)
#     b: sequence
#     s: number
#     scale: number
#     w: array[2]
#     x: array[2]
# neuron (an unknown value may be an array)
#     dot: number
#     w: sequence
#     x: sequence
# items (an unknown value may be an array)
#     i: number
#     total: number
#     v: sequence
# merged (an unknown value may be an array)
#     h: array
#     w: array
#     x: array[2]
#     y: array[3]
# layer, staged
#     b: array[1]
#     h: array[2]
#     h_plus: array[2]
#     out: number
#     out_choice: number
#     s: number
#     scale: number
#     w: array[2]
#     x: array[2]
# neuron, staged
#     dot: number
#     out: number
#     w: list
#     x: list
# items, staged
#     i: number
#     out: number
#     reg: number, by its default
#     total: number
#     total_1: number
#     v: sequence
#     v_pow: number
# merged, staged
#     c: unknown
#     h: unknown
#     h_dot_w: unknown
#     out: number
#     w: array
#     x: array[2]
#     y: array[3]
