"""Normalise a forward function into staged, single-assignment form.

Each source statement becomes one or more stages: reassigned names are renamed
apart (`x`, `x_1`, ...), nested expressions whose derivative needs an inner
value are split into named intermediates, and everything that is never
differentiated (constants, shape arithmetic, indices) stays a plain leaf.

The `Normaliser` holds the state of one lowering (names, tables, the body being
written) and lowers expressions; its parts, each a module of this package, hold it
as `n`: signature (parameters), statements, flow (if, for, while), copies (code
never differentiated), activity, calls, items, patterns (fused forms), inlining,
containers, stacks (append), scatter (np.add.at) and staging (intermediates).
"""

from __future__ import annotations

import ast

from codegen import ir
from codegen.ad.rules import HELPER_ROWS, RULES, Unsupported
from codegen.errors import CodegenError, Collector
from codegen.infer import constants, kinds, lattice
from codegen.infer.dims import Dims, Shape
from codegen.infer.shape_check import Either, ShapeCheck
from codegen.infer.shapes import SCALAR, SHAPE_HELPERS, Ranks, ShapeKeys
from codegen.lower.activity import Activity
from codegen.lower.calls import Calls
from codegen.lower.containers import ContainerLowering
from codegen.lower.copies import Copies
from codegen.lower.flow import FlowLowering
from codegen.lower.inlining import Inlining
from codegen.lower.items import Items
from codegen.lower.nodes import BINOPS, SIMPLE, slot
from codegen.lower.patterns import Patterns, with_slot
from codegen.lower.scans import bound_names
from codegen.lower.shift import drop_shift_gradients
from codegen.lower.signature import Signature
from codegen.lower.softmax import recognise_softmax
from codegen.lower.stacks import ROWS as LIST_ROWS
from codegen.lower.stacks import USES, StackLowering
from codegen.lower.staged_kinds import staged_kinds
from codegen.lower.staging import Staging
from codegen.lower.statements import Statements
from codegen.naming import Names, identifiers_and_bindings
from codegen.read import resolve, validate
from codegen.read.parse import Function, ModuleInfo

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


