"""Simple statements: assignments (tuple unpacking and augmented ones too), `return`,
`assert`, appends, `np.add.at` and reports (`print(...)`); each one lowered into stages of the body."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.lower.nodes import BINOPS, clone_node
from codegen.lower.scatter import add_at_statement, is_add_at
from codegen.lower.stacks import is_append
from codegen.read import reports, validate

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Statements:
    """Simple statements, lowered into the body of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose body the statements go into

    def statement(self, small: ast.stmt, prefix: str = "") -> list[str] | None:
        """Lower one simple statement; returns the outputs on `return`."""
        if isinstance(small, ast.Pass):
            return None
        drawn = isinstance(small, ast.Expr) and validate.draw_statement(small.value, self.n.info)
        reported = reports.is_report(small, self.n.info, self.n.env)
        if isinstance(small, ast.Expr) and not is_append(small) and not is_add_at(small) and not drawn and not reported:
            return None  # a docstring; the validator refused the rest
        origin = self.n.origin(small, prefix)
        self.n.drawn = {}  # a statement lowered again (an inlined body) draws again
        if reported:
            assert isinstance(small, ast.Expr)
            self.n.body.append(ir.Plain(ast.Expr(self.n.copies.to_ast(small.value)), origin))
        elif drawn:
            assert isinstance(small, ast.Expr) and isinstance(small.value, ast.Call)
            self.n.copies.draw(small.value)  # a draw nothing reads: named, and kept as its bare call
        elif isinstance(small, ast.Expr) and is_add_at(small):
            add_at_statement(self.n, small, origin)
        elif isinstance(small, ast.Expr):
            self.n.appending.append_statement(small, origin)
        elif isinstance(small, ast.Assign):
            self.assign_statement(small, origin)
        elif isinstance(small, ast.AugAssign):
            self.aug_assign(small, origin)
        elif isinstance(small, ast.Return):
            return self.returns(small, origin)
        elif isinstance(small, ast.Assert):
            message = self.n.copies.to_ast(small.msg) if small.msg is not None else None
            self.n.body.append(ir.Plain(ast.Assert(self.n.copies.to_ast(small.test), message), origin))
        else:
            raise self.n.fail(small, f"{type(small).__name__} statements are not supported")
        return None

    def assign_statement(self, node: ast.Assign, origin: int) -> None:
        value = node.value
        targets = node.targets
        if len(targets) == 1 and isinstance(targets[0], (ast.Tuple, ast.List)):
            elements = targets[0].elts
            callee_name = (self.n.resolve(value.func) or "") if isinstance(value, ast.Call) else ""
            if callee_name.startswith("user.") and callee_name[len("user."):] in self.n.info.primitives:
                raise self.n.fail(node, f"{callee_name[5:]} has a hand-written rule: it must return one value")
            if isinstance(value, ast.Call) and callee_name.startswith("user."):
                hints = [e.id if isinstance(e, ast.Name) else "out" for e in elements]
                results = self.n.inlining.inline(value, callee_name[len("user."):], hints)
                if len(results) != len(elements):
                    raise self.n.fail(node, f"unpacking {len(results)} values into {len(elements)} names")
                for element, result in zip(elements, results):
                    if not isinstance(element, ast.Name):
                        raise self.n.fail(element, "only names can be unpacked into")
                    if result.var is not None and result.var in self.n.return_bound:
                        self.n.env[element.id] = result.var
                    else:
                        self.n.assign(element.id, result, origin)
                return
            names = [e.id for e in elements if isinstance(e, ast.Name)]
            parts = self.n.containers.slogdet_parts(value) if len(names) == 2 == len(elements) and self.n.activity.is_active(value) else None
            if parts is not None:
                for name, part in zip(names, parts):
                    self.n.assign(name, part, origin)
                return
            if not self.n.activity.is_active(value) and all(isinstance(e, ast.Name) for e in elements):
                self.unpack_constant(names, value, origin)
                return
            values = self.n.containers.split_parts(value, len(elements), origin) or self.n.containers.unpacked(value, len(elements))
            if values is None:
                if isinstance(value, ast.Call):
                    self.n.lower(value)  # an unknown function is the better message
                raise self.n.fail(node, "tuple unpacking needs a tuple of the same length on the right")
            lowered = [self.n.lower(e) for e in values]
            for element, low in zip(elements, lowered):
                if not isinstance(element, ast.Name):
                    raise self.n.fail(element, "only names can be unpacked into")
                self.n.assign(element.id, clone_node(low), origin)
            return
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and isinstance(value, ast.Call):
            callee = self.n.resolve(value.func) or ""
            if callee.startswith("user.") and callee[len("user."):] not in self.n.info.primitives:
                results = self.n.inlining.inline(value, callee[len("user."):], [targets[0].id])
                if len(results) != 1:
                    raise self.n.fail(node, f"{callee[5:]} returns {len(results)} values: unpack them")
                var = results[0].var
                if var is not None and var in self.n.return_bound:
                    self.n.env[targets[0].id] = var
                else:
                    self.n.assign(targets[0].id, results[0], origin)
                return
        if len(targets) == 1 and isinstance(targets[0], ast.Subscript):
            self.n.items.item_assign(targets[0], self.n.lower(value), origin)
            return
        if isinstance(targets[0], ast.Name):
            self.n.hint = targets[0].id
        lowered_value = self.n.lower(value)
        for i, target in enumerate(targets):
            if not isinstance(target, ast.Name):
                raise self.n.fail(target, "assignment to anything but a name is not supported here")
            self.n.assign(target.id, clone_node(lowered_value) if i < len(targets) - 1 else lowered_value, origin)
            if isinstance(lowered_value, ir.Leaf) and lowered_value.var is None:
                self.n.record_constant(self.n.env[target.id], lowered_value.expr)  # `mask = (rand < p) / p`
            self.n.ranks.learn(self.n.env.get(target.id), self.n.kind(value))

    def unpack_constant(self, names: list[str], value: ast.expr, origin: int) -> None:
        """`N, T, D = x.shape`: unpacking what is never differentiated."""
        expr = self.n.copies.to_ast(value)
        targets = [self.n.staging.new_binding(n) for n in names]
        if isinstance(expr, ast.Tuple) and len(expr.elts) == len(targets):
            for target, element in zip(targets, expr.elts):
                self.n.containers.note_callable(target, element)  # `sqrt, tanh = np.sqrt, np.tanh`
        for name, target in zip(names, targets):
            self.n.env[name] = target
            if isinstance(expr, ast.Attribute) and expr.attr == "shape":
                self.n.ints.add(target)
                self.n.numbers.add(target)
        if isinstance(expr, ast.Attribute) and expr.attr == "shape" and isinstance(expr.value, ast.Name):
            self.n.ranks.ranks[expr.value.id] = len(names)
            self.n.dims.shapes.setdefault(expr.value.id, tuple(targets))
        tuple_target = ast.Tuple([ast.Name(t, ast.Store()) for t in targets], ast.Store())
        self.n.body.append(ir.Plain(ast.Assign([tuple_target], expr), origin))

    def aug_assign(self, node: ast.AugAssign, origin: int) -> None:
        kind = type(node.op) if type(node.op) in BINOPS else None
        base = node.target.value if isinstance(node.target, ast.Subscript) else node.target
        if isinstance(base, ast.Name):
            self.n.hint = base.id  # intermediates are named after the target
        if isinstance(node.target, ast.Subscript) and kind is not None:
            value = self.n.binary(node, kind, self.n.lower(node.target), self.n.lower(node.value))
            self.n.items.item_assign(node.target, value, origin)
            return
        if not isinstance(node.target, ast.Name):
            raise self.n.fail(node.target, "augmented assignment to anything but a name is not supported")
        if kind is None:
            raise self.n.fail(node, "no derivative rule for this augmented assignment")
        lowered = self.n.binary(node, kind, self.n.lower(node.target), self.n.lower(node.value))
        self.n.assign(node.target.id, lowered, origin)

    def returns(self, node: ast.Return, origin: int) -> list[str]:
        value = node.value
        if value is None:
            raise self.n.fail(node, "return needs a value to differentiate")
        exprs = list(value.elts) if isinstance(value, ast.Tuple) else [value]
        outputs: list[str] = []
        for i, expr in enumerate(exprs):
            held = len(self.n.stack) == 1 and self.held(expr, exprs)
            lists = self.n.displays | (set() if self.n.forward else self.n.stacks)
            listed = isinstance(expr, ast.List) or isinstance(expr, ast.Name) and self.n.env.get(expr.id) in lists
            if listed and not held and len(self.n.stack) == 1:
                shown = self.n.info.code(expr).strip() if isinstance(expr, ast.Name) else "[...]"
                if isinstance(expr, ast.Name) and self.n.env.get(expr.id) in self.n.tuples:
                    raise self.n.fail(
                        expr, f"returning only a tuple is not supported: return its values (`return a, b`), or np.array({shown})"
                    )
                raise self.n.fail(expr, f"returning a list is not supported: return a tuple, or np.array({shown})")
            if isinstance(expr, ast.Name) and expr.id in self.n.env:
                outputs.append(self.n.env[expr.id])
                if held:
                    self.n.held.append(outputs[-1])
                continue
            if self.n.return_names is not None and len(self.n.return_names) == len(exprs):
                base = self.n.return_names[i]
            else:
                base = "out" if len(exprs) == 1 else f"out{i + 1}"
                if len(self.n.stack) > 1:
                    base = f"{self.n.stack[-1]}_{base}"
            name = base if base not in self.n.bound else self.n.names.fresh(base)
            if self.n.kind(expr).is_number:
                self.n.numbers.add(name)  # as a name the user binds to it would be
            self.n.hint = name
            self.n.assign(name, self.n.lower(expr), origin)
            outputs.append(self.n.env[name])
            self.n.return_bound.add(self.n.env[name])
            if held:
                self.n.held.append(outputs[-1])
        return outputs

    def held(self, expr: ast.expr, exprs: list[ast.expr]) -> bool:
        """Whether the returned `expr` is a tuple display (`return out, cache` with
        `cache = (x, w, b)`, a course layer's cache for its hand-written backward):
        returned as it is, never differentiated, beside at least one value that is."""

        def is_tuple(e: ast.expr) -> bool:
            return isinstance(e, ast.Tuple) or isinstance(e, ast.Name) and self.n.env.get(e.id) in self.n.tuples

        return is_tuple(expr) and not all(is_tuple(e) for e in exprs)
