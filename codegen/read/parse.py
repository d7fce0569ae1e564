"""Parse a forward module with Python's own parser and read its context.

The context is what the differentiator needs to know about the module around
the forward functions: under which names `math` and `numpy` (or single
functions from them) are imported, which top-level functions exist, and which
of them come with a hand-written `_backward` rule.

Positions are the parser's: 1-based lines and 0-based columns, which it counts
in UTF-8 bytes and `position` turns into characters.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codegen.emit import header
from codegen.errors import Collector, source_lines
from codegen.read.desugar import desugar
from codegen.read.iteration import index_loops
from codegen.read.local_functions import lift

if TYPE_CHECKING:
    from codegen.infer.kinds import Kinds

# Modules whose functions have derivative rules.
KNOWN_MODULES = ("math", "numpy")

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class ModuleInfo:
    """A parsed forward module and what its top-level statements tell us."""

    source: str
    filename: str
    tree: ast.Module
    imports: list[str] = field(default_factory=list)
    # top-level `NAME = ...` statements, copied into the output where used
    constants: dict[str, str] = field(default_factory=dict)
    # local name -> dotted canonical name: {"np": "numpy", "exp": "math.exp"}
    aliases: dict[str, str] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    user_rules: dict[str, Function] = field(default_factory=dict)  # foo -> foo_backward
    jvp_rules: dict[str, Function] = field(default_factory=dict)  # foo -> foo_jvp
    local_functions: set[str] = field(default_factory=set)  # functions defined inside another, made the module's
    _lines: list[str] | None = None
    _own_lines: int | None = None  # lines of `source`; later ones hold borrowed functions
    _module_names: set[str] | None = None
    # id of a function -> (the function, what kinds.infer found in it): inferred once,
    # asked by validation (aliasing) and by lowering alike
    inferred: dict[int, tuple[Function, Kinds]] = field(default_factory=dict)

    @property
    def uses_numpy(self) -> bool:
        return any(v == "numpy" or v.startswith("numpy.") for v in self.aliases.values())

    def module_alias(self, module: str) -> str | None:
        """The local name bound to `module` itself (`np` for numpy), if any."""
        for local, target in sorted(self.aliases.items()):
            if target == module:
                return local
        return None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = source_lines(self.source)
            self._own_lines = len(self._lines)
        return self._lines

    def comment_after(self, statement: ast.stmt) -> str | None:
        """The comment after `statement` on its last line (`# sigmoid`), if any."""
        end, end_col = getattr(statement, "end_lineno", None), getattr(statement, "end_col_offset", None)
        if end is None or end_col is None or end > len(self.lines):
            return None
        rest = _slice(self.lines[end - 1], end_col, None).strip()
        return rest if rest.startswith("#") else None

    def position(self, node: ast.AST) -> tuple[int, int]:
        """1-based line and 0-based column (in characters) of `node`; (1, 0) for
        a node the parser did not read from this module."""
        line = getattr(node, "lineno", None)
        lines = self.lines
        if line is None or not 0 < line <= (self._own_lines or 0):
            return (1, 0)
        return (line, len(_slice(lines[line - 1], 0, getattr(node, "col_offset", 0))))

    def code(self, node: ast.AST) -> str:
        """The node's source text; written out by `ast.unparse` for a node made
        up by codegen (which has no position, or an empty span)."""
        line = getattr(node, "lineno", None)
        end_line = getattr(node, "end_lineno", None)
        column, end_column = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
        if line is None or end_line is None or column is None or end_column is None or (line, column) == (end_line, end_column):
            return ast.unparse(node)  # or an empty span: a node codegen placed
        return self.span(line, column, end_line, end_column)

    def span(self, line: int, column: int, end_line: int, end_column: int) -> str:
        """The source from (line, column) to (end_line, end_column), in the
        parser's positions (columns in UTF-8 bytes)."""
        lines = self.lines
        if line == end_line:
            return _slice(lines[line - 1], column, end_column)
        middle = lines[line : end_line - 1]
        return "".join([_slice(lines[line - 1], column, None), *middle, _slice(lines[end_line - 1], 0, end_column)])

    def borrow(self, function: Function, owner: ModuleInfo) -> Function:
        """`function`, defined in `owner`, read again as if it followed this
        module's own lines (so `code` finds its text here)."""
        text = owner.code(function)
        copy = ast.parse(text).body[0]
        assert isinstance(copy, (ast.FunctionDef, ast.AsyncFunctionDef))
        lines = self.lines
        ast.increment_lineno(copy, len(lines))
        lines.extend(source_lines(text + "\n"))
        return copy

    @property
    def imported_names(self) -> set[str]:
        """Every name the module's imports bind (`random`, `os`, `gauss`), whatever the
        module: a name codegen generates must not hide one that inlined code reads."""
        return {
            (alias.asname or alias.name).split(".")[0]
            for node in self.tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
            if alias.name != "*"
        }

    @property
    def is_generated(self) -> bool:
        """Whether this module is codegen's own output (differentiated again)."""
        return header.is_generated(self.source)

    def names(self, name: str) -> bool:
        """Whether `name` is an identifier in the module (generated helper names
        must avoid them); the module is walked only if its text has the word
        (or is not ASCII: Python reads identifiers in NFKC form)."""
        if name not in self.source and self.source.isascii():
            return False
        if self._module_names is None:
            from codegen.naming import identifiers

            self._module_names = identifiers(self.tree)
        return name in self._module_names

    def forward_names(self) -> list[str]:
        """Top-level functions that are forward functions, in source order."""
        return [
            name
            for name in self.functions
            if not name.startswith("_")
            and not self.is_user_rule(name)
            and name not in self.primitives
            and name not in self.local_functions
        ]

    def is_user_rule(self, name: str) -> bool:
        """Whether `name` is a hand-written rule: `foo_backward` or `foo_jvp` beside a `foo`."""
        return any(name.endswith(s) and name[: -len(s)] in self.functions for s in ("_backward", "_jvp"))

    @property
    def primitives(self) -> set[str]:
        """Functions with a hand-written rule: never differentiated or inlined."""
        return set(self.user_rules) | set(self.jvp_rules)


