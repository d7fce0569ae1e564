"""Parse a forward module with libcst and read its context.

The context is what the differentiator needs to know about the module around
the forward functions: under which names `math` and `numpy` (or single
functions from them) are imported, which top-level functions exist, and which
of them come with a hand-written `_backward` rule.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from codegen.errors import Collector

# Modules whose functions have derivative rules.
KNOWN_MODULES = ("math", "numpy")


@dataclass
class ModuleInfo:
    """A parsed forward module and what its top-level statements tell us."""

    source: str
    filename: str
    tree: cst.Module
    positions: Mapping[cst.CSTNode, CodeRange]
    imports: list[str] = field(default_factory=list)
    # top-level `NAME = ...` statements, copied into the output where used
    constants: dict[str, str] = field(default_factory=dict)
    # local name -> dotted canonical name: {"np": "numpy", "exp": "math.exp"}
    aliases: dict[str, str] = field(default_factory=dict)
    functions: dict[str, cst.FunctionDef] = field(default_factory=dict)
    user_rules: dict[str, cst.FunctionDef] = field(default_factory=dict)
    _lines: list[str] | None = None
    _module_names: set[str] | None = None

    @property
    def uses_numpy(self) -> bool:
        return any(v == "numpy" or v.startswith("numpy.") for v in self.aliases.values())

    def module_alias(self, module: str) -> str | None:
        """The local name bound to `module` itself (`np` for numpy), if any."""
        for local, target in sorted(self.aliases.items()):
            if target == module:
                return local
        return None

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and 0-based column of `node`."""
        code_range = self.positions.get(node)
        if code_range is None:
            return (1, 0)
        return (code_range.start.line, code_range.start.column)

    def code(self, node: cst.CSTNode) -> str:
        """The node's source text: sliced from the source where its position is known."""
        code_range = self.positions.get(node) if isinstance(node, cst.BaseExpression) else None
        if code_range is None:
            return self.tree.code_for_node(node)
        start, end = code_range.start, code_range.end
        lines = self.lines
        if start.line == end.line:
            return lines[start.line - 1][start.column : end.column]
        middle = lines[start.line : end.line - 1]
        return "".join([lines[start.line - 1][start.column :], *middle, lines[end.line - 1][: end.column]])

    @property
    def module_names(self) -> set[str]:
        """Every identifier in the module (generated helper names must avoid them)."""
        if self._module_names is None:
            from codegen.naming import identifiers

            self._module_names = identifiers(ast.parse(self.source))
        return self._module_names

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.source.splitlines(keepends=True)
        return self._lines

    def forward_names(self) -> list[str]:
        """Top-level functions that are forward functions, in source order."""
        return [
            name
            for name in self.functions
            if not name.startswith("_") and not self.is_user_rule(name) and name not in self.user_rules
        ]

    def is_user_rule(self, name: str) -> bool:
        return name.endswith("_backward") and name[: -len("_backward")] in self.functions


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _canonical(module: str) -> str | None:
    for known in KNOWN_MODULES:
        if module == known or module.startswith(known + "."):
            return module
    return None


def parse_module(source: str, collector: Collector) -> ModuleInfo:
    """Parse `source`; a syntax error is reported as a problem with its position."""
    try:
        ast.parse(source)
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = max((exc.offset or 1) - 1, 0)
        raise collector.error(line, column, f"syntax error: {exc.msg}")
    except ValueError as exc:  # null bytes
        raise collector.error(1, 0, f"cannot parse: {exc}")
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise collector.error(exc.raw_line, exc.raw_column, f"syntax error: {exc.message}")
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    info = ModuleInfo(source, collector.filename, tree, positions)
    for statement in tree.body:
        if isinstance(statement, cst.FunctionDef):
            info.functions[statement.name.value] = statement
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    info.imports.append(tree.code_for_node(statement).strip())
                    _read_import(small, info)
                    break
                if isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                    for target in targets:
                        if isinstance(target, cst.Name):
                            info.constants[target.value] = tree.code_for_node(small).strip()
    for name, node in info.functions.items():
        if info.is_user_rule(name):
            info.user_rules[name[: -len("_backward")]] = node
    return info


def _read_import(node: cst.Import | cst.ImportFrom, info: ModuleInfo) -> None:
    if isinstance(node, cst.Import):
        for alias in node.names:
            dotted = _dotted(alias.name)
            canonical = _canonical(dotted)
            if canonical is None:
                continue
            if alias.asname is not None:
                info.aliases[_dotted(alias.asname.name)] = canonical
            else:
                top = dotted.split(".")[0]
                info.aliases[top] = top
        return
    if node.relative or node.module is None:
        return
    module = _canonical(_dotted(node.module))
    if module is None or isinstance(node.names, cst.ImportStar):
        return
    for alias in node.names:
        name = _dotted(alias.name)
        local = _dotted(alias.asname.name) if alias.asname is not None else name
        info.aliases[local] = f"{module}.{name}"
