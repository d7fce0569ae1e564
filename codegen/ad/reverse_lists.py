"""Reversal of `xs.append(v)` (part of differentiate).

The gradient of a list of appended values is a list, `dxs`, one entry per
element. The backward undoes the appends in reverse order: each one pops the
last entry, which is the gradient of the value it appended (`dv = dxs.pop()`),
so reads of the list by position (`xs[-1]`, `xs[i]`) add into the entry of the
element they read at that point of the forward pass. Where the backward reads
the list itself after an undone append (a derivative that reads `xs[-1]`, a
loop over `len(xs)`), it pops the list too (`xs.pop()`), so that it holds what
the forward held at that point; elsewhere the list is left alone.

For Hessian-vector products (`loop_lists`), forward mode reads the backward
again; it follows lists built with `append` and read by element, not list
comprehensions: there a list gradient is built that way, one append per
element (`parts.append(g[k])` for `np.array(xs)`), and added entry by entry.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codegen import ir
from codegen.ad.reverse_flow import names_read

if TYPE_CHECKING:
    from codegen.ad.differentiate import Differentiator

# A placeholder line for `xs.pop()`, settled once the whole backward is written.
_UNDO = "# <undo append> "


class ListReversal:
    """`append` reversed, written into the output and state of a `Differentiator`."""

    def __init__(self, d: Differentiator) -> None:
        self.d = d  # the differentiation whose state and output lines the reversal edits

    def reverse_append(self, statement: ir.Append) -> None:
        listed = statement.target
        if listed not in self.d.useful:
            return
        name = self.d.names.grad(listed)
        if name not in self.d.state:
            # Nothing read the list after this append: every entry starts at zero.
            line = self.d.flow.zero_line(name, listed)
            outer = self.d.flow.outer_loop_for(listed)
            if outer is not None:
                outer.inits.append(line)
                self.d.hoisted[name] = id(outer)
            else:
                self.d.out[-1].append(line)
            self.d.state[name] = "fresh"
            self.d.list_gradients.add(name)
        if statement.origin != self.d.last_origin:
            self.d.out[-1].append(f"# backprop {self.d.fn.origins[statement.origin]}")
            self.d.last_origin = statement.origin
        popped: ast.expr = ast.Call(ast.Attribute(ast.Name(name, ast.Load()), "pop", ast.Load()), [], [])
        value = statement.value
        if isinstance(value, ir.Leaf) and value.var in self.d.fn.stacks:
            # a list appended (a row of a nested list): its entry may be an array row
            popped = ast.Call(ast.Name("list", ast.Load()), [popped], [])
        if self.d.reaches(statement.value):
            self.d.backprop(statement.value, popped, ast.Name("__unused__", ast.Load()))
        else:
            self.d.emit(ast.Expr(popped))  # a constant appended: its entry goes all the same
        self.d.out[-1].append(_UNDO + listed)

    def add_lists(self, name: str, gradient: ast.expr) -> None:
        """`dxs` plus another list gradient of the same list, entry by entry."""
        d = self.d
        if d.loop_lists:
            if not isinstance(gradient, ast.Name):  # `rows_looped` names its own
                named = d.names.fresh(f"{name}_part")
                d.emit(ast.Assign([ast.Name(named, ast.Store())], gradient))
                gradient = ast.Name(named, ast.Load())
            total, k = d.names.fresh(f"{name}_sum"), d.names.fresh("k")
            self.emit_lines(
                [f"{total} = []", f"for {k} in range(len({name})):",
                 f"    {total}.append({name}[{k}] + {gradient.id}[{k}])", f"{name} = {total}"]
            )  # fmt: skip
        else:
            total_expr = ast.parse(f"[old + new for old, new in zip({name}, _g)]", mode="eval").body
            d.emit(ast.Assign([ast.Name(name, ast.Store())], ir.substitute(total_expr, {"_g": gradient})))
        d.state[name] = "fresh"
        d.nested.add(name)  # every entry holds a gradient now: a store into one adds to it

    def rows_looped(self, op: ir.Op, gradient: ast.expr) -> None:
        """The gradient of `np.array(xs)`, `np.stack(xs, axis)`, `np.concatenate(xs,
        axis)` or `sum(xs)` split back into a list one append at a time (see above)."""
        d = self.d
        leaf = op.args[0]
        assert isinstance(leaf, ir.Leaf) and leaf.var is not None
        xs, np_name = leaf.var, d.modules["np"]
        rule = op.rule.name
        if not isinstance(gradient, ast.Name):
            whole = d.names.fresh(f"d{xs}_whole")
            d.emit(ast.Assign([ast.Name(whole, ast.Store())], gradient))
            gradient = ast.Name(whole, ast.Load())
        g = gradient.id
        parts, k = d.names.fresh(f"d{xs}_parts"), d.names.fresh("k")
        axis = ast.literal_eval(op.keywords.get("axis", ast.Constant(0)))
        if rule in ("list.stack", "list.concatenate") and axis != 0:
            moved = d.names.fresh(f"d{xs}_moved")
            self.emit_lines([f"{moved} = {np_name}.moveaxis({g}, {axis}, 0)"])
            g = moved
        head = [f"{parts} = []"]
        if rule == "list.concatenate":
            start, stop = d.names.fresh("start"), d.names.fresh("stop")
            head.append(f"{start} = 0")
            body = [f"{stop} = {start} + {np_name}.shape({xs}[{k}])[{axis}]", f"{parts}.append({g}[{start}:{stop}])"]
            body += [f"{start} = {stop}"]
            if axis != 0:
                body[1] = f"{parts}.append({np_name}.moveaxis({g}[{start}:{stop}], 0, {axis}))"
        elif rule == "list.sum":
            body = [f"{parts}.append({g})"]
        elif rule == "numpy.list.sum":
            d.result.helpers.add("_unbroadcast")
            body = [f"{parts}.append({d.modules['_unbroadcast']}({g}, {xs}[{k}]))"]
        else:
            body = [f"{parts}.append({g}[{k}])"]
        self.emit_lines([*head, f"for {k} in range(len({xs})):", *(f"    {line}" for line in body)])
        d.contribute(leaf, ast.Name(parts, ast.Load()))

    def emit_lines(self, lines: list[str]) -> None:
        for statement in ast.parse("\n".join(lines)).body:
            self.d.emit(statement)

    def settle_undos(self, lines: list[str]) -> list[str]:
        """Each placeholder as `xs.pop()` where the backward reads `xs` from the
        first undone append on; dropped elsewhere."""
        marked = [i for i, line in enumerate(lines) if line.lstrip().startswith(_UNDO)]
        keep: set[str] = set()
        for listed in sorted({lines[i].lstrip()[len(_UNDO):] for i in marked}):
            first = next(i for i in marked if lines[i].lstrip()[len(_UNDO):] == listed)
            start = first
            while start > 0 and (lines[start].startswith(" ") or lines[start].startswith(("else", "elif"))):
                start -= 1  # the top-level statement holding the first undone append
            region = [line for line in lines[start:] if not line.lstrip().startswith(_UNDO)]
            if listed in names_read(region):
                keep.add(listed)
        # Forward mode reads no bare calls: there the popped value is named.
        named = {listed: f"{self.d.names.fresh(f'{listed}_undone')} = " if self.d.loop_lists else "" for listed in sorted(keep)}
        settled: list[str] = []
        for i, line in enumerate(lines):
            if i not in marked:
                settled.append(line)
                continue
            listed = line.lstrip()[len(_UNDO):]
            if listed in keep:
                settled.append(line[: len(line) - len(line.lstrip())] + f"{named[listed]}{listed}.pop()")
        return settled
