"""A live function as a module codegen can read, learnt from the function itself.

In a notebook, a REPL or a test, the module around a function is not a file
codegen can read: the function's globals and closure say instead what its
names are. `np` bound to numpy (under any name), `math`, `exp` bound to
`math.exp`: an import line; a Python function it calls: that function's own
source, read the same way (a helper from another notebook cell, a function of
the test file, one defined in the enclosing test); a number: a constant.
Nothing is run: the values are read as they already are.
"""

from __future__ import annotations

import ast
import inspect
import math
import reprlib
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codegen.errors import CodegenError, Problem
from codegen.read.sourcemap import Assembled, Piece

# The modules whose functions have derivative rules, and the submodules reached by name.
_MODULES = ("math", "numpy", "numpy.linalg")

_INSTEAD = (
    "define it in a file or a notebook cell, or pass its source text to codegen.generate(source)"
)


@dataclass
class LiveModule:
    """The assembled module of a live function, and what its backward runs in."""

    assembled: Assembled
    main: Piece  # the function's own piece, where positionless problems go
    namespace: dict[str, Any]

    @property
    def source(self) -> str:
        return self.assembled.source

    def user_error(self, error: CodegenError) -> CodegenError:
        """`error`, found in the assembled text, at the user's files and lines."""
        return self.assembled.user_error(error, self.main)


@dataclass
class _Reader:
    """Walks from a function to the names it uses, collecting imports, constants and helpers."""

    imports: dict[str, str] = field(default_factory=dict)  # local name -> import line
    constants: dict[str, str] = field(default_factory=dict)  # local name -> assignment
    helpers: dict[str, tuple[types.FunctionType, Piece, str]] = field(default_factory=dict)
    meaning: dict[str, object] = field(default_factory=dict)  # local name -> what it is bound to
    namespace: dict[str, Any] = field(default_factory=dict)

    def function(self, fn: types.FunctionType, name: str) -> None:
        if name in self.helpers:
            return
        piece, text, tree = _read(fn)
        self.helpers[name] = (fn, piece, text)
        scope = _scope(fn)
        for used in sorted(_free_names(tree)):
            if used in scope:
                self.name(used, scope[used], fn, scope)
        for bound, value in scope.items():
            # As in a file, numpy imported makes the module numpy code (`@` has a
            # rule), whether or not the function names it.
            if isinstance(value, types.ModuleType) and value.__name__ in _MODULES and bound not in self.meaning:
                self.name(bound, value, fn, scope)

    def name(self, name: str, value: object, user: types.FunctionType, scope: dict[str, Any]) -> None:
        """Record what `name`, used by `user`, is bound to."""
        if name in self.meaning:
            old = self.meaning[name]
            if old is not value and not (_is_number(old) and _is_number(value) and old == value):
                message = (
                    f"{name} means two different things: {reprlib.repr(value)} here, {reprlib.repr(old)} "
                    "in a function it is used with; codegen reads them as one module: rename one"
                )
                raise _error(user, message)
            return
        self.meaning[name] = value
        self.namespace[name] = value
        line = _import_line(name, value)
        if line is not None:
            self.imports[name] = line
        elif _is_number(value):
            self.constants[name] = f"{name} = {value!r}"
        elif isinstance(value, types.FunctionType):
            if value.__name__ != name:
                # `ACT = relu`: read as in a file, where the name stands for the function
                self.name(value.__name__, value, user, scope)
                self.constants[name] = f"{name} = {value.__name__}"
                return
            self.function(value, name)
            for suffix in ("_backward", "_jvp"):  # the user's own derivative rules beside it
                rule = scope.get(name + suffix)
                if isinstance(rule, types.FunctionType) and rule.__name__ == name + suffix:
                    self.name(name + suffix, rule, value, _scope(value))


def live_module(fn: Callable[..., Any]) -> LiveModule:
    """The module codegen reads for the live function `fn`: imports for the math and
    numpy names it and its helpers use, numeric constants, then the functions.

    Raises `CodegenError` when `fn` is no Python function or its source is not available.
    """
    function = _python_function(fn)
    reader = _Reader()
    reader.namespace.update({k: v for k, v in function.__globals__.items() if not k.startswith("__")})
    reader.meaning[function.__name__] = function
    reader.function(function, function.__name__)
    assembled = Assembled()
    heading = [*dict.fromkeys(reader.imports.values()), *reader.constants.values()]
    if heading:
        assembled.add_text("\n".join(heading) + "\n\n")
    for _, piece, text in reader.helpers.values():
        assembled.add(piece, text)
    main = reader.helpers[function.__name__][1]
    return LiveModule(assembled, main, reader.namespace)


