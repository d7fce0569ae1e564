# A parameter rebound once in a loop: what its reads prove holds for the value
# passed in and for the rebinding (both are read by math.sin).
import math
import numpy as np


def pendulum(theta, omega, dt=0.01, steps=10):
    g = 9.81
    for _ in range(steps):
        omega = omega - g * math.sin(theta) * dt
        theta = theta + omega * dt
    return theta


def after_the_update(x, w):
    for _ in range(3):
        x = x @ w
        y = math.exp(1.0) * x
    return np.sum(y)


def updated_twice(x):
    for _ in range(3):
        x = x * 2.0
        x = math.tanh(x)
    return x

# kinds
# pendulum (an unknown value may be an array)
#     _: number
#     dt: number
#     g: number
#     omega: number, every binding: number
#     steps: size
#     theta: number, every binding: number
# after_the_update (an unknown value may be an array)
#     _: number
#     w: array
#     x: array, every binding: array
#     y: array
# updated_twice (an unknown value may be an array)
#     _: number
