"""Emit the generated module as text (black formats it afterwards)."""

from __future__ import annotations

import ast

from codegen import helpers, ir
from codegen.differentiate import Backward, render
from codegen.naming import identifiers
from codegen.parse import ModuleInfo


def forward_lines(fn: ir.Function) -> list[str]:
    """The staged forward pass, one statement a line."""
    return _block_lines(fn.body, outermost=True)


def _block_lines(statements: list[ir.Statement], outermost: bool) -> list[str]:
    lines: list[str] = []
    for statement in statements:
        if isinstance(statement, ir.If):
            lines.append(f"if {ast.unparse(statement.test)}:")
            lines += _indent(_block_lines(statement.body, outermost) or ["pass"])
            if statement.orelse:
                lines.append("else:")
                lines += _indent(_block_lines(statement.orelse, outermost))
        elif isinstance(statement, ir.Loop):
            lines += _loop_lines(statement, outermost)
        else:
            lines += _statement_lines(statement)
    return lines


def _loop_lines(loop: ir.Loop, outermost: bool) -> list[str]:
    lines: list[str] = []
    if outermost:
        # Lists for the values the backward needs, nested loops' included.
        for inner in [loop, *(s for s in ir.walk(loop.body) if isinstance(s, ir.Loop))]:
            lines += [f"{name} = []" for name in inner.lists.values()]
    if loop.var is not None:
        assert loop.iter is not None
        lines.append(f"for {loop.var} in {ast.unparse(loop.iter)}:")
    else:
        assert loop.test is not None and loop.counter is not None
        lines += [f"{loop.counter} = 0", f"while {ast.unparse(loop.test)}:"]
    split = len(loop.body) - loop.copybacks
    body = _block_lines(loop.body[:split], False)
    body += [f"{loop.lists[name]}.append({name})" for name in loop.saved]
    body += _block_lines(loop.body[split:], False)
    if loop.counter is not None:
        body.append(f"{loop.counter} += 1")
    return lines + _indent(body or ["pass"])


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line if line else line for line in lines]


def _statement_lines(statement: ir.Statement) -> list[str]:
    if isinstance(statement, ir.Plain):
        return [ast.unparse(ast.fix_missing_locations(statement.code))]
    assert isinstance(statement, ir.Stage)
    value = statement.value
    if isinstance(value, ir.Op) and value.rule.name == "setitem":
        old, new = render(value.args[0]), statement.target
        written = ast.Subscript(ast.Name(new, ast.Load()), value.keywords["index"], ast.Store())
        assign = ast.Assign([written], render(value.args[1]))
        return [f"{new} = {ast.unparse(old)}.copy()", ast.unparse(ast.fix_missing_locations(assign))]
    assign = ast.Assign([ast.Name(statement.target, ast.Store())], render(value))
    return [ast.unparse(ast.fix_missing_locations(assign))]


def signature(fn: ir.Function) -> str:
    parts: list[str] = []
    posonly = [p.code for p in fn.params if p.kind == "posonly"]
    if posonly:
        parts += posonly + ["/"]
    parts += [p.code for p in fn.params if p.kind == "positional"]
    parts += [f"{u}=1.0" for u in fn.upstream]
    kwonly = [p.code for p in fn.params if p.kind == "kwonly"]
    if kwonly:
        parts += ["*"] + kwonly
    return f"def {fn.name}_backward({', '.join(parts)}):"


def docstring(fn: ir.Function, back: Backward) -> str:
    names = [p.name for p in back.differentiable]
    grads = [ast.unparse(back.gradients[n]) for n in names]
    outputs = ", ".join(fn.outputs)
    if len(grads) == 1:
        returns = f"Returns {grads[0]}, the gradient of {outputs} with respect to {names[0]}."
    elif grads:
        returns = f"Returns ({', '.join(grads)}), the gradients of {outputs} with respect to {', '.join(names)}."
    else:
        returns = "Returns None: no parameter is differentiated."
    lines = [f"Backward pass of {fn.name}: upstream {', '.join(fn.upstream)} in, gradients out.", "", returns]
    if back.constant:
        held = ", ".join(f"{p.name} ({p.reason})" for p in back.constant)
        lines.append(f"Held constant: {held}.")
    body = "\n".join(lines).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""{body}\n"""'


def function_text(fn: ir.Function, back: Backward) -> str:
    grads = [ast.unparse(back.gradients[p.name]) for p in back.differentiable]
    body = [docstring(fn, back), "# forward pass", *forward_lines(fn)]
    if back.lines:
        body += back.lines
    if not grads:
        body.append("return None")
    else:
        body.append(f"return {', '.join(grads)}")
    indented = "\n".join("    " + line for line in "\n".join(body).split("\n"))
    return f"{signature(fn)}\n{indented}\n"


def module_text(info: ModuleInfo, functions: list[tuple[ir.Function, Backward]]) -> str:
    """Imports, any helpers the gradients need, then the backward functions."""
    imports = list(info.imports)
    used_modules = set().union(*(b.modules for _, b in functions)) if functions else set()
    if "math" in used_modules and info.module_alias("math") is None:
        imports.append("import math")
    if "np" in used_modules and info.module_alias("numpy") is None:
        imports.append("import numpy as np")
    used_helpers = sorted(set().union(*(b.helpers for _, b in functions))) if functions else []
    parts = ["\n".join(imports)] if imports else []
    functions_code = [function_text(fn, back) for fn, back in functions]
    used = set().union(*(identifiers(ast.parse(code)) for code in functions_code)) if functions else set()
    constants = list(dict.fromkeys(code for name, code in info.constants.items() if name in used))
    if constants:
        parts.append("\n".join(constants))
    parts += [helpers.source(name, info.module_alias("numpy") or "np", info.module_alias("math") or "math") for name in used_helpers]
    parts += functions_code
    return "\n\n".join(parts)