def _python_function(fn: Callable[..., Any]) -> types.FunctionType:
    """`fn` itself, or a `CodegenError` saying why codegen cannot read it."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    if isinstance(fn, types.FunctionType):
        if fn.__name__ == "<lambda>":
            raise _error(fn, "a lambda cannot be differentiated: define the function with def instead")
        return fn
    if isinstance(fn, (types.BuiltinFunctionType, types.BuiltinMethodType)) or type(fn).__name__ == "ufunc":
        message = f"{name} is a built-in function, written in C: codegen reads Python source ({_INSTEAD})"
        problem = Problem("<built-in>", 1, 1, message)
        raise CodegenError([problem])
    if isinstance(fn, types.MethodType):
        message = f"{name} is a bound method: pass a plain function (its parameters are what is differentiated)"
        problem = Problem("<method>", 1, 1, message)
        raise CodegenError([problem])
    message = f"{name} is not a Python function (codegen.backward takes a function defined with def)"
    problem = Problem("<object>", 1, 1, message)
    raise CodegenError([problem])


def _read(fn: types.FunctionType) -> tuple[Piece, str, ast.FunctionDef]:
    """The function's source as the user wrote it, its dedented text, and its tree."""
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        where = "a function typed into a plain REPL, python -c, python - or made by exec keeps none"
        raise _error(fn, f"the source of {fn.__qualname__} is not available ({where}): {_INSTEAD}") from None
    indent = len(lines[0]) - len(lines[0].lstrip(" \t"))
    prefix = lines[0][:indent]
    text = "".join(line[indent:] if line.startswith(prefix) else line for line in lines)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        tree = None
    definition = tree.body[0] if tree is not None and len(tree.body) == 1 else None
    if not isinstance(definition, ast.FunctionDef) or definition.name != fn.__name__:
        why = "it changed since it was defined?"
        raise _error(fn, f"the source of {fn.__qualname__} cannot be read back ({why}): {_INSTEAD}")
    piece = Piece(_display(fn.__code__.co_filename), first if first else 1, tuple(lines), indent)
    return piece, text, definition


def _scope(fn: types.FunctionType) -> dict[str, Any]:
    """The names `fn` sees, without builtins: its closure over its globals."""
    scope = {k: v for k, v in fn.__globals__.items() if not k.startswith("__")}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            scope[name] = cell.cell_contents
        except ValueError:  # a cell not yet filled
            scope.pop(name, None)
    return scope


def _free_names(tree: ast.FunctionDef) -> set[str]:
    """The names the function reads but does not bind itself."""
    loaded: set[str] = set()
    bound = {a.arg for a in ast.walk(tree.args) if isinstance(a, ast.arg)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not tree:
            bound.add(node.name)
    return loaded - bound


def _is_number(value: object) -> bool:
    """A finite Python number, which a constant's `repr` writes back exactly."""
    return type(value) in (int, float, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _import_line(name: str, value: object) -> str | None:
    """The import that binds `name` to `value`, when `value` is one of the modules with
    derivative rules or one of their functions."""
    if isinstance(value, types.ModuleType):
        module = value.__name__
        if module not in _MODULES:
            return None
        if module == name:
            return f"import {module}"
        parent, _, last = module.rpartition(".")
        if not parent:
            return f"import {module} as {name}"
        return f"from {parent} import {last}" + ("" if last == name else f" as {name}")
    own = getattr(value, "__name__", None)
    if not isinstance(own, str):
        return None
    for module in _MODULES:
        loaded = sys.modules.get(module)
        if loaded is not None and getattr(loaded, own, None) is value:
            return f"from {module} import {own}" + ("" if own == name else f" as {name}")
    return None


def _display(filename: str) -> str:
    """How the user knows the file: its path, or `Cell In[3]` for a notebook or IPython cell."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    cells = getattr(getattr(shell, "compile", None), "_filename_map", None)
    if isinstance(cells, dict) and filename in cells:
        return f"Cell In[{cells[filename]}]"
    return filename


def _error(fn: types.FunctionType, message: str) -> CodegenError:
    """An error at the first line of `fn`'s definition."""
    code = fn.__code__
    return CodegenError([Problem(_display(code.co_filename), code.co_firstlineno, 1, message)])
