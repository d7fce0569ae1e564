"""Activity while lowering: whether an expression of the user's depends
differentiably on a parameter, given the names bound and made active so far."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen.read import resolve

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class Activity:
    """Which of the user's expressions are active, in the current state of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose env and active names decide
        # Keyed by identities: each entry holds the node and the environment it was
        # asked in, so neither id can be reused by a new object while the entry lives.
        self.cache: dict[tuple[int, int, int, int], tuple[ast.AST, dict[str, str], bool]] = {}

    def is_active(self, node: ast.AST) -> bool:
        """Whether `node`'s value depends differentiably on a parameter."""
        env = self.n.env
        key = (id(node), id(env), len(env), len(self.n.active))
        cached = self.cache.get(key)
        if cached is None or cached[0] is not node or cached[1] is not env:
            cached = self.cache[key] = (node, env, self.compute_activity(node))
        return cached[2]

    def compute_activity(self, node: ast.AST) -> bool:
        if isinstance(node, ast.BinOp):
            return not isinstance(node.op, ast.FloorDiv) and (self.is_active(node.left) or self.is_active(node.right))
        if isinstance(node, ast.Name):
            return self.n.env.get(node.id, "") in self.n.active
        if isinstance(node, ast.Constant):
            return False
        if isinstance(node, ast.Compare):
            return False
        if isinstance(node, ast.BoolOp):
            # `x or y` picks a value: refused below when a parameter reaches it.
            return any(self.is_active(v) for v in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return False
        if isinstance(node, ast.Attribute):
            if node.attr in resolve.SHAPE_ATTRIBUTES:
                return False
            if isinstance(node.value, ast.Name) and node.value.id not in self.n.env:
                return False  # a module attribute such as math.pi
            return self.is_active(node.value)
        if isinstance(node, ast.Subscript):
            item = self.n.items.dict_item(node)
            return self.is_active(node.value) if item is None else item.var in self.n.active
        if isinstance(node, ast.Call):
            name = self.n.resolve(node.func)
            if name in resolve.CONSTANT_FUNCTIONS:
                return False
            if name == "method.astype" and resolve.cast_kind(node, self.n.info, self.n.env) == "constant":
                return False  # an integer or boolean result: zero derivative
            if name is not None and name.startswith("user."):
                return True  # inlined whatever its arguments; the stages decide
            # Keywords too: `dict(a=a)` of a parameter is not a constant.
            parts: list[ast.expr] = [*node.args, *(k.value for k in node.keywords)]
            if isinstance(node.func, ast.Attribute) and name is not None and name.startswith("method."):
                parts.append(node.func.value)
            return any(self.is_active(p) for p in parts)
        if isinstance(node, ast.IfExp):
            return self.is_active(node.body) or self.is_active(node.orelse)
        return any(self.is_active(c) for c in ast.iter_child_nodes(node))
