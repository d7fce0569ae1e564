"""Lowering of `if`, `for` and `while` into the staged form (part of normalise).

Branches bind the same merged name for a variable either of them assigns, so
the code after the `if` reads one name whichever branch ran. A loop keeps one
name per loop-carried variable: the body reads its entry value and ends by
copying the new value back, so the backward can tell the two apart.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING

from codegen import ir
from codegen.infer import lattice
from codegen.infer.shapes import SCALAR
from codegen.lower.scans import Bindings

if TYPE_CHECKING:
    from codegen.lower.normalize import Normaliser


class FlowLowering:
    """Control-flow statements, lowered into the body and tables of a `Normaliser`."""

    def __init__(self, n: Normaliser) -> None:
        self.n = n  # the lowering whose env, body and tables the control flow edits
        self.bindings = Bindings()  # what each statement binds, kept for its enclosing loops

    # ---- blocks -----------------------------------------------------------------
    def block(self, statements: Sequence[ast.stmt], prefix: str) -> list[ir.Statement]:
        """Lower `statements` into a new block and return it."""
        outer = self.n.body
        self.n.blocks.append(outer)
        self.n.body = []
        try:
            for statement in statements:
                self.n.lower_statement(statement, prefix)
        finally:
            self.n.blocks.pop()
            inner, self.n.body = self.n.body, outer
        return inner

    def copy_stage(self, target: str, source: str, origin: int) -> ir.Statement:
        """`target = source`, differentiated when `source` is active."""
        leaf = ir.Leaf(ast.Name(source, ast.Load()), source if source in self.n.active else None)
        self.n.shapes.keys[target] = self.n.shapes.keys.get(source, source)
        ranks = self.n.ranks.ranks
        if source in ranks:
            ranks[target] = ranks[source]
        shapes = self.n.dims.shapes
        if source in shapes:
            shapes[target] = shapes[source]
        self.n.check.copy(target, source)
        if leaf.var is None:
            if source in self.n.numbers:
                self.n.numbers.add(target)
            return ir.Plain(ast.Assign([ast.Name(target, ast.Store())], ast.Name(source, ast.Load())), origin)
        self.n.active.add(target)
        return ir.Stage(target, self.n.op("pos", [leaf], {}, ast.Name("__0__", ast.Load())), origin)

    def flow_origin(self, text: str, prefix: str) -> int:
        self.n.origins.append(prefix + text)
        return len(self.n.origins) - 1

    # ---- if ---------------------------------------------------------------------
    def if_statement(self, node: ast.If, prefix: str) -> None:
        code = self.n.info.code(node.test).strip()
        origin = self.flow_origin(f"if {code}:", prefix)
        test = self.n.copies.to_ast(node.test)
        before = dict(self.n.env)
        # The backward evaluates the test again: what it reads must not be rebound.
        self.n.guards.append(test)
        try:
            then_block, else_block, then_env, else_env = self.branches(node, prefix, before)
        finally:
            self.n.guards.pop()
        later = self.read_after(node) if not self.n.loops else None
        for name in sorted(set(then_env) | set(else_env)):
            then_var, else_var = then_env.get(name), else_env.get(name)
            if then_var is None or else_var is None:
                # Bound on one way through only: read later only where that way was
                # taken (Python raises otherwise), it is that branch's value.
                bound = then_var or else_var
                assert bound is not None
                self.n.env[name] = bound
                continue  # bound in one branch only: unbound after the other
            if then_var == else_var:
                self.n.env[name] = then_var
                continue
            if later is not None and name not in later:
                continue  # never read again: no merge (its copy could read an unbound name)
            merged = then_var if then_var != before.get(name) else else_var
            for block, var in ((then_block, then_var), (else_block, else_var)):
                if var == merged:
                    continue
                if var != before.get(name):
                    rename(block, var, merged)
                    self.carry_facts(var, merged)
                else:
                    # The copy records the other branch's facts for `merged`: keep only
                    # what both branches agree on.
                    facts = self.facts(merged)
                    block.append(self.copy_stage(merged, var, origin))
                    self.keep_agreed(merged, facts)
            if then_var in self.n.active or else_var in self.n.active:
                self.n.active.add(merged)
            if then_var in self.n.stacks or else_var in self.n.stacks:
                # one branch appends differentiated values (`parts = []` in each): so may the merged list
                self.n.appending.activate_list(merged)
            self.n.env[name] = merged
        self.n.body.append(ir.If(test, then_block, else_block, origin))

    def read_after(self, node: ast.stmt) -> set[str] | None:
        """The names the function being lowered (an inlined helper's own, one defined
        inside another included) reads after `node` (None if unknown)."""
        end = node.end_lineno
        if end is None:
            return None
        function = self.n.info.functions.get(self.n.stack[-1], self.n.function)
        augmented = {id(n.target) for n in ast.walk(function) if isinstance(n, ast.AugAssign)}
        return {
            n.id
            for n in ast.walk(function)
            if isinstance(n, ast.Name)
            and (n.lineno, n.col_offset) >= (end, node.end_col_offset or 0)  # (desugar's are just after)
            and (isinstance(n.ctx, ast.Load) or id(n) in augmented)
        }

    def branches(
        self, node: ast.If, prefix: str, before: dict[str, str]
    ) -> tuple[list[ir.Statement], list[ir.Statement], dict[str, str], dict[str, str]]:
        then_block = self.block(node.body, prefix)
        then_env = self.n.env
        self.n.env = dict(before)
        else_block = self.block(node.orelse, prefix) if node.orelse else []
        else_env = self.n.env
        self.n.env = dict(before)
        return then_block, else_block, then_env, else_env

    def facts(self, name: str) -> tuple[object, ...]:
        """What the tables say of `name`: its shape key, rank, shape and number-ness."""
        keys, ranks, shapes = self.n.shapes.keys, self.n.ranks.ranks, self.n.dims.shapes
        return keys.get(name, name), ranks.get(name), shapes.get(name), name in self.n.numbers

    def keep_agreed(self, name: str, other: tuple[object, ...]) -> None:
        """Forget each fact of `name` that `other` (the other branch's) contradicts."""
        key, rank, shape, number = self.facts(name)
        if key != other[0]:
            self.n.shapes.keys[name] = name
        if rank != other[1]:
            self.n.ranks.ranks.pop(name, None)
        if shape != other[2]:
            self.n.dims.shapes.pop(name, None)
        if number != other[3]:
            self.n.numbers.discard(name)

    def carry_facts(self, old: str, new: str) -> None:
        """What is known of `old` now holds for `new`, its merged name."""
        if old in self.n.active:
            self.n.active.add(new)
        keys = self.n.shapes.keys
        if keys.get(new, new) != keys.get(old, old):
            keys[new] = new
        shapes = self.n.dims.shapes
        if shapes.get(new) != shapes.get(old):
            shapes.pop(new, None)
        ranks = self.n.ranks.ranks
        if ranks.get(new) != ranks.get(old):
            ranks.pop(new, None)
        numbers = self.n.numbers
        if (new in numbers) != (old in numbers):
            numbers.discard(new)

    # ---- loops --------------------------------------------------------------------
    def loop_prelude(
        self, body: list[ast.stmt], origin: int, target: tuple[str, ast.expr] | None = None
    ) -> list[str]:
        """Choose the carried names of a loop over `body` (binding `target`, the loop
        variable and its iterable, each iteration); returns them (source names)."""
        assigned = self.bindings.assigned_names(body)
        carried = sorted(n for n in assigned if n in self.n.env)
        appended = [(n, v) for n, v in self.bindings.appends(body) if n in self.n.env and n not in assigned]
        hot = self.loop_activity(body, carried, [target] if target is not None else [], appended)
        kept: set[str] | None = None  # names whose value before the loop is still needed
        written = self.written_only(body, carried)
        if not self.n.forward:
            # A list a later iteration appends a differentiated value to holds them from the start.
            for name in sorted({n for n, _ in appended} & hot):
                self.n.appending.activate_list(self.n.env[name])
        for name in carried:
            entry = self.n.env[name]
            # Forward mode keeps no values for later: a loop may always reuse the name.
            # An inlined function's parameter stands for a caller's name: rebinding that
            # in place would change the caller's value (for its next call, say).
            if not self.n.forward and entry not in self.n.borrowed and kept is None:
                kept = self.read_so_far() | self.own_values()
            reuse = entry not in self.n.borrowed and (
                self.n.forward
                or (entry not in (kept or set()) and not any(entry in loop.carried for loop in self.n.loops))
            )
            if not reuse:
                # The value before the loop is still needed: the loop gets its own name.
                fresh = self.n.staging.new_binding(self.n.names.fresh(name))
                self.n.body.append(self.copy_stage(fresh, entry, origin))
                if kept is not None:
                    kept.add(entry)  # the copy reads it
                entry = fresh
            if name in hot:
                self.n.active.add(entry)
                self.n.numbers.discard(entry)
            # Iterations may change its shape (h0 of shape (H,) broadcast into (N, H)),
            # unless they only write items of an array.
            if name in written:
                self.n.shaped.add(entry)
            else:
                self.forget_shape(name, entry)
            self.n.env[name] = entry
        return carried

    def written_only(self, body: list[ast.stmt], carried: list[str]) -> set[str]:
        """The carried names of arrays the loop over `body` only writes items of
        (`out[:, :, i, j] = v`, `np.add.at(out, ...)`): their shapes stay."""
        rebound = {n.id for n in ast.walk(ast.Module(body, [])) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        return {
            name
            for name in carried
            if name not in rebound
            and (self.n.env[name] in self.n.made or self.n.every_binding(name).what == lattice.ARRAY)
        }

    def loop_activity(
        self,
        body: list[ast.stmt],
        carried: list[str],
        own: list[tuple[str, ast.expr]],
        appended: Sequence[tuple[str, ast.expr]] = (),
    ) -> set[str]:
        """Carried names and lists appended to (`appended`, each name with a value
        appended) that become active somewhere in the loop (a fixpoint).

        Every name the body binds stands for all its values in the loop, so that
        activity flows through intermediates too (`q = p * x; p = q`)."""
        bindings = self.bindings.assignments(body) + self.bindings.loop_targets(body) + own + list(appended)
        outer = carried + [n for n, _ in appended]
        placeholder = {n: f"<loop>{n}" for n, _ in bindings} | {n: f"<loop>{n}" for n in outer}
        hot = {placeholder[n] for n in outer if self.n.env[n] in self.n.active}
        saved_env, saved_active = self.n.env, self.n.active
        try:
            while True:
                self.n.env = {**saved_env, **placeholder}
                self.n.active = saved_active | hot
                # A binding already known to make its name active need not be read again.
                grown = {
                    placeholder[n] for n, value in bindings if placeholder[n] not in hot and self.n.activity.is_active(value)
                }
                if grown <= hot:
                    return {n for n in outer if placeholder[n] in hot}
                hot |= grown
        finally:
            self.n.env, self.n.active = saved_env, saved_active

    def own_values(self) -> set[str]:
        """The names whose defining statement's backward reads its value (exp's
        `out * g`): a loop must not overwrite them."""
        return {
            statement.target
            for block in [*self.n.blocks, self.n.body]
            for statement in ir.walk(block)
            if isinstance(statement, ir.Stage) and isinstance(statement.value, ir.Op) and statement.value.rule.uses_out
        }

    def read_so_far(self) -> set[str]:
        """The names a statement lowered so far, or an enclosing test, reads."""
        found = {n.id for guard in self.n.guards for n in ast.walk(guard) if isinstance(n, ast.Name)}
        for block in [*self.n.blocks, self.n.body]:
            for statement in ir.walk(block):
                found |= reads(statement)
        return found

    def is_read(self, name: str) -> bool:
        return name in self.read_so_far()

    def loop_epilogue(self, loop: ir.Loop, carried: list[str], entries: dict[str, str]) -> None:
        for name in carried:
            final = self.n.env[name]
            entry = entries[name]
            if final != entry:
                loop.body.append(self.copy_stage(entry, final, loop.origin))
                loop.copybacks += 1
                if entry not in self.n.shaped:
                    self.forget_shape(name, entry)
            if entry not in self.n.shaped:
                self.forget_sizes(name, entry)
            self.n.env[name] = entry

    def forget_references(self, entry: str) -> None:
        """Values computed from the carried `entry` in an iteration share its shape at
        that iteration's start, not after the loop: their facts that name it go."""
        keys = self.n.shapes.keys
        for value, key in list(keys.items()):
            if value != entry and (key == entry or key.startswith(f"<={entry}|")):
                keys[value] = value
        shapes = self.n.dims.shapes
        for value, shape in list(shapes.items()):
            if entry in shape:
                shapes[value] = tuple(None if d == entry else d for d in shape)

    def forget_sizes(self, name: str, entry: str) -> None:
        """A carried name's sizes may change from one iteration to the next; the
        rank every binding of it has does not (`W @ h` of a vector h is a vector)."""
        self.n.dims.shapes.pop(entry, None)
        kind = self.n.every_binding(name)
        if kind.what == lattice.ARRAY and kind.rank is not None or kind.what == lattice.SEQUENCE:
            self.n.dims.shapes[entry] = (None,) * (kind.rank or 1)

    def forget_shape(self, name: str, entry: str) -> None:
        """What a carried name's shape was before the loop no longer holds, unless
        the kinds prove the source name a number in every binding."""
        self.forget_sizes(name, entry)
        self.forget_references(entry)
        if self.n.proved_number(name):
            self.n.numbers.add(entry)
            self.n.shapes.keys[entry] = SCALAR
            self.n.ranks.ranks[entry] = 0
            return
        self.n.shapes.keys[entry] = entry
        kind = self.n.every_binding(name)
        if kind.what == lattice.ARRAY and kind.rank is not None or kind.what == lattice.SEQUENCE:
            self.n.ranks.ranks[entry] = kind.rank or 1
        else:
            self.n.ranks.ranks.pop(entry, None)

    def for_statement(self, node: ast.For | ast.AsyncFor, prefix: str) -> None:
        if node.orelse or isinstance(node, ast.AsyncFor):
            raise self.n.fail(node, "for ... else and async for are not supported")
        if not isinstance(node.target, ast.Name):
            raise self.n.fail(node.target, "the loop variable must be a single name")
        header = f"for {self.n.info.code(node.target).strip()} in {self.n.info.code(node.iter).strip()}:"
        origin = self.flow_origin(header, prefix)
        iterable = node.iter
        is_range = self.is_range(iterable)
        if not is_range and self.n.activity.is_active(iterable) and not isinstance(iterable, ast.Name):
            raise self.n.fail(iterable, "loop over a named list or array, or over range(...)")
        if not is_range and isinstance(iterable, ast.Name) and iterable.id in self.bindings.assigned_names(node.body):
            # Python reads the iterable once: rebinding its name in the body changes no item.
            items = self.n.staging.new_binding(self.n.names.fresh(f"{iterable.id}_items"))
            self.n.body.append(self.copy_stage(items, self.n.env[iterable.id], origin))
            self.n.env[items] = items
            iterable = ast.Name(items, ast.Load())
        if is_range:
            iter_ast = self.n.copies.to_ast(iterable)
        else:
            iter_ast = ast.parse(f"range(len({ast.unparse(self.n.copies.to_ast(iterable))}))", mode="eval").body
        self.n.guards.append(iter_ast)
        try:
            carried = self.loop_prelude(node.body, origin, (node.target.id, iterable))
        finally:
            self.n.guards.pop()
        entries = {n: self.n.env[n] for n in carried}
        counter_name = node.target.id if is_range else "i"
        if is_range and self.n.forward and self.n.env.get(counter_name) == counter_name and counter_name not in self.n.active:
            var = counter_name  # run forwards only: an index keeps its name, as in Python
        else:
            var = self.n.staging.new_binding(self.n.names.fresh(counter_name) if counter_name in self.n.bound else counter_name)
        self.n.ints.add(var)
        self.n.numbers.add(var)
        loop = ir.Loop(var, iter_ast, None, [], [self.n.env[n] for n in carried], origin)
        self.n.loops.append(loop)
        self.n.guards.append(iter_ast)
        try:
            if is_range:
                self.n.env[node.target.id] = var
                loop.body = self.block(node.body, prefix)
            else:
                element = ast.Subscript(iterable, ast.Name(var, ast.Load()), ast.Load())
                self.n.env[var] = var
                loop.body = self.element_block(node.target.id, element, node.body, prefix, origin)
        finally:
            self.n.guards.pop()
            self.n.loops.pop()
        self.loop_epilogue(loop, carried, entries)
        self.n.body.append(loop)

    def is_range(self, iterable: ast.expr) -> bool:
        """`range(...)` or `reversed(range(...))` (a generated backward's loops)."""
        if not isinstance(iterable, ast.Call):
            return False
        name = self.n.resolve(iterable.func)
        if name == "reversed" and len(iterable.args) == 1 and not iterable.keywords:
            return self.is_range(iterable.args[0])
        return name == "range"

    def element_block(
        self,
        name: str,
        element: ast.Subscript,
        statements: Sequence[ast.stmt],
        prefix: str,
        origin: int,
    ) -> list[ir.Statement]:
        """The body of `for name in xs:` as `name = xs[i]` followed by the body."""
        outer = self.n.body
        self.n.blocks.append(outer)
        self.n.body = []
        try:
            self.n.assign(name, self.n.lower(element), origin)
            for statement in statements:
                self.n.lower_statement(statement, prefix)
        finally:
            self.n.blocks.pop()
            inner, self.n.body = self.n.body, outer
        return inner

    def while_statement(self, node: ast.While, prefix: str) -> None:
        if node.orelse:
            raise self.n.fail(node, "while ... else is not supported")
        code = self.n.info.code(node.test).strip()
        origin = self.flow_origin(f"while {code}:", prefix)
        carried = self.loop_prelude(node.body, origin)
        entries = {n: self.n.env[n] for n in carried}
        test = self.n.copies.to_ast(node.test, hoist=False)  # drawn anew each time
        counter = self.n.staging.new_binding(self.n.names.fresh("steps"))
        self.n.ints.add(counter)
        self.n.numbers.add(counter)
        loop = ir.Loop(None, None, test, [], [self.n.env[n] for n in carried], origin, counter)
        self.n.loops.append(loop)
        try:
            loop.body = self.block(node.body, prefix)
        finally:
            self.n.loops.pop()
        self.loop_epilogue(loop, carried, entries)
        self.n.body.append(loop)


def reads(statement: ir.Statement) -> set[str]:
    """Names a statement reads (not counting nested blocks)."""
    found: set[str] = set()
    trees: list[ast.AST] = []
    if isinstance(statement, (ir.Stage, ir.Append)):
        trees.append(_render_for_reads(statement.value))
    elif isinstance(statement, ir.Plain):
        trees.append(statement.code)
    elif isinstance(statement, ir.If):
        trees.append(statement.test)
    elif isinstance(statement, ir.Loop):
        trees += [t for t in (statement.iter, statement.test) if t is not None]
    for tree in trees:
        found |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return found


def _render_for_reads(node: ir.Node) -> ast.AST:
    from codegen.ad.differentiate import render

    tree = render(node)
    if isinstance(node, ir.Op):
        extra = [v for v in node.keywords.values()]
        return ast.Tuple([tree, *extra], ast.Load())
    return tree


def _rename_node(node: ir.Node, old: str, new: str) -> None:
    renamer = ir.Rename(old, new)
    if isinstance(node, ir.Leaf):
        node.expr = renamer.visit(node.expr)
        if node.var == old:
            node.var = new
        if node.index is not None:
            node.index = renamer.visit(node.index)
        return
    node.keywords = {k: renamer.visit(v) for k, v in node.keywords.items()}
    node.spelling = renamer.visit(node.spelling)
    for arg in node.args:
        _rename_node(arg, old, new)


def rename(block: list[ir.Statement], old: str, new: str) -> None:
    """Rename every binding and use of `old` in `block` (nested blocks included)."""
    renamer = ir.Rename(old, new)
    for statement in ir.walk(block):
        if isinstance(statement, (ir.Stage, ir.Append)):
            if statement.target == old:
                statement.target = new
            _rename_node(statement.value, old, new)
        elif isinstance(statement, ir.Plain):
            statement.code = renamer.visit(statement.code)
        elif isinstance(statement, ir.If):
            statement.test = renamer.visit(statement.test)
        elif isinstance(statement, ir.Loop):
            statement.iter = renamer.visit(statement.iter) if statement.iter is not None else None
            statement.test = renamer.visit(statement.test) if statement.test is not None else None
            statement.carried = [new if c == old else c for c in statement.carried]
            if statement.var == old:
                statement.var = new
            if statement.counter == old:
                statement.counter = new
