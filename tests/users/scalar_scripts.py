import math
import numpy as np


def newton_sqrt(a, iters=6):
    x = a
    for _ in range(iters):
        x = 0.5 * (x + a / x)
    return x


def horner(coeffs, x):
    result = 0.0
    for c in coeffs:
        result = result * x + c
    return result


def piecewise(x):
    if x > 1.0:
        y = math.log(x)
    elif x > 0:
        y = x - 1.0
    else:
        y = math.exp(x) - 2.0
    return y


def bisect_like(x, tol=1e-3):
    y = x
    while abs(y) > tol:
        y = y / 2
    return y * x


def distance(p, q):
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(p, q)))


def max_of_list(v):
    return max(v[0], v[1]) + min(v[1], v[2]) + abs(v[0])


def weighted_avg(vals, weights):
    num = 0.0
    den = 0.0
    for v, w in zip(vals, weights):
        num += v * w
        den += w
    return num / den


def orbit(x, y, vx, vy, dt=0.01, steps=30, gm=1.0):
    for _ in range(steps):
        r = math.hypot(x, y)
        ax = -gm * x / r ** 3
        ay = -gm * y / r ** 3
        vx += ax * dt
        vy += ay * dt
        x += vx * dt
        y += vy * dt
    return x, y


def mean_var(v):
    m = sum(x for x in v) / len(v)
    return sum((x - m) ** 2 for x in v) / len(v)


def dot_terms(w, x, n):
    terms = [w[i] * x[i] for i in range(n)]
    return sum(terms)


def mean_of(v):
    return sum(v) / len(v)


def centred_squares(v):
    m = sum(v) / len(v)
    sq = [(vi - m) ** 2 for vi in v if vi != 0.0]
    return math.sqrt(sum(sq, 0.5)) + np.sum(np.array([vi * m for vi in v]))


def stacked_rows(x, w):
    rows = np.stack([np.tanh(x[i] * w) for i in range(len(x)) if i != 1])
    return np.sum(rows ** 2)


def fsum_of(v, a):
    return math.fsum(v) * a + sum(v, 1.0)


def pair_products(x):
    m = np.array([[x[i] * x[j] for j in range(len(x))] for i in range(len(x))])
    return np.sum(m * m)
