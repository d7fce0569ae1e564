"""Nothing here settles what the values are: numpy may hand in arrays of any rank."""
import numpy as np


def unknown(x, y, scale=1.0):
    z = x * y + scale
    return np.sum(z)


def rows(X, W):
    total = 0.0
    for i in range(3):
        total = total + np.sum(np.tanh(X[i].dot(W)))
    return total

# kinds
# unknown (an unknown value may be an array)
# rows (an unknown value may be an array)
#     i: number
#     total: number
