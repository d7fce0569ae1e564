"""Emit the generated module as text (black formats it afterwards)."""

from __future__ import annotations

import ast
import copy

from codegen import ir, unparse
from codegen.ad.differentiate import Backward, render
from codegen.emit import helpers, typed
from codegen.emit import imports as import_lines
from codegen.emit.bound import maybe_unbound
from codegen.emit.cache import always_bound, cache_plan, first_reads
from codegen.emit.signature import (
    by_default_lines,
    default_checks,
    docstring,
    gradient_checks,
    gradients_return,
    held_lines,
    indent_all,
    numbers_by_default,
    parameter_checks,
    quoted_docstring,
    return_annotation,
    returns_line,
    signature,
)
from codegen.lower import scatter
from codegen.naming import Names, identifiers, identifiers_and_bindings, nodes
from codegen.optimize import cse, inplace, literals, partition, prune
from codegen.optimize.body import bound
from codegen.optimize.coalesce import coalesce
from codegen.options import Options
from codegen.read.constants import copied as copied_constants
from codegen.read.parse import ModuleInfo


def forward_lines(fn: ir.Function) -> list[str]:
    """The staged forward pass, one statement a line; the author's comment on a
    line stays on the last statement staged from it (`f = ...  # sigmoid`)."""
    last: dict[int, ir.Statement] = {}
    for statement in ir.walk(fn.body):
        origin = getattr(statement, "origin", None)
        if isinstance(origin, int) and origin in fn.comments and not isinstance(statement, (ir.If, ir.Loop)):
            last[origin] = statement
    notes = {id(statement): fn.comments[origin] for origin, statement in last.items()}
    return _block_lines(fn.body, outermost=True, notes=notes)


def _block_lines(statements: list[ir.Statement], outermost: bool, notes: dict[int, str]) -> list[str]:
    lines: list[str] = []
    for statement in statements:
        if isinstance(statement, ir.If):
            lines.append(f"if {unparse.expression(statement.test)}:")
            lines += _indent(_block_lines(statement.body, outermost, notes) or ["pass"])
            if statement.orelse:
                lines.append("else:")
                lines += _indent(_block_lines(statement.orelse, outermost, notes))
        elif isinstance(statement, ir.Loop):
            lines += _loop_lines(statement, outermost, notes)
        else:
            lines += _statement_lines(statement)
            if id(statement) in notes:
                lines[-1] += f"  {notes[id(statement)]}"
    return lines


def _loop_lines(loop: ir.Loop, outermost: bool, notes: dict[int, str]) -> list[str]:
    lines: list[str] = []
    if outermost:
        # Lists for the values the backward needs, nested loops' included.
        loops = [loop, *(s for s in ir.walk(loop.body) if isinstance(s, ir.Loop))]
        for inner in loops:
            lines += [f"{name} = []" for name in inner.lists.values()]
        # A kept value bound in one branch only: defined on every path, for the append.
        # Once, before the loops: an iteration that does not bind it keeps the value
        # of the last one that did, which code after the loop may read.
        unbound = [name for inner in loops for name in _bound_in_branches(inner)]
        lines += [f"{name} = None" for name in dict.fromkeys(unbound)]
    lines += _loop_header(loop)
    split = len(loop.body) - loop.copybacks
    body = _block_lines(loop.body[:split], False, notes)
    body += [f"{loop.lists[name]}.append({name})" for name in loop.saved]
    body += _block_lines(loop.body[split:], False, notes)
    if loop.counter is not None:
        body.append(f"{loop.counter} += 1")
    return lines + _indent(body or ["pass"])


def _bound_in_branches(loop: ir.Loop) -> list[str]:
    """The values `loop` keeps that its body binds only on some paths."""
    direct = {s.target for s in loop.body if isinstance(s, ir.Stage)}
    direct |= {n.id for s in loop.body if isinstance(s, ir.Plain) for n in ast.walk(s.code) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return [name for name in loop.saved if name not in direct and name not in loop.carried]


def _loop_header(loop: ir.Loop) -> list[str]:
    if loop.var is not None:
        assert loop.iter is not None
        return [f"for {loop.var} in {unparse.expression(loop.iter)}:"]
    assert loop.test is not None and loop.counter is not None
    return [f"{loop.counter} = 0", f"while {unparse.expression(loop.test)}:"]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line if line else line for line in lines]


