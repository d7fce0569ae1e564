"""No numpy import: an unknown value is a number, unless the code does what only arrays do."""


def scalar(x, y):
    return x * y + 1.0


def layer(x, w: "D M", b: "M"):
    N = x.shape[0]
    return x.reshape(N, -1).dot(w) + b

# kinds
# scalar
# layer (an unknown value may be an array)
#     N: number
#     b: sequence
#     w: array[2]
#     x: array
