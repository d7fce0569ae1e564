import math
import numpy as np


def matrix_product(W, X):
    D = W.dot(X)
    return D


def positional_axes(x):
    a = x.sum(0)
    b = x.mean(1)
    c = np.max(x, 0)
    d = np.sum(x, 1)
    return np.sum(a * c) + np.sum(b * d)


def reshape_forms(x):
    N = x.shape[0]
    a = x.reshape((N, -1))
    b = x.transpose()
    c = np.transpose(x, (1, 0, 2)) if x.ndim == 3 else x
    return np.sum(a ** 2) + np.sum(b[0] * 2) + np.sum(c ** 3)


def dot_forms(M, v):
    a = np.dot(M, v)
    b = np.dot(v, M.T)
    c = np.matmul(M, v)
    return np.sum(a * b) + np.sum(c) + np.sum(M @ v)


def powers(x, y):
    return np.sum(np.power(x, 3)) + np.sum(x ** y) + pow(np.sum(x), 2)


def math_powers(a, b):
    return math.pow(a, 2.5) + pow(a, 3) + a ** b + abs(a - b)


def reductions(x):
    return (np.sum(np.prod(x, axis=1)) + np.sum(np.var(x, axis=0, keepdims=True))
            + np.mean(x, axis=(0, 1)) + np.sum(np.linalg.norm(x, axis=0)))


def contractions(a, b):
    t = np.tensordot(a, b, axes=([1], [0]))
    e = np.einsum("ij,jk->ik", a, b)
    return np.sum(t * e) + np.einsum("ij,ij->", a, a)