def _statement_lines(statement: ir.Statement) -> list[str]:
    if isinstance(statement, ir.Plain):
        return [ir.unparse(statement.code)]
    if isinstance(statement, ir.Append):
        return [f"{statement.target}.append({unparse.expression(render(statement.value))})"]
    assert isinstance(statement, ir.Stage)
    value = statement.value
    if isinstance(value, ir.Op) and value.rule.name == "setitem":
        old, new = render(value.args[0]), statement.target
        written = ast.Subscript(ast.Name(new, ast.Load()), value.keywords["index"], ast.Store())
        assign = ast.Assign([written], render(value.args[1]))
        return [f"{new} = {unparse.expression(old)}.copy()", ir.unparse(assign)]
    if isinstance(value, ir.Op) and value.rule.name == "add.at":
        return scatter.statement_lines(statement.target, value)
    assign = ast.Assign([ast.Name(statement.target, ast.Store())], render(value))
    return [ir.unparse(assign)]


def function_text(fn: ir.Function, back: Backward, options: Options = Options()) -> str:
    if options.style == "split":
        return split_text(fn, back, options)
    forward = forward_lines(fn)
    grads = gradients_return(back)
    if options.return_value:
        value = ", ".join(fn.outputs)
        value = value if len(fn.outputs) == 1 else f"({value})"
        if any(isinstance(s, ir.Loop) for s in ir.walk(fn.body)):
            # The backward loop restores earlier values into these names: keep the result.
            held = fn.value_name or fn.names.fresh("value")
            fn.value_name = held
            forward.append(f"{held} = {value}")
            value = held
        grads = f"({grads})" if len(back.differentiable) > 1 else grads
        rest = [*back.spread, *back.lines, f"return {value}, {grads}"]
    else:
        rest = [*back.spread, *back.lines, f"return {grads}"]
    forward = _live(forward, rest, frozenset(fn.draws))
    # A value bound on some paths only, read where another may not have bound it (a
    # loop's copy of it, the zero of its gradient): bound to None first.
    params = {p.name for p in fn.params} | set(_parameters(signature(fn)))
    forward = _bind_first(forward, maybe_unbound([*forward, *rest], params), fn) if forward else forward
    body = _shared([*(["# forward pass", *forward] if forward else []), *rest], fn, back, literal_lists=back.list_literals)
    if back.in_place:
        body = inplace.write_in_place(body, [*(p.name for p in fn.params), *fn.upstream], back.spellings)
    # The forward's names stay the user's (or their versions): only the backward's fold.
    forward_names = bound(ast.parse("\n".join(forward))) if forward else set()
    body = coalesce(body, [*(p.name for p in fn.params), *fn.upstream, *forward_names])
    if options.assert_shapes:
        body[-1:-1] = gradient_checks(fn, back)
        body[:0] = parameter_checks(fn, body, back.spellings["np"])
    checked = numbers_by_default(fn, body)
    body[:0] = default_checks(checked, back.spellings["np"])
    head = signature(fn, return_annotation(fn, back, options))
    return f"{head}\n{indent_all([docstring(fn, back, options, checked), *body])}\n"


def _parameters(head: str) -> list[str]:
    """The parameter names of the `def` line `head`."""
    tree = ast.parse(f"{head}\n    pass")
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]


def _live(forward: list[str], rest: list[str], draws: frozenset[str]) -> list[str]:
    """The lines of `forward` without its statements whose values neither `rest`
    (the backward and the return) nor a later forward statement reads. Untouched
    statements keep their text; a block with some statements gone is written anew."""
    lines = "\n".join(forward).split("\n")
    statements = ast.parse("\n".join(lines)).body
    inner = [_statement_ids(s) for s in statements]
    kept = prune.live_forward(statements, set(first_reads(ast.parse("\n".join(rest)))), draws)
    out: list[str] = []
    position = {id(s): i for i, s in enumerate(statements)}
    for statement in kept:
        index = position.get(id(statement))
        if index is not None and _statement_ids(statement) == inner[index]:
            out += lines[statement.lineno - 1 : statement.end_lineno]
        else:
            out += unparse.statement(statement).split("\n")
    return out


