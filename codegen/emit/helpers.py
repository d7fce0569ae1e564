"""Small functions written into a generated module when its gradients need them.

They are emitted into the output itself, never imported from codegen: the
generated code must run without codegen installed.
"""

from __future__ import annotations

import ast

_HELPERS = {
    "_unbroadcast": '''
def _unbroadcast(grad, like):
    """grad summed to the shape of like (an array or a shape): broadcasting undone."""
    shape = like if isinstance(like, tuple) else np.shape(like)
    if np.shape(grad) == shape:
        return grad
    lead = np.ndim(grad) - len(shape)
    if lead > 0:
        grad = np.sum(grad, axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(grad)[i] != 1)
    return np.sum(grad, axis=axes, keepdims=True) if axes else grad
''',
    "_spread_back": '''
def _spread_back(grad, like, shape):
    """grad, standing for its broadcast to shape, summed back to the shape of like."""
    if np.shape(grad) == shape:
        return _unbroadcast(grad, like)
    if np.shape(like) == shape:
        return np.broadcast_to(grad, shape).copy()
    return _unbroadcast(np.broadcast_to(grad, shape), like)
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
    "_item_zeros": '''
def _item_zeros(v):
    """Float zeros for the gradient of v: one per item where v is a list of arrays."""
    if isinstance(v, list) and any(isinstance(item, np.ndarray) for item in v):
        return [np.zeros_like(item, dtype=float) for item in v]
    return np.zeros_like(v, dtype=float)
''',
    "_kept_writes": '''
def _kept_writes(like, index):
    """Which elements of v the write like[index] = v keeps where index repeats a position."""
    order = np.arange(np.size(like[index])).reshape(np.shape(like[index]))
    writer = np.zeros(np.shape(like), dtype=np.intp)
    writer[index] = order
    return writer[index] == order
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
    "_matmul_dx": '''
def _matmul_dx(g, x, y):
    """The gradient for x of x @ y, for vectors, matrices and stacks alike."""
    if np.ndim(y) == 1:
        g, y = np.expand_dims(g, -1), np.reshape(y, (-1, 1))
    if np.ndim(x) == 1:
        g = np.expand_dims(g, -2)
    dx = g @ np.swapaxes(y, -1, -2)
    return _unbroadcast(dx[..., 0, :] if np.ndim(x) == 1 else dx, np.shape(x))
''',
    "_matmul_dy": '''
def _matmul_dy(g, x, y):
    """The gradient for y of x @ y, for vectors, matrices and stacks alike."""
    if np.ndim(y) == 1:
        g = np.expand_dims(g, -1)
    if np.ndim(x) == 1:
        g, x = np.expand_dims(g, -2), np.reshape(x, (1, -1))
    dy = np.swapaxes(x, -1, -2) @ g
    return _unbroadcast(dy[..., 0] if np.ndim(y) == 1 else dy, np.shape(y))
''',
    "_dot_dx": '''
def _dot_dx(g, x, y):
    """The gradient for x of np.dot(x, y), whatever the ranks of x and y."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return _unbroadcast(g * y, np.shape(x))
    if np.ndim(y) == 1:
        return np.multiply.outer(g, y)
    if np.ndim(y) == 2:
        return np.dot(g, np.transpose(y))
    free = list(range(np.ndim(x) - 1, np.ndim(g)))  # the axes of g that come from y
    return np.tensordot(g, y, axes=(free, list(range(np.ndim(y) - 2)) + [np.ndim(y) - 1]))
''',
    "_dot_dy": '''
def _dot_dy(g, x, y):
    """The gradient for y of np.dot(x, y), whatever the ranks of x and y."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return _unbroadcast(g * x, np.shape(y))
    if np.ndim(x) == 2 and np.ndim(y) <= 2:
        return np.dot(np.transpose(x), g)
    lead = list(range(np.ndim(x) - 1))
    dy = np.tensordot(x, g, axes=(lead, lead))
    return dy if np.ndim(y) == 1 else np.moveaxis(dy, 0, -2)
''',
    "_untile": '''
def _untile(grad, like, reps):
    """The gradient of np.tile(like, reps), grad, summed over the tiles to like's shape."""
    shape = np.shape(like)
    reps = tuple(reps) if np.ndim(reps) else (reps,)
    rank = max(len(shape), len(reps))
    padded = (1,) * (rank - len(shape)) + shape
    reps = (1,) * (rank - len(reps)) + reps
    split = [n for pair in zip(reps, padded) for n in pair]
    return np.reshape(np.sum(np.reshape(grad, split), axis=tuple(range(0, 2 * rank, 2))), shape)
''',
    "_put_along_axis": '''
def _put_along_axis(grad, indices, axis, like):
    """The gradient of np.take_along_axis(like, indices, axis): grad added in at indices."""
    out = np.zeros(np.shape(like))
    if axis is None:
        np.add.at(out.reshape(-1), indices, grad)
        return out
    index = list(np.ix_(*(np.arange(n) for n in np.shape(grad))))
    index[axis] = indices
    np.add.at(out, tuple(index), grad)
    return out
''',
    "_undiag": '''
def _undiag(grad, like, k=0):
    """The gradient of np.diag(like, k): of a matrix like, grad on its diagonal k in
    zeros of its shape; of a vector like, the diagonal k of grad."""
    if np.ndim(like) == 1:
        return np.diag(grad, k)
    out = np.zeros(np.shape(like))
    index = np.arange(np.size(np.diagonal(like, k)))
    out[index + max(-k, 0), index + max(k, 0)] = grad
    return out
''',
}

