"""x to the n-th power by repeated multiplication: a scalar loop-carried value."""


def loop_power(x, n: int):
    p = 1.0
    for i in range(n):
        p = p * x
    return p