class Normaliser:
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
        self.blocks: list[list[ir.Statement]] = []
        self.loops: list[ir.Loop] = []
        self.guards: list[ast.expr] = []
        self.temps: set[str] = set()
        self.stack: list[str] = [function.name]
        self.return_names: list[str] | None = None
        self.logdet_call = False  # lowering np.linalg.slogdet(a) for its logdet alone
        self.by_default: list[str] = []  # parameters taken to be numbers only by their number defaults
        self.displays: set[str] = set()  # names bound to a list display of differentiated values
        self.tuples: set[str] = set()  # of those, the tuple displays (`cache = (x, w, b)`)
        self.held: list[str] = []  # returned tuples that are not differentiated (a layer's cache)
        self.dict_items: dict[str, dict[str, ir.Leaf]] = {}  # a dict passed to a helper that only reads its keys
        self.callables: dict[str, str] = {}  # local name -> the function it stands for (`exp = math.exp`)
        self.return_bound: set[str] = set()
        self.active: set[str] = set()
        self.lists: set[str] = set()
        self.maybe_lists: set[str] = set()  # parameters read element by element, list or array
        self.stacks: set[str] = set()
        self.ints: set[str] = set()
        self.loose_labels: set[str] = set()  # see Items.note_index
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
        self.made: set[str] = set()  # names bound to constant arrays of a shape the tables know
        self.shaped: set[str] = set()  # names carried by loops that keep their shapes (see FlowLowering.written_only)
        self.body: list[ir.Statement] = []
        self.origins: list[str] = []
        self.comments: dict[int, str] = {}  # origin -> the comment after its statement
        used, self.user_names = identifiers_and_bindings(function)
        self.names = Names(used | set(info.aliases) | set(info.functions) | set(info.constants) | info.imported_names)
        if forward:  # a parameter's tangent is `x_dot`, part of the jvp's signature: no temporary takes it
            self.names.keep({f"{a.arg}_dot" for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)})
        # The parts of the lowering, each in its module of codegen/lower/:
        self.signature = Signature(self)  # the parameters and their facts
        self.statements = Statements(self)  # assignments, return, assert
        self.flow = FlowLowering(self)  # if, for and while
        self.copies = Copies(self)  # code never differentiated, copied
        self.activity = Activity(self)  # which expressions depend on a parameter
        self.calls = Calls(self)  # calls of math and numpy functions
        self.items = Items(self)  # x[i] and a[index] = v
        self.patterns = Patterns(self)  # sigmoid, softmax, sum of squares
        self.inlining = Inlining(self)  # calls of the module's own functions
        self.containers = ContainerLowering(self)  # displays, unpacking, slogdet, local aliases
        self.appending = StackLowering(self)  # lists built with append, and pop
        self.staging = Staging(self)  # named intermediates and SSA names

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


    def resolve(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name) and self.env.get(func.id) in self.callables:
            return self.callables[self.env[func.id]]  # `sqrt = np.sqrt` earlier in the function
        name = resolve.call_name(func, self.info, self.env)
        if name == "user._unbroadcast" and self.info.is_generated:
            return "numpy.unbroadcast"  # our own helper, met again in generated code
        if name is not None and name[len("user."):] in SHAPE_HELPERS.values() and self.info.is_generated:
            return "codegen.shape"  # our own shape helper, met again in generated code
        if name == "user._digamma" and self.info.is_generated:
            return "digamma"
        if name is not None and name[len("user."):] in HELPER_ROWS and self.info.is_generated:
            return HELPER_ROWS[name[len("user."):]]
        if name in ("user._kept_writes", "user._item_zeros") and self.info.is_generated:
            return "codegen.shape"  # a mask of the writes kept, or zeros: never differentiated
        return name

    def record_constant(self, target: str, expr: ast.expr) -> None:
        """What the shape tables can tell of the constant array `expr` (copied: the
        output's names) bound to `target`."""
        own = {name: name for name in self.env.values()}  # the copy's names are the output's
        sources = {name: source for source, name in self.env.items()}

        def resolved(func: ast.expr) -> str | None:
            if isinstance(func, ast.Name) and func.id in self.callables:
                return self.callables[func.id]
            return resolve.call_name(func, self.info, own)

        def is_array(name: str) -> bool:
            return name in self.made or name in sources and self.every_binding(sources[name]).what == lattice.ARRAY

        if constants.record(target, expr, (self.shapes, self.ranks, self.dims), resolved, is_array):
            self.made.add(target)

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
        item = self.items.dict_item(node)
        if item is not None:
            return item
        if not self.activity.is_active(node):
            leaf = ir.Leaf(self.copies.to_ast(node))
            leaf.number = self.kind(node).is_number
            return leaf
        if isinstance(node, ast.Subscript):
            leaf = self.items.lower_subscript(node)
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
            return self.calls.lower_call(node)
        if isinstance(node, ast.Attribute):
            return self.calls.lower_attribute(node)
        if isinstance(node, ast.IfExp):
            return self.lower_ifexp(node)
        if isinstance(node, ast.BoolOp):
            raise self.fail(node, "`and`/`or` on differentiated values are not supported: use `if`")
        if isinstance(node, (ast.List, ast.Tuple)):
            return self.containers.lower_display(node)
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
        test = self.copies.to_ast(node.test)
        target = self.staging.new_temp(f"{self.hint}_choice")
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
        self.body.append(ir.Stage(target, self.staging.stage_children(lowered, origin), origin))
        self.active.add(target)

    def lower_binary(self, node: ast.BinOp) -> ir.Node:
        kind = type(node.op)
        if kind not in BINOPS:
            raise self.fail(node, f"no derivative rule for the {_OPERATOR_NAMES.get(kind, kind.__name__)} operator")
        sigmoid = self.patterns.sigmoid_argument(node)
        if sigmoid is not None:
            number = self.kind(node).is_number
            return self.op("sigmoid", [self.lower(sigmoid)], {}, self.patterns.sigmoid_spelling(node), number)
        softmax = self.patterns.softmax_parts(node)
        if softmax is not None:
            rule, operand, axis = softmax
            renamed = self.copies.to_ast(operand)
            assert isinstance(renamed, ast.Name)
            spelling = with_slot(self.copies.to_ast(node), renamed.id)
            return ir.Op(RULES[rule], [self.lower(operand)], {"axis": axis}, spelling)
        return self.binary(node, kind, self.lower(node.left), self.lower(node.right))

    def binary(self, node: ast.AST, kind: type[ast.operator], left: ir.Node, right: ir.Node) -> ir.Node:
        name, op = BINOPS[kind]
        listed = self.containers.joined(node, left, right) if isinstance(node, (ast.BinOp, ast.AugAssign)) else None
        if listed is not None:
            return listed  # Python's list operators: concatenation, repetition
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

    # ---- what the kinds say of a source name -------------------------------
    def proved_number(self, name: str) -> bool:
        """Whether the kinds prove every binding of the source name `name` a number."""
        return self.every_binding(name).is_number

    def every_binding(self, name: str) -> lattice.Kind:
        """What the kinds say every binding of the source name `name` is."""
        return self.kinds_of(self.info.functions.get(self.stack[-1], self.function)).every_binding(name)

    # ---- statements -----------------------------------------------------------
    def bind(self, name: str, node: ast.expr, origin: int, value: ir.Node | None = None) -> None:
        if value is None and not self.activity.is_active(node):
            value = ir.Leaf(self.copies.to_ast(node, hoist=False))  # evaluated once, and then read by name
        lowered = self.lower(node) if value is None else value
        self.assign(name, lowered, origin)

    def assign(self, name: str, lowered: ir.Node, origin: int) -> None:
        if isinstance(lowered, ir.Leaf) and lowered.var in self.stacks and lowered.index is None:
            self.env[name] = lowered.var  # `ys = xs`: another name for the same list
            return
        target = self.staging.new_binding(name)
        self.hint = target
        if isinstance(lowered, ir.Leaf) and lowered.var is None:
            if self.items.is_int(lowered.expr):
                self.ints.add(target)
            if self.items.is_mask(lowered.expr):
                self.masks.add(target)
            if self.forward and (_is_list(lowered.expr) or isinstance(lowered.expr, ast.Name) and lowered.expr.id in self.lists):
                self.lists.add(target)  # `[0.0] * len(xs)`, or `ys = xs` of one: a tangent written into it is a list too
            if lowered.number or self.items.is_int(lowered.expr) or resolve.is_number(lowered.expr, self.numbers):
                self.numbers.add(target)
                self.shapes.keys[target] = SCALAR
            if isinstance(lowered.expr, ast.Tuple):
                self.tuples.add(target)  # a tuple display of constants is returned as a cache too
            self.env[name] = target
            self.containers.note_callable(target, lowered.expr)
            stmt = ast.Assign([ast.Name(target, ast.Store())], lowered.expr)
            self.body.append(ir.Plain(stmt, origin))
            return
        if isinstance(lowered, ir.Leaf):
            lowered = self.op("pos", [lowered], {}, slot(0))
        if lowered.rule.name == "list" or self.containers.joins_displays(lowered):
            self.displays.add(target)
            if isinstance(lowered.spelling, ast.Tuple):
                self.tuples.add(target)
        staged = self.staging.stage_children(lowered, origin)
        self.env[name] = target
        self.staging.emit_stage(target, staged, origin)

    def origin(self, statement: ast.AST, prefix: str = "") -> int:
        code = self.info.code(statement).strip()
        self.origins.append(prefix + (code.splitlines()[0] if code else ""))
        one_line = isinstance(statement, ast.stmt) and statement.lineno == statement.end_lineno
        comment = self.info.comment_after(statement) if one_line and isinstance(statement, ast.stmt) else None
        if comment is not None:
            self.comments[len(self.origins) - 1] = comment  # the author's, kept on the line repeated
        return len(self.origins) - 1


    def lower_statement(self, statement: ast.stmt, prefix: str) -> None:
        """Lower a statement inside a block (a branch or a loop body)."""
        self.drawn = {}
        if isinstance(statement, SIMPLE):
            if self.statements.statement(statement, prefix) is not None:
                # desugar leaves one return at the end, unless the returns differ in number.
                raise self.fail(statement, "every way through the function must end in a return of as many values")
        elif isinstance(statement, ast.If):
            self.flow.if_statement(statement, prefix)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            self.flow.for_statement(statement, prefix)
        elif isinstance(statement, ast.While):
            self.flow.while_statement(statement, prefix)
        else:
            raise self.fail(statement, f"{type(statement).__name__} statements are not supported")

    def refused(self, statement: ast.stmt) -> bool:
        """Whether the validator already reported a problem inside `statement`."""
        if not self.collector.problems:
            return False
        first, last = statement.lineno, statement.end_lineno or statement.lineno
        return any(first <= p.line <= last for p in self.collector.problems if p.filename == self.collector.filename)

    def run(self) -> ir.Function:
        params = self.signature.params()
        outputs: list[str] | None = None
        failed = False
        for statement in self.function.body:
            if outputs is not None:
                raise self.fail(statement, "code after the final return is not supported")
            try:
                if self.refused(statement):
                    raise CodegenError(list(self.collector.problems))
                if isinstance(statement, SIMPLE):
                    outputs = self.statements.statement(statement)
                else:
                    self.lower_statement(statement, "")
            except CodegenError:
                # Go on to report the problems of later statements too; names the
                # failed statement binds are taken as constants from here on.
                failed = True
                for name in bound_names(statement):
                    self.env[name] = name
        if failed or outputs is None:
            raise CodegenError(list(self.collector.problems))
        upstream: list[str] = []
        for output in outputs:
            if output in self.held:
                continue
            grad = self.names.grad(output)
            upstream.append(grad if grad not in upstream else self.names.fresh(grad))
        for param in params:
            if param.name in self.lists:
                param.is_list = True
        likes = self.signature.array_likes(params)
        fn = ir.Function(
            name=self.function.name,
            params=params,
            body=self.body,
            outputs=outputs,
            upstream=upstream,
            held=list(self.held),
            origins=self.origins,
            comments=dict(self.comments),
            active=set(self.active),
            forced=set(self.wrt or ()),
            kinds=staged_kinds(self, params),
            shape_keys=dict(self.shapes.keys),
            dims=dict(self.dims.shapes),
            annotated=dict(self.annotated),
            docstring=_docstring(self.function),
            names=self.names,
            temps=set(self.temps),
            draws=set(self.draws),
            user_names=set(self.user_names),
            stacks=set(self.stacks),
            arrays=self.arrays,
            maybe_lists=self.maybe_lists - (self.lists - {p.name for p in params if p.is_list}),
            array_likes=likes,
            whole_lists={p for p in likes - self.lists if self.kinds_of(self.function).param(p).what == lattice.LIST},
            loose_labels=set(self.loose_labels),
            by_default=list(self.by_default),
        )
        if not self.forward:  # forward mode's tangents of the staged forms are the generic rules'
            recognise_softmax(fn, self.resolve, self.items.is_vector_index)
        drop_shift_gradients(fn)
        return fn


def _docstring(function: Function) -> str | None:
    body = function.body
    if not body or not validate.is_docstring(body[0]):
        return None
    first = body[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    return str(first.value.value)


def normalise(
    info: ModuleInfo,
    function: Function,
    collector: Collector,
    wrt: set[str] | None,
    forward: bool = False,
) -> ir.Function:
    return Normaliser(info, function, collector, wrt, forward).run()


def _is_list(expr: ast.expr) -> bool:
    """`[...]` or `[...] * n`."""
    return isinstance(expr, ast.List) or isinstance(expr, ast.BinOp) and isinstance(expr.left, ast.List)
