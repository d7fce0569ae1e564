"""Reversal of `if`, `for` and `while` (part of differentiate).

A branch is reversed inside the same `if`: the backward takes the branch the
forward took. A loop runs backwards (`for t in reversed(range(T)):`), first
restoring the values of that iteration from one list per variable the
forward kept; gradients that outlive an iteration are zeroed before the loop.
"""

from __future__ import annotations

import ast
import functools
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codegen import ir, unparse

if TYPE_CHECKING:
    from codegen.ad.differentiate import Differentiator


@dataclass
class LoopContext:
    loop: ir.Loop
    inside: set[str]  # names bound anywhere in the loop body
    inits: list[str] = field(default_factory=list)  # lines to run before the loop


def _indent(lines: list[str]) -> list[str]:
    """A block's lines indented; `pass` added where it holds only comments."""
    if not any(line.strip() and not line.lstrip().startswith("#") for line in lines):
        lines = [*lines, "pass"]
    return [textwrap.indent(line, "    ") for line in lines]


def bound_inside(loop: ir.Loop) -> set[str]:
    names = set(loop.carried)
    for statement in ir.walk(loop.body):
        if isinstance(statement, ir.Stage):
            names.add(statement.target)
        elif isinstance(statement, ir.Plain):
            names |= _targets(statement.code)
        elif isinstance(statement, ir.Loop):
            names |= {n for n in (statement.var, statement.counter) if n is not None}
    return names


def bound_at_level(statements: list[ir.Statement]) -> set[str]:
    """Names bound by `statements` and their branches, not inside nested loops."""
    names: set[str] = set()
    for statement in statements:
        if isinstance(statement, ir.Stage):
            names.add(statement.target)
        elif isinstance(statement, ir.Plain):
            names |= _targets(statement.code)
        elif isinstance(statement, ir.If):
            names |= bound_at_level(statement.body) | bound_at_level(statement.orelse)
        elif isinstance(statement, ir.Loop):
            names |= set(statement.carried) | ({statement.counter} if statement.counter else set())
    return names


def _targets(code: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(code) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def names_read(lines: list[str]) -> set[str]:
    """Names `lines` (a block of statements) read; each distinct line is parsed once
    for all the loops around it."""
    found: set[str] = set()
    for line in lines:
        read = _line_reads(line.strip())
        if read is None:  # part of a statement that spans lines
            return _loads(textwrap.dedent("\n".join(lines)) or "pass")
        found |= read
    return found


@functools.lru_cache(maxsize=8192)
def _line_reads(line: str) -> frozenset[str] | None:
    """Names one stripped line reads, or None when it is no statement on its own."""
    if not line or line.startswith("#") or line in ("else:", "try:", "finally:"):
        return frozenset()
    if line.startswith("elif "):
        line = line[2:]
    try:
        return frozenset(_loads(f"{line} pass" if line.endswith(":") else line))
    except SyntaxError:
        return None


def _loads(text: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _reversed(iterable: ast.expr) -> ast.expr:
    """`reversed(range(n))` for `range(n)`, and `range(n)` for `reversed(range(n))`."""
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Name)
        and iterable.func.id == "reversed"
        and len(iterable.args) == 1
    ):
        return iterable.args[0]
    return ast.Call(ast.Name("reversed", ast.Load()), [iterable], [])


