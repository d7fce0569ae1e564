"""Type annotations of a fully typed forward function, carried to its backward.

A forward function is fully typed when every parameter and its return carry an
annotation that is a type (a bare string such as `"N D"` is a shape for codegen,
not a type). Its backward then passes `mypy --strict` as the input does: each
gradient has its parameter's type, so the backward returns those types; each
upstream gradient has its output's type (see `upstream` for its default).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Types:
    """The annotations' source text: per parameter, and the return's."""

    params: dict[str, str]
    returns: str


def of(node: ast.FunctionDef | ast.AsyncFunctionDef, code: Callable[[ast.expr], str]) -> Types | None:
    """The types of a fully typed function, else None; `code` gives a node's text."""
    arguments = node.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    if arguments.vararg or arguments.kwarg or node.returns is None:
        return None
    annotations = [node.returns, *(a.annotation for a in every)]
    if any(a is None or (isinstance(a, ast.Constant) and isinstance(a.value, str)) for a in annotations):
        return None
    return Types({a.arg: code(a.annotation) for a in every if a.annotation}, code(node.returns))


def outputs(types: Types, count: int) -> list[str] | None:
    """The type of each of `count` returned values, when the return type says it."""
    if count == 1:
        return [types.returns]
    tree = ast.parse(types.returns, mode="eval").body
    if isinstance(tree, ast.Subscript) and ast.unparse(tree.value) in ("tuple", "Tuple", "typing.Tuple"):
        items = tree.slice.elts if isinstance(tree.slice, ast.Tuple) else [tree.slice]
        if len(items) == count and not any(isinstance(i, ast.Constant) and i.value is Ellipsis for i in items):
            return [ast.unparse(i) for i in items]
    return None


def differentiated(types: list[str] | None, outputs: list[str], held: list[str]) -> list[str] | None:
    """Of the types of `outputs`, those of the ones that take an upstream gradient."""
    return None if types is None else [t for o, t in zip(outputs, types) if o not in held]


def upstream(names: list[str], types: list[str], defaulted: bool) -> list[str]:
    """The upstream gradient parameters of outputs of these types. One of type
    `float` defaults to 1.0, as untyped ones do; one of another type (an array)
    has no default, since 1.0 is not of its type, unless an earlier parameter has
    one (Python then needs one here too): then it is `T | float = 1.0`."""
    parts: list[str] = []
    for name, type_text in zip(names, types):
        if type_text in ("float", "builtins.float"):
            parts.append(f"{name}: {type_text} = 1.0")
            defaulted = True
        elif defaulted:
            parts.append(f"{name}: {type_text} | float = 1.0")
        else:
            parts.append(f"{name}: {type_text}")
    return parts


def gradients(types: Types, names: list[str]) -> str:
    """The return annotation of a backward returning the gradients of `names`."""
    if not names:
        return "None"
    if len(names) == 1:
        return types.params[names[0]]
    return f"tuple[{', '.join(types.params[n] for n in names)}]"
