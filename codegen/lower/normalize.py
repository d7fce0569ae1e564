"""Normalise a forward function into staged, single-assignment form.

Each source statement becomes one or more stages: reassigned names are renamed
apart (`x`, `x_1`, ...), nested expressions whose derivative needs an inner
value are split into named intermediates, and everything that is never
differentiated (constants, shape arithmetic, indices) stays a plain leaf.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from codegen import ir
from codegen.ad.rules import HELPER_ROWS, RULES, Rule, Unsupported
from codegen.errors import CodegenError, Collector
from codegen.infer import bindings, kinds, lattice
from codegen.infer.dims import Dims, Shape, parse_dims
from codegen.infer.shape_check import Either, ShapeCheck
from codegen.infer.shapes import SCALAR, SHAPED_BY_OPERANDS, Ranks, ShapeKeys
from codegen.lower.containers import ContainerLowering
from codegen.lower.flow import FlowLowering, preorder
from codegen.lower.scatter import ScatterLowering, is_add_at
from codegen.lower.shift import drop_shift_gradients
from codegen.lower.softmax import int_axis, recognise_softmax
from codegen.lower.stacks import ROWS as LIST_ROWS
from codegen.lower.stacks import USES, StackLowering, appends, is_append
from codegen.naming import CALLED_BUILTINS, Names, identifiers_and_bindings, temp_name
from codegen.read import resolve, validate
from codegen.read.parse import Function, ModuleInfo

_BINOPS: dict[type[ast.operator], tuple[str, ast.operator]] = {
    ast.Add: ("add", ast.Add()),
    ast.Sub: ("sub", ast.Sub()),
    ast.Mult: ("mul", ast.Mult()),
    ast.Div: ("div", ast.Div()),
    ast.Pow: ("pow", ast.Pow()),
    ast.MatMult: ("matmul", ast.MatMult()),
    ast.Mod: ("mod", ast.Mod()),
}
_CONSTANT_ANNOTATIONS = {"int", "bool", "str"}
_OPERATOR_NAMES: dict[type[ast.operator], str] = {
    ast.FloorDiv: "//",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
# How error messages name expressions that have no derivative.
_KINDS: dict[type[ast.AST], str] = {
    ast.Tuple: "tuple",
    ast.List: "list",
    ast.Dict: "dict",
    ast.Set: "set",
    ast.JoinedStr: "f-string",
    ast.Starred: "starred",
    ast.Compare: "comparison",
}
_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr, ast.Pass, ast.Assert)


_LOAD = ast.Load()


def slot(i: int) -> ast.Name:
    return ast.Name(f"__{i}__", ast.Load())


class Normaliser(FlowLowering, StackLowering, ScatterLowering, ContainerLowering):
    """Lowers one function, as Python parsed it, into an `ir.Function`."""

    def __init__(
        self,
        info: ModuleInfo,
        function: Function,
        collector: Collector,
        wrt: set[str] | None,
        forward: bool = False,
    ) -> None:
        self.info = info
        self.forward = forward  # forward mode: lists may be appended to and popped
        self.function = function
        self.collector = collector
        self.wrt = wrt
        self.arrays = self.kinds_of(function).arrays  # whether a value nothing settles may be an array
        self.env: dict[str, str] = {}
        self.bound: set[str] = set()
        self._activity: dict[tuple[int, int, int, int], tuple[ast.AST, bool]] = {}
        self.blocks: list[list[ir.Statement]] = []
        self.loops: list[ir.Loop] = []
        self.guards: list[ast.expr] = []
        self.temps: set[str] = set()
        self.stack: list[str] = [function.name]
        self.return_names: list[str] | None = None
        self.logdet_call = False  # lowering np.linalg.slogdet(a) for its logdet alone
        self.by_default: list[str] = []  # parameters taken to be numbers only by their number defaults
        self.displays: set[str] = set()  # names bound to a list display of differentiated values
        self.callables: dict[str, str] = {}  # local name -> the function it stands for (`exp = math.exp`)
        self.return_bound: set[str] = set()
        self.active: set[str] = set()
        self.lists: set[str] = set()
        self.maybe_lists: set[str] = set()  # parameters read element by element, list or array
        self.stacks: set[str] = set()
        self.ints: set[str] = set()
        self.masks: set[str] = set()  # names bound to comparisons: boolean masks
        self.param_names: set[str] = set()
        self.numbers: set[str] = set()  # ints, and parameters known to be numbers
        self.annotated: dict[str, Shape] = {}  # parameter -> the shape its annotation declares
        self.dims = Dims(self.numbers)
        self.shapes = ShapeKeys(self.numbers, self.dims)
        self.ranks = Ranks(self.numbers, self.dims)
        self.declared: set[str] = set()  # parameters annotated int, float or bool
        self.borrowed: set[str] = set()  # the caller's names an inlined function's parameters stand for
        self.check = ShapeCheck(self.dims, Either(self.ints, self.declared))
        self.hint = "t"
        self.drawn: dict[int, str] = {}  # the random draws of the statement being lowered, by call
        self.draws: set[str] = set()  # every name bound to a draw
        self.body: list[ir.Statement] = []
        self.origins: list[str] = []
        self.comments: dict[int, str] = {}  # origin -> the comment after its statement
        used, self.user_names = identifiers_and_bindings(function)
        self.names = Names(used | set(info.aliases) | set(info.functions) | set(info.constants) | info.imported_names)

    # ---- errors ---------------------------------------------------------------
    def fail(self, node: ast.AST, message: str) -> CodegenError:
        line, column = self.info.position(node)
        return self.collector.error(line, column, message)

    # ---- kinds -------------------------------------------------------------------
    def kinds_of(self, function: Function) -> kinds.Kinds:
        """What `function`'s own code says its values are (the forward function's, or
        an inlined callee's); contradicting evidence is an error at its position."""
        try:
            return kinds.infer(self.info, function)
        except kinds.KindError as exc:
            raise self.fail(exc.node, exc.message)

    def kind(self, node: ast.AST) -> lattice.Kind:
        """The kind of the user's expression `node`, in the function being lowered."""
        return self.kinds_of(self.info.functions.get(self.stack[-1], self.function)).of(node)

    def is_number(self, node: ir.Node) -> bool:
        return self.shapes.key(node) == SCALAR

    # ---- conversion of code that is never differentiated -------------------------
    def to_ast(self, node: ast.expr, hoist: bool = True) -> ast.expr:
        """The user's expression `node`, never differentiated, as the output writes it:
        a copy with the names renamed, and calls to module functions inlined (the
        output does not define them). With `hoist`, each random draw is computed
        first and named, so that code reading the expression again (a derivative,
        a test the backward repeats) reads the same draw."""
        env = self.env

        def renamed(name: ast.Name) -> ast.expr:
            return ast.Name(env.get(name.id, name.id), _LOAD)

        def inlined(call: ast.Call) -> ast.expr | None:
            if hoist and resolve.is_draw(call, self.info, env):
                return ast.Name(self.draw(call), _LOAD)
            result = self.inline_constant_call(call)
            return None if result is None else ast.Name(env.get(result, result), _LOAD)

        copy = ir.copy_with(node, renamed, inlined)
        assert isinstance(copy, ast.expr)
        return copy

    def draw(self, call: ast.Call) -> str:
        """`rand = np.random.rand(3)` in the current block, the first time the
        statement being lowered copies the call: the name of the draw."""
        if id(call) in self.drawn:
            return self.drawn[id(call)]
        func = call.func
        target = self.new_temp(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "draw"))
        args = [self.to_ast(a) for a in call.args]  # draws among them come first
        keywords = [ast.keyword(k.arg, self.to_ast(k.value)) for k in call.keywords]
        copied = ast.Call(self.to_ast(func), args, keywords)
        self.body.append(ir.Plain(ast.Assign([ast.Name(target, ast.Store())], copied), len(self.origins) - 1))
        self.drawn[id(call)] = target
        self.draws.add(target)
        return target

    def inline_constant_call(self, call: ast.Call) -> str | None:
        """For a call of a module function inside code that is never differentiated
        (a test, `h(x) // 1`): its body inlined, and the name of its result."""
        func = call.func
        if not (isinstance(func, ast.Name) and func.id in self.info.functions):
            return None
        name = self.resolve(func) or ""
        if not name.startswith("user.") or name[len("user."):] in self.info.primitives:
            return None
        results = self.inline(call, name[len("user."):], None)
        if len(results) != 1:
            raise self.fail(call, "a function returning several values cannot be used in an expression")
        result = results[0].expr
        assert isinstance(result, ast.Name)
        self.env.setdefault(result.id, result.id)
        return result.id

    def resolve(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name) and self.env.get(func.id) in self.callables:
            return self.callables[self.env[func.id]]  # `sqrt = np.sqrt` earlier in the function
        name = resolve.call_name(func, self.info, self.env)
        if name == "user._unbroadcast" and self.info.is_generated:
            return "numpy.unbroadcast"  # our own helper, met again in generated code
        if name is not None and name[len("user."):] in SHAPED_BY_OPERANDS.values() and self.info.is_generated:
            return "codegen.shape"  # our own shape helper, met again in generated code
        if name == "user._digamma" and self.info.is_generated:
            return "digamma"
        if name is not None and name[len("user."):] in HELPER_ROWS and self.info.is_generated:
            return HELPER_ROWS[name[len("user."):]]
        if name == "user._kept_writes" and self.info.is_generated:
            return "codegen.shape"  # a mask of the writes kept: never differentiated
        return name

    # ---- activity -------------------------------------------------------------
    def is_active(self, node: ast.AST) -> bool:
        """Whether `node`'s value depends differentiably on a parameter."""
        key = (id(node), id(self.env), len(self.env), len(self.active))
        cached = self._activity.get(key)
        if cached is None or cached[0] is not node:
            cached = self._activity[key] = (node, self.compute_activity(node))
        return cached[1]

    def compute_activity(self, node: ast.AST) -> bool:
        if isinstance(node, ast.BinOp):
            return not isinstance(node.op, ast.FloorDiv) and (self.is_active(node.left) or self.is_active(node.right))
        if isinstance(node, ast.Name):
            return self.env.get(node.id, "") in self.active
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
            if isinstance(node.value, ast.Name) and node.value.id not in self.env:
                return False  # a module attribute such as math.pi
            return self.is_active(node.value)
        if isinstance(node, ast.Subscript):
            return self.is_active(node.value)
        if isinstance(node, ast.Call):
            name = self.resolve(node.func)
            if name in resolve.CONSTANT_FUNCTIONS:
                return False
            if name == "method.astype" and resolve.cast_kind(node, self.info, self.env) == "constant":
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

    # ---- lowering expressions -------------------------------------------------
    def lower(self, node: ast.expr) -> ir.Node:
        lowered = self.lower_node(node)
        if isinstance(lowered, ir.Op) and not self.forward and lowered.rule.name not in LIST_ROWS:
            for arg in lowered.args:
                if isinstance(arg, ir.Leaf) and arg.var in self.stacks and arg.index is None:
                    label = self.info.code(node).strip()
                    listed = next((n for n, v in self.env.items() if v == arg.var), arg.var)
                    message = f"{label}: a list built with append is read here as a whole: read it as {USES.format(listed)}"
                    raise self.fail(node, message)
        return lowered

    def lower_node(self, node: ast.expr) -> ir.Node:
        if not self.is_active(node):
            leaf = ir.Leaf(self.to_ast(node))
            leaf.number = self.kind(node).is_number
            return leaf
        if isinstance(node, ast.Subscript):
            leaf = self.lower_subscript(node)
            leaf.number = self.kind(node).is_number
            return leaf
        if isinstance(node, ast.Name):
            var = self.env[node.id]
            return ir.Leaf(ast.Name(var, ast.Load()), var)
        if isinstance(node, ast.BinOp):
            return self.lower_binary(node)
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise self.fail(node, "no derivative rule for ~")
            name = "neg" if isinstance(node.op, ast.USub) else "pos"
            op = ast.USub() if name == "neg" else ast.UAdd()
            return self.op(name, [self.lower(node.operand)], {}, ast.UnaryOp(op, slot(0)), self.kind(node).is_number)
        if isinstance(node, ast.Call):
            return self.lower_call(node)
        if isinstance(node, ast.Attribute):
            return self.lower_attribute(node)
        if isinstance(node, ast.IfExp):
            return self.lower_ifexp(node)
        if isinstance(node, ast.BoolOp):
            raise self.fail(node, "`and`/`or` on differentiated values are not supported: use `if`")
        if isinstance(node, (ast.List, ast.Tuple)):
            return self.lower_display(node)
        raise self.fail(node, f"cannot differentiate {_KINDS.get(type(node), type(node).__name__)} expressions")

    def op(
        self, name: str, args: list[ir.Node], keywords: dict[str, ast.expr], spelling: ast.expr, number: bool = False
    ) -> ir.Op:
        """An operation of row `name` on numbers, or of its array twin `numpy.<name>`
        where an operand may be an array (`number`: the result is proved a number)."""
        if self.may_be_array(args, number) and f"numpy.{name}" in RULES:
            name = f"numpy.{name}"
        return ir.Op(RULES[name], args, keywords, spelling)

    def may_be_array(self, args: list[ir.Node], number: bool = False) -> bool:
        return self.arrays and not number and not all(self.is_number(a) for a in args)

    def lower_ifexp(self, node: ast.IfExp) -> ir.Node:
        """`a if c else b` as an `if` statement: only the branch taken is computed,
        in the forward pass and in the backward."""
        test = self.to_ast(node.test)
        target = self.new_temp(f"{self.hint}_choice")
        origin = len(self.origins) - 1
        blocks: list[list[ir.Statement]] = []
        numbers: list[bool] = []
        self.guards.append(test)
        try:
            for branch in (node.body, node.orelse):
                outer = self.body
                self.blocks.append(outer)
                self.body = []
                try:
                    lowered = self.lower(branch)
                    numbers.append(self.is_number(lowered))
                    self.bind_to(target, lowered, origin)
                finally:
                    self.blocks.pop()
                    blocks.append(self.body)
                    self.body = outer
        finally:
            self.guards.pop()
        self.body.append(ir.If(test, blocks[0], blocks[1], origin))
        self.shapes.keys[target] = SCALAR if all(numbers) else target  # a number either way
        self.ranks.ranks.pop(target, None)
        return ir.Leaf(ast.Name(target, ast.Load()), target if target in self.active else None)

    def bind_to(self, target: str, lowered: ir.Node, origin: int) -> None:
        """`target = lowered` in the current block, `target` already bound (both branches)."""
        if isinstance(lowered, ir.Leaf) and lowered.var is None:
            self.body.append(ir.Plain(ast.Assign([ast.Name(target, ast.Store())], lowered.expr), origin))
            return
        if isinstance(lowered, ir.Leaf):
            lowered = self.op("pos", [lowered], {}, slot(0))
        self.body.append(ir.Stage(target, self.stage_children(lowered, origin), origin))
        self.active.add(target)

    def lower_binary(self, node: ast.BinOp) -> ir.Node:
        kind = type(node.op)
        if kind not in _BINOPS:
            raise self.fail(node, f"no derivative rule for the {_OPERATOR_NAMES.get(kind, kind.__name__)} operator")
        sigmoid = self.sigmoid_argument(node)
        if sigmoid is not None:
            number = self.kind(node).is_number
            return self.op("sigmoid", [self.lower(sigmoid)], {}, self.sigmoid_spelling(node), number)
        softmax = self.softmax_parts(node)
        if softmax is not None:
            rule, operand, axis = softmax
            renamed = self.to_ast(operand)
            assert isinstance(renamed, ast.Name)
            spelling = _with_slot(self.to_ast(node), renamed.id)
            return ir.Op(RULES[rule], [self.lower(operand)], {"axis": axis}, spelling)
        return self.binary(node, kind, self.lower(node.left), self.lower(node.right))

    def softmax_parts(self, node: ast.BinOp) -> tuple[str, ast.Name, ast.expr] | None:
        """("numpy.normalize", e, axis) for `e / np.sum(e, axis, keepdims=True)`, and
        ("numpy.log_softmax", s, axis) for `s - np.log(np.sum(np.exp(s), axis, keepdims=True))`."""
        if not self.arrays or not isinstance(node.left, ast.Name):
            return None
        name = node.left.id
        if isinstance(node.op, ast.Div):
            axis = self.kept_sum_axis(node.right, lambda e: isinstance(e, ast.Name) and e.id == name)
            return None if axis is None else ("numpy.normalize", node.left, axis)
        if isinstance(node.op, ast.Sub):
            log = node.right
            if not (_one_argument(log) and self.resolve(log.func) == "numpy.log"):  # type: ignore[attr-defined]
                return None

            def is_exp(e: ast.expr) -> bool:
                if not (_one_argument(e) and self.resolve(e.func) == "numpy.exp"):  # type: ignore[attr-defined]
                    return False
                inner = e.args[0]  # type: ignore[attr-defined]
                return isinstance(inner, ast.Name) and inner.id == name

            axis = self.kept_sum_axis(log.args[0], is_exp)  # type: ignore[attr-defined]
            return None if axis is None else ("numpy.log_softmax", node.left, axis)
        return None

    def kept_sum_axis(self, node: ast.expr, operand: Callable[[ast.expr], bool]) -> ast.expr | None:
        """The axis of `np.sum(x, axis=k, keepdims=True)` (or `np.sum(x)`) when `operand(x)`."""
        if not isinstance(node, ast.Call) or self.resolve(node.func) != "numpy.sum":
            return None
        positional = node.args
        keywords = {k.arg: k.value for k in node.keywords}
        if len(positional) != 1 or not operand(positional[0]) or set(keywords) - {"axis", "keepdims"}:
            return None
        if "axis" not in keywords:
            return None if "keepdims" in keywords else ast.Constant(None)
        kept = keywords.get("keepdims")
        if not (isinstance(kept, ast.Constant) and kept.value is True):
            return None
        axis = self.static(keywords["axis"], "np.sum")
        return axis if int_axis(axis) is not None else None  # `axis=-1` too

    def binary(self, node: ast.AST, kind: type[ast.operator], left: ir.Node, right: ir.Node) -> ir.Node:
        name, op = _BINOPS[kind]
        number = isinstance(node, (ast.BinOp, ast.AugAssign)) and self.kind(node).is_number
        arrays = name == "matmul" or self.may_be_array([left, right], number)  # `v @ w` may be a number
        if (
            name == "mul"
            and isinstance(left, ir.Leaf)
            and isinstance(right, ir.Leaf)
            and left.var is not None
            and ast.dump(left.expr) == ast.dump(right.expr)
        ):
            rule_name = "numpy.mul.self" if arrays else "mul.self"
            return ir.Op(RULES[rule_name], [left], {}, ast.BinOp(slot(0), op, slot(0)))
        if isinstance(left, ir.Leaf) and isinstance(right, ir.Leaf) and left.var is None and right.var is None:
            return ir.Leaf(ast.BinOp(left.expr, op, right.expr))
        rule_name = f"numpy.{name}" if arrays and f"numpy.{name}" in RULES else name
        if rule_name not in RULES:
            raise self.fail(node, f"no derivative rule for the {name} operator")
        if rule_name == "numpy.add" and isinstance(left, ir.Op) and left.rule.name in ("numpy.add", "numpy.add.n"):
            # a + b + c: one sum of three terms (the spelling keeps the grouping)
            spelling = ast.BinOp(ir.clone(left.spelling), op, slot(len(left.args)))
            return self.checked(node, ir.Op(RULES["numpy.add.n"], [*left.args, right], {}, spelling))
        return self.checked(node, ir.Op(RULES[rule_name], [left, right], {}, ast.BinOp(slot(0), op, slot(1))))

    def checked(self, node: ast.AST, op: ir.Op) -> ir.Op:
        """`op`, refused at `node` when the known shapes prove it fails."""
        problem = self.check.operation(op)
        if problem is not None:
            raise self.fail(node, f"shape mismatch: {problem}")
        return self.with_ranks(node, op)

    def with_ranks(self, node: ast.AST, op: ir.Op) -> ir.Op:
        """Matrix products (and the other rows computed per call) differentiate by
        their operands' ranks, where known."""
        if op.rule.computed is not None and not op.rule.variadic:
            for i, arg in enumerate(op.args):
                op.keywords[f"__rank{i}__"] = ast.Constant(self.ranks.rank(arg))
            try:
                ir.templates(op)
            except Unsupported as exc:
                where = f"{self.info.code(node.func).strip()}: " if isinstance(node, ast.Call) else ""
                raise self.fail(node, f"{where}{exc}")
        return op

    def sigmoid_argument(self, node: ast.BinOp) -> ast.expr | None:
        """`z` when `node` is `1 / (1 + exp(-z))`, spelled with math or numpy."""
        if not isinstance(node.op, ast.Div) or not _is_one(node.left):
            return None
        den = node.right
        if not (isinstance(den, ast.BinOp) and isinstance(den.op, ast.Add)):
            return None
        call = den.right if _is_one(den.left) else den.left if _is_one(den.right) else None
        if not _one_argument(call):
            return None
        if self.resolve(call.func) not in ("math.exp", "numpy.exp"):  # type: ignore[union-attr]
            return None
        return _negated(call.args[0])  # type: ignore[union-attr]

    def sigmoid_spelling(self, node: ast.BinOp) -> ast.expr:
        tree = self.to_ast(node)
        assert isinstance(tree, ast.BinOp)
        den = tree.right
        assert isinstance(den, ast.BinOp)
        call = den.right if isinstance(den.right, ast.Call) else den.left
        assert isinstance(call, ast.Call)
        call.args = [ast.UnaryOp(ast.USub(), slot(0))]
        return tree

    def lower_call(self, node: ast.Call) -> ir.Node:
        name = self.resolve(node.func)
        label = self.info.code(node.func).strip()
        missing = resolve.unimported_module(node.func, self.info, self.env)
        if missing is not None:
            head = label.split(".", 1)[0]
            suggestion = f"import {missing}" if head == missing else f"import {missing} as {head}"
            raise self.fail(node, f"{label}: {head} is not imported (add `{suggestion}` at the top of the module)")
        if name is None or name in resolve.CONSTANT_FUNCTIONS:
            raise self.fail(node, f"no derivative rule for {label}")
        if name.startswith("user.") and name[len("user."):] in self.info.primitives:
            return self.user_rule_call(node, name[len("user."):])
        if name == "method.pop" and self.forward:
            return self.pop_call(node)
        if name == "method.pop":
            raise self.fail(node, f"{label}() is not supported in reverse mode: read the element by its index ({label[:-4]}[-1])")
        whole = self.whole_list(node, name)
        if whole is not None:
            return whole
        if name == "method.astype" and resolve.cast_kind(node, self.info, self.env) == "unknown":
            raise self.fail(
                node, f"{label}: write its dtype literally (float, np.float32, int, bool) to tell if a gradient passes"
            )
        if name.startswith("user."):
            outputs = self.inline(node, name[len("user."):], None)
            if len(outputs) != 1:
                raise self.fail(node, f"{label} returns {len(outputs)} values: unpack them into names")
            return outputs[0]
        if _has_stars(node):
            raise self.fail(node, f"*args in a call to {label} are not supported")
        positional = list(node.args)
        method = name.startswith("method.")
        if method:
            assert isinstance(node.func, ast.Attribute)
            positional.insert(0, node.func.value)
        keyword_names = {k.arg for k in node.keywords}
        arrays = self.arrays and not self.kind(node).is_number
        rule_name = resolve.rule_for(name, len(positional) + int("axes" in keyword_names), arrays)
        if rule_name is None:
            raise self.fail(node, f"no derivative rule for {label}")
        rule = RULES[rule_name]
        if rule.variadic:
            return self.lower_variadic(node, rule, positional, label)
        if rule_name == "numpy.linalg.slogdet" and not self.logdet_call:
            raise self.fail(
                node,
                f"{label} returns (sign, logdet): unpack it (`sign, logdet = {label}(a)`) or index it ({label}(a)[1])",
            )
        if rule_name in ("max", "min") and len(positional) > 2:
            raise self.fail(node, f"{label} with more than two arguments is not supported")
        count = len(rule.args)
        if len(positional) < count:
            raise self.fail(node, f"{label} needs {count} operands")
        operands, extra = positional[:count], positional[count:]
        statics: dict[str, ast.expr] = {}
        slots_for_extra = list(rule.statics) + [k for k, _ in rule.keywords]
        if method and len(rule.statics) == 1 and len(extra) > 1:
            statics[rule.statics[0]] = ast.Tuple([self.static(e, label) for e in extra], ast.Load())
        else:
            if len(extra) > len(slots_for_extra):
                raise self.fail(node, f"{label} takes at most {count + len(slots_for_extra)} arguments here")
            for key, expr in zip(slots_for_extra, extra):
                statics[key] = self.static(expr, label)
        for keyword in node.keywords:
            key = keyword.arg or ""
            if key not in slots_for_extra:
                raise self.fail(keyword, f"keyword {key!r} of {label} is not supported")
            statics[key] = self.static(keyword.value, label, keyword)
        missing = [k for k in rule.statics if k not in statics]
        if missing:
            raise self.fail(node, f"{label} needs its {missing[0]} argument")
        squared = self.sum_of_squares(rule, operands, statics)
        if squared is not None:
            spelling = self.to_ast(node)
            assert isinstance(spelling, ast.Call)
            return ir.Op(RULES["numpy.sumsq"], [self.lower(squared)], {}, _with_square_slot(spelling, method))
        args = [self.lower_operand(o) if rule_name.startswith("numpy.") else self.lower(o) for o in operands]
        if rule.name in ("numpy.array", "numpy.asarray"):
            self.may_be_a_list(args[0])  # np.array(w) of a list w: its gradient is a list
        if f"{rule_name}.const" in RULES and not all(_is_active_node(a) for a in args):
            rule = RULES[f"{rule_name}.const"]
        # The operands are slots before the copy: copying them would inline calls again.
        shell = ast.Call(node.func, list(node.args), node.keywords)
        if method:
            assert isinstance(node.func, ast.Attribute)
            shell.func = ast.Attribute(slot(0), node.func.attr, _LOAD)
            shell.args[: count - 1] = [slot(i) for i in range(1, count)]
        else:
            shell.args[:count] = [slot(i) for i in range(count)]
        spelling = self.to_ast(shell)
        assert isinstance(spelling, ast.Call)
        return self.checked(node, ir.Op(rule, args, statics, spelling))

    def lower_operand(self, expr: ast.expr) -> ir.Node:
        """An operand of a numpy function: a list of appended values is read as np.array(xs)."""
        converted = self.as_array(expr)
        return converted if converted is not None else self.lower(expr)

    def user_rule_call(self, node: ast.Call, callee: str) -> ir.Node:
        """A call of `foo` whose derivative is the user's own `foo_backward` (or
        `foo_jvp` in forward mode)."""
        function = self.info.functions[callee]
        spec = function.args
        params = _parameters(spec)
        self.check_rule(node, callee, [p.arg for p, _, _ in params])
        if _has_stars(node) or spec.kwonlyargs or len(node.args) > len(params):
            raise self.fail(node, f"call to {callee} does not match its parameters")
        given = {p.arg: a for (p, _, _), a in zip(params, node.args)}
        given.update({k.arg: k.value for k in node.keywords if k.arg is not None})
        args: list[ir.Node] = []
        for param, default, _ in params:
            expr = given.get(param.arg, default)
            if expr is None:
                raise self.fail(node, f"call to {callee} is missing argument {param.arg!r}")
            lowered = self.lower(expr) if param.arg in given else ir.Leaf(self.to_ast(expr))
            if isinstance(lowered, ir.Op):
                origin = len(self.origins) - 1
                lowered = self.stage_children(lowered, origin)
                temp = self.new_temp(temp_name(lowered.rule.name, ir.operand_names(lowered), self.hint, self.forward))
                self.emit_stage(temp, lowered, origin)
                lowered = ir.Leaf(ast.Name(temp, ast.Load()), temp)
            args.append(lowered)
        names = tuple(p.arg for p, _, _ in params)
        rule = Rule(f"user.{callee}", names, tuple(ast.Name("g", ast.Load()) for _ in names), kind="other")
        spelling = ast.Call(ast.Name(callee, ast.Load()), [slot(i) for i in range(len(args))], [])
        return ir.Op(rule, args, {}, spelling)

    def check_rule(self, node: ast.Call, callee: str, params: list[str]) -> None:
        """Refuse a hand-written rule for the other mode, naming the one to write."""
        if self.forward and callee not in self.info.jvp_rules:
            dots = ", ".join(f"{p}_dot" for p in params)
            raise self.fail(
                node,
                f"{callee} has a hand-written {callee}_backward, which forward mode cannot use: "
                f"write {callee}_jvp({', '.join(params)}, {dots}) returning (value, tangent)",
            )
        if not self.forward and callee not in self.info.user_rules:
            raise self.fail(
                node,
                f"{callee} has a hand-written {callee}_jvp, which reverse mode cannot use: "
                f"write {callee}_backward({', '.join(params)}, dout) returning one gradient per parameter",
            )

    def sum_of_squares(self, rule: Rule, operands: list[ast.expr], statics: dict[str, ast.expr]) -> ast.expr | None:
        """`w` when the call is `np.sum(w * w)` or `np.sum(w ** 2)` over all axes (L2 terms)."""
        if rule.name != "numpy.sum" or statics or len(operands) != 1:
            return None
        inner = operands[0]
        if not isinstance(inner, ast.BinOp) or not isinstance(inner.left, ast.Name):
            return None
        if isinstance(inner.op, ast.Mult) and isinstance(inner.right, ast.Name):
            return inner.left if inner.left.id == inner.right.id else None
        if isinstance(inner.op, ast.Pow) and isinstance(inner.right, ast.Constant):
            return inner.left if type(inner.right.value) is int and inner.right.value == 2 else None
        return None

    def static(self, expr: ast.expr, label: str, where: ast.AST | None = None) -> ast.expr:
        """An argument that must not carry a gradient (a shape, an axis, a flag)."""
        if self.is_active(expr):
            raise self.fail(where or expr, f"this argument of {label} must not depend on a differentiated value")
        return self.to_ast(expr)

    def lower_variadic(
        self, node: ast.Call, rule: Rule, positional: list[ast.expr], label: str
    ) -> ir.Node:
        """`np.concatenate([a, b], axis=1)`, `np.stack(...)`: the operands come as one
        list; `np.einsum("ij,jk->ik", a, b)`: they follow the subscripts."""
        statics: dict[str, ast.expr] = {}
        if rule.statics:
            if not positional:
                raise self.fail(node, f"{label} needs its {rule.statics[0]} argument")
            statics[rule.statics[0]] = self.static(positional[0], label)
            elements = positional[1:]
            rest: list[ast.expr] = []
        else:
            if not positional or not isinstance(positional[0], (ast.List, ast.Tuple)):
                raise self.fail(node, f"{label} needs a literal list of arrays to differentiate")
            if any(isinstance(e, ast.Starred) for e in positional[0].elts):
                raise self.fail(node, f"starred elements in {label} are not supported")
            elements = list(positional[0].elts)
            rest = positional[1:]
        keys = [k for k, _ in rule.keywords]
        for key, expr in zip(keys, rest):
            statics[key] = self.static(expr, label)
        for keyword in node.keywords:
            if keyword.arg not in keys:
                raise self.fail(keyword, f"keyword {keyword.arg!r} of {label} is not supported")
            statics[keyword.arg] = self.static(keyword.value, label, keyword)
        args = [self.lower(e) for e in elements]
        op = ir.Op(rule, args, statics, ast.Constant(None))
        try:
            ir.templates(op)
        except Unsupported as exc:
            raise self.fail(node, f"{label}: {exc}")
        shell = ast.Call(node.func, list(node.args), node.keywords)  # operands as slots, not copied
        if rule.statics:
            shell.args[1:] = [slot(i) for i in range(len(args))]
        else:
            container = ast.List if isinstance(positional[0], ast.List) else ast.Tuple
            shell.args[0] = container([slot(i) for i in range(len(args))], ast.Load())
        spelling = self.to_ast(shell)
        assert isinstance(spelling, ast.Call)
        op.spelling = spelling
        return op

    def lower_attribute(self, node: ast.Attribute) -> ir.Node:
        attr = node.attr
        if attr not in ("T", "mT"):
            raise self.fail(node, f"cannot differentiate the attribute .{attr}")
        return self.op(f"numpy.{attr}", [self.lower(node.value)], {}, ast.Attribute(slot(0), attr, ast.Load()))

    def lower_subscript(self, node: ast.Subscript) -> ir.Node:
        parts = self.slogdet_parts(node.value)
        if parts is not None:
            index = node.slice.value if isinstance(node.slice, ast.Constant) else None
            if index not in (0, 1, -1, -2):
                raise self.fail(node, "np.linalg.slogdet(a) is indexed by 0 (the sign) or 1 (the logdet)")
            return parts[1] if index in (1, -1) else parts[0]
        if self.is_stack(node.value) and (isinstance(node.slice, ast.Tuple) or not bindings.number_index(node.slice)):
            label = self.info.code(node.value).strip()
            message = f"slicing a list built with append is not supported: stack it first (np.array({label})[...])"
            raise self.fail(node, f"{message} or index one element ({label}[i])")
        value = self.stack_leaf(node.value) if self.is_stack(node.value) else self.lower(node.value)
        if isinstance(value, ir.Op):
            origin = len(self.origins) - 1
            value = self.stage_children(value, origin)
            target = self.new_temp(temp_name(value.rule.name, ir.operand_names(value), self.hint, self.forward))
            if value.rule.name == "list":
                self.displays.add(target)  # `[z, z][1]`: a list, as `b = [z, z]` is
            self.emit_stage(target, value, origin)
            value = ir.Leaf(ast.Name(target, ast.Load()), target)
        elif self.arrays and value.var is not None and value.index is not None:
            # `x[0][1]`: the part `x[0]` is named first, then indexed again.
            target = self.new_temp(f"{value.var}_part")
            self.emit_stage(target, self.op("pos", [value], {}, slot(0)), len(self.origins) - 1)
            value = ir.Leaf(ast.Name(target, ast.Load()), target)
        if value.var is None or value.index is not None:
            raise self.fail(node, "cannot differentiate this indexing")
        var = value.var
        tree = self.to_ast(node)
        assert isinstance(tree, ast.Subscript)
        tree.value = ast.Name(var, ast.Load())
        problem = self.check.index(var, tree.slice)
        if problem is not None:
            raise self.fail(node, f"shape mismatch: {problem}")
        kind = self.kinds_of(self.function).param(var)
        if not self.arrays or (kind.is_sequence and var in self.param_names and bindings.number_index(tree.slice)):
            self.lists.add(var)  # a list of numbers: its gradient is a list
        elif bindings.number_index(tree.slice):
            self.may_be_a_list(ir.Leaf(tree.value, var))  # `x[i]`: a list, or an array
        basic = self.is_basic_index(tree.slice)
        return ir.Leaf(tree, var, tree.slice, basic)

    def may_be_a_list(self, node: ir.Node) -> None:
        """A parameter of unknown kind read as a list would be: if it is one, its
        gradient is turned into one before it is returned."""
        if isinstance(node, ir.Leaf) and node.var in self.param_names and node.index is None:
            kind = self.kinds_of(self.function).param(node.var)
            if kind.what == lattice.UNKNOWN or kind.what == lattice.LIST:
                self.maybe_lists.add(node.var)

    def is_basic_index(self, index: ast.expr) -> bool:
        """Whether `index` selects each element at most once (no integer arrays)."""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if any(_is_arange(part) for part in parts):
            # Paired with np.arange(N), the other index arrays (labels `y`)
            # cannot make two positions coincide.
            return True
        if sum(1 for part in parts if self.is_mask(part)) == 1:
            # A boolean mask picks each element once, and with slices and ints too.
            parts = [part for part in parts if not self.is_mask(part)]
        for part in parts:
            if isinstance(part, ast.Slice):
                continue
            if isinstance(part, ast.Constant) and (part.value is None or part.value is Ellipsis):
                continue
            if isinstance(part, ast.Attribute) and part.attr == "newaxis":
                continue
            if not self.is_int(part):
                return False
        return True

    def copied(self, name: str) -> ir.Leaf | None:
        """`x` when `name` is `x.copy()`, staged in this block: `out = x.copy()` then
        `out[mask] = v` writes into a copy of `x` anyway, and the gradient of `x` is
        then the upstream one with the mask zeroed, not zeros plus a copy of it."""
        for statement in reversed(self.body):
            if isinstance(statement, ir.Stage) and statement.target == name:
                value = statement.value
                if isinstance(value, ir.Op) and value.rule.name == "numpy.copy" and len(value.args) == 1:
                    source = value.args[0]
                    if isinstance(source, ir.Leaf) and source.var is not None and source.index is None:
                        return ir.Leaf(ast.Name(source.var, ast.Load()), source.var)
                return None
        return None

    def fits_written(self, value: ir.Node, base: str, index: ast.expr) -> bool:
        """Whether `a[index] = value` writes a value of the shape of `a[index]`: an
        elementwise function of `x[index]`, `x` of `a`'s shape (`out[mask] = 0.01 *
        x[mask]`), whose gradient then needs no summing back."""
        key = self.shapes.keys.get(base)
        if key is None or key == SCALAR:
            return False
        dumped = ast.dump(index)

        def fits(node: ir.Node) -> bool:
            if isinstance(node, ir.Leaf):
                if node.var is None or node.index is None or ast.dump(node.index) != dumped:
                    return False
                return self.shapes.keys.get(node.var, node.var) == key
            if node.rule.kind != "elementwise" or not node.rule.name.startswith("numpy."):
                return False
            operands = [a for a in node.args if self.shapes.key(a) != SCALAR]
            return bool(operands) and all(fits(a) for a in operands)

        return fits(value)

    def is_mask(self, expr: ast.expr) -> bool:
        """Whether `expr` is certainly a boolean mask: a comparison, or masks combined."""
        if isinstance(expr, ast.Compare):
            return True
        if isinstance(expr, ast.Name):
            return expr.id in self.masks
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Invert):
            return self.is_mask(expr.operand)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
            return self.is_mask(expr.left) and self.is_mask(expr.right)
        if isinstance(expr, ast.Call) and self.resolve(expr.func) in _MASK_FUNCTIONS:
            return True
        return False

    def is_int(self, expr: ast.expr) -> bool:
        """Whether `expr` is certainly a Python int (a literal, a size, a loop counter)."""
        if isinstance(expr, ast.Constant):
            return type(expr.value) is int
        if isinstance(expr, ast.Name):
            return expr.id in self.ints
        if isinstance(expr, ast.UnaryOp):
            return self.is_int(expr.operand)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)):
            return self.is_int(expr.left) and self.is_int(expr.right)
        if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Attribute):
            return expr.value.attr == "shape"
        if isinstance(expr, ast.Attribute):
            return expr.attr in ("ndim", "size")
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            return expr.func.id in ("len", "int")
        return False

    # ---- staging --------------------------------------------------------------
    def stage_children(self, node: ir.Node, origin: int) -> ir.Node:
        """Split off every child whose value the derivative of `node` needs."""
        if isinstance(node, ir.Leaf):
            return node
        node.args = [self.stage_children(a, origin) for a in node.args]
        for i, arg in enumerate(node.args):
            if isinstance(arg, ir.Op) and self.must_stage(node, i):
                target = self.new_temp(temp_name(arg.rule.name, ir.operand_names(arg), self.hint, self.forward))
                self.emit_stage(target, arg, origin)
                node.args[i] = ir.Leaf(ast.Name(target, ast.Load()), target)
        return node

    def must_stage(self, op: ir.Op, i: int) -> bool:
        parent = op.rule
        args = op.args
        child = args[i]
        assert isinstance(child, ir.Op)
        if child.rule.uses_out:
            return True
        if self.forward and child.rule.name.startswith("user."):
            return True  # foo_jvp gives the value and its tangent together: a stage of its own
        if parent.broadcast and _is_active_node(child) and self.shapes.summing(child, op) == "helper":
            # The gradient is summed back to the child's shape; a product's follows from its
            # operands', and an elementwise child sums it back at its own operands instead.
            if child.rule.name not in SHAPED_BY_OPERANDS and not child.rule.broadcast:
                return True
        name = parent.arg_name(i)
        parent_templates = ir.templates(op)
        needed = any(
            name in parent.names_in(j, t) for j, t in enumerate(parent_templates) if t is not None and _is_active_node(args[j])
        )
        if needed and not (_is_cheap(child) and not self.may_be_array(child.args)):
            return True
        # A compound gradient flowing into several arguments would be computed twice.
        fan_out = sum(1 for j, a in enumerate(child.args) if child.rule.flows(j) and _is_active_node(a))
        return fan_out > 1 and not _is_plain_gradient(parent_templates[i])

    def emit_stage(self, target: str, value: ir.Node, origin: int) -> None:
        self.body.append(ir.Stage(target, value, origin))
        self.active.add(target)
        self.shapes.record(target, value)
        self.ranks.record(target, value)
        self.dims.record(target, value)
        self.check.record(target, value)

    def new_temp(self, base: str) -> str:
        """A name for an intermediate the normaliser introduces (never the user's)."""
        name = self.new_binding(self.names.fresh(base))
        self.temps.add(name)
        return name

    def new_binding(self, name: str) -> str:
        """An SSA name for a new binding of `name`: each SSA name is bound once."""
        target = name if name not in self.bound and name not in CALLED_BUILTINS else self.names.fresh(name)
        self.bound.add(target)
        self.names.taken.add(target)
        if self.proved_number(name):
            self.numbers.add(target)
            self.shapes.keys[target] = SCALAR
        return target

    def proved_number(self, name: str) -> bool:
        """Whether the kinds prove every binding of the source name `name` a number."""
        return self.every_binding(name).is_number

    def every_binding(self, name: str) -> lattice.Kind:
        """What the kinds say every binding of the source name `name` is."""
        return self.kinds_of(self.info.functions.get(self.stack[-1], self.function)).every_binding(name)

    # ---- statements -----------------------------------------------------------
    def bind(self, name: str, node: ast.expr, origin: int, value: ir.Node | None = None) -> None:
        if value is None and not self.is_active(node):
            value = ir.Leaf(self.to_ast(node, hoist=False))  # evaluated once, and then read by name
        lowered = self.lower(node) if value is None else value
        self.assign(name, lowered, origin)

    def assign(self, name: str, lowered: ir.Node, origin: int) -> None:
        if isinstance(lowered, ir.Leaf) and lowered.var in self.stacks and lowered.index is None:
            self.env[name] = lowered.var  # `ys = xs`: another name for the same list
            return
        target = self.new_binding(name)
        self.hint = target
        if isinstance(lowered, ir.Leaf) and lowered.var is None:
            if self.is_int(lowered.expr):
                self.ints.add(target)
            if self.is_mask(lowered.expr):
                self.masks.add(target)
            if lowered.number or self.is_int(lowered.expr) or resolve.is_number(lowered.expr, self.numbers):
                self.numbers.add(target)
                self.shapes.keys[target] = SCALAR
            self.env[name] = target
            self.note_callable(target, lowered.expr)
            stmt = ast.Assign([ast.Name(target, ast.Store())], lowered.expr)
            self.body.append(ir.Plain(stmt, origin))
            return
        if isinstance(lowered, ir.Leaf):
            lowered = self.op("pos", [lowered], {}, slot(0))
        if lowered.rule.name == "list":
            self.displays.add(target)
        staged = self.stage_children(lowered, origin)
        self.env[name] = target
        self.emit_stage(target, staged, origin)

    def item_assign(self, target: ast.Subscript, value: ir.Node, origin: int) -> None:
        """`a[index] = v`: a new version of `a` (a copy, so that the old one and the
        caller's array stay intact) with `v` written in."""
        if not isinstance(target.value, ast.Name) or target.value.id not in self.env:
            raise self.fail(target, "item assignment is only supported on a named array")
        name = target.value.id
        old = self.env[name]
        tree = self.to_ast(target)
        assert isinstance(tree, ast.Subscript)
        index = tree.slice
        if old not in self.active and not _is_active_node(value):
            if old in self.param_names:
                self.assign(name, ir.Leaf(ast.parse(f"{old}.copy()", mode="eval").body), origin)
                tree.value = ast.Name(self.env[name], ast.Load())
            statement = ast.Assign([ast.Subscript(tree.value, index, ast.Store())], value_expr(value))
            self.body.append(ir.Plain(statement, origin))
            return
        fits = ast.Constant(self.fits_written(value, old, index))  # v has the shape of a[index]
        if isinstance(value, ir.Op):
            value = self.stage_children(value, origin)
            temp = self.new_temp(temp_name(value.rule.name, ir.operand_names(value), name, self.forward))
            self.emit_stage(temp, value, origin)
            value = ir.Leaf(ast.Name(temp, ast.Load()), temp)
        base = self.copied(old) or ir.Leaf(ast.Name(old, ast.Load()), old if old in self.active else None)
        unique = ast.Constant(self.is_basic_index(index))  # no position written twice
        keywords = {"index": index, "__unique__": unique, "__fits__": fits}
        op = ir.Op(RULES["setitem"], [base, value], keywords, ast.Constant(None))
        new = self.new_binding(name)
        self.env[name] = new
        self.emit_stage(new, op, origin)

    def origin(self, statement: ast.AST, prefix: str = "") -> int:
        code = self.info.code(statement).strip()
        self.origins.append(prefix + (code.splitlines()[0] if code else ""))
        one_line = isinstance(statement, ast.stmt) and statement.lineno == statement.end_lineno
        comment = self.info.comment_after(statement) if one_line and isinstance(statement, ast.stmt) else None
        if comment is not None:
            self.comments[len(self.origins) - 1] = comment  # the author's, kept on the line repeated
        return len(self.origins) - 1

    def statement(self, small: ast.stmt, prefix: str = "") -> list[str] | None:
        """Lower one simple statement; returns the outputs on `return`."""
        if isinstance(small, ast.Pass):
            return None
        drawn = isinstance(small, ast.Expr) and validate.draw_statement(small.value, self.info)
        if isinstance(small, ast.Expr) and not is_append(small) and not is_add_at(small) and not drawn:
            return None  # a docstring; the validator refused the rest
        origin = self.origin(small, prefix)
        self.drawn = {}  # a statement lowered again (an inlined body) draws again
        if drawn:
            assert isinstance(small, ast.Expr) and isinstance(small.value, ast.Call)
            self.draw(small.value)  # a draw nothing reads: named, and kept as its bare call
        elif isinstance(small, ast.Expr) and is_add_at(small):
            self.add_at_statement(small, origin)
        elif isinstance(small, ast.Expr):
            self.append_statement(small, origin)
        elif isinstance(small, ast.Assign):
            self.assign_statement(small, origin)
        elif isinstance(small, ast.AugAssign):
            self.aug_assign(small, origin)
        elif isinstance(small, ast.Return):
            return self.returns(small, origin)
        elif isinstance(small, ast.Assert):
            message = self.to_ast(small.msg) if small.msg is not None else None
            self.body.append(ir.Plain(ast.Assert(self.to_ast(small.test), message), origin))
        else:
            raise self.fail(small, f"{type(small).__name__} statements are not supported")
        return None

    def assign_statement(self, node: ast.Assign, origin: int) -> None:
        value = node.value
        targets = node.targets
        if len(targets) == 1 and isinstance(targets[0], (ast.Tuple, ast.List)):
            elements = targets[0].elts
            callee_name = (self.resolve(value.func) or "") if isinstance(value, ast.Call) else ""
            if callee_name.startswith("user.") and callee_name[len("user."):] in self.info.primitives:
                raise self.fail(node, f"{callee_name[5:]} has a hand-written rule: it must return one value")
            if isinstance(value, ast.Call) and callee_name.startswith("user."):
                hints = [e.id if isinstance(e, ast.Name) else "out" for e in elements]
                results = self.inline(value, callee_name[len("user."):], hints)
                if len(results) != len(elements):
                    raise self.fail(node, f"unpacking {len(results)} values into {len(elements)} names")
                for element, result in zip(elements, results):
                    if not isinstance(element, ast.Name):
                        raise self.fail(element, "only names can be unpacked into")
                    if result.var is not None and result.var in self.return_bound:
                        self.env[element.id] = result.var
                    else:
                        self.assign(element.id, result, origin)
                return
            names = [e.id for e in elements if isinstance(e, ast.Name)]
            parts = self.slogdet_parts(value) if len(names) == 2 == len(elements) and self.is_active(value) else None
            if parts is not None:
                for name, part in zip(names, parts):
                    self.assign(name, part, origin)
                return
            if not self.is_active(value) and all(isinstance(e, ast.Name) for e in elements):
                self.unpack_constant([e.id for e in elements], value, origin)  # type: ignore[attr-defined]
                return
            values = self.unpacked(value, len(elements))
            if values is None:
                if isinstance(value, ast.Call):
                    self.lower(value)  # an unknown function is the better message
                raise self.fail(node, "tuple unpacking needs a tuple of the same length on the right")
            lowered = [self.lower(e) for e in values]
            for element, low in zip(elements, lowered):
                if not isinstance(element, ast.Name):
                    raise self.fail(element, "only names can be unpacked into")
                self.assign(element.id, _clone_node(low), origin)
            return
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and isinstance(value, ast.Call):
            callee = self.resolve(value.func) or ""
            if callee.startswith("user.") and callee[len("user."):] not in self.info.primitives:
                results = self.inline(value, callee[len("user."):], [targets[0].id])
                if len(results) != 1:
                    raise self.fail(node, f"{callee[5:]} returns {len(results)} values: unpack them")
                var = results[0].var
                if var is not None and var in self.return_bound:
                    self.env[targets[0].id] = var
                else:
                    self.assign(targets[0].id, results[0], origin)
                return
        if len(targets) == 1 and isinstance(targets[0], ast.Subscript):
            self.item_assign(targets[0], self.lower(value), origin)
            return
        if isinstance(targets[0], ast.Name):
            self.hint = targets[0].id
        lowered_value = self.lower(value)
        for i, target in enumerate(targets):
            if not isinstance(target, ast.Name):
                raise self.fail(target, "assignment to anything but a name is not supported here")
            self.assign(target.id, _clone_node(lowered_value) if i < len(targets) - 1 else lowered_value, origin)

    def unpack_constant(self, names: list[str], value: ast.expr, origin: int) -> None:
        """`N, T, D = x.shape`: unpacking what is never differentiated."""
        expr = self.to_ast(value)
        targets = [self.new_binding(n) for n in names]
        if isinstance(expr, ast.Tuple) and len(expr.elts) == len(targets):
            for target, element in zip(targets, expr.elts):
                self.note_callable(target, element)  # `sqrt, tanh = np.sqrt, np.tanh`
        for name, target in zip(names, targets):
            self.env[name] = target
            if isinstance(expr, ast.Attribute) and expr.attr == "shape":
                self.ints.add(target)
                self.numbers.add(target)
        if isinstance(expr, ast.Attribute) and expr.attr == "shape" and isinstance(expr.value, ast.Name):
            self.ranks.ranks[expr.value.id] = len(names)
            self.dims.shapes.setdefault(expr.value.id, tuple(targets))
        tuple_target = ast.Tuple([ast.Name(t, ast.Store()) for t in targets], ast.Store())
        self.body.append(ir.Plain(ast.Assign([tuple_target], expr), origin))

    def aug_assign(self, node: ast.AugAssign, origin: int) -> None:
        kind = type(node.op) if type(node.op) in _BINOPS else None
        base = node.target.value if isinstance(node.target, ast.Subscript) else node.target
        if isinstance(base, ast.Name):
            self.hint = base.id  # intermediates are named after the target
        if isinstance(node.target, ast.Subscript) and kind is not None:
            value = self.binary(node, kind, self.lower(node.target), self.lower(node.value))
            self.item_assign(node.target, value, origin)
            return
        if not isinstance(node.target, ast.Name):
            raise self.fail(node.target, "augmented assignment to anything but a name is not supported")
        if kind is None:
            raise self.fail(node, "no derivative rule for this augmented assignment")
        lowered = self.binary(node, kind, self.lower(node.target), self.lower(node.value))
        self.assign(node.target.id, lowered, origin)

    def returns(self, node: ast.Return, origin: int) -> list[str]:
        value = node.value
        if value is None:
            raise self.fail(node, "return needs a value to differentiate")
        exprs = list(value.elts) if isinstance(value, ast.Tuple) else [value]
        outputs: list[str] = []
        for i, expr in enumerate(exprs):
            lists = self.displays | (set() if self.forward else self.stacks)
            listed = isinstance(expr, ast.List) or isinstance(expr, ast.Name) and self.env.get(expr.id) in lists
            if listed and len(self.stack) == 1:
                shown = self.info.code(expr).strip() if isinstance(expr, ast.Name) else "[...]"
                raise self.fail(expr, f"returning a list is not supported: return a tuple, or np.array({shown})")
            if isinstance(expr, ast.Name) and expr.id in self.env:
                outputs.append(self.env[expr.id])
                continue
            if self.return_names is not None and len(self.return_names) == len(exprs):
                base = self.return_names[i]
            else:
                base = "out" if len(exprs) == 1 else f"out{i + 1}"
                if len(self.stack) > 1:
                    base = f"{self.stack[-1]}_{base}"
            name = base if base not in self.bound else self.names.fresh(base)
            self.hint = name
            self.assign(name, self.lower(expr), origin)
            outputs.append(self.env[name])
            self.return_bound.add(self.env[name])
        return outputs

    # ---- calls to the module's own functions ----------------------------------
    def inline(self, call: ast.Call, callee_name: str, hints: list[str] | None) -> list[ir.Leaf]:
        """Lower the body of a module function in place of a call to it."""
        callee = self.info.functions[callee_name]
        if callee_name in self.stack:
            raise self.fail(call, f"recursive call to {callee_name} is not supported")
        before = len(self.collector.problems)
        validate.check_function(self.info, callee, self.collector)
        if len(self.collector.problems) > before:
            raise CodegenError(list(self.collector.problems))
        env = self.bind_arguments(call, callee)
        saved = (self.env, self.return_names, self.borrowed, self.drawn)
        self.env, self.return_names = env, hints
        self.borrowed = self.borrowed | set(env.values())  # the caller's: never rebound in place
        self.stack.append(callee_name)
        try:
            outputs: list[str] | None = None
            for statement in callee.body:
                if outputs is not None:
                    raise self.fail(statement, "code after the final return is not supported")
                if isinstance(statement, _SIMPLE):
                    outputs = self.statement(statement, prefix=f"{callee_name}: ")
                else:
                    self.lower_statement(statement, f"{callee_name}: ")
        finally:
            self.stack.pop()
            self.env, self.return_names, self.borrowed, self.drawn = saved
        assert outputs is not None
        return [ir.Leaf(ast.Name(o, ast.Load()), o if o in self.active else None) for o in outputs]

    def bind_arguments(self, call: ast.Call, callee: Function) -> dict[str, str]:
        """The callee's environment: each parameter bound to an SSA name of the caller."""
        spec = callee.args
        params = _parameters(spec)
        given: dict[str, ast.expr] = {}
        if _has_stars(call) or len(call.args) > len(spec.posonlyargs) + len(spec.args):
            raise self.fail(call, f"call to {callee.name} does not match its parameters")
        for (param, _, _), arg in zip(params, call.args):
            given[param.arg] = arg
        for keyword in call.keywords:
            given[keyword.arg or ""] = keyword.value
        env: dict[str, str] = {}
        origin = self.origin(call)
        appended = {listed for listed, _ in appends(callee.body)}
        for param, default, _ in params:
            name = param.arg
            expr = given.get(name, default)
            if expr is None:
                raise self.fail(call, f"call to {callee.name} is missing argument {name!r}")
            if isinstance(expr, ast.Name) and expr.id in self.env and (self.is_stack(expr) or name in appended):
                env[name] = self.env[expr.id]  # the same list: appends in the callee go to it
                continue
            lowered = self.lower(expr) if name in given else ir.Leaf(self.to_ast(expr))
            if isinstance(lowered, ir.Leaf) and lowered.var is not None and lowered.index is None:
                env[name] = lowered.var
                continue
            env[name] = self.bind_value(name, lowered, origin)
        return env

    def bind_value(self, name: str, lowered: ir.Node, origin: int) -> str:
        """Bind `lowered` to a fresh SSA name based on `name`, leaving `env` alone."""
        target = self.new_binding(name)
        if isinstance(lowered, ir.Leaf) and lowered.var is None:
            if lowered.number or self.is_int(lowered.expr) or resolve.is_number(lowered.expr, self.numbers):
                self.numbers.add(target)
                self.shapes.keys[target] = SCALAR
            self.body.append(ir.Plain(ast.Assign([ast.Name(target, ast.Store())], lowered.expr), origin))
            return target
        if isinstance(lowered, ir.Leaf):
            lowered = self.op("pos", [lowered], {}, slot(0))
        self.emit_stage(target, self.stage_children(lowered, origin), origin)
        return target

    # ---- parameters -----------------------------------------------------------
    def params(self) -> list[ir.Param]:
        params: list[ir.Param] = []
        for param, default, kind in _parameters(self.function.args):
            name = param.arg
            annotation = self.info.code(param.annotation).strip() if param.annotation else ""
            reason = ""
            if annotation in _CONSTANT_ANNOTATIONS:
                reason = f"annotated {annotation}"
            elif default is not None:
                reason = "has a default value"
            elif self.kinds_of(self.function).param(name).what == lattice.SETTING:
                reason = "a dict of settings"
            elif name in self.kinds_of(self.function).sizes:
                reason = "used as a size"
            if self.wrt is not None:
                reason = "" if name in self.wrt else "not listed in wrt"
            code = self.param_code(param, default)
            is_list = annotation.startswith(("list", "List"))
            dims = annotation_dims(param.annotation) if param.annotation else None
            if dims is not None:
                self.dims.shapes[name] = dims
            declared = declared_shape(param.annotation) if param.annotation else None
            if declared is not None and not _is_none(default):
                self.annotated[name] = declared
            if annotation in ("int", "float", "bool"):
                self.declared.add(name)
            if annotation == "int":
                self.ints.add(name)  # an index like a size: x[:, n] selects, never gathers
            if annotation in ("int", "float", "bool"):
                self.numbers.add(name)
            inferred = self.kinds_of(self.function).param(name)
            if _is_number_default(default) and inferred.what == lattice.UNKNOWN:
                self.numbers.add(name)  # taken to be a number, as its default is (the output checks it)
                self.by_default.append(name)
            if inferred.is_number:
                self.numbers.add(name)
                self.shapes.keys[name] = SCALAR
            elif inferred.what == lattice.ARRAY and inferred.rank is not None:
                self.ranks.ranks[name] = inferred.rank
            is_list = is_list or inferred.what == lattice.LIST
            params.append(ir.Param(name, code, not reason, reason, is_list, kind))
            self.env[name] = name
            self.bound.add(name)
            self.param_names.add(name)
            if not reason:
                self.active.add(name)
        return params

    def param_code(self, param: ast.arg, default: ast.expr | None) -> str:
        """The parameter as written: `x`, `w: "3"`, `reg=0.1`."""
        info = self.info
        if default is None or param.end_lineno is None or default.end_lineno is None:
            code = info.code(param)
            return code if default is None else f"{code}={info.code(default)}"
        return info.span(param.lineno, param.col_offset, default.end_lineno, default.end_col_offset)  # type: ignore[arg-type]

    def lower_statement(self, statement: ast.stmt, prefix: str) -> None:
        """Lower a statement inside a block (a branch or a loop body)."""
        self.drawn = {}
        if isinstance(statement, _SIMPLE):
            if self.statement(statement, prefix) is not None:
                # desugar leaves one return at the end, unless the returns differ in number.
                raise self.fail(statement, "every way through the function must end in a return of as many values")
        elif isinstance(statement, ast.If):
            self.if_statement(statement, prefix)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            self.for_statement(statement, prefix)
        elif isinstance(statement, ast.While):
            self.while_statement(statement, prefix)
        else:
            raise self.fail(statement, f"{type(statement).__name__} statements are not supported")

    def refused(self, statement: ast.stmt) -> bool:
        """Whether the validator already reported a problem inside `statement`."""
        if not self.collector.problems:
            return False
        first, last = statement.lineno, statement.end_lineno or statement.lineno
        return any(first <= p.line <= last for p in self.collector.problems if p.filename == self.collector.filename)

    def run(self) -> ir.Function:
        params = self.params()
        outputs: list[str] | None = None
        failed = False
        for statement in self.function.body:
            if outputs is not None:
                raise self.fail(statement, "code after the final return is not supported")
            try:
                if self.refused(statement):
                    raise CodegenError(list(self.collector.problems))
                if isinstance(statement, _SIMPLE):
                    outputs = self.statement(statement)
                else:
                    self.lower_statement(statement, "")
            except CodegenError:
                # Go on to report the problems of later statements too; names the
                # failed statement binds are taken as constants from here on.
                failed = True
                for name in _bound_names(statement):
                    self.env[name] = name
        if failed or outputs is None:
            raise CodegenError(list(self.collector.problems))
        upstream: list[str] = []
        for output in outputs:
            grad = self.names.grad(output)
            upstream.append(grad if grad not in upstream else self.names.fresh(grad))
        for param in params:
            if param.name in self.lists:
                param.is_list = True
        likes = self.array_likes(params)
        fn = ir.Function(
            name=self.function.name,
            params=params,
            body=self.body,
            outputs=outputs,
            upstream=upstream,
            origins=self.origins,
            comments=dict(self.comments),
            active=set(self.active),
            forced=set(self.wrt or ()),
            lists={p.name for p in params if p.is_list} | self.displays,  # gradients that are lists
            scalars=self.numbers,
            shape_keys=dict(self.shapes.keys),
            dims=dict(self.dims.shapes),
            annotated=dict(self.annotated),
            docstring=_docstring(self.function),
            names=self.names,
            temps=set(self.temps),
            draws=set(self.draws),
            user_names=set(self.user_names),
            stacks=set(self.stacks),
            list_values=set(self.lists),
            arrays=self.arrays,
            maybe_lists=self.maybe_lists - (self.lists - {p.name for p in params if p.is_list}),
            array_likes=likes,
            by_default=list(self.by_default),
            whole_lists={p for p in likes - self.lists if self.kinds_of(self.function).param(p).what == lattice.LIST},
        )
        if not self.forward:  # forward mode's tangents of the staged forms are the generic rules'
            recognise_softmax(fn, self.resolve)
        drop_shift_gradients(fn)
        return fn

    def array_likes(self, params: list[ir.Param]) -> set[str]:
        """The parameters that may be lists numpy reads as arrays: of no proved
        array or number kind, and only passed to calls or read element by element."""
        kinds = self.kinds_of(self.function)
        unsettled = {p.name for p in params if kinds.param(p.name).what in (lattice.UNKNOWN, lattice.SEQUENCE, lattice.LIST)}
        return bindings.read_only_by_calls(self.function, unsettled) if self.arrays else set()


