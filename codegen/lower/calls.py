"""Calls of library functions and methods (`np.sum(x, axis=1)`, `x.T`, `math.exp(z)`):
the row of the rule table each one is, its operands lowered and its static
arguments (shapes, axes, flags) kept as written."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.rules import RULES, Rule, Unsupported
from codegen.lower.nodes import LOAD, has_stars, is_active_node, slot
from codegen.lower.patterns import with_square_slot
from codegen.lower.whole_sums import lower_sum
from codegen.read import resolve

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


# Rows whose operands are often lists (np.polyval([1.0, a, b], x), np.diag(w)): the
# gradient of a parameter passed as a list is a list.
_READ_AS_ARRAYS = frozenset({
    "numpy.array", "numpy.asarray", "numpy.polyval", "numpy.diag", "numpy.logaddexp", "numpy.logaddexp2",
    "numpy.clip", "numpy.float64",
})  # fmt: skip


class Calls:
    """Library calls, lowered for a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering the operands are lowered in

    def lower_call(self, node: ast.Call) -> ir.Node:
        name = self.n.resolve(node.func)
        label = self.n.info.code(node.func).strip()
        missing = resolve.unimported_module(node.func, self.n.info, self.n.env)
        if missing is not None:
            head = label.split(".", 1)[0]
            suggestion = f"import {missing}" if head == missing else f"import {missing} as {head}"
            raise self.n.fail(node, f"{label}: {head} is not imported (add `{suggestion}` at the top of the module)")
        if name is None or name in resolve.CONSTANT_FUNCTIONS:
            raise self.n.fail(node, f"no derivative rule for {label}")
        if name.startswith("user.") and name[len("user."):] in self.n.info.primitives:
            return self.n.inlining.user_rule_call(node, name[len("user."):])
        if name == "method.pop" and self.n.forward:
            return self.n.appending.pop_call(node)
        if name == "method.pop":
            raise self.n.fail(node, f"{label}() is not supported in reverse mode: read the element by its index ({label[:-4]}[-1])")
        whole = self.n.appending.whole_list(node, name)
        if whole is not None:
            return whole
        if name == "method.astype" and resolve.cast_kind(node, self.n.info, self.n.env) == "unknown":
            raise self.n.fail(
                node, f"{label}: write its dtype literally (float, np.float32, int, bool) to tell if a gradient passes"
            )
        if name.startswith("user."):
            outputs = self.n.inlining.inline(node, name[len("user."):], None)
            if len(outputs) != 1:
                raise self.n.fail(node, f"{label} returns {len(outputs)} values: unpack them into names")
            return outputs[0]
        if has_stars(node):
            raise self.n.fail(node, f"*args in a call to {label} are not supported")
        positional = list(node.args)
        method = name.startswith("method.")
        if method:
            assert isinstance(node.func, ast.Attribute)
            positional.insert(0, node.func.value)
        if name in ("sum", "math.fsum") and len(positional) == 1 and not node.keywords:
            return lower_sum(self.n, node, positional[0], label)
        if name in ("max", "min") and len(positional) == 1 and not node.keywords:
            operand = self.n.info.code(positional[0]).strip()
            written = f"np.{name.removeprefix('math.f')}({operand})"
            raise self.n.fail(
                node, f"{label}({operand}) of a whole list or array is not supported: write {written}, or a for loop"
            )
        keyword_names = {k.arg for k in node.keywords}
        arrays = self.n.arrays and not self.n.kind(node).is_number
        rule_name = resolve.rule_for(name, len(positional) + int("axes" in keyword_names), arrays)
        if rule_name is None and name in ("numpy.split", "numpy.array_split"):
            raise self.n.fail(node, f"{label} returns a list of arrays: unpack it (a, b = {label}(x, 2))")
        if rule_name is None:
            raise self.n.fail(node, f"no derivative rule for {label}")
        rule = RULES[rule_name]
        if rule.variadic:
            return self.lower_variadic(node, rule, positional, label)
        if rule_name == "numpy.linalg.slogdet" and not self.n.logdet_call:
            raise self.n.fail(
                node,
                f"{label} returns (sign, logdet): unpack it (`sign, logdet = {label}(a)`) or index it ({label}(a)[1])",
            )
        if rule_name in ("max", "min") and len(positional) > 2:
            raise self.n.fail(node, f"{label} with more than two arguments is not supported")
        count = len(rule.args)
        if len(positional) < count:
            raise self.n.fail(node, f"{label} needs {count} operands")
        operands, extra = positional[:count], positional[count:]
        statics: dict[str, ast.expr] = {}
        slots_for_extra = list(rule.statics) + [k for k, _ in rule.keywords]
        if method and len(rule.statics) == 1 and len(extra) > 1:
            statics[rule.statics[0]] = ast.Tuple([self.static(e, label) for e in extra], ast.Load())
        else:
            if len(extra) > len(slots_for_extra):
                raise self.n.fail(node, f"{label} takes at most {count + len(slots_for_extra)} arguments here")
            for key, expr in zip(slots_for_extra, extra):
                statics[key] = self.static(expr, label)
        for keyword in node.keywords:
            key = dict(rule.spellings).get(keyword.arg or "", keyword.arg or "")
            if key in statics:
                raise self.n.fail(keyword, f"{label} got {key!r} twice")
            if key not in slots_for_extra:
                raise self.n.fail(keyword, f"keyword {keyword.arg!r} of {label} is not supported")
            statics[key] = self.static(keyword.value, label, keyword)
        absent = [k for k in rule.statics if k not in statics]
        if absent:
            raise self.n.fail(node, f"{label} needs its {absent[0]} argument")
        squared = self.n.patterns.sum_of_squares(rule, operands, statics)
        if squared is not None:
            spelling = self.n.copies.to_ast(node)
            assert isinstance(spelling, ast.Call)
            return ir.Op(RULES["numpy.sumsq"], [self.n.lower(squared)], {}, with_square_slot(spelling, method))
        args = [self.lower_operand(o) if rule_name.startswith("numpy.") else self.n.lower(o) for o in operands]
        if rule.name in _READ_AS_ARRAYS:
            for arg in args:
                self.n.items.may_be_a_list(arg)  # np.array(w) of a list w: its gradient is a list
        if f"{rule_name}.const" in RULES and not all(is_active_node(a) for a in args):
            rule = RULES[f"{rule_name}.const"]
        # The operands are slots before the copy: copying them would inline calls again.
        shell = ast.Call(node.func, list(node.args), node.keywords)
        if method:
            assert isinstance(node.func, ast.Attribute)
            shell.func = ast.Attribute(slot(0), node.func.attr, LOAD)
            shell.args[: count - 1] = [slot(i) for i in range(1, count)]
        else:
            shell.args[:count] = [slot(i) for i in range(count)]
        spelling = self.n.copies.to_ast(shell)
        assert isinstance(spelling, ast.Call)
        return self.n.checked(node, ir.Op(rule, args, statics, spelling))

    def lower_operand(self, expr: ast.expr) -> ir.Node:
        """An operand of a numpy function: a list of appended values is read as np.array(xs)."""
        converted = self.n.appending.as_array(expr)
        return converted if converted is not None else self.n.lower(expr)

    def static(self, expr: ast.expr, label: str, where: ast.AST | None = None) -> ast.expr:
        """An argument that must not carry a gradient (a shape, an axis, a flag)."""
        if self.n.activity.is_active(expr):
            raise self.n.fail(where or expr, f"this argument of {label} must not depend on a differentiated value")
        return self.n.copies.to_ast(expr)

    def lower_variadic(
        self, node: ast.Call, rule: Rule, positional: list[ast.expr], label: str
    ) -> ir.Node:
        """`np.concatenate([a, b], axis=1)`, `np.stack(...)`: the operands come as one
        list; `np.einsum("ij,jk->ik", a, b)`: they follow the subscripts."""
        statics: dict[str, ast.expr] = {}
        if rule.statics:
            if not positional:
                raise self.n.fail(node, f"{label} needs its {rule.statics[0]} argument")
            statics[rule.statics[0]] = self.static(positional[0], label)
            elements = positional[1:]
            rest: list[ast.expr] = []
        else:
            if not positional or not isinstance(positional[0], (ast.List, ast.Tuple)):
                raise self.n.fail(node, f"{label} needs a literal list of arrays to differentiate")
            if any(isinstance(e, ast.Starred) for e in positional[0].elts):
                raise self.n.fail(node, f"starred elements in {label} are not supported")
            elements = list(positional[0].elts)
            rest = positional[1:]
        keys = [k for k, _ in rule.keywords]
        for key, expr in zip(keys, rest):
            statics[key] = self.static(expr, label)
        for keyword in node.keywords:
            if keyword.arg not in keys:
                raise self.n.fail(keyword, f"keyword {keyword.arg!r} of {label} is not supported")
            statics[keyword.arg] = self.static(keyword.value, label, keyword)
        args = [self.n.lower(e) for e in elements]
        op = ir.Op(rule, args, statics, ast.Constant(None))
        for i, arg in enumerate(args):
            op.keywords[f"__rank{i}__"] = ast.Constant(self.n.ranks.rank(arg))
            self.n.items.may_be_a_list(arg)  # np.vstack([a, b]) of a list b: its gradient is a list
        try:
            ir.templates(op)
        except Unsupported as exc:
            raise self.n.fail(node, f"{label}: {exc}")
        shell = ast.Call(node.func, list(node.args), node.keywords)  # operands as slots, not copied
        if rule.statics:
            shell.args[1:] = [slot(i) for i in range(len(args))]
        else:
            container = ast.List if isinstance(positional[0], ast.List) else ast.Tuple
            shell.args[0] = container([slot(i) for i in range(len(args))], ast.Load())
        spelling = self.n.copies.to_ast(shell)
        assert isinstance(spelling, ast.Call)
        op.spelling = spelling
        return op

    def lower_attribute(self, node: ast.Attribute) -> ir.Node:
        attr = node.attr
        if attr not in ("T", "mT"):
            raise self.n.fail(node, f"cannot differentiate the attribute .{attr}")
        return self.n.op(f"numpy.{attr}", [self.n.lower(node.value)], {}, ast.Attribute(slot(0), attr, ast.Load()))
