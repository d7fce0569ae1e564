"""The forward functions again, written for PyTorch tensors (only imported when torch is).

autograd and JAX run the workload's own forward source with `np`/`math` bound
to `autograd.numpy` / `jax.numpy`; PyTorch's API differs too much for that
(`dim=` for `axis=`, `@` for 1-D-only `dot`, no scalar `maximum`), so its
versions are spelled out here, line for line the same computation.
"""

import torch


def f(x, y):
    sigy = 1.0 / (1 + torch.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + torch.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    return f


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + torch.exp(-dot))
    return f


def matmul(W, X):
    D = W @ X
    return D


def two_layer_loss(X, y, W1, b1, W2, b2, reg=1e-3):
    N = X.shape[0]
    h = torch.relu(X @ W1 + b1)
    scores = h @ W2 + b2
    shifted = scores - torch.amax(scores, dim=1, keepdim=True)
    exp_scores = torch.exp(shifted)
    probs = exp_scores / torch.sum(exp_scores, dim=1, keepdim=True)
    data_loss = -torch.sum(torch.log(probs[torch.arange(N), y])) / N
    reg_loss = 0.5 * reg * (torch.sum(W1 * W1) + torch.sum(W2 * W2))
    loss = data_loss + reg_loss
    return loss


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = 1.0 / (1 + torch.exp(-a[:, :H]))
    f = 1.0 / (1 + torch.exp(-a[:, H : 2 * H]))
    o = 1.0 / (1 + torch.exp(-a[:, 2 * H : 3 * H]))
    g = torch.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * torch.tanh(next_c)
    return next_h, next_c