def _slice(line: str, start: int, end: int | None) -> str:
    """`line[start:end]` with `start` and `end` counted in UTF-8 bytes."""
    if line.isascii():
        return line[start:end]
    return line.encode()[start:end].decode(errors="replace")


def dotted(node: ast.expr) -> str | None:
    """`np.linalg.norm` for that chain of attributes on a name; None otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _canonical(module: str) -> str | None:
    for known in KNOWN_MODULES:
        if module == known or module.startswith(known + "."):
            return module
    return None


def parse_module(source: str, collector: Collector) -> ModuleInfo:
    """Parse `source`; a syntax error is reported as a problem with its position."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = max((exc.offset or 1) - 1, 0)
        raise collector.error(line, column, f"syntax error: {exc.msg}")
    except ValueError as exc:  # null bytes
        raise collector.error(1, 0, f"cannot parse: {exc}")
    info = ModuleInfo(source, collector.filename, tree)
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            info.functions[statement.name] = statement
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            info.imports.append(_with_comment(info, statement))
            _read_import(statement, info)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    info.constants[target.id] = info.code(statement).strip()
    info.local_functions = lift(tree, info.functions, lambda node, message: collector.add(*info.position(node), message))
    _call_function_constants(info)
    module_names = set(info.functions) | set(info.constants) | set(info.aliases)
    for node in info.functions.values():
        desugar(node, info.aliases, info.functions)
        index_loops(node, module_names)
    for name, node in info.functions.items():
        if name.endswith("_backward") and info.is_user_rule(name):
            info.user_rules[name[: -len("_backward")]] = node
        elif name.endswith("_jvp") and info.is_user_rule(name):
            info.jvp_rules[name[: -len("_jvp")]] = node
    return info


