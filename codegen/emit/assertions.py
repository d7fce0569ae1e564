"""Shape assertions (`assert_shapes`): the generated code checks what codegen assumed.

At the top, one assert per annotated parameter: its number of dimensions and
every size the annotations fix, a literal or a symbol an earlier parameter
bound. The symbols a parameter introduces are then bound from its shape
(`D = x.shape[1]`, `N, D = x.shape`) where later parameters use them. Before
the return, one assert per gradient (or tangent) of an annotated parameter: it has that
parameter's shape.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from codegen.infer.dims import Shape
from codegen.naming import Names


def parameter_checks(shapes: dict[str, Shape], np_name: str, reserved: set[str]) -> list[str]:
    """The asserts and symbol bindings for `shapes` (parameter -> annotated shape).

    A symbol is bound under its own name unless that would shadow something
    the function reads (`reserved`): then under a fresh one (`D_1`).
    """
    names = Names(reserved)
    bound: dict[str, str] = {}  # symbol -> the variable holding its size
    lines: list[str] = []
    params = list(shapes.items())
    for position, (param, shape) in enumerate(params):
        if not shape:
            actual = f"{np_name}.shape({param})"
            lines.append(f'assert {np_name}.ndim({param}) == 0, f"{param}: shape {{{actual}}}, expected ()"')
            continue
        tests, new = _tests(param, shape, bound)
        lines.append(_assertion(param, shape, tests, bound))
        later = {d for _, other in params[position + 1 :] for d in other}
        lines += _bindings(param, shape, new, later, bound, names)
    return lines


def _assertion(param: str, shape: Shape, tests: list[tuple[int, str]], bound: dict[str, str]) -> str:
    """`assert x.shape == (D, 3)` where every size is fixed, else `x.ndim == 2 and ...`."""
    if len(tests) == len(shape):
        values = [value for _, value in tests]
        condition = f"{param}.shape == ({', '.join(values)}{',' if len(values) == 1 else ''})"
    else:
        parts = [f"{param}.ndim == {len(shape)}", *(f"{param}.shape[{i}] == {value}" for i, value in tests)]
        condition = " and ".join(parts)
    return f'assert {condition}, f"{param}: shape {{{param}.shape}}, expected {_expected(shape, bound)}"'


def _bindings(
    param: str, shape: Shape, new: dict[str, int], later: set[object], bound: dict[str, str], names: Names
) -> list[str]:
    """Bind the new symbols later parameters use: `N, D = x.shape` when they are
    all of the annotation, else `M = w.shape[1]` one by one (no name bound that
    nothing reads, which linters report)."""
    wanted = [symbol for symbol in new if symbol in later]
    if not wanted:
        return []
    for symbol in wanted:
        bound[symbol] = names.fresh(symbol)
    if len(wanted) == len(shape) > 1:
        return [f"{', '.join(bound[s] for s in wanted)} = {param}.shape"]
    return [f"{bound[s]} = {param}.shape[{new[s]}]" for s in wanted]


def _tests(param: str, shape: Shape, bound: dict[str, str]) -> tuple[list[tuple[int, str]], dict[str, int]]:
    """(position, size it must have) for each fixed size; the new symbols' first positions."""
    tests: list[tuple[int, str]] = []
    new: dict[str, int] = {}
    for i, dim in enumerate(shape):
        if isinstance(dim, int):
            tests.append((i, str(dim)))
        elif dim is None:
            continue
        elif dim in bound:
            tests.append((i, bound[dim]))
        elif dim in new:
            tests.append((i, f"{param}.shape[{new[dim]}]"))  # "H H": square
        else:
            new[dim] = i
    return tests, new


def _expected(shape: Shape, bound: dict[str, str]) -> str:
    """`(D={D}, M)`: the annotation, with the sizes already known filled in."""
    words = []
    for dim in shape:
        if dim is None:
            words.append("?")
        elif isinstance(dim, str) and dim in bound:
            words.append(f"{dim}={{{bound[dim]}}}")
        else:
            words.append(str(dim))
    return f"({words[0]},)" if len(words) == 1 else f"({', '.join(words)})"


def same_shape(value: str, like: str, array: bool, np_name: str) -> str:
    """`assert np.shape(dx) == x.shape`, with a message; `np.ndim(dx) == 0` for a scalar `x`."""
    actual = f"{np_name}.shape({value})"
    if not array:
        return f'assert {np_name}.ndim({value}) == 0, f"{value}: shape {{{actual}}}, expected ()"'
    return f'assert {actual} == {like}.shape, f"{value}: shape {{{actual}}}, expected {{{like}.shape}}"'


def reserved_names(code: Iterable[str], params: Iterable[str]) -> set[str]:
    """Names a binding at the top of a function must not take: what its code
    reads but never binds (modules, globals, builtins), and its parameters.
    A name the code binds is local throughout, and read only after it is bound."""
    tree = ast.parse("\n".join(code))
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    stores = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    return (loads - stores) | set(params)
