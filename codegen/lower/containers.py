"""Python's containers and conveniences, for the normaliser: list and tuple
displays, the values a tuple assignment unpacks (np.split's parts among them),
slogdet's (sign, logdet) pair, and local aliases of math and numpy functions
(`exp = math.exp`)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import RULES
from codegen.ad.rules_arrays import _literal
from codegen.infer import lattice
from codegen.infer.bindings import is_slice
from codegen.lower.nodes import slot

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser

_LOAD = ast.Load()


class ContainerLowering:
    """Displays, unpacking and local aliases, lowered for a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering these displays and aliases are lowered in

    def lower_display(self, node: ast.List | ast.Tuple) -> ir.Node:
        """`[1.0, a * a, 3.0]`: a list (or tuple) whose entries carry their own gradients."""
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise self.n.fail(node, "starred elements in a list are not supported")
        args = [self.n.lower(e) for e in node.elts]
        container = ast.List if isinstance(node, ast.List) else ast.Tuple
        return ir.Op(RULES["list"], args, {}, container([ast.Name(f"__{i}__", _LOAD) for i in range(len(args))], _LOAD))

    def joined(self, node: ast.BinOp | ast.AugAssign, left: ir.Node, right: ir.Node) -> ir.Node | None:
        """`a + b` of two lists, concatenated, and `a * n` of a list, repeated, where the
        kinds prove a list; refused where a list display, a list or two slices meet a
        value that the kinds prove neither a list nor an array of (nor, for `*`, a
        number): Python's list operators and numpy's arithmetic differ there."""
        op = node.op
        if not isinstance(op, (ast.Add, ast.Mult)) or any(isinstance(a, ir.Leaf) and a.var in self.n.stacks for a in (left, right)):
            return None  # a list built with append is refused as a whole where it is read
        result = self.n.kind(node)
        operands = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.target, node.value)
        kinds = [self.n.kind(o) for o in operands]
        if isinstance(node, ast.AugAssign):
            kinds[0] = result if result.what == lattice.LIST else lattice.UNKNOWN_KIND
        if result.what == lattice.LIST:
            if isinstance(op, ast.Add):
                return ir.Op(RULES["list.concat"], [left, right], {}, ast.BinOp(slot(0), ast.Add(), slot(1)))
            if kinds[0].what == lattice.LIST:
                return ir.Op(RULES["list.repeat"], [left, right], {}, ast.BinOp(slot(0), ast.Mult(), slot(1)))
            return ir.Op(RULES["list.repeat"], [right, left], {}, ast.BinOp(slot(1), ast.Mult(), slot(0)))
        if result.what == lattice.ARRAY or any(k.what == lattice.ARRAY for k in kinds):
            return None  # numpy's arithmetic, a list read as an array
        listed = [k.what == lattice.LIST or self.is_list(o) for o, k in zip(operands, kinds)]
        if isinstance(op, ast.Add) and all(listed):
            # `[a * 2.0] + [b * b]`: a list whatever its items are (numbers, arrays)
            return ir.Op(RULES["list.concat"], [left, right], {}, ast.BinOp(slot(0), ast.Add(), slot(1)))
        sliced = all(is_slice(o) or isinstance(o, ast.List) for o in operands)
        if isinstance(op, ast.Add) and (any(listed) or sliced):
            other = operands[listed.index(False)] if not all(listed) else operands[0]
            raise self.n.fail(node, self.ambiguity(node, "a list concatenation or numpy addition", other, "list[float]"))
        if isinstance(op, ast.Mult) and any(listed) and not all(k.is_number for k, l in zip(kinds, listed) if not l):
            other = operands[listed.index(False)] if not all(listed) else operands[0]
            raise self.n.fail(node, self.ambiguity(node, "a list repetition or numpy multiplication", other, "int"))
        return None

    def is_list(self, node: ast.expr) -> bool:
        """Whether `node` is a list display, or names a list of differentiated values
        built by one (`parts = [a, b]`, `parts = [a] + [b]`)."""
        return isinstance(node, ast.List) or isinstance(node, ast.Name) and self.n.env.get(node.id) in self.n.displays

    def joins_displays(self, op: ir.Op) -> bool:
        """Whether `op` concatenates list displays (`[a] + [b]`, `parts + [c]` of
        `parts = [a, b]`): a list of differentiated values, as a display is."""
        return op.rule.name == "list.concat" and all(
            isinstance(a, ir.Op) and a.rule.name == "list" or isinstance(a, ir.Leaf) and a.var in self.n.displays for a in op.args
        )

    def ambiguity(self, node: ast.AST, what: str, other: ast.expr, listed: str) -> str:
        while isinstance(other, ast.Subscript):
            other = other.value
        name = other.id if isinstance(other, ast.Name) else "it"
        return (
            f"{self.n.info.code(node).strip()}: {what}? The kinds prove {name} neither a list nor an array: "
            f"annotate {name}: {listed} (Python's list operator) or {name}: np.ndarray (numpy's), "
            "or write np.concatenate / np.append for arrays"
        )

    def slogdet_parts(self, call: ast.expr) -> tuple[ir.Leaf, ir.Node] | None:
        """`np.linalg.slogdet(a)` as (its sign, never differentiated; its logdet)."""
        if not (isinstance(call, ast.Call) and self.n.resolve(call.func) == "numpy.linalg.slogdet"):
            return None
        sign = ir.Leaf(ast.Subscript(self.n.copies.to_ast(call), ast.Constant(0), _LOAD))
        self.n.logdet_call = True
        try:
            logdet = self.n.lower(call)
        finally:
            self.n.logdet_call = False
        if isinstance(logdet, ir.Op):
            logdet.spelling = ast.Subscript(logdet.spelling, ast.Constant(1), _LOAD)
        return sign, logdet

    def note_callable(self, target: str, expr: ast.expr) -> None:
        """Remember that `target` names a math or numpy function, `expr` (a local alias)."""
        if isinstance(expr, (ast.Name, ast.Attribute)):
            name = self.n.resolve(expr)
            if name is not None and name.startswith(("math.", "numpy.")) and name != "numpy.random.":
                self.n.callables[target] = name

    def unpacked(self, value: ast.expr, count: int) -> list[ast.expr] | None:
        """The `count` values a tuple assignment takes from `value`: a tuple's elements,
        `x[0], x[1]` of an array or list `x`, `f(a), f(b)` of `map(f, (a, b))`."""
        if isinstance(value, (ast.Tuple, ast.List)):
            return list(value.elts) if len(value.elts) == count else None
        if isinstance(value, ast.Call):
            if self.n.resolve(value.func) != "map" or len(value.args) != 2 or value.keywords:
                return None
            items = value.args[1]
            if not isinstance(items, (ast.Tuple, ast.List)) or len(items.elts) != count:
                return None
            return [ast.copy_location(ast.Call(value.args[0], [item], []), item) for item in items.elts]
        if isinstance(value, (ast.Starred, ast.Dict, ast.Set)) or not self.n.activity.is_active(value):
            return None
        return [ast.copy_location(ast.Subscript(value, ast.Constant(i), _LOAD), value) for i in range(count)]

    def split_parts(self, value: ast.expr, count: int, origin: int) -> list[ast.expr] | None:
        """`a, b = np.split(x, 2)`, `np.array_split(x, 3, axis=1)`, `np.split(x, [2, 5])`:
        the parts as slices of `x` along the axis (an operand that is no name is named
        first). None where `value` is no such call."""
        name = self.n.resolve(value.func) if isinstance(value, ast.Call) else None
        if name not in ("numpy.split", "numpy.array_split"):
            return None
        assert isinstance(value, ast.Call)
        label = self.n.info.code(value.func).strip()
        arguments = dict(zip(("ary", "indices_or_sections", "axis"), value.args))
        arguments.update((k.arg or "", k.value) for k in value.keywords)
        if set(arguments) - {"ary", "indices_or_sections", "axis"} or len(arguments) < 2:
            raise self.n.fail(value, f"{label} is differentiated as {label}(x, sections) or {label}(x, sections, axis=k)")
        axis = _literal(arguments.get("axis", ast.Constant(0)))
        cuts = _literal(arguments["indices_or_sections"])
        if type(axis) is not int:
            raise self.n.fail(value, f"{label}: the axis must be a literal integer")
        at: list[int] | None = None  # where the parts are cut, for a list of indices
        if type(cuts) is int:
            sections = cuts
        elif isinstance(cuts, (list, tuple)) and all(type(c) is int for c in cuts):
            at = list(cuts)
            sections = len(at) + 1
        else:
            raise self.n.fail(value, f"{label}: the sections must be a literal int or a literal list of ints")
        if sections != count:
            raise self.n.fail(value, f"{label} gives {sections} parts here: unpack them into {sections} names")
        operand = arguments["ary"]
        if not isinstance(operand, ast.Name) or self.n.kind(operand).what != lattice.ARRAY:
            base = operand.id + "_array" if isinstance(operand, ast.Name) else "whole"
            if isinstance(value.func, ast.Attribute) and isinstance(operand, (ast.Name, ast.List, ast.Tuple)):
                operand = ast.Call(ast.Attribute(value.func.value, "asarray", _LOAD), [operand], [])  # maybe a list
            if not isinstance(operand, ast.Name):
                operand = self.named(base, operand, origin)
        size = f"len({operand.id})" if axis == 0 else f"{operand.id}.shape[{axis}]"
        uneven = name == "numpy.array_split"
        if at is None:
            if uneven and sections > 2:
                size = self.named("size", ast.parse(size, mode="eval").body, origin).id
            bounds = [_section_start(i, sections, size, uneven) for i in range(sections + 1)]
        else:
            bounds = ["", *(str(c) for c in at), ""]
        parts = []
        for i in range(sections):
            start, stop = bounds[i], bounds[i + 1]
            index = f"{start}:{stop}" if axis >= 0 else f"..., {start}:{stop}" + ", :" * (-axis - 1)
            if axis > 0:
                index = ":, " * axis + index
            part = ast.parse(f"{operand.id}[{index}]", mode="eval").body
            parts.append(ast.copy_location(part, value))
        return parts

    def named(self, base: str, expr: ast.expr, origin: int) -> ast.Name:
        """`expr` bound to a new name, read by it from here on."""
        name = self.n.names.fresh(base)
        self.n.bind(name, expr, origin)
        return ast.Name(name, _LOAD)


def _section_start(i: int, sections: int, size: str, uneven: bool) -> str:
    """Where part `i` of `sections` starts along an axis of `size` elements (the
    end for i == sections, written as nothing, as the first start is). np.split
    cuts equal parts; np.array_split gives the first `size % sections` parts one more."""
    if i in (0, sections):
        return ""
    if not uneven:
        return f"{size} // {sections}" if i == 1 else f"{i} * {size} // {sections}"
    whole = f"{size} // {sections}" if i == 1 else f"{i} * ({size} // {sections})"
    return f"{whole} + min({i}, {size} % {sections})"