def _call_function_constants(info: ModuleInfo) -> None:
    """A top-level name bound once to a function (`ACT = relu`, `ACT = np.tanh`,
    `OUT = ACT`) is that function: the functions that read it read the function
    itself, so `ACT(x)` is differentiated as `relu(x)` and the output, which reads
    no `ACT`, copies no `ACT = relu` (whose `relu` it may not define)."""
    bindings: dict[str, list[ast.expr | None]] = {}
    for statement in info.tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        value = statement.value if target is node else None
                        bindings.setdefault(node.id, []).append(value)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            bindings.setdefault(statement.target.id, []).append(statement.value)
        elif not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Import, ast.ImportFrom)):
            for node in ast.walk(statement):  # bound in a block, a loop, a class...
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    bindings.setdefault(node.id, []).append(None)
    functions: dict[str, ast.expr] = {}
    for name, values in bindings.items():
        value = values[0] if len(values) == 1 else None
        head = value
        while isinstance(head, ast.Attribute):
            head = head.value
        if value is None or not isinstance(head, ast.Name) or name in info.functions or name in info.aliases:
            continue
        if head.id in functions:  # `OUT = ACT`
            functions[name] = _replaced_head(value, functions[head.id])
        elif head.id in info.functions and value is head or head.id in info.aliases and dotted(value) is not None:
            functions[name] = value
    if not functions:
        return
    for function in info.functions.values():
        local = {a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)}
        local |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {n for g in ast.walk(function) if isinstance(g, (ast.Global, ast.Nonlocal)) for n in g.names}
        for node in ast.walk(function):
            for attribute, child in ast.iter_fields(node):
                if isinstance(child, list):
                    setattr(node, attribute, [_as_function(c, functions, local) for c in child])
                else:
                    setattr(node, attribute, _as_function(child, functions, local))


def _replaced_head(value: ast.expr, head: ast.expr) -> ast.expr:
    if isinstance(value, ast.Attribute):
        return ast.Attribute(_replaced_head(value.value, head), value.attr, ast.Load())
    return head


def _as_function(node: object, functions: dict[str, ast.expr], local: set[str]) -> object:
    """`node` itself, or the function a top-level name that `node` reads stands for."""
    if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in functions):
        return node
    value = functions[node.id]
    head = value
    while isinstance(head, ast.Attribute):
        head = head.value
    if node.id in local or isinstance(head, ast.Name) and head.id in local:
        return node
    copy = _replaced_head(value, ast.Name(head.id, ast.Load())) if isinstance(head, ast.Name) else value
    for part in ast.walk(copy):  # at the name it replaces, for messages
        ast.copy_location(part, node)
    return copy


def _with_comment(info: ModuleInfo, statement: ast.stmt) -> str:
    """The statement's text, and the comment after it on its last line (an
    import's `# noqa` stays with it in the output)."""
    code = info.code(statement).strip()
    comment = info.comment_after(statement)
    return f"{code}  {comment}" if comment else code


def _read_import(node: ast.Import | ast.ImportFrom, info: ModuleInfo) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            canonical = _canonical(alias.name)
            if canonical is None:
                continue
            if alias.asname is not None:
                info.aliases[alias.asname] = canonical
            else:
                top = alias.name.split(".")[0]
                info.aliases[top] = top
        return
    if node.level or node.module is None:
        return
    module = _canonical(node.module)
    if module is None:
        return
    for alias in node.names:
        if alias.name == "*":
            # The names the import binds, as Python binds them (numpy's shadow builtins).
            for name in _public_names(module):
                info.aliases[name] = f"{module}.{name}"
            return
        info.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"


def _public_names(module: str) -> list[str]:
    """What `from module import *` binds, for math or a numpy module (never the user's)."""
    try:
        loaded = importlib.import_module(module)
    except ImportError:
        return []
    names = getattr(loaded, "__all__", None)
    if names is None:
        names = [n for n in dir(loaded) if not n.startswith("_")]
    return [n for n in names if isinstance(n, str)]
