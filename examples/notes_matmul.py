"""The notes' D = W.dot(X), with the shapes of W and X annotated."""


def matmul(W: "M K", X: "K N"):
    D = W.dot(X)
    return D
