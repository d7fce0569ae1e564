"""Reverse-mode differentiation: a generic reverse walk over the stages.

Each stage's tree is walked from its root with the gradient of its target;
each operation instantiates its rule's templates to get its arguments'
gradients, and each variable reached accumulates them: `=` on the first
contribution, `+=` on the next ones.  No rule is special-cased here but item
assignment, whose gradient takes statements of its own, and `np.where` with a
variable in both branches, whose gradient is masked once (masks.py).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from codegen import ir, unparse
from codegen.ad import rules_einsum
from codegen.ad.gradient_forms import (
    _accumulate,
    _adds_axes,
    _as_value,
    _fits,
    _ones_of,
    _store_names,
    _without_ones,
    _written,
    is_fresh,
    is_list_form,
    ones_times,
    zeros_like,
)
from codegen.ad.item_lists import read_by_item
from codegen.ad.masks import masked_once, where_index
from codegen.ad.reverse_broadcast import Broadcasting
from codegen.ad.reverse_flow import FlowReversal, LoopContext
from codegen.ad.reverse_lists import ListReversal
from codegen.ad.rules import HELPER_ROWS
from codegen.ad.rules_lists import ROWS as LIST_ROWS
from codegen.ad.templates import as_arrays, expand_macros
from codegen.ad.useful import active_leaves, useful_variables
from codegen.emit import helpers
from codegen.infer.dims import Dims
from codegen.infer.shapes import SCALAR, ShapeKeys
from codegen.ir import render, substitute
from codegen.optimize.simplify import simplify


@dataclass
class Backward:
    """The backward pass of one function, as lines of code and comments."""

    lines: list[str] = field(default_factory=list)
    gradients: dict[str, ast.expr] = field(default_factory=dict)  # param -> its gradient
    differentiable: list[ir.Param] = field(default_factory=list)
    constant: list[ir.Param] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # "math" / "np" used by templates
    spellings: dict[str, str] = field(default_factory=dict)  # module or helper -> its name here
    helpers: set[str] = field(default_factory=set)
    user_rules: set[str] = field(default_factory=set)  # hand-written foo_backward called
    user_imports: set[str] = field(default_factory=set)  # other names of the user's module used
    unranked: list[str] = field(default_factory=list)  # operands of products whose ranks are unknown
    summed_at_run_time: bool = False  # a broadcast gradient summed back by a helper, shapes unknown
    spread: list[str] = field(default_factory=list)  # a scalar upstream made an array of ones (fused style)
    text: str | None = None  # the whole function, when written by another mode
    list_literals: bool = True  # list gradients filled element by element may be written as literals
    in_place: bool = True  # copies before item writes dropped where nothing else sees the array
    # The gradients' names: `dx += ...` only ever adds into an array dx owns.
    accumulators: frozenset[str] = frozenset()


class Differentiator:
    """Builds the backward lines of one normalised function."""

    def __init__(self, fn: ir.Function, modules: dict[str, str], loop_lists: bool = False) -> None:
        self.fn = fn
        self.loop_lists = loop_lists  # list gradients built by appends (see reverse_lists)
        self.names = fn.names
        self.modules = modules  # "math"/"np"/helpers -> the local spelling
        self.result = Backward(spellings=modules)
        self.state: dict[str, str] = {}  # gradient name -> "fresh" | "alias"
        self.elements: dict[str, set[str]] = {}  # list gradient -> indices assigned
        self.list_gradients: set[str] = set()  # gradients built as Python lists
        self.shared: set[str] = set()  # of those, built whole: entries that may be one array (`[g] * len(xs)`)
        self.by_item = read_by_item(fn)  # parameters that may be lists of arrays
        self.useful = useful_variables(fn)
        self.block_of, self.reads = where_index(fn)  # see masks.py
        self.out: list[list[str]] = [self.result.lines]
        self.loops: list[LoopContext] = []
        self.grad_vars: dict[str, str] = {}
        self.hoisted: dict[str, int] = {}  # gradient -> id of the loop it is zeroed before
        self.folded: dict[str, ast.expr] = {}  # gradient name -> the name it equals
        self.nested: set[str] = set()  # list gradients added to inside a branch or loop
        # gradient -> (index, block, line) of its `dx[index] = 0.0`, while nothing else
        # has touched it: a contribution to dx[index] then replaces that line.
        self.zeroed: dict[str, tuple[str, list[str], str]] = {}
        self.last_origin = -1
        dims = Dims(ir.TakenAsNumbers(fn))
        dims.shapes = dict(fn.dims)
        self.shapes = ShapeKeys(ir.TakenAsNumbers(fn), dims)
        self.shapes.keys = dict(fn.shape_keys)
        self.flow = FlowReversal(self)  # if, for and while
        self.lists = ListReversal(self)  # lists built with append
        self.broadcast = Broadcasting(self)  # gradients summed back, or left narrow

    # ---- output ---------------------------------------------------------------
    def emit(self, statement: ast.stmt) -> None:
        self.out[-1].append(ir.unparse(statement))

    def contribute(self, leaf: ir.Leaf, gradient: ast.expr, narrow: bool = False) -> None:
        """Add `gradient` into d`leaf`. `narrow`: it may lack axes of the leaf's shape,
        along which it broadcasts (the gradient of a reduction, see `narrowed`)."""
        var = leaf.var
        if var is None or var not in self.useful:
            return
        name = self.names.grad(var)
        self.broadcast.ones.pop(name, None)
        np_name = self.modules["np"]
        if leaf.index is not None and not narrow and _adds_axes(leaf.index, np_name) and not self.listed(var, name):
            # v[:, np.newaxis] is all of v, reshaped: its gradient is dv reshaped back.
            shape = ast.Call(ast.Attribute(ast.Name(np_name, ast.Load()), "shape", ast.Load()), [ast.Name(var, ast.Load())], [])
            gradient = ast.Call(ast.Attribute(ast.Name(np_name, ast.Load()), "reshape", ast.Load()), [gradient, shape], [])
            leaf = ir.Leaf(ast.Name(var, ast.Load()), var)
        whole = leaf.index is None and not self.listed(var, name)
        spread = _ones_of(gradient, var, self.modules["np"]) if whole and not narrow else None
        if whole and name in self.state and name not in self.folded:
            # dv already has v's shape: adding the reduction's value broadcasts it there.
            gradient = spread if spread is not None else gradient
        elif narrow and not self.broadcast.fills(var, gradient):
            # It starts dv: v's shape it must have, unless v's own stage keeps it narrow too.
            spread, gradient = gradient, ones_times(var, gradient, self.modules["np"])
        zeroed = self.zeroed.pop(name, None)
        self.grad_vars[name] = var
        target: ast.expr = ast.Name(name, ast.Store())
        if name in self.folded and name not in self.state:
            del self.folded[name]  # used up; this contribution starts a new gradient
        if name in self.folded:
            # A second contribution after all: the gradient needs its name.
            self.emit(ast.Assign([ast.Name(name, ast.Store())], self.folded.pop(name)))
        elif name not in self.state and self.foldable(var, leaf, gradient):
            # An intermediate's gradient that is just another name: use that name.
            self.folded[name] = gradient
            self.state[name] = "fresh" if self.is_number(var) else "alias"
            return
        if name not in self.state:
            outer = self.flow.outer_loop_for(var)
            if outer is not None:
                # Every iteration adds into this gradient: start it at zero.
                outer.inits.append(self.flow.zero_line(name, var))
                self.state[name] = "fresh"
                self.hoisted[name] = id(outer)
        if leaf.index is not None:
            self.contribute_element(leaf, name, gradient, zeroed)
            return
        if name in self.state and (var in self.fn.stacks or name in self.list_gradients):
            self.lists.add_lists(name, gradient)  # `+=` would extend the list
            return
        if name not in self.state:
            self.emit(ast.Assign([target], gradient))
            if spread is not None and var not in self.fn.param_names:
                self.broadcast.ones[name] = (self.out[-1], self.out[-1][-1], spread)
            self.nested.add(name)  # every element holds a gradient: a store into one adds to it
            if var not in self.fn.stacks and is_list_form(gradient):
                self.list_gradients.add(name)  # a second gradient of the whole adds entry by entry
                self.shared.add(name)
            elif var not in self.fn.stacks:
                self.list_gradients.discard(name)
            # A list gradient of appended values is always built anew (list(g), np.split).
            fresh = self.is_number(var) or is_fresh(gradient) or var in self.fn.stacks
            self.state[name] = "fresh" if fresh else "alias"
        elif self.state[name] == "alias":
            # `+=` would write into the array this name still shares.
            total = ast.BinOp(ast.Name(name, ast.Load()), ast.Add(), gradient)
            self.emit(ast.Assign([target], total))
            self.state[name] = "fresh"
        else:
            self.emit(_accumulate(target, gradient))

    def listed(self, var: str, name: str) -> bool:
        """Whether d`var` may be a Python list (or `var` a number): no broadcasting."""
        fn = self.fn
        return (
            fn.is_list(var) or var in fn.stacks or var in fn.maybe_lists
            or var in fn.whole_lists or name in self.list_gradients or self.is_number(var)
        )  # fmt: skip

    def foldable(self, var: str, leaf: ir.Leaf, gradient: ast.expr) -> bool:
        return (
            var in self.fn.temps
            and leaf.index is None
            and isinstance(gradient, ast.Name)
            and self.flow.outer_loop_for(var) is None
        )

    def gradient_of(self, var: str) -> ast.expr:
        name = self.names.grad(var)
        return ir.clone(self.folded[name]) if name in self.folded else ast.Name(name, ast.Load())

    def contribute_element(
        self, leaf: ir.Leaf, name: str, gradient: ast.expr, zeroed: tuple[str, list[str], str] | None = None
    ) -> None:
        """Accumulate into `dvar[index]`: a list element, or a part of an array."""
        assert leaf.var is not None and leaf.index is not None
        var = leaf.var
        is_list = self.fn.is_list(var)
        if name not in self.state:
            zeros = ast.parse(f"[0.0] * len({var})", mode="eval").body if is_list else self.zero(var)
            self.emit(ast.Assign([ast.Name(name, ast.Store())], zeros))
            if is_list:
                self.list_gradients.add(name)
            self.result.modules.update(() if is_list else ("np",))
            self.state[name] = "fresh"
            self.elements[name] = set()
        elif self.state[name] == "alias":
            copied = ast.parse(f"{name}.copy()" if not is_list else f"list({name})", mode="eval").body
            self.emit(ast.Assign([ast.Name(name, ast.Store())], copied))
            self.state[name] = "fresh"
        gradient = _without_ones(gradient, self.modules["np"])
        index = ir.clone(leaf.index)
        target = ast.Subscript(ast.Name(name, ast.Load()), index, ast.Store())
        if not leaf.basic and not is_list:
            # Repeated indices must add up; plain `+=` would keep only one of them.
            add_at = ast.parse(f"{self.modules['np']}.add.at", mode="eval").body
            call = ast.Call(add_at, [ast.Name(name, ast.Load()), _as_value(ir.clone(leaf.index)), gradient], [])
            self.emit(ast.Expr(call))
            return
        key = ast.dump(leaf.index)
        if zeroed is not None and zeroed[0] == key and zeroed[1] is self.out[-1] and not is_list:
            # `dx[mask] = 0.0` then `dx[mask] += v`: the part written is just v.
            block, line = zeroed[1], zeroed[2]
            del block[next(i for i in reversed(range(len(block))) if block[i] is line)]
            self.emit(ast.Assign([ast.Subscript(ast.Name(name, ast.Load()), index, ast.Store())], gradient))
            self.elements.setdefault(name, set()).add(key)
            return
        distinct = isinstance(leaf.index, ast.Constant) and type(leaf.index.value) is int and leaf.index.value >= 0
        if len(self.out) > 1 or not distinct:
            # In a branch or loop another path may add to any element; and `v[-2]` or
            # `v[i]` may be the element a later `v[1]` names.
            self.nested.add(name)
        first = distinct and name not in self.nested and key not in self.elements.setdefault(name, set())
        if is_list and first:
            self.elements[name].add(key)
            self.emit(ast.Assign([target], gradient))
        elif is_list and isinstance(leaf.index, ast.Slice):
            # `+=` on a slice of a list would extend the list: added entry by entry.
            self.elements.setdefault(name, set()).add(key)
            part = ast.Subscript(ast.Name(name, ast.Load()), ir.clone(index), ast.Load())
            total = ast.parse("[old + new for old, new in zip(_part, _g)]", mode="eval").body
            self.emit(ast.Assign([target], ir.substitute(total, {"_part": part, "_g": gradient})))
        elif var in self.fn.stacks or name in self.shared:
            # An entry may be a row of an array other gradients hold: never added into.
            self.elements.setdefault(name, set()).add(key)
            total = ast.BinOp(ast.Subscript(ast.Name(name, ast.Load()), ir.clone(index), ast.Load()), ast.Add(), gradient)
            self.emit(ast.Assign([target], total))
        else:
            self.elements.setdefault(name, set()).add(key)
            self.emit(_accumulate(target, gradient))

    # ---- shapes -------------------------------------------------------------------
    def call_user_rule(self, op: ir.Op, gradient: ast.expr) -> None:
        """`dx, dy = foo_backward(x, y, g)`: the user's rule gives one gradient per parameter."""
        callee = op.rule.name[len("user."):]
        self.result.user_rules.add(callee)
        temps = [self.names.fresh(f"d{callee}_{name}") for name in op.rule.args]
        call = ast.Call(ast.Name(f"{callee}_backward", ast.Load()), [*map(render, op.args), gradient], [])
        target: ast.expr = (
            ast.Name(temps[0], ast.Store())
            if len(temps) == 1
            else ast.Tuple([ast.Name(t, ast.Store()) for t in temps], ast.Store())
        )
        self.emit(ast.Assign([target], call))
        for temp, arg in zip(temps, op.args):
            if self.reaches(arg):
                self.backprop(arg, ast.Name(temp, ast.Load()), ast.Name("__unused__", ast.Load()))

    def mask_written(self, op: ir.Op, old: ir.Node, gradient: ast.expr) -> None:
        """The gradient of `a` through `a[index] = v`: zero where v was written."""
        assert isinstance(old, ir.Leaf) and old.var is not None
        name = self.names.grad(old.var)
        masked = name if name not in self.state else self.names.fresh(f"{name}_masked")
        index = ir.clone(op.keywords["index"])
        written = unparse.expression(gradient)
        copied = f"{written}.copy()"
        upstream = isinstance(gradient, ast.Name) and gradient.id in self.fn.upstream
        if upstream and not self.fn.is_list(old.var):
            # in split style the upstream of a 0-d output may be a Python float
            copied = f"{self.modules['np']}.copy({written})"
            self.result.modules.add("np")
        self.emit(ast.Assign([ast.Name(masked, ast.Store())], ast.parse(copied, mode="eval").body))
        self.emit(ast.Assign([ast.Subscript(ast.Name(masked, ast.Load()), index, ast.Store())], ast.Constant(0.0)))
        if masked == name:
            if isinstance(op.keywords.get("__unique__"), ast.Constant) and op.keywords["__unique__"].value is True:
                self.zeroed[name] = (ast.dump(index), self.out[-1], self.out[-1][-1])
            self.state[name] = "fresh"
            self.grad_vars[name] = old.var
            self.nested.add(name)  # every element holds a gradient already: later ones add to it
        else:
            self.contribute(old, ast.Name(masked, ast.Load()))

    # ---- the walk ---------------------------------------------------------------
    def instantiate(self, op: ir.Op, index: int, gradient: ast.expr, out: ast.expr) -> ast.expr:
        statics = op.keywords
        if op.rule.name == "numpy.einsum":  # whether a shared label may broadcast
            statics = {**statics, rules_einsum.SIZES: rules_einsum.operand_sizes(self.shapes, op.args)}
        template = op.rule.template(index, len(op.args), statics)
        assert template is not None
        uses = op.rule.names_in(index, template)
        mapping: dict[str, ast.expr] = {"g": gradient, "out": out}
        fresh = set()
        for i, arg in enumerate(op.args):
            name = op.rule.arg_name(i)
            if name in uses:
                mapping[name] = render(arg)
                fresh.add(name)
        for key, default in op.rule.keywords:
            mapping[key] = op.keywords.get(key, default)
        for key in op.rule.statics:
            mapping[key] = op.keywords[key]
        for helper in uses & helpers.NAMES:
            self.result.helpers.add(helper)
            if helper in HELPER_ROWS:
                names = [unparse.expression(render(a)) for a in op.args]
                params = self.fn.param_names
                self.result.unranked += [n for n in names if n in params and n not in self.result.unranked]
            mapping[helper] = ast.Name(self.modules[helper], ast.Load())
            if helper in ("_digamma", "_trigamma"):
                self.result.modules.add("math")
        for module in ("math", "np"):
            if module in uses:
                self.result.modules.add(module)
                mapping[module] = ast.Name(self.modules[module], ast.Load())
        expanded = substitute(template, mapping, frozenset(fresh))
        if "keep" in uses or "count" in uses:
            self.result.modules.add("np")
            expanded = expand_macros(expanded, mapping, self.modules["np"])
        # After the macros: `count` reads the operand's shape.
        return simplify(as_arrays(expanded, self.fn.array_likes, self.modules["np"], self.result.modules))

    def backprop(
        self, node: ir.Node, gradient: ast.expr, out: ast.expr, shaped: ir.Node | None = None, narrow: bool = False
    ) -> None:
        """Send `gradient` (of `shaped`'s shape: `node`'s unless a broadcasting
        parent passed its own down; `narrow`: broadcasting to it) to the leaves of `node`."""
        if isinstance(node, ir.Leaf):
            self.contribute(node, gradient, narrow)
            return
        if node.rule.name.startswith("user."):
            self.call_user_rule(node, gradient)
            return
        if node.rule.name == "numpy.where" and shaped is None and masked_once(self, node, gradient):
            return
        if self.loop_lists and node.rule.name in LIST_ROWS:
            self.lists.rows_looped(node, gradient)
            return
        shaped = shaped or node
        for i in node.rule.operand_order(len(node.args)):
            arg = node.args[i]
            if not node.rule.flows(i) or not self.reaches(arg):
                continue
            if node.rule.name == "setitem" and i == 0:
                self.mask_written(node, arg, gradient)
                continue
            local = self.instantiate(node, i, gradient, out)
            if node.rule.broadcast and self.broadcast.sums_at_operands(arg, shaped):
                # Summing back to the inner operation's shape can wait for its
                # operands: its derivative is elementwise in them, and they are
                # constant along the axes the sum would run over.
                self.backprop(arg, local, ast.Name("__unused__", ast.Load()), shaped, narrow)
                continue
            if narrow and node.rule.broadcast and self.shapes.summing(arg, shaped) == "helper":
                self.backprop(arg, self.broadcast.spread_back(local, arg), ast.Name("__unused__", ast.Load()))
                continue
            if node.rule.broadcast:
                local = self.broadcast.unbroadcast(local, arg, shaped)
                local = self.broadcast.named_if_shared(arg, local)
            elif node.rule.name in ("setitem", "add.at") and self.fn.arrays and not _fits(node):  # a list element is a number
                local = self.broadcast.unbroadcast(local, arg, _written(node))
            # An inner operation whose rule reads its own value was staged: never needed here.
            self.backprop(arg, local, ast.Name("__unused__", ast.Load()), narrow=narrow)

    def reaches(self, node: ir.Node) -> bool:
        """Whether `node` reads a useful variable through differentiable operations."""
        if isinstance(node, ir.Leaf):
            return node.var is not None and node.var in self.useful
        return not self.useful.isdisjoint(active_leaves(node))

    def run(self) -> Backward:
        fn = self.fn
        seen: set[str] = set()
        for output, upstream in zip(fn.differentiated, fn.upstream):
            if output not in self.useful:
                continue
            if not self.is_number(output):
                self.spread_upstream(output, upstream)
            name = self.names.grad(output)
            if output in seen or name != upstream:
                self.contribute(ir.Leaf(ast.Name(output, ast.Load()), output), ast.Name(upstream, ast.Load()))
            else:
                self.state[name] = "fresh" if self.is_number(output) else "alias"
                self.grad_vars[name] = output
            seen.add(output)
        self.reverse_block(fn.body)
        for param in fn.params:
            self.finish_param(param)
        self.result.accumulators = frozenset(self.grad_vars)
        self.result.lines[:] = self.lists.settle_undos(self.result.lines)
        return self.result

    def spread_upstream(self, output: str, upstream: str) -> None:
        """A scalar upstream gradient (the default 1.0) on an output that may be an
        array stands for that scalar times ones: every gradient then has its
        parameter's shape. A view, never a copy: gradients derived from it are
        written anew, never added into. (Split style takes no default upstream.)"""
        if not self.result.spread:
            self.result.spread.append("# a scalar upstream gradient stands for that scalar times ones")
        np_name = self.modules["np"]
        self.result.modules.add("np")
        self.result.spread.append(f"if {np_name}.ndim({upstream}) == 0:")
        self.result.spread.append(f"    {upstream} = {np_name}.broadcast_to({upstream}, {np_name}.shape({output}))")

    def reverse_block(self, statements: list[ir.Statement]) -> None:
        for statement in reversed(statements):
            if isinstance(statement, ir.If):
                self.flow.reverse_if(statement)
            elif isinstance(statement, ir.Loop):
                self.flow.reverse_loop(statement)
            elif isinstance(statement, ir.Stage):
                self.reverse_stage(statement)
            elif isinstance(statement, ir.Append):
                self.lists.reverse_append(statement)
            else:
                # A constant overwrites the name: no gradient flows to its earlier value.
                for target in sorted(_store_names(statement.code)):
                    if self.names.has_grad(target):
                        self.state.pop(self.names.grad(target), None)

    def reverse_stage(self, statement: ir.Stage) -> None:
        if statement.target not in self.useful:
            return
        name = self.names.grad(statement.target)
        if name not in self.state:
            return
        if statement.origin != self.last_origin:
            self.out[-1].append(f"# backprop {self.fn.origins[statement.origin]}")
            self.last_origin = statement.origin
        narrow = self.broadcast.narrowed(name, statement)
        self.broadcast.spread_to = self.broadcast.spread_shape(statement) if narrow else None
        self.backprop(statement.value, self.gradient_of(statement.target), ast.Name(statement.target, ast.Load()), narrow=narrow)
        # Used up: a later contribution to this name is for an earlier binding
        # of it (a loop-carried value), which starts afresh.
        del self.state[name]
        self.zeroed.pop(name, None)

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
            whole = param.name in self.fn.whole_lists
            if (param.name in self.fn.maybe_lists or whole) and name not in self.list_gradients:
                # Read as a list would be, it may have been one: so is its gradient.
                listed = f"{name} = {name}.tolist()"
                known = self.fn.is_list(param.name) or whole
                test = f"isinstance({param.name}, list)"
                if param.name in self.by_item:  # a list of arrays has its list of gradients already
                    test += f" and isinstance({name}, {self.modules['np']}.ndarray)"
                self.emit(ast.parse(listed if known else f"if {test}:\n    {listed}").body[0])
        else:
            self.result.gradients[param.name] = self.zero(param.name)

    def is_number(self, var: str) -> bool:
        """Whether `var` is proved a Python number (or nothing here may be an array):
        its gradient is immutable, so `+=` on it touches nothing else. A parameter
        with a number as default (taken as a number) is no proof: it may be an array."""
        return not self.fn.arrays or self.fn.is_number(var)

    def zero(self, var: str) -> ast.expr:
        """A zero gradient for `var`, of its kind: list, array or number."""
        if self.fn.is_list(var):
            return ast.parse(f"[0.0] * len({var})", mode="eval").body
        if var in self.by_item:
            self.result.helpers.add("_item_zeros")
            self.result.modules.add("np")
            return ast.Call(ast.Name(self.modules["_item_zeros"], ast.Load()), [ast.Name(var, ast.Load())], [])
        if not self.is_number(var) and not self.fn.taken_as_number(var):
            self.result.modules.add("np")
            return zeros_like(ast.Name(var, ast.Load()), self.modules["np"])
        return ast.Constant(0.0)


def differentiate(fn: ir.Function, modules: dict[str, str], loop_lists: bool = False) -> Backward:
    """The backward of `fn`; `loop_lists`: list gradients built as forward mode
    follows them (Hessian-vector products)."""
    return Differentiator(fn, modules, loop_lists).run()