class FlowReversal:
    """Control-flow reversal, written into the output and state of a `Differentiator`."""

    def __init__(self, d: Differentiator) -> None:
        self.d = d  # the differentiation whose state and output lines the reversal edits

    def in_block(self, build: Callable[[], None]) -> list[str]:
        """Run `build` with its output collected into a new list of lines."""
        self.d.out.append([])
        saved_origin = self.d.last_origin
        self.d.last_origin = -1
        try:
            build()
        finally:
            self.d.last_origin = saved_origin
        return self.d.out.pop()

    def reverse_if(self, node: ir.If) -> None:
        before = dict(self.d.state)
        folded_before = dict(self.d.folded)
        then_lines = self.in_block(lambda: self.d.reverse_block(node.body))
        then_state, then_folded = self.d.state, self.d.folded
        self.d.state, self.d.folded = dict(before), dict(folded_before)
        else_lines = self.in_block(lambda: self.d.reverse_block(node.orelse))
        else_state, else_folded = self.d.state, self.d.folded
        self.d.folded = self.join_folded(then_folded, then_lines, else_folded, else_lines)
        # Zeroed before a loop around this `if` (not one inside a branch): defined either way.
        enclosing = {id(context) for context in self.d.loops}
        hoisted = {name for name, loop in self.d.hoisted.items() if loop in enclosing}
        new_then = then_state.keys() - before.keys() - hoisted
        new_else = else_state.keys() - before.keys() - hoisted
        # A gradient first set in one branch must exist after the `if` either way.
        else_lines += [self.zero_line(n) for n in sorted(new_then - new_else)]
        then_lines += [self.zero_line(n) for n in sorted(new_else - new_then)]
        # Used up in one branch only (a name bound there alone): the gradient the
        # other branch keeps is an earlier binding's, which this one does not reach.
        then_lines += [self.zero_line(n) for n in sorted((before.keys() & else_state.keys()) - then_state.keys())]
        else_lines += [self.zero_line(n) for n in sorted((before.keys() & then_state.keys()) - else_state.keys())]
        self.d.state = {}
        for name in then_state.keys() | else_state.keys():
            kinds = {then_state.get(name, "fresh"), else_state.get(name, "fresh")}
            self.d.state[name] = "alias" if "alias" in kinds else "fresh"
        if not then_lines and not else_lines:
            return
        lines = [f"if {unparse.expression(node.test)}:", *_indent(then_lines)]
        if else_lines:
            lines += ["else:", *_indent(else_lines)]
        self.d.out[-1].extend(lines)

    @staticmethod
    def join_folded(
        then_folded: dict[str, ast.expr],
        then_lines: list[str],
        else_folded: dict[str, ast.expr],
        else_lines: list[str],
    ) -> dict[str, ast.expr]:
        """The gradients still folded after an `if`: those both branches fold the same way.

        A gradient folded in one branch only (`dv` is `du` there) gets its name
        in that branch, since the other branch gives it another value.
        """
        kept: dict[str, ast.expr] = {}
        for name in sorted(then_folded.keys() | else_folded.keys()):
            then_value, else_value = then_folded.get(name), else_folded.get(name)
            if then_value is not None and else_value is not None and ast.dump(then_value) == ast.dump(else_value):
                kept[name] = then_value
                continue
            for value, lines in ((then_value, then_lines), (else_value, else_lines)):
                if value is not None:
                    lines.append(f"{name} = {unparse.expression(value)}")
        return kept

    def reverse_loop(self, loop: ir.Loop) -> None:
        context = LoopContext(loop, bound_inside(loop))
        for carried in loop.carried:
            name = self.d.names.grad(carried)
            if carried in self.d.useful and name not in self.d.state:
                context.inits.append(self.zero_line(name, carried))
                self.d.state[name] = "fresh"
        live = set(self.d.state)
        folded_before = dict(self.d.folded)
        self.d.loops.append(context)
        try:
            body = self.in_block(lambda: self.d.reverse_block(loop.body))
        finally:
            self.d.loops.pop()
        # A gradient folded into another in the body (`dt` is `dp`) is read, if at all,
        # in the same iteration: one of a value bound inside the loop is done with at
        # the body's end; any other gets its name there, where its value is defined.
        inside = {self.d.names.grad(v) for v in context.inside}
        for name in sorted(self.d.folded.keys() - folded_before.keys()):
            value = self.d.folded.pop(name)
            if name not in inside:
                body.append(f"{name} = {unparse.expression(value)}")
        # Gradients that live across iterations but were used up in this one.
        for name in sorted(live - set(self.d.state)):
            body.append(self.zero_line(name))
            self.d.state[name] = "fresh"
        if not body:
            return
        kept = bound_at_level(loop.body) | set(loop.carried)
        loop.saved = sorted((names_read(body) & kept) - {loop.var})
        loop.lists = {n: self.d.names.fresh(f"{n}_list") for n in loop.saved}
        restores = [f"{n} = {loop.lists[n]}.pop()" for n in loop.saved]
        if loop.var is not None:
            assert loop.iter is not None
            header = f"for {loop.var} in {unparse.expression(_reversed(loop.iter))}:"
        else:
            header = f"for _ in range({loop.counter}):"
        self.d.out[-1].extend([*context.inits, header, *_indent(restores + body)])

    def outer_loop_for(self, var: str) -> LoopContext | None:
        """The outermost enclosing loop whose iterations all add into d`var`."""
        for context in self.d.loops:
            if var not in context.inside:
                return context
        return None

    def zero_line(self, name: str, var: str | None = None) -> str:
        if var is not None:
            self.d.grad_vars[name] = var
        var = var or self.d.grad_vars[name]
        zero = self.d.zero(var)
        if isinstance(zero, ast.BinOp) and isinstance(zero.left, ast.List):
            self.d.list_gradients.add(name)  # `[0.0] * len(v)`: added into entry by entry
        return f"{name} = {unparse.expression(zero)}"