def _negated(node: ast.expr) -> ast.expr | None:
    """`z` when `node` is `-z`, or `-a * b` (which is `-(a * b)`)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return node.operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        left = _negated(node.left)
        if left is not None:
            return ast.BinOp(left, node.op, node.right)
    return None


def _with_slot(spelling: ast.expr, operand: str) -> ast.expr:
    """`spelling` with every use of the name `operand` replaced by the operand's slot."""

    class _Slot(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return slot(0) if node.id == operand else node

    return _Slot().visit(spelling)


def _with_square_slot(spelling: ast.Call, method: bool) -> ast.Call:
    """`np.sum(w * w)` with `w` replaced by the operand's slot."""
    inner = spelling.func.value if method and isinstance(spelling.func, ast.Attribute) else spelling.args[0]
    assert isinstance(inner, ast.BinOp)
    inner.left = slot(0)
    if isinstance(inner.op, ast.Mult):
        inner.right = slot(0)
    return spelling


def _clone_node(node: ir.Node) -> ir.Node:
    if isinstance(node, ir.Leaf):
        return ir.Leaf(ir.clone(node.expr), node.var, ir.clone(node.index), node.basic, node.number)
    keywords = {k: ir.clone(v) for k, v in node.keywords.items()}
    return ir.Op(node.rule, [_clone_node(a) for a in node.args], keywords, ir.clone(node.spelling))


def _bound_names(statement: ast.stmt) -> list[str]:
    names: list[str] = []
    for node in preorder([statement]):
        if isinstance(node, ast.Assign):
            names += [n for target in node.targets for n in _names_in(target)]
        elif isinstance(node, ast.AugAssign):
            names += _names_in(node.target)
    return names


def _names_in(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n for e in node.elts for n in _names_in(e)]
    return []


def _parameters(spec: ast.arguments) -> list[tuple[ast.arg, ast.expr | None, str]]:
    """Each parameter with its default and kind (posonly, positional, kwonly)."""
    positional = [*spec.posonlyargs, *spec.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(spec.defaults)) + list(spec.defaults)
    kinds = ["posonly"] * len(spec.posonlyargs) + ["positional"] * len(spec.args)
    found = list(zip(positional, defaults, kinds))
    return found + [(p, d, "kwonly") for p, d in zip(spec.kwonlyargs, spec.kw_defaults)]


def _has_stars(call: ast.Call) -> bool:
    """`f(*xs)` or `f(**kw)`."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def _one_argument(node: ast.expr | None) -> bool:
    """Whether `node` is a call with one plain positional argument."""
    return (
        isinstance(node, ast.Call)
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Starred)
    )


def value_expr(node: ir.Node) -> ast.expr:
    """The expression of a constant node (an operation on constants written out)."""
    return ir.render(node)


def annotation_dims(annotation: ast.expr) -> Shape | None:
    """The symbolic shape a parameter annotation names, if any (`float` is a scalar)."""
    if isinstance(annotation, ast.Name) and annotation.id == "float":
        return ()
    return declared_shape(annotation)


def declared_shape(annotation: ast.expr) -> Shape | None:
    """The shape a string annotation declares: `"N D"`, `Float[np.ndarray, "N D"]`."""
    if isinstance(annotation, ast.Subscript):
        index = annotation.slice
        if isinstance(index, ast.Tuple) and len(index.elts) == 2 and not isinstance(index.elts[1], ast.Slice):
            annotation = index.elts[1]
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return parse_dims(annotation.value)
    return None


def _is_number_literal(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _is_number_default(node: ast.expr | None) -> bool:
    """`1e-5`, `-1.0`: a default that is a number."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return _is_number_literal(node)


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


_MASK_FUNCTIONS = frozenset({
    "numpy.logical_and", "numpy.logical_or", "numpy.logical_not", "numpy.logical_xor", "numpy.isnan",
    "numpy.isfinite", "numpy.isinf", "numpy.greater", "numpy.less", "numpy.greater_equal", "numpy.less_equal",
})  # fmt: skip


def _is_arange(node: ast.expr) -> bool:
    """`np.arange(...)` or `range(...)`: an index array without repeats."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("arange", "range")


def _is_one(node: ast.expr) -> bool:
    return _is_number_literal(node) and float(node.value) == 1.0  # type: ignore[attr-defined]


def _is_active_node(node: ir.Node) -> bool:
    if isinstance(node, ir.Leaf):
        return node.var is not None
    cached = getattr(node, "_active", None)
    if cached is None:
        cached = any(_is_active_node(a) for a in node.args)
        node._active = cached  # type: ignore[attr-defined]  # args are staged, never made active
    return cached


def _is_plain_gradient(template: ast.expr | None) -> bool:
    """`g` or `-g`: passing it on costs nothing."""
    if isinstance(template, ast.UnaryOp) and isinstance(template.op, ast.USub):
        template = template.operand
    return isinstance(template, ast.Name) and template.id == "g"


def _is_cheap(node: ir.Op) -> bool:
    """A product or negation of leaves: cheaper to repeat than to name."""
    return node.rule.name in ("mul", "neg", "numpy.mul", "numpy.neg") and all(isinstance(a, ir.Leaf) for a in node.args)




def _docstring(function: Function) -> str | None:
    body = function.body
    if body and validate.is_docstring(body[0]):
        return body[0].value.value  # type: ignore[attr-defined,no-any-return]
    return None


def normalise(
    info: ModuleInfo,
    function: Function,
    collector: Collector,
    wrt: set[str] | None,
    forward: bool = False,
) -> ir.Function:
    return Normaliser(info, function, collector, wrt, forward).run()
