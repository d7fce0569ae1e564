"""A leaky ReLU on a scalar: the backward takes the branch the forward took."""


def leaky_relu(x, alpha=0.01):
    if x > 0:
        y = x
    else:
        y = alpha * x
    return y
