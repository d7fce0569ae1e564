"""Small forms of gradient code: zeros and ones of a value's shape, `+=` and
`-=`, indices as values, and the reading of `np.ones_like(v) * e` (used by the
differentiator's accumulation of contributions)."""

from __future__ import annotations

import ast

from codegen import ir
from codegen.ad import operations


def is_fresh(expr: ast.expr) -> bool:
    """Whether `expr` certainly evaluates to a new object (not a view or alias)."""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return True
    if isinstance(expr, ast.Call):
        func = expr.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return operations.fresh(name)
    return False


def is_list_form(expr: ast.expr) -> bool:
    """Whether `expr` certainly evaluates to a Python list: a display, a
    comprehension, `list(...)`, `[g] * n`."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        return isinstance(expr.left, ast.List)
    if isinstance(expr, ast.Call):
        return isinstance(expr.func, ast.Name) and expr.func.id == "list"
    return isinstance(expr, (ast.List, ast.ListComp))


def _as_value(index: ast.expr) -> ast.expr:
    """An index as a value (np.add.at's argument): `a:b` becomes `slice(a, b)`."""

    def value(part: ast.expr) -> ast.expr:
        if isinstance(part, ast.Slice):
            bounds = [part.lower, part.upper, part.step]
            if part.step is None:
                bounds = bounds[:2] if part.lower is not None or part.upper is not None else [None]
            return ast.Call(ast.Name("slice", ast.Load()), [b or ast.Constant(None) for b in bounds], [])
        return part

    if isinstance(index, ast.Tuple):
        return ast.Tuple([value(e) for e in index.elts], ast.Load())
    return value(index)


def _fits(setitem: ir.Op) -> bool:
    """Whether the value written has the shape of the part written (see the normaliser)."""
    fits = setitem.keywords.get("__fits__")
    return isinstance(fits, ast.Constant) and fits.value is True


def _written(setitem: ir.Op) -> ir.Node:
    """The part `a[index]` of `a[index] = v` that v is broadcast into."""
    target, index = setitem.args[0], setitem.keywords["index"]
    whole = target.var is not None or isinstance(target.expr, ast.Name) if isinstance(target, ir.Leaf) else False
    if isinstance(target, ir.Leaf) and whole and target.index is None:  # a value, or a constant (`np.zeros`)
        return ir.Leaf(ast.Subscript(ir.clone(target.expr), ir.clone(index), ast.Load()), target.var, ir.clone(index))
    return target



def _store_names(code: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(code) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _accumulate(target: ast.expr, gradient: ast.expr) -> ast.AugAssign:
    """`target += gradient`, or `target -= g` when the gradient is `-g`."""
    if isinstance(gradient, ast.UnaryOp) and isinstance(gradient.op, ast.USub):
        return ast.AugAssign(target, ast.Sub(), gradient.operand)
    return ast.AugAssign(target, ast.Add(), gradient)


def zeros_like(value: ast.expr, np_name: str) -> ast.expr:
    """Float zeros of `value`'s shape: a value may hold ints (`x * 2` of an int
    array), whose gradient or tangent is still a float."""
    func = ast.Attribute(ast.Name(np_name, ast.Load()), "zeros_like", ast.Load())
    return ast.Call(func, [value], [ast.keyword("dtype", ast.Name("float", ast.Load()))])


def _without_ones(gradient: ast.expr, np_name: str) -> ast.expr:
    """`np.ones_like(v) * e` written into `dx[index]` (v is x[index]) as `e`: the
    store broadcasts `e` to the part's shape just the same."""
    if isinstance(gradient, ast.UnaryOp) and isinstance(gradient.op, ast.USub):
        return ast.UnaryOp(ast.USub(), _without_ones(gradient.operand, np_name))
    if not (isinstance(gradient, ast.BinOp) and isinstance(gradient.op, ast.Mult)):
        return gradient
    for ones, other in ((gradient.left, gradient.right), (gradient.right, gradient.left)):
        if (
            isinstance(ones, ast.Call)
            and isinstance(ones.func, ast.Attribute)
            and ones.func.attr == "ones_like"
            and isinstance(ones.func.value, ast.Name)
            and ones.func.value.id == np_name
            and not ones.keywords
        ):
            return other
    return gradient


def _arithmetic_names(expr: ast.expr) -> list[str] | None:
    """The names `expr` reads where it is arithmetic in names and numbers alone
    (`1 - x`): its shape is theirs broadcast. None for anything else."""
    names: list[str] = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            names += [node.id] if node.id not in names else []
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Constant, ast.operator, ast.unaryop, ast.expr_context)):
            return None
    return names


def _adds_axes(index: ast.expr, np_name: str) -> bool:
    """Whether `index` (`:, np.newaxis`, `None, :`) only adds axes to the whole array."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    new = [
        isinstance(p, ast.Constant) and p.value is None
        or isinstance(p, ast.Attribute) and p.attr == "newaxis" and isinstance(p.value, ast.Name) and p.value.id == np_name
        for p in parts
    ]  # fmt: skip
    full = [isinstance(p, ast.Slice) and p.lower is None and p.upper is None and p.step is None for p in parts]
    return any(new) and all(a or b for a, b in zip(new, full))


def _is_ones_like(node: ast.expr, var: str, np_name: str) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "ones_like"
        and isinstance(node.func.value, ast.Name) and node.func.value.id == np_name and not node.keywords
        and len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id == var
    )  # fmt: skip


def _ones_of(gradient: ast.expr, var: str, np_name: str) -> ast.expr | None:
    """`e` where `gradient` is `np.ones_like(var) * e` (a sum's or a mean's gradient:
    `np.ones_like(x) * g / n`, `-(np.ones_like(x) * g)`), else None."""
    if isinstance(gradient, ast.UnaryOp) and isinstance(gradient.op, ast.USub):
        inner = _ones_of(gradient.operand, var, np_name)
        return None if inner is None else ast.UnaryOp(ast.USub(), inner)
    if not (isinstance(gradient, ast.BinOp) and isinstance(gradient.op, (ast.Mult, ast.Div))):
        return None
    if isinstance(gradient.op, ast.Mult):
        if _is_ones_like(gradient.left, var, np_name):
            return gradient.right
        if _is_ones_like(gradient.right, var, np_name):
            return gradient.left
    left = _ones_of(gradient.left, var, np_name)
    return None if left is None else ast.BinOp(left, gradient.op, gradient.right)


def ones_times(var: str, gradient: ast.expr, np_name: str) -> ast.expr:
    """`np.ones_like(var) * gradient`: a gradient that broadcasts to var's shape, given it."""
    ones = ast.Call(ast.Attribute(ast.Name(np_name, ast.Load()), "ones_like", ast.Load()), [ast.Name(var, ast.Load())], [])
    return ast.BinOp(ones, ast.Mult(), gradient)
