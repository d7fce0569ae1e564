"""Small functions written into a generated module when its gradients need them.

They are emitted into the output itself, never imported from codegen: the
generated code must run without codegen installed.
"""

from __future__ import annotations

_HELPERS = {
    "_unbroadcast": '''
def _unbroadcast(grad, like):
    """grad summed to the shape of like (an array or a shape): broadcasting undone."""
    shape = like if isinstance(like, tuple) else np.shape(like)
    if np.shape(grad) == shape:
        return grad
    grad = np.sum(grad, axis=tuple(range(np.ndim(grad) - len(shape))))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return np.sum(grad, axis=axes, keepdims=True) if axes else grad
''',
    "_dot_shape": '''
def _dot_shape(a, b):
    """The shape of np.dot(a, b), from a's and b's shapes alone."""
    a, b = np.shape(a), np.shape(b)
    if not a or not b:
        return np.broadcast_shapes(a, b)
    return a[:-1] + b[:-2] + b[-1:] if len(b) > 1 else a[:-1]
''',
    "_matmul_shape": '''
def _matmul_shape(a, b):
    """The shape of a @ b, from a's and b's shapes alone."""
    a, b = np.shape(a), np.shape(b)
    if len(a) == 1 or len(b) == 1:
        return a[:-1] if len(b) == 1 else b[:-2] + b[-1:]
    return np.broadcast_shapes(a[:-2], b[:-2]) + (a[-2], b[-1])
''',
    "_digamma": '''
def _digamma(x):
    """The derivative of math.lgamma, to double precision."""
    if x <= 0.0:
        return _digamma(1.0 - x) - math.pi / math.tan(math.pi * x)
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
    return result + math.log(x) - 0.5 / x - series
''',
    "_trigamma": '''
def _trigamma(x):
    """The derivative of _digamma, to double precision."""
    if x <= 0.0:
        return (math.pi / math.sin(math.pi * x)) ** 2 - _trigamma(1.0 - x)
    result = 0.0
    while x < 10.0:
        result += 1.0 / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f * (1 / 30 - f * (5 / 66 - f * 691 / 2730)))))
    return result + 1.0 / x + 0.5 * f + series / x
''',
    "_prod_others": '''
def _prod_others(x, axis=None):
    """Each element's product of the others along axis (None: all), exact at zeros."""
    x = np.asarray(x)
    if axis is None:
        return _prod_others(x.reshape(-1), 0).reshape(x.shape)
    if isinstance(axis, tuple):
        last = tuple(range(-len(axis), 0))
        moved = np.moveaxis(x, axis, last)
        flat = moved.reshape(moved.shape[: moved.ndim - len(axis)] + (-1,))
        return np.moveaxis(_prod_others(flat, -1).reshape(moved.shape), last, axis)
    ones = np.ones_like(np.take(x, [0], axis=axis))
    before = np.cumprod(np.concatenate([ones, x], axis=axis), axis=axis)
    after = np.cumprod(np.concatenate([ones, np.flip(x, axis)], axis=axis), axis=axis)
    n = x.shape[axis]
    return np.take(before, range(n), axis=axis) * np.flip(np.take(after, range(n), axis=axis), axis)
''',
}

NAMES = frozenset(_HELPERS)

# Their signatures in a typed module (for mypy --strict): `Any` takes arrays and numbers.
_TYPED = {
    "_unbroadcast": "def _unbroadcast(grad: Any, like: Any) -> Any:",
    "_dot_shape": "def _dot_shape(a: Any, b: Any) -> Any:",
    "_matmul_shape": "def _matmul_shape(a: Any, b: Any) -> Any:",
    "_digamma": "def _digamma(x: float) -> float:",
    "_trigamma": "def _trigamma(x: float) -> float:",
    "_prod_others": "def _prod_others(x: Any, axis: Any = None) -> Any:",
}


def source(name: str, spellings: dict[str, str], typed: bool = False) -> str:
    """The helper's code, spelled with the output's names for modules and helpers;
    `typed`: with annotations (`Any` from typing)."""
    code = _HELPERS[name].strip() + "\n"
    if typed:
        code = _TYPED[name] + code[code.index("\n") :]
    code = code.replace("np.", f"{spellings.get('np', 'np')}.").replace("math.", f"{spellings.get('math', 'math')}.")
    return code.replace(name, spellings.get(name, name))