NAMES = frozenset(_HELPERS)
_TREES = {name: ast.parse(code.strip() + "\n") for name, code in _HELPERS.items()}
# The names each helper reads (modules, builtins, other helpers).
READS = {name: frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)) for name, tree in _TREES.items()}
# Helpers that call others: written into the output together.
_CALLS = {name: (READS[name] & NAMES) - {name} for name in _HELPERS}


def with_callees(names: set[str]) -> set[str]:
    """`names` and every helper they call."""
    found = set(names)
    todo = list(names)
    while todo:
        for callee in _CALLS[todo.pop()] - found:
            found.add(callee)
            todo.append(callee)
    return found

# Signatures in a typed module (for mypy --strict) where `Any` for every
# parameter and the result (arrays and numbers alike) is not what they take.
_TYPED = {
    "_digamma": "def _digamma(x: float) -> float:",
    "_trigamma": "def _trigamma(x: float) -> float:",
}


def _typed_signature(name: str, first_line: str) -> str:
    """`def f(a, b=None):` as `def f(a: Any, b: Any = None) -> Any:`."""
    if name in _TYPED:
        return _TYPED[name]
    params = first_line[first_line.index("(") + 1 : first_line.rindex(")")].split(", ")
    typed = [p.replace("=", ": Any = ", 1) if "=" in p else f"{p}: Any" for p in params if p]
    return f"def {name}({', '.join(typed)}) -> Any:"


def source(name: str, spellings: dict[str, str], typed: bool = False) -> str:
    """The helper's code, spelled with the output's names for modules and helpers;
    `typed`: with annotations (`Any` from typing)."""
    code = _HELPERS[name].strip() + "\n"
    if typed:
        code = _typed_signature(name, code[: code.index("\n")]) + code[code.index("\n") :]
    renames = {old: spellings.get(old, old) for old in ("np", "math", name, *_CALLS[name])}
    return _renamed(code, {old: new for old, new in renames.items() if new != old})


def _renamed(code: str, renames: dict[str, str]) -> str:
    """`code` with the names (and function names) that `renames` holds spelled anew,
    and its docstring's mentions of the modules (`np.dot`) too; the rest of its
    text as it is."""
    if not renames:
        return code
    lines = code.splitlines(keepends=True)
    spots: list[tuple[int, int, str]] = []  # line, column, name
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and node.id in renames:
            spots.append((node.lineno, node.col_offset, node.id))
        elif isinstance(node, ast.FunctionDef) and node.name in renames:
            spots.append((node.lineno, node.col_offset + len("def "), node.name))
        if isinstance(node, ast.FunctionDef) and ast.get_docstring(node) is not None:
            doc = node.body[0]
            for index in range(doc.lineno - 1, doc.end_lineno or doc.lineno):
                for module in ("np", "math"):
                    if module in renames:
                        lines[index] = lines[index].replace(f"{module}.", f"{renames[module]}.")
    for line, column, old in sorted(spots, reverse=True):  # helpers are ASCII: columns are characters
        text = lines[line - 1]
        lines[line - 1] = text[:column] + renames[old] + text[column + len(old) :]
    return "".join(lines)
