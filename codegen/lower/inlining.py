"""Calls of the module's own functions: their bodies lowered in place of the call,
the arguments bound to the caller's names; a function with a hand-written rule
(`foo_backward`, `foo_jvp`) stays one operation whose derivative is that rule."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import Rule
from codegen.errors import CodegenError
from codegen.infer.shapes import SCALAR
from codegen.lower.nodes import SIMPLE, has_stars, parameters, slot
from codegen.lower.stacks import appends
from codegen.read import resolve, validate
from codegen.read.parse import Function

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Inlining:
    """Inlining of the module's functions into the body of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering the callee's body is lowered into

    def inline_constant_call(self, call: ast.Call) -> str | None:
        """For a call of a module function inside code that is never differentiated
        (a test, `h(x) // 1`): its body inlined, and the name of its result."""
        func = call.func
        if not (isinstance(func, ast.Name) and func.id in self.n.info.functions):
            return None
        name = self.n.resolve(func) or ""
        if not name.startswith("user.") or name[len("user."):] in self.n.info.primitives:
            return None
        results = self.inline(call, name[len("user."):], None)
        if len(results) != 1:
            raise self.n.fail(call, "a function returning several values cannot be used in an expression")
        result = results[0].expr
        assert isinstance(result, ast.Name)
        self.n.env.setdefault(result.id, result.id)
        return result.id

    def user_rule_call(self, node: ast.Call, callee: str) -> ir.Node:
        """A call of `foo` whose derivative is the user's own `foo_backward` (or
        `foo_jvp` in forward mode)."""
        function = self.n.info.functions[callee]
        spec = function.args
        params = parameters(spec)
        self.check_rule(node, callee, [p.arg for p, _, _ in params])
        if has_stars(node) or spec.kwonlyargs or len(node.args) > len(params):
            raise self.n.fail(node, f"call to {callee} does not match its parameters")
        given = {p.arg: a for (p, _, _), a in zip(params, node.args)}
        given.update({k.arg: k.value for k in node.keywords if k.arg is not None})
        args: list[ir.Node] = []
        for param, default, _ in params:
            expr = given.get(param.arg, default)
            if expr is None:
                raise self.n.fail(node, f"call to {callee} is missing argument {param.arg!r}")
            lowered = self.n.lower(expr) if param.arg in given else ir.Leaf(self.n.copies.to_ast(expr))
            if isinstance(lowered, ir.Op):
                lowered = self.n.staging.named(lowered, len(self.n.origins) - 1)
            args.append(lowered)
        names = tuple(p.arg for p, _, _ in params)
        rule = Rule(f"user.{callee}", names, tuple(ast.Name("g", ast.Load()) for _ in names), kind="other", shape="unknown")
        spelling = ast.Call(ast.Name(callee, ast.Load()), [slot(i) for i in range(len(args))], [])
        return ir.Op(rule, args, {}, spelling)

    def check_rule(self, node: ast.Call, callee: str, params: list[str]) -> None:
        """Refuse a hand-written rule for the other mode, naming the one to write."""
        if self.n.forward and callee not in self.n.info.jvp_rules:
            dots = ", ".join(f"{p}_dot" for p in params)
            raise self.n.fail(
                node,
                f"{callee} has a hand-written {callee}_backward, which forward mode cannot use: "
                f"write {callee}_jvp({', '.join(params)}, {dots}) returning (value, tangent)",
            )
        if not self.n.forward and callee not in self.n.info.user_rules:
            raise self.n.fail(
                node,
                f"{callee} has a hand-written {callee}_jvp, which reverse mode cannot use: "
                f"write {callee}_backward({', '.join(params)}, dout) returning one gradient per parameter",
            )

    def inline(self, call: ast.Call, callee_name: str, hints: list[str] | None) -> list[ir.Leaf]:
        """Lower the body of a module function in place of a call to it."""
        callee = self.n.info.functions[callee_name]
        if callee_name in self.n.stack:
            raise self.n.fail(call, f"recursive call to {callee_name} is not supported")
        before = len(self.n.collector.problems)
        validate.check_function(self.n.info, callee, self.n.collector)
        if len(self.n.collector.problems) > before:
            raise CodegenError(list(self.n.collector.problems))
        env = self.bind_arguments(call, callee)
        saved = (self.n.env, self.n.return_names, self.n.borrowed, self.n.drawn)
        self.n.env, self.n.return_names = env, hints
        self.n.borrowed = self.n.borrowed | set(env.values())  # the caller's: never rebound in place
        self.n.stack.append(callee_name)
        try:
            outputs: list[str] | None = None
            for statement in callee.body:
                if outputs is not None:
                    raise self.n.fail(statement, "code after the final return is not supported")
                if isinstance(statement, SIMPLE):
                    outputs = self.n.statements.statement(statement, prefix=f"{callee_name}: ")
                else:
                    self.n.lower_statement(statement, f"{callee_name}: ")
        finally:
            self.n.stack.pop()
            self.n.env, self.n.return_names, self.n.borrowed, self.n.drawn = saved
        assert outputs is not None
        return [ir.Leaf(ast.Name(o, ast.Load()), o if o in self.n.active else None) for o in outputs]

    def bind_arguments(self, call: ast.Call, callee: Function) -> dict[str, str]:
        """The callee's environment: each parameter bound to an SSA name of the caller."""
        spec = callee.args
        params = parameters(spec)
        given: dict[str, ast.expr] = {}
        if has_stars(call) or len(call.args) > len(spec.posonlyargs) + len(spec.args):
            raise self.n.fail(call, f"call to {callee.name} does not match its parameters")
        for (param, _, _), arg in zip(params, call.args):
            given[param.arg] = arg
        for keyword in call.keywords:
            given[keyword.arg or ""] = keyword.value
        env: dict[str, str] = {}
        origin = self.n.origin(call)
        appended = {listed for listed, _ in appends(callee.body)}
        for param, default, _ in params:
            name = param.arg
            expr = given.get(name, default)
            if expr is None:
                raise self.n.fail(call, f"call to {callee.name} is missing argument {name!r}")
            if isinstance(expr, ast.Name) and expr.id in self.n.env and (self.n.appending.is_stack(expr) or name in appended):
                env[name] = self.n.env[expr.id]  # the same list: appends in the callee go to it
                continue
            items = _dict_items(expr, self.n.resolve) if name in given else None
            if items is not None and _read_by_keys(callee, name, set(items)):
                env[name] = self.n.staging.new_temp(f"{name}_items")  # never bound: only its items are read
                self.n.dict_items[env[name]] = {key: self.leaf(value, key, origin) for key, value in items.items()}
                continue
            lowered = self.n.lower(expr) if name in given else ir.Leaf(self.n.copies.to_ast(expr))
            if isinstance(lowered, ir.Leaf) and lowered.var is not None and lowered.index is None:
                env[name] = lowered.var
                continue
            env[name] = self.bind_value(name, lowered, origin)
        return env

    def leaf(self, expr: ast.expr, name: str, origin: int) -> ir.Leaf:
        """`expr` lowered and named where it is an operation: read as often as wanted."""
        lowered = self.n.lower(expr)
        if isinstance(lowered, ir.Leaf) and lowered.index is None:
            return lowered
        target = self.bind_value(name, lowered, origin)
        return ir.Leaf(ast.Name(target, ast.Load()), target if target in self.n.active else None)

    def bind_value(self, name: str, lowered: ir.Node, origin: int) -> str:
        """Bind `lowered` to a fresh SSA name based on `name`, leaving `env` alone."""
        target = self.n.staging.new_binding(name)
        if isinstance(lowered, ir.Leaf) and lowered.var is None:
            if lowered.number or self.n.items.is_int(lowered.expr) or resolve.is_number(lowered.expr, self.n.numbers):
                self.n.numbers.add(target)
                self.n.shapes.keys[target] = SCALAR
            self.n.body.append(ir.Plain(ast.Assign([ast.Name(target, ast.Store())], lowered.expr), origin))
            return target
        if isinstance(lowered, ir.Leaf):
            lowered = self.n.op("pos", [lowered], {}, slot(0))
        self.n.staging.emit_stage(target, self.n.staging.stage_children(lowered, origin), origin)
        return target


def _dict_items(expr: ast.expr, resolve_call: Callable[[ast.expr], str | None]) -> dict[str, ast.expr] | None:
    """`dict(a=a, b=b)` or `{"a": a, "b": b}`: its values by their literal keys."""
    if isinstance(expr, ast.Call) and not expr.args and resolve_call(expr.func) == "dict":
        if any(k.arg is None for k in expr.keywords):
            return None
        return {k.arg: k.value for k in expr.keywords if k.arg is not None}
    if isinstance(expr, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in expr.keys):
        return {k.value: v for k, v in zip(expr.keys, expr.values) if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return None


def _read_by_keys(callee: Function, param: str, keys: set[str]) -> bool:
    """Whether `callee` only reads `param[key]`, a literal key of `keys`, and never
    rebinds, changes or passes on `param` itself."""
    subscripted: set[int] = set()
    for node in ast.walk(callee):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and node.value.id == param
            and isinstance(node.slice, ast.Constant)
            and node.slice.value in keys
        ):
            subscripted.add(id(node.value))
    names = [n for n in ast.walk(callee) if isinstance(n, ast.Name) and n.id == param]
    return bool(names) and all(id(n) in subscripted for n in names)
