"""Feed-forward layers as a course's layers.py has them (training mode), unannotated."""

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


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=0)
    xmu = x - mu
    var = np.mean(xmu**2, axis=0)
    std = np.sqrt(var + eps)
    xhat = xmu / std
    out = gamma * xhat + beta
    return out


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=1, keepdims=True)
    xmu = x - mu
    var = np.mean(xmu**2, axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    xhat = xmu / std
    out = gamma * xhat + beta
    return out


def dropout_forward(x, mask, p=0.5):
    # inverted dropout; the mask is drawn by the caller: (np.random.rand(*x.shape) < p)
    out = x * mask / p
    return out


def attention_forward(q, k, v):
    d = q.shape[1]
    scores = q.dot(k.T) / math.sqrt(d)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / np.sum(weights, axis=1, keepdims=True)
    out = weights.dot(v)
    return out