def _statement_ids(statement: ast.stmt) -> list[int]:
    """The ids of `statement` and the statements inside it, in a fixed order."""
    return [id(n) for n in nodes(statement) if isinstance(n, ast.stmt)]


def _written_parameters(lines: list[str], params: set[str]) -> set[str]:
    """The parameters `lines` write items into (the lowering copies an array before
    writing into it, so these are writes the caller sees)."""
    return {
        target.value.id
        for node in ast.walk(ast.parse("\n".join(lines)))
        if isinstance(node, (ast.Assign, ast.AugAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id in params
    }


def _shared(
    lines: list[str], fn: ir.Function, back: Backward, names: Names | None = None, literal_lists: bool = True
) -> list[str]:
    """`lines` with common subexpressions computed once, tiled and list gradients written."""
    pure = {back.spellings.get(key, key) for key in ("math", "np", *helpers.NAMES)}
    tiled = partition.tile(cse.eliminate(lines, names or fn.names, pure, back.accumulators))
    return literals.write(tiled, list_lengths(fn)) if literal_lists else tiled


def list_lengths(fn: ir.Function) -> dict[str, int]:
    """The list parameters whose length is annotated (`w: "3"`)."""
    lengths: dict[str, int] = {}
    for param in fn.params:
        shape = fn.dims.get(param.name)
        if shape is not None and len(shape) == 1 and isinstance(shape[0], int):
            lengths[param.name] = shape[0]
    return lengths


def split_text(fn: ir.Function, back: Backward, options: Options) -> str:
    """`f_forward(params) -> (out, cache)` and `f_backward(dout, cache) -> gradients`."""
    forward = _shared(forward_lines(fn), fn, back, copy.deepcopy(fn.names))
    backward = _shared(list(back.lines), fn, back, copy.deepcopy(fn.names), back.list_literals)
    if options.assert_shapes:
        backward += gradient_checks(fn, back)  # the parameters they compare with are cached
    returned = [unparse.expression(back.gradients[p.name]) for p in back.differentiable]
    # Only what the outputs and the backward read (`out = x.copy()` written into
    # as a copy of `x` is read by neither), and what the caller sees: the parameters
    # the forward writes into (a dict of settings, `bn_param["running_mean"] = ...`).
    written = sorted(_written_parameters(forward, {p.name for p in fn.params}))
    forward = _live(forward, [*backward, f"return {', '.join([*fn.outputs, *written])}"], frozenset(fn.draws))
    cached, recomputed = cache_plan(fn, forward, backward + [f"return {', '.join(returned) or 'None'}"])
    params = [p.code for p in fn.params if p.kind != "kwonly"]
    kwonly = [p.code for p in fn.params if p.kind == "kwonly"]
    signature_forward = ", ".join(params + (["*", *kwonly] if kwonly else []))
    outputs = ", ".join(fn.outputs)
    cache_value = f"({', '.join(cached)},)" if len(cached) == 1 else f"({', '.join(cached)})"
    forward_doc = quoted_docstring(
        [
            f"Forward pass of {fn.name}: returns ({outputs}, cache) for {fn.name}_backward.",
            "",
            f"The cache holds what the backward pass needs: {', '.join(cached) or 'nothing'}.",
        ]
    )
    unsure = maybe_unbound(forward, {p.name for p in fn.params})
    if "cache" in fn.outputs:  # the author's own (a layer's `return out, cache`): ours is returned unnamed
        ending = [f"return {outputs}, {cache_value}"]
    else:
        ending = [f"cache = {cache_value}", f"return {outputs}, cache"]
    forward_body = [*_bind_first(forward, sorted({*cached, *unsure}), fn), *ending]
    if back.in_place:
        forward_body = inplace.write_in_place(forward_body, [p.name for p in fn.params], back.spellings)
    if options.assert_shapes:
        forward_body[:0] = parameter_checks(fn, forward_body, back.spellings["np"])
    checked = numbers_by_default(fn, forward_body)
    forward_body[:0] = default_checks(checked, back.spellings["np"])
    forward_body.insert(0, forward_doc)
    first = f"Backward pass of {fn.name}: upstream {', '.join(fn.upstream)} and the cache of {fn.name}_forward in."
    backward_doc = quoted_docstring([first, "", returns_line(fn, back), *held_lines(back), *by_default_lines(checked)])
    unpack = [f"{', '.join(cached)}{',' if len(cached) == 1 else ''} = cache"] if cached else []
    body = partition.tile([*recomputed, *backward])  # recomputed sizes (H = h.shape[1]) bound slices
    body = literals.write(body, list_lengths(fn)) if back.list_literals else body
    forward_returns, backward_params, backward_returns = _split_types(fn, back, cached, forward)
    if "Any" in backward_params:
        body = _declare_gradients(body, fn, back)
    body = inplace.write_in_place([*unpack, *body, f"return {gradients_return(back)}"], [*fn.upstream, "cache"], back.spellings)
    body = coalesce(body, [*fn.upstream, "cache"])
    backward_body = [backward_doc, *body]
    return (
        f"def {fn.name}_forward({signature_forward}){forward_returns}:\n{indent_all(forward_body)}\n\n\n"
        f"def {fn.name}_backward({backward_params}){backward_returns}:\n{indent_all(backward_body)}\n"
    )


def _split_types(fn: ir.Function, back: Backward, cached: list[str], forward: list[str]) -> tuple[str, str, str]:
    """For a fully typed function: `f_forward`'s return annotation, and
    `f_backward`'s parameters with their types and its return annotation. A
    cached parameter the forward never rebinds keeps its type; any other cached
    value is `Any`."""
    outputs = typed.outputs(fn.types, len(fn.outputs)) if fn.types else None
    if fn.types is None or outputs is None:
        return "", f"{', '.join(fn.upstream)}, cache", ""
    rebound = {n.id for n in ast.walk(ast.parse("\n".join(forward))) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    kept = {p.name for p in fn.params if p.name not in rebound}
    items = [
        fn.types.params[name] if name in kept and name in fn.types.params
        else "float" if fn.taken_as_number(name) and name not in fn.temps  # an intermediate stays Any
        else "Any"
        for name in cached
    ]
    cache = f"tuple[{', '.join(items) or '()'}]"
    grads = typed.gradients(fn.types, [p.name for p in back.differentiable])
    upstream_types = typed.differentiated(outputs, fn.outputs, fn.held) or []
    upstream = [f"{name}: {type_text}" for name, type_text in zip(fn.upstream, upstream_types)]
    return f" -> tuple[{', '.join([*outputs, cache])}]", ", ".join([*upstream, f"cache: {cache}"]), f" -> {grads}"


def _declare_gradients(lines: list[str], fn: ir.Function, back: Backward) -> list[str]:
    """`lines` with the first assignment of each returned gradient annotated with
    its parameter's type (`dx: float = ...`): a value computed from a cached
    `Any` is `Any` to a type checker, which may not be returned as a float."""
    assert fn.types is not None
    text = "\n".join(lines)
    out = text.split("\n")
    wanted = {
        expression.id: fn.types.params[name]
        for name, expression in back.gradients.items()
        if isinstance(expression, ast.Name) and name in fn.types.params and name in {p.name for p in back.differentiable}
    }
    for node in sorted(
        (n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Assign) and len(n.targets) == 1),
        key=lambda n: n.lineno,
    ):
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id in wanted:
            line = out[node.lineno - 1]
            head = line[: node.col_offset] + f"{target.id} = "
            if line.startswith(head):
                out[node.lineno - 1] = f"{line[: node.col_offset]}{target.id}: {wanted.pop(target.id)} = {line[len(head):]}"
    return out


def _bind_first(forward: list[str], cached: list[str], fn: ir.Function) -> list[str]:
    """`forward` with `name = None` before the block that binds a cached name only
    on some paths (a branch, a loop that may not run): the cache always packs it,
    and the backward reads it only on the path that bound it."""
    tree = ast.parse("\n".join(forward) or "pass")
    sure = always_bound(tree.body) | {p.name for p in fn.params}
    first: dict[int, list[str]] = {}
    for statement in tree.body:
        bound = {n.id for n in nodes(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for name in cached:
            if name in bound and name not in sure and not any(name in names for names in first.values()):
                first.setdefault(statement.lineno - 1, []).append(name)
    lines = list(forward)
    for index in sorted(first, reverse=True):
        lines[index:index] = [f"{' = '.join(first[index])} = None"]
    return lines



def _free_names(code: str) -> set[str]:
    """The names the functions in `code` read without binding them (a parameter `W`
    is not the module's constant `W`)."""
    free: set[str] = set()
    for statement in ast.parse(code).body:
        found, bound = identifiers_and_bindings(statement)
        free |= found - bound
    return free


def module_text(
    info: ModuleInfo,
    functions: list[tuple[ir.Function, Backward]],
    options: Options = Options(),
    filename: str = "<string>",
) -> str:
    """Imports, any helpers the gradients need, then the backward functions."""
    imports = list(info.imports)
    modules = {"math": "math", "np": "numpy"}
    for fn, back in functions:
        # numpy for the checks of parameters taken to be numbers (unused imports go below)
        for key in sorted(back.modules | ({"np"} if fn.arrays and fn.by_default else set())):
            alias = back.spellings.get(key, key)
            if info.module_alias(modules[key]) == alias:
                continue
            line = f"import {modules[key]}" if alias == modules[key] else f"import {modules[key]} as {alias}"
            if line not in imports:
                imports.append(line)
    rules = sorted(set().union(*(b.user_rules for _, b in functions))) if functions else []
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".py")
    names = [n for rule in rules for n in (rule, f"{rule}_backward")]
    names += sorted(set().union(*(b.user_imports for _, b in functions)) - set(names)) if functions else []
    if names and stem.isidentifier():
        imports.append(f"from {stem} import {', '.join(names)}")
    parts: list[str] = []
    functions_code = [back.text or function_text(fn, back, options) for fn, back in functions]
    wanted = set().union(*(b.helpers for _, b in functions)) if functions else set()
    if functions and info.is_generated:
        # Generated code met again: its forward pass may call the helpers as they are.
        free = set().union(*(_free_names(code) for code in functions_code))
        wanted |= {h for h in helpers.NAMES if functions[0][1].spellings.get(h, h) in free}
    used_helpers = sorted(helpers.with_callees(wanted))
    constants: list[str] = []
    if any(isinstance(s, (ast.Assign, ast.AnnAssign)) for s in info.tree.body):
        used = set().union(*(_free_names(code) for code in functions_code)) if functions else set()
        constants = copied_constants(info, used)
    if constants:
        parts.append("\n".join(constants))
    spellings = dict(functions[0][1].spellings) if functions else {}
    for key, module in (("math", "math"), ("np", "numpy")):
        # Helpers are module-level: they reach modules by the input's own names.
        spellings[key] = info.module_alias(module) or key
        needed = any(key in helpers.READS[name] for name in used_helpers)
        line = "import math" if key == "math" else "import numpy as np"
        if needed and info.module_alias(module) is None and line not in imports:
            imports.append(line)
    # A fully typed input's types are carried over (see codegen.typed): the helpers are annotated too.
    annotated = any(fn.types is not None for fn, _ in functions)
    parts += [helpers.source(name, spellings, annotated) for name in used_helpers]
    parts += functions_code
    used = set().union(*(identifiers(ast.parse(part)) for part in parts))
    if annotated and "Any" in used and not any("Any" in identifiers(ast.parse(line)) for line in imports):
        imports.append("from typing import Any")
    local = stem if stem.isidentifier() else None
    block = import_lines.arrange(import_lines.used_only(imports, used), import_lines.first_party(options.src, local))
    return "\n\n".join([*block, *parts])
