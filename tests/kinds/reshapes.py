# A reshape gives as many dimensions as it is given sizes, each a number; a ravel
# gives a vector; the names unpacked from a shape are numbers.
import numpy as np


def flattened(x, y, mask):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape((N * T,))
    rows = np.reshape(x, (N, -1))
    return np.sum(x_flat) + np.sum(y_flat * mask_flat) + np.sum(rows)


def raveled(w, shape):
    v = w.ravel()
    u = np.ravel(w)
    f = w.flatten()
    s = w.reshape(shape)
    return np.sum(v * u * f) + np.sum(s)

# kinds
# flattened (an unknown value may be an array)
#     N: number
#     T: number
#     V: number
#     mask: array
#     mask_flat: array[1]
#     rows: array[2]
#     x: array[3]
#     x_flat: array[2]
#     y: array
#     y_flat: array[1]
# raveled (an unknown value may be an array)
#     f: array[1]
#     s: array
#     shape: size
#     u: array[1]
#     v: array[1]
#     w: array
