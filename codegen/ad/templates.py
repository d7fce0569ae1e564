"""The rewriting of a rule's instantiated template: lists read as arrays, and the
`keep(...)` / `count(...)` macros expanded for a call's static axis and keepdims
(used by reverse and forward mode alike)."""

from __future__ import annotations

import ast

from codegen import ir
from codegen.infer.bindings import number_index


def as_arrays(expr: ast.expr, names: set[str], np_name: str, modules: set[str]) -> ast.expr:
    """`expr` with each of `names` that it uses in arithmetic, comparisons or
    slices read through `np.asarray`, and its `.shape`, `.ndim` and `.size` asked of numpy:
    they may be lists that numpy read as arrays (a vector passed as a list).
    Where that changed `expr`, "np" joins `modules` (the modules the output needs).
    A transpose (`A.mT`) is left as it is: a matrix is passed as an array."""
    if not names:
        return expr
    transformer = _AsArrays(names, np_name)
    changed: ast.expr = transformer.visit(expr)
    if not transformer.changed:
        return expr
    modules.add("np")
    return changed


class _AsArrays(ast.NodeTransformer):
    def __init__(self, names: set[str], np_name: str) -> None:
        self.names = names
        self.np_name = np_name
        self.changed = False

    def wrap(self, node: ast.expr) -> ast.expr:
        if not (isinstance(node, ast.Name) and node.id in self.names):
            return node
        self.changed = True
        return ast.parse(f"{self.np_name}.asarray({node.id})", mode="eval").body

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        node.left, node.right = self.wrap(node.left), self.wrap(node.right)
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        node.operand = self.wrap(node.operand)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        node.left, node.comparators = self.wrap(node.left), [self.wrap(c) for c in node.comparators]
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        self.generic_visit(node)
        if not number_index(node.slice):
            node.value = self.wrap(node.value)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        self.generic_visit(node)
        if node.attr in ("shape", "ndim", "size") and isinstance(node.value, ast.Name) and node.value.id in self.names:
            self.changed = True
            return ast.parse(f"{self.np_name}.{node.attr}({node.value.id})", mode="eval").body
        return node


class _Macros(ast.NodeTransformer):
    def __init__(self, axis: ast.expr, keepdims: ast.expr, np_name: str, out: ast.expr) -> None:
        self.out = out
        self.axis = axis
        self.keepdims = keepdims
        self.np_name = np_name

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        # A template's `keepdims=keepdims` where the call's is False: numpy's default.
        node.keywords = [k for k in node.keywords if not (k.arg == "keepdims" and _is_false(k.value))]
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        axis, keepdims = self.axis, self.keepdims
        if name == "keep":
            value = node.args[0]
            if _is_none(axis) or (isinstance(keepdims, ast.Constant) and keepdims.value is True):
                return value
            expanded = _new_axes(value, axis, self.np_name)
            if isinstance(keepdims, ast.Constant) and keepdims.value is False:
                return expanded
            return ast.IfExp(ir.clone(keepdims), value, expanded)
        if name == "count":
            x = node.args[0]
            if _is_none(axis):  # np.size, not x.size: x may be a Python number or a list
                return ast.Call(ast.parse(f"{self.np_name}.size", mode="eval").body, [x], [])
            axes = axis.elts if isinstance(axis, ast.Tuple) else [axis]
            if all(isinstance(a, (ast.Constant, ast.UnaryOp)) for a in axes):
                sizes: list[ast.expr] = [
                    ast.Subscript(ast.Attribute(ir.clone(x), "shape", ast.Load()), ir.clone(a), ast.Load())
                    for a in axes
                ]
                total = sizes[0]
                for size in sizes[1:]:
                    total = ast.BinOp(total, ast.Mult(), size)
                return total
            size = ast.parse(f"{self.np_name}.size", mode="eval").body
            return ast.BinOp(
                ast.Call(size, [x], []), ast.FloorDiv(), ast.Call(ir.clone(size), [ir.clone(self.out)], [])
            )
        return node


def _new_axes(value: ast.expr, axis: ast.expr, np_name: str) -> ast.expr:
    """np.expand_dims(value, axis), written `np.asarray(value)[:, None]` where the axes
    are literal ints all of one sign (the same axes, at a tenth of the call's cost)."""
    expand = ast.Call(ast.parse(f"{np_name}.expand_dims", mode="eval").body, [value, ir.clone(axis)], [])
    try:
        literal = ast.literal_eval(axis)
    except ValueError:
        return expand
    axes = literal if isinstance(literal, tuple) else (literal,)
    if not axes or not all(type(a) is int for a in axes) or len(set(axes)) != len(axes):
        return expand
    if all(a >= 0 for a in axes):
        positions = range(max(axes) + 1)
        parts: list[ast.expr] = []
    elif all(a < 0 for a in axes):
        positions = range(min(axes), 0)
        parts = [ast.Constant(...)]
    else:
        return expand
    parts += [ast.Constant(None) if p in axes else ast.Slice() for p in positions]
    array = ast.Call(ast.parse(f"{np_name}.asarray", mode="eval").body, [value], [])
    index = parts[0] if len(parts) == 1 else ast.Tuple(parts, ast.Load())
    return ast.Subscript(array, index, ast.Load())



def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def expand_macros(tree: ast.expr, mapping: dict[str, ast.expr], np_name: str) -> ast.expr:
    """Expand `keep(...)` and `count(...)` for this call's static axis and keepdims."""
    axis = mapping.get("axis", ast.Constant(None))
    keepdims = mapping.get("keepdims", ast.Constant(False))
    return _Macros(axis, keepdims, np_name, mapping["out"]).visit(tree)


_NAMES: dict[int, tuple[ast.AST, frozenset[str]]] = {}


def _mentions(tree: ast.AST, name: str) -> bool:
    """Whether `tree` (a rule template, read many times) uses the name `name`."""
    cached = _NAMES.get(id(tree))
    if cached is None or cached[0] is not tree:
        names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
        cached = _NAMES[id(tree)] = (tree, names)
    return name in cached[1]
