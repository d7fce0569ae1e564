"""Forward mode: `f_jvp(params, tangents) -> (out, out_tangent)`.

Each staged statement is followed by its tangent, so control flow needs no
reversal and loops keep nothing. The tangents come from the same rule table:
for an elementwise row the gradient template with `g` replaced by an
operand's tangent is that operand's term of the directional derivative
(the Jacobian is diagonal); linear and multilinear rows (sums, reshapes,
products) apply themselves to the tangents; the few nonlinear reductions have
their own templates below.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Iterable
from typing import TypeGuard

from codegen import ir
from codegen.ad.gradient_forms import zeros_like
from codegen.ad.reverse_flow import bound_at_level
from codegen.ad.templates import _mentions, as_arrays, expand_macros
from codegen.ad.useful import useful_variables
from codegen.emit import assertions, helpers, typed
from codegen.emit.module import _loop_header, _statement_lines
from codegen.infer.dims import Dims
from codegen.infer.shapes import ShapeKeys
from codegen.ir import render, substitute
from codegen.optimize.prune import prune
from codegen.optimize.simplify import simplify

# Rows linear in all their operands together (the rest of "other" are linear in each).
_JOINT = frozenset({"numpy.concatenate", "numpy.stack", "numpy.vstack", "numpy.hstack", "list"})


def _indent(lines: list[str]) -> list[str]:
    return [textwrap.indent(line, "    ") for line in lines]


def _zero_entry(value: ast.expr) -> ast.expr:
    """The tangent of a list's constant entry: zero, of the entry's kind."""
    return ast.BinOp(ast.Constant(0.0), ast.Mult(), value)


def _is_user_rule(node: ir.Node) -> TypeGuard[ir.Op]:
    return isinstance(node, ir.Op) and node.rule.name.startswith("user.")


def _pruned(lines: list[str], params: frozenset[str], draws: frozenset[str]) -> list[str]:
    """The function body without what its final `return` does not need (which
    `prune` leaves as it is, so it keeps its spelling); random draws stay."""
    statements = prune(ast.parse("\n".join(lines)).body, params, draws)
    assert isinstance(statements[-1], ast.Return)
    return [*(ast.unparse(statement) for statement in statements[:-1]), lines[-1]]


_NOT_ARRAYS = frozenset({"float", "int", "builtins.float", "builtins.int", "complex"})


class ForwardMode:
    """Builds the lines of `f_jvp` for one normalised function."""

    def __init__(
        self,
        fn: ir.Function,
        modules: dict[str, str],
        vectors: tuple[str, ...] | None = None,
        assert_shapes: bool = False,
        takes: tuple[str, ...] | None = None,
        upstream: tuple[str, ...] = (),
    ) -> None:
        # Set when fn is a generated backward: write f_hvp, with a vector for each of
        # these parameters, returning the tangents.
        self.vectors = vectors
        self.hvp = vectors is not None
        self.assert_shapes = assert_shapes
        self.takes = takes  # the parameters to take tangents for, as reverse mode decides
        self.upstream = upstream  # an HVP's: the backward's upstream gradients, after the vectors
        self.fn = fn
        self.modules = modules
        self.arrays = fn.arrays  # whether a value the kinds leave unknown may be an array
        self.tangents: dict[str, str] = {}  # variable -> its tangent's name, where set
        self.spelled: dict[str, str] = {}  # variable -> its tangent's name, once chosen
        self.bound = {p.name for p in fn.params}  # variables bound here whichever way control went
        self.used_modules: set[str] = set()
        # gradients a generated backward starts with `_item_zeros` (maybe lists of arrays)
        self.item_zeros = {
            target.id for s in ir.walk(fn.body)
            if isinstance(s, ir.Plain) and isinstance(s.code, ast.Assign) and _calls(s.code.value, modules["_item_zeros"])
            for target in s.code.targets if isinstance(target, ast.Name)
        }  # fmt: skip
        # loop, tangents and bound names on entry -> its lines, and the tangents after it
        self.loops_done: dict[tuple[int, tuple[tuple[str, str], ...], tuple[str, ...]], tuple[list[str], dict[str, str]]]
        self.loops_done = {}
        dims = Dims(ir.TakenAsNumbers(fn))
        dims.shapes = dict(fn.dims)
        self.shapes = ShapeKeys(ir.TakenAsNumbers(fn), dims)
        self.shapes.keys = dict(fn.shape_keys)

    def tangent_name(self, var: str) -> str:
        if var not in self.spelled:
            self.spelled[var] = self.fn.names.claim(f"{var}_dot")
        self.tangents[var] = self.spelled[var]
        return self.spelled[var]

    def zero(self, var: str) -> str:
        if self.fn.is_list(var) or var in self.fn.stacks:
            return f"[0.0] * len({var})"
        if var in self.item_zeros:
            return f"{self.modules['_item_zeros']}({var})"
        if self.arrays and not self.fn.taken_as_number(var):
            self.used_modules.add("np")
            return ast.unparse(self.zeros_like(ast.Name(var, ast.Load())))
        return "0.0"

    # ---- tangents of expressions --------------------------------------------------
    def tangent(self, node: ir.Node, out: ast.expr) -> ast.expr | None:
        """The tangent of `node`'s value, or None where it is zero."""
        if isinstance(node, ir.Leaf):
            if node.var is None or node.var not in self.tangents:
                return None
            name = ast.Name(self.tangents[node.var], ast.Load())
            if node.index is None:
                return name
            return ast.Subscript(name, ir.clone(node.index), ast.Load())
        rule = node.rule
        assert not rule.name.startswith("user."), "the normaliser stages calls to foo_jvp"
        inner = [
            self.tangent(a, render(a) if isinstance(a, ir.Op) else ast.Name("__unused__", ast.Load()))
            if rule.flows(i)
            else None  # an index, a shape: no derivative flows through it
            for i, a in enumerate(node.args)
        ]
        if all(t is None for t in inner):
            return None
        if rule.name in ("setitem", "add.at"):
            raise AssertionError(f"{rule.name} is a statement")  # handled by `stage`
        if rule.kind in ("scalar", "elementwise"):
            total = self.sum_terms(
                self.instantiate(node, rule.template(i, len(node.args), node.keywords), t, out)
                for i, t in enumerate(inner)
                if t is not None
            )
            if total is not None and self.arrays and rule.broadcast and self.may_widen(node, inner):
                # An operand without a tangent may be the one giving the result its shape.
                self.used_modules.add("np")
                np_name = self.modules["np"]
                template = ast.parse(f"{np_name}.broadcast_to(_t, {np_name}.shape(_o))", mode="eval").body
                total = substitute(template, {"_t": total, "_o": out})
            return total
        if rule.tangents is not None:
            return self.sum_terms(
                self.instantiate(node, ast.parse(rule.tangents(i, len(node.args), node.keywords), mode="eval").body, t, out)
                for i, t in enumerate(inner)
                if t is not None
            )
        if rule.kind == "reduce" or rule.kind == "other":
            if rule.name == "list.concat":  # the tangents concatenated as lists (one may be passed as an array)
                parts = [
                    ast.Call(ast.Name("list", ast.Load()), [t], []) if t is not None
                    else ast.parse(f"[0.0] * len({ast.unparse(render(a))})", mode="eval").body
                    for t, a in zip(inner, node.args)
                ]  # fmt: skip
                return ast.BinOp(parts[0], ast.Add(), parts[1])
            if rule.name in _JOINT:
                zero = self.zeros_like if rule.name != "list" else _zero_entry
                args = [t if t is not None else zero(render(a)) for t, a in zip(inner, node.args)]
                return substitute(node.spelling, {f"__{i}__": a for i, a in enumerate(args)})
            terms = []
            for i, t in enumerate(inner):
                if t is None:
                    continue
                mapping = {f"__{j}__": (t if j == i else render(a)) for j, a in enumerate(node.args)}
                terms.append(substitute(node.spelling, mapping))
            return self.sum_terms(terms)
        raise AssertionError(f"no forward-mode rule for {rule.name}")  # every kind is handled above

    def zeros_like(self, value: ast.expr) -> ast.expr:
        self.used_modules.add("np")
        return zeros_like(value, self.modules["np"])

    def instantiate(self, op: ir.Op, template: ast.expr | None, tangent: ast.expr | None, out: ast.expr) -> ast.expr:
        assert template is not None and tangent is not None
        mapping: dict[str, ast.expr] = {"g": tangent, "t": tangent, "out": out}
        for i, arg in enumerate(op.args):
            mapping[op.rule.arg_name(i)] = render(arg)
        for key, default in op.rule.keywords:
            mapping[key] = op.keywords.get(key, default)
        for key in op.rule.statics:
            mapping[key] = op.keywords[key]
        for module in ("math", "np"):
            if _mentions(template, module):
                self.used_modules.add(module)
                mapping[module] = ast.Name(self.modules[module], ast.Load())
        for helper in helpers.NAMES:
            if _mentions(template, helper):
                mapping[helper] = ast.Name(self.modules[helper], ast.Load())
        if _mentions(template, "keep") or _mentions(template, "count"):
            self.used_modules.add("np")
        expanded = expand_macros(substitute(template, mapping), mapping, self.modules["np"])
        # A list parameter numpy reads whole, and its tangent, may meet arithmetic here.
        likes = {name for var in self.fn.array_likes for name in (var, self.tangents.get(var, var))}
        return simplify(as_arrays(expanded, likes, self.modules["np"], self.used_modules))

    def may_widen(self, node: ir.Op, inner: list[ast.expr | None]) -> bool:
        """Whether an operand without a tangent may be larger than those with one."""
        if all(t is not None for t in inner):
            return False
        return any(t is not None and self.shapes.summing(a, node) is not None for t, a in zip(inner, node.args))

    @staticmethod
    def sum_terms(terms: Iterable[ast.expr]) -> ast.expr | None:
        total: ast.expr | None = None
        for term in terms:
            total = term if total is None else ast.BinOp(total, ast.Add(), term)
        return simplify(total) if total is not None else None

    # ---- statements ------------------------------------------------------------------
    def stage(self, statement: ir.Stage) -> list[str]:
        value = statement.value
        target = statement.target
        if isinstance(value, ir.Op) and value.rule.name == "setitem":
            return self.setitem(statement, value)
        if isinstance(value, ir.Op) and value.rule.name == "add.at":
            return self.add_at(statement, value)

        tangent = self.tangent(value, ast.Name(target, ast.Load()))
        if tangent is None:
            self.tangents.pop(target, None)
            return []
        name = self.tangent_name(target)
        return [ir.unparse(ast.Assign([ast.Name(name, ast.Store())], tangent))]

    def user_rule(self, statement: ir.Stage, op: ir.Op) -> list[str]:
        """`out, out_dot = foo_jvp(x, w, x_dot, w_dot)`: the user's own rule."""
        target = statement.target
        tangents = [self.tangent(arg, render(arg)) for arg in op.args]
        if all(t is None for t in tangents):
            self.tangents.pop(target, None)
            return _statement_lines(statement)
        dots = [ast.unparse(t) if t is not None else self.zero_of(arg) for t, arg in zip(tangents, op.args)]
        args = ", ".join([*(ast.unparse(render(arg)) for arg in op.args), *dots])
        callee = op.rule.name[len("user."):]
        return [f"{target}, {self.tangent_name(target)} = {callee}_jvp({args})"]

    def zero_of(self, node: ir.Node) -> str:
        """A zero tangent for a value that has none."""
        expr = render(node)
        if isinstance(expr, ast.Name):
            return self.zero(expr.id)
        return "0.0" if not self.arrays else ast.unparse(self.zeros_like(expr))

    def setitem(self, statement: ir.Stage, op: ir.Op) -> list[str]:
        old, value = op.args
        t_old = self.tangent(old, render(old))
        t_value = self.tangent(value, render(value))
        if t_old is None and t_value is None:
            return []
        name = self.tangent_name(statement.target)
        if t_old is not None:
            first = f"{ast.unparse(t_old)}.copy()"
        elif isinstance(old, ir.Leaf) and old.var is None and statement.target in self.fn.stacks:
            first = f"[0.0] * len({ast.unparse(render(old))})"  # a list of constants, a value written in
        else:
            first = ast.unparse(self.zeros_like(render(old)))
        written = t_value if t_value is not None else ast.Constant(0.0)
        part = ast.Subscript(ast.Name(name, ast.Load()), ir.clone(op.keywords["index"]), ast.Store())
        assign = ast.Assign([part], written)
        return [f"{name} = {first}", ir.unparse(assign)]

    def add_at(self, statement: ir.Stage, op: ir.Op) -> list[str]:
        """`np.add.at(a_1, index, v)` on a copy `a_1` of `a`: the same scatter of the tangents."""
        old, value = op.args
        t_old = self.tangent(old, render(old))
        t_value = self.tangent(value, render(value))
        if t_old is None and t_value is None:
            return []
        name = self.tangent_name(statement.target)
        first = f"{ast.unparse(t_old)}.copy()" if t_old is not None else ast.unparse(self.zeros_like(render(old)))
        lines = [f"{name} = {first}"]
        if t_value is not None:
            index = ast.unparse(op.keywords["index"])
            lines.append(f"{ast.unparse(op.spelling)}({name}, {index}, {ast.unparse(t_value)})")
        return lines

    def block(self, statements: list[ir.Statement]) -> list[str]:
        lines: list[str] = []
        for statement in statements:
            if isinstance(statement, ir.If):
                before, bound = dict(self.tangents), set(self.bound)
                then_lines = self.block(statement.body)
                then_tangents, then_bound = self.tangents, self.bound
                self.tangents, self.bound = dict(before), set(bound)
                else_lines = self.block(statement.orelse)
                else_tangents, else_bound = self.tangents, self.bound
                # A value bound after the `if` either way needs a tangent either way: both
                # branches bind it, or it was bound before and one branch gave it its first
                # tangent (a loop in it, say).
                merged = bound_at_level(statement.body) & bound_at_level(statement.orelse)
                for var in sorted((then_tangents.keys() - else_tangents.keys()) & (merged | else_bound)):
                    else_lines.append(f"{then_tangents[var]} = {self.zero(var)}")
                for var in sorted((else_tangents.keys() - then_tangents.keys()) & (merged | then_bound)):
                    then_lines.append(f"{else_tangents[var]} = {self.zero(var)}")
                self.tangents = {**then_tangents, **else_tangents}
                self.bound = then_bound & else_bound
                lines += self.declared_copies(then_lines, else_lines)
                lines += [f"if {ast.unparse(statement.test)}:", *_indent(then_lines or ["pass"])]
                if else_lines:
                    lines += ["else:", *_indent(else_lines)]
            elif isinstance(statement, ir.Loop):
                lines += self.loop(statement, _loop_header)
            elif isinstance(statement, ir.Stage) and _is_user_rule(statement.value):
                lines += self.user_rule(statement, statement.value)
                self.bound.add(statement.target)
            else:
                lines += _statement_lines(statement)
                self.bound |= bound_at_level([statement])
                if isinstance(statement, ir.Stage):
                    lines += self.stage(statement)
                elif isinstance(statement, ir.Append):
                    lines += self.append(statement)
                else:
                    lines += self.plain(statement)
        return lines

    def plain(self, statement: ir.Plain) -> list[str]:
        lines = []
        for node in ast.walk(statement.code):
            if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Store):
                continue
            if node.id in self.fn.stacks:
                # A list the differentiated values are appended to: its tangents beside it.
                empty = isinstance(statement.code, ast.Assign) and ast.unparse(statement.code.value) == "[]"
                lines.append(f"{self.tangent_name(node.id)} = {'[]' if empty else self.zero(node.id)}")
            elif node.id in self.tangents:
                # A constant overwrites a value that had a tangent (in a loop).
                lines.append(f"{self.tangents[node.id]} = {self.zero(node.id)}")
        return lines

    def append(self, statement: ir.Append) -> list[str]:
        if statement.target not in self.tangents:
            return []
        value = statement.value
        tangent = self.tangent(value, render(value))
        if tangent is None:
            # Nothing differentiated this time: a zero keeps the two lists in step.
            return [f"{self.tangents[statement.target]}.append({self.zero_of(value)})"]
        return [f"{self.tangents[statement.target]}.append({ast.unparse(tangent)})"]

    def loop(self, loop: ir.Loop, header: Callable[[ir.Loop], list[str]]) -> list[str]:
        """The lines of `loop` and its tangents. The fixpoint below runs the body
        several times, and each run its inner loops: remembering a loop's lines and
        tangents by what was known on entry keeps that linear in the nesting."""
        key = (id(loop), tuple(sorted(self.tangents.items())), tuple(sorted(self.bound)))
        known = self.loops_done.get(key)
        if known is None:
            lines = self.loop_once(loop, header)
            known = self.loops_done[key] = (lines, dict(self.tangents))
        self.tangents = dict(known[1])
        return list(known[0])

    def loop_once(self, loop: ir.Loop, header: Callable[[ir.Loop], list[str]]) -> list[str]:
        # A carried value whose tangent the body sets needs one from the start.
        before, bound = dict(self.tangents), self.bound
        carried: set[str] = set()
        while True:  # dry runs: which carried values get tangents (a fixpoint)
            self.tangents = {**before, **{v: self.tangent_name(v) for v in carried}}
            self.bound = set(bound)
            self.block(loop.body)
            grown = carried | (set(loop.carried) & self.tangents.keys())
            if grown == carried:
                break
            carried = grown
        defined = self.tangents
        self.tangents = dict(before)
        inits = []
        for var in loop.carried:
            if var in defined and var not in before:
                inits.append(f"{self.tangent_name(var)} = {self.zero(var)}")
        for var in loop.carried:
            if var in defined:
                self.tangent_name(var)
        self.bound = set(bound)
        entering = dict(self.tangents)
        body = self.block(loop.body)
        for var in loop.carried:
            if var in entering and var not in self.tangents:
                # Bound to a constant this time round: the next iteration (and the code
                # after the loop) reads a zero tangent, not the one the value came in with.
                body.append(f"{entering[var]} = {self.zero(var)}")
                self.tangents[var] = entering[var]
        self.bound = bound  # the body may not run
        head = header(loop)
        counter = [f"{loop.counter} += 1"] if loop.counter else []
        return [*inits, *head, *_indent(body + counter or ["pass"])]

    def run(self) -> str:
        """The whole `f_jvp` function."""
        fn = self.fn
        useful = useful_variables(fn)
        if self.vectors is not None:
            differentiable = [p for p in fn.params if p.name in self.vectors]
        else:
            differentiable = [p for p in fn.params if p.differentiable and (p.name in useful or p.name in fn.forced)]
            if self.takes is not None:
                differentiable = [p for p in differentiable if p.name in self.takes]
        self.differentiable = differentiable
        for param in differentiable:
            self.tangent_name(param.name)
        lines = self.block(fn.body)
        outputs = ", ".join(fn.outputs)
        tangents = ", ".join(
            "None" if o in fn.held else self.tangents[o] if o in self.tangents else self.zero(o) for o in fn.outputs
        )
        if len(fn.outputs) > 1:
            outputs, tangents = f"({outputs})", f"({tangents})"
        plain = [p.code for p in fn.params if p.kind != "kwonly" and "=" not in p.code and p.name not in self.upstream]
        # an upstream without a default (a typed array's) stays after the vectors, as one with it does
        late = [p.code for p in fn.params if p.kind != "kwonly" and "=" not in p.code and p.name in self.upstream]
        defaulted = [p.code for p in fn.params if p.kind != "kwonly" and "=" in p.code]
        kwonly = [p.code for p in fn.params if p.kind == "kwonly"]
        dots = [self.spelled[p.name] for p in differentiable]
        # Bound before the body, tangents too: a copy into one is not its only binding.
        bound = frozenset([*(p.name for p in fn.params), *dots])
        typed_dots, returns = self.annotations(dots)
        parts = plain + typed_dots + late + defaulted + (["*", *kwonly] if kwonly else [])
        names = ", ".join(p.name for p in differentiable) or "nothing"
        doc = (
            f'"""Forward mode of {fn.name}: the value and its directional derivative.\n\n'
            f"Takes one tangent per differentiable parameter ({names}); returns\n"
            f'({outputs}, {tangents}).\n"""'
        )
        name = f"{fn.name}_jvp"
        body = [doc, *_pruned([*lines, f"return {outputs}, {tangents}"], bound, frozenset(self.fn.draws))]
        if self.hvp:
            name = fn.name.removesuffix("_backward") + "_hvp"
            doc = (
                f'"""Hessian-vector products of {name.removesuffix("_hvp")}: the second derivative along\n'
                f"the vectors {', '.join(dots)}, one per parameter ({names}); returns\n"
                f'{tangents}.\n"""'
            )
            body = [doc, *_pruned([*lines, f"return {tangents}"], bound, frozenset(self.fn.draws))]
        if self.assert_shapes:
            body[1:1] = self.shape_checks(body[1:])
        text = "\n".join(body)
        return f"def {name}({', '.join(parts)}){returns}:\n" + textwrap.indent(text, "    ") + "\n"

    def declared_copies(self, then_lines: list[str], else_lines: list[str]) -> list[str]:
        """For a fully typed function: `name: T` before an `if` whose branches
        both bind `name`, one as a copy of a typed parameter (or its tangent).
        A type checker would take the other branch's value's type for the
        name's, of which the parameter's may be wider (`NDArray | float`)."""
        types = self.fn.types
        if types is None or not else_lines:
            return []
        known = dict(types.params)
        known.update({self.spelled[p.name]: types.params[p.name] for p in self.differentiable if p.name in self.spelled})
        try:
            blocks = [ast.parse("\n".join(block)).body for block in (then_lines, else_lines)]
        except SyntaxError:
            return []
        assigned = [[s for s in block if isinstance(s, ast.Assign)] for block in blocks]
        bound = [{t.id for s in block if isinstance(t := s.targets[0], ast.Name)} for block in assigned]
        declared = {}
        for assign in [*assigned[0], *assigned[1]]:
            name, value = assign.targets[0], assign.value  # a copy: `name = parameter`
            if not isinstance(name, ast.Name) or not isinstance(value, ast.Name) or len(assign.targets) != 1:
                continue
            if value.id in known and all(name.id in names for names in bound):
                declared[name.id] = known[value.id]
        return [f"{name}: {type_text}" for name, type_text in declared.items()]

    def annotations(self, dots: list[str]) -> tuple[list[str], str]:
        """The tangent parameters and the return annotation: for a fully typed
        function, each tangent has its parameter's type, each output's tangent
        its output's (an HVP's, the gradients' of the backward it differentiates)."""
        types = self.fn.types
        if types is None:
            return dots, ""
        parts = [f"{dot}: {types.params[p.name]}" for dot, p in zip(dots, self.differentiable)]
        if self.hvp:
            # A gradient's tangent seeded by np.zeros_like is an array even where its
            # parameter is a number or a list: those are not promised.
            returned = typed.outputs(types, len(self.fn.outputs)) or []
            honest = ["Any" if t in _NOT_ARRAYS or t.startswith(("list[", "List[")) else t for t in returned]
            if not honest:
                return parts, ""
            return parts, f" -> {honest[0]}" if len(honest) == 1 else f" -> tuple[{', '.join(honest)}]"
        outputs = typed.outputs(types, len(self.fn.outputs))
        if outputs is None:
            return dots, ""
        value = outputs[0] if len(outputs) == 1 else f"tuple[{', '.join(outputs)}]"
        # a held output (a returned cache) has no tangent: None
        dots_types = ["None" if o in self.fn.held else t for o, t in zip(self.fn.outputs, outputs)]
        tangent = dots_types[0] if len(dots_types) == 1 else f"tuple[{', '.join(dots_types)}]"
        return parts, f" -> tuple[{value}, {tangent}]"

    def shape_checks(self, code: list[str]) -> list[str]:
        """With assert_shapes: the annotated parameters' shapes, and their tangents'."""
        from codegen.emit.module import parameter_checks

        fn = self.fn
        if not fn.annotated:
            return []
        np_name = self.modules["np"]
        self.used_modules.add("np")
        tangents = [
            assertions.same_shape(self.spelled[p.name], p.name, bool(fn.annotated[p.name]), np_name)
            for p in self.differentiable
            if p.name in fn.annotated
        ]
        checks = parameter_checks(fn, [*code, *tangents], np_name)
        return [*checks, *tangents]


def _calls(expr: ast.expr, name: str) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == name
