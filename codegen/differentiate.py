"""Reverse-mode differentiation: a generic reverse walk over the stages.

Each stage's tree is walked from its root with the gradient of its target;
each operation instantiates its rule's templates to get its arguments'
gradients, and each variable reached accumulates them: `=` on the first
contribution, `+=` on the next ones.  No rule is special-cased here.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field

from codegen import helpers, ir
from codegen.simplify import simplify

# Calls that return a new array (so `+=` on the result cannot touch anything else).
_FRESH_CALLS = frozenset(
    {"dot", "matmul", "outer", "tensordot", "einsum", "where", "zeros_like", "ones_like",
     "exp", "log", "sqrt", "sign", "cos", "sin", "tanh", "sum", "mean", "copy", "zeros"}
)


@dataclass
class Backward:
    """The backward pass of one function, as lines of code and comments."""

    lines: list[str] = field(default_factory=list)
    gradients: dict[str, ast.expr] = field(default_factory=dict)  # param -> its gradient
    differentiable: list[ir.Param] = field(default_factory=list)
    constant: list[ir.Param] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # "math" / "np" used by templates
    helpers: set[str] = field(default_factory=set)


def render(node: ir.Node) -> ast.expr:
    """The forward expression of `node`."""
    if isinstance(node, ir.Leaf):
        return copy.deepcopy(node.expr)
    return substitute(node.spelling, {f"__{i}__": render(a) for i, a in enumerate(node.args)})


class _Substitute(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, ast.expr]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.mapping:
            return copy.deepcopy(self.mapping[node.id])
        return node


def substitute(template: ast.expr, mapping: dict[str, ast.expr]) -> ast.expr:
    return _Substitute(mapping).visit(copy.deepcopy(template))


def is_fresh(expr: ast.expr) -> bool:
    """Whether `expr` certainly evaluates to a new object (not a view or alias)."""
    if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
        return True
    if isinstance(expr, ast.Call):
        func = expr.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name in _FRESH_CALLS
    return False


def useful_variables(fn: ir.Function) -> set[str]:
    """Active variables on a differentiable path to an output."""
    useful = {o for o in fn.outputs if o in fn.active}
    for statement in reversed(fn.body):
        if isinstance(statement, ir.Stage) and statement.target in useful:
            useful |= _active_leaves(statement.value)
    return useful


def _active_leaves(node: ir.Node) -> set[str]:
    if isinstance(node, ir.Leaf):
        return {node.var} if node.var is not None else set()
    found: set[str] = set()
    for i, arg in enumerate(node.args):
        if node.rule.grads[i] is not None:
            found |= _active_leaves(arg)
    return found


class Differentiator:
    """Builds the backward lines of one normalised function."""

    def __init__(self, fn: ir.Function, modules: dict[str, str], numpy: bool) -> None:
        self.fn = fn
        self.names = fn.names
        self.modules = modules  # "math"/"np" -> the local spelling
        self.numpy = numpy
        self.result = Backward()
        self.state: dict[str, str] = {}  # gradient name -> "fresh" | "alias"
        self.elements: dict[str, set[str]] = {}  # list gradient -> indices assigned
        self.useful = useful_variables(fn)

    # ---- output ---------------------------------------------------------------
    def emit(self, statement: ast.stmt) -> None:
        self.result.lines.append(ast.unparse(ast.fix_missing_locations(statement)))

    def contribute(self, leaf: ir.Leaf, gradient: ast.expr) -> None:
        var = leaf.var
        if var is None or var not in self.useful:
            return
        name = self.names.grad(var)
        target: ast.expr = ast.Name(name, ast.Store())
        if leaf.index is not None:
            if name not in self.state:
                zeros = ast.parse(f"[0.0] * len({var})", mode="eval").body
                self.emit(ast.Assign([ast.Name(name, ast.Store())], zeros))
                self.state[name] = "fresh"
                self.elements[name] = set()
            key = ast.dump(leaf.index)
            target = ast.Subscript(ast.Name(name, ast.Load()), copy.deepcopy(leaf.index), ast.Store())
            if key not in self.elements[name]:
                self.elements[name].add(key)
                self.emit(ast.Assign([target], gradient))
            else:
                self.emit(_accumulate(target, gradient))
            return
        if name not in self.state:
            self.emit(ast.Assign([target], gradient))
            self.state[name] = "fresh" if not self.numpy or is_fresh(gradient) else "alias"
        elif self.state[name] == "alias":
            # `+=` would write into the array this name still shares.
            total = ast.BinOp(ast.Name(name, ast.Load()), ast.Add(), gradient)
            self.emit(ast.Assign([target], total))
            self.state[name] = "fresh"
        else:
            self.emit(_accumulate(target, gradient))

    # ---- the walk ---------------------------------------------------------------
    def instantiate(self, op: ir.Op, index: int, gradient: ast.expr, out: ast.expr) -> ast.expr:
        template = op.rule.grads[index]
        assert template is not None
        mapping: dict[str, ast.expr] = {"g": gradient, "out": out}
        for name, arg in zip(op.rule.args, op.args):
            mapping[name] = render(arg)
        for key in op.rule.keywords:
            mapping[key] = op.keywords.get(key, ast.Constant(None))
        for helper in helpers.NAMES:
            if _mentions(template, helper):
                self.result.helpers.add(helper)
                if helper == "_digamma":
                    self.result.modules.add("math")
        for module in ("math", "np"):
            if _mentions(template, module):
                self.result.modules.add(module)
                mapping[module] = ast.Name(self.modules[module], ast.Load())
        return simplify(substitute(template, mapping))

    def backprop(self, node: ir.Node, gradient: ast.expr, out: ast.expr) -> None:
        if isinstance(node, ir.Leaf):
            self.contribute(node, gradient)
            return
        for i, arg in enumerate(node.args):
            if node.rule.grads[i] is None or not _active_leaves(arg) & self.useful:
                continue
            local = self.instantiate(node, i, gradient, out)
            inner_out = render(arg) if isinstance(arg, ir.Op) else ast.Name("__unused__", ast.Load())
            self.backprop(arg, local, inner_out)

    def run(self) -> Backward:
        fn = self.fn
        seen: set[str] = set()
        for output, upstream in zip(fn.outputs, fn.upstream):
            if output not in self.useful:
                continue
            name = self.names.grad(output)
            if output in seen or name != upstream:
                self.contribute(ir.Leaf(ast.Name(output, ast.Load()), output), ast.Name(upstream, ast.Load()))
            else:
                self.state[name] = "alias" if self.numpy else "fresh"
            seen.add(output)
        last_origin = -1
        for statement in reversed(fn.body):
            if not isinstance(statement, ir.Stage) or statement.target not in self.useful:
                continue
            name = self.names.grad(statement.target)
            if name not in self.state:
                continue
            if statement.origin != last_origin:
                self.result.lines.append(f"# backprop {fn.origins[statement.origin]}")
                last_origin = statement.origin
            self.backprop(statement.value, ast.Name(name, ast.Load()), ast.Name(statement.target, ast.Load()))
        for param in fn.params:
            self.finish_param(param)
        return self.result

    def finish_param(self, param: ir.Param) -> None:
        if not param.differentiable:
            self.result.constant.append(param)
            return
        if param.name not in self.useful and param.name not in self.fn.forced:
            param.differentiable = False
            param.reason = "does not reach the output through a differentiable operation"
            self.result.constant.append(param)
            return
        self.result.differentiable.append(param)
        name = self.names.grad(param.name)
        if name in self.state:
            self.result.gradients[param.name] = ast.Name(name, ast.Load())
        else:
            self.result.gradients[param.name] = self.zero(param)

    def zero(self, param: ir.Param) -> ast.expr:
        if param.is_list:
            return ast.parse(f"[0.0] * len({param.name})", mode="eval").body
        if self.numpy:
            self.result.modules.add("np")
            return ast.parse(f"{self.modules['np']}.zeros_like({param.name})", mode="eval").body
        return ast.Constant(0.0)


def _accumulate(target: ast.expr, gradient: ast.expr) -> ast.AugAssign:
    """`target += gradient`, or `target -= g` when the gradient is `-g`."""
    if isinstance(gradient, ast.UnaryOp) and isinstance(gradient.op, ast.USub):
        return ast.AugAssign(target, ast.Sub(), gradient.operand)
    return ast.AugAssign(target, ast.Add(), gradient)


def _mentions(tree: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


def differentiate(fn: ir.Function, modules: dict[str, str], numpy: bool) -> Backward:
    return Differentiator(fn, modules, numpy).run()
