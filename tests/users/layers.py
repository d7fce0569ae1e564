import math
import numpy as np


def affine_forward(x, w, b):
    N = x.shape[0]
    out = x.reshape(N, -1).dot(w) + b
    return out


def relu_forward(x):
    out = np.maximum(0, x)
    return out


def leaky_relu_forward(x, alpha=0.01):
    out = np.where(x > 0, x, alpha * x)
    return out


def affine_relu_forward(x, w, b):
    a = affine_forward(x, w, b)
    out = relu_forward(a)
    return out


def dropout_forward(x, mask, p=0.5):
    out = x * mask / p
    return out


def batchnorm_forward(x, gamma, beta, bn_param={"eps": 1e-5, "momentum": 0.9}):
    eps = bn_param.get("eps", 1e-5)
    mu = np.mean(x, axis=0)
    xc = x - mu
    var = np.mean(xc ** 2, axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    out = gamma * xn + beta
    return out


def layernorm_forward(x, gamma, beta, ln_param={"eps": 1e-5}):
    eps = ln_param["eps"]
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    xn = (x - mu) / np.sqrt(var + eps)
    out = gamma * xn + beta
    return out
