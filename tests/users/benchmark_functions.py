import math
import numpy as np


def rosenbrock(x):
    total = 0.0
    for i in range(len(x) - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return total


def rastrigin(x, A=10):
    n = len(x)
    s = A * n
    for xi in x:
        s += xi ** 2 - A * math.cos(2 * math.pi * xi)
    return s


def ackley(x, a=20, b=0.2, c=2 * math.pi):
    n = len(x)
    s1 = 0.0
    s2 = 0.0
    for xi in x:
        s1 += xi * xi
        s2 += math.cos(c * xi)
    return -a * math.exp(-b * math.sqrt(s1 / n)) - math.exp(s2 / n) + a + math.e


def rosen_np(x):
    x = np.asarray(x)
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0)


def sphere(x):
    return sum(xi ** 2 for xi in x)


def styblinski_tang(x):
    return 0.5 * np.sum(x ** 4 - 16 * x ** 2 + 5 * x)
